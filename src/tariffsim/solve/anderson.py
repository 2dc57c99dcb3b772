"""Anderson acceleration of a fixed-point map (type II), pure JAX, vmappable.

For ``z = G(z)`` with residual ``f(z) = G(z) - z`` and memory ``m``, each step
solves the small least-squares problem ``gamma = argmin || f_k - dF gamma ||``
(columns of ``dF`` are differences of successive residuals) by regularised
normal equations and sets ``z_{k+1} = G(z_k) - dG gamma`` (``dG``: differences
of successive ``G`` values). For linear maps this is equivalent to GMRES; it
turns slow linear contractions and mildly divergent damped iterations into fast
convergent ones. No derivative flows through the iterations: use it as a fast
forward solver and verify the answer (the GE kernel checks every equilibrium
condition at the returned point).

References
----------
Walker, H. F. and P. Ni (2011), "Anderson Acceleration for Fixed-Point
Iterations", SIAM Journal on Numerical Analysis 49(4), 1715-1735.
"""

from __future__ import annotations

from typing import Callable

import jax.numpy as jnp
from jax import lax


def anderson(G: Callable[[jnp.ndarray], jnp.ndarray], z0: jnp.ndarray, *, memory: int = 6, tol: float = 1e-13,
             max_iter: int = 500, reg: float = 1e-12) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """Solve ``z = G(z)`` (``z`` a vector); returns ``(z, ||G(z) - z||_inf, iterations)``."""
    d = z0.shape[0]
    dt = z0.dtype

    def cond(s):
        _, _, _, _, _, nrm, it = s
        return (nrm > tol) & (it < max_iter)

    def body(s):
        z, g_prev, f_prev, dF, dG, _, it = s
        g = G(z)
        f = g - z
        f = jnp.where(jnp.isfinite(f), f, 0.0)
        k = (it - 1) % memory         # rows 0, 1, ... in turn: the mask below covers the rows written
        # record differences with the previous step (skip at the first iteration)
        first = it == 0
        dF = jnp.where(first, dF, dF.at[k].set(f - f_prev))
        dG = jnp.where(first, dG, dG.at[k].set(g - g_prev))
        n_hist = jnp.minimum(it, memory)
        mask = (jnp.arange(memory) < n_hist).astype(dt)
        A = dF * mask[:, None]
        M = A @ A.T
        M = M + (reg * jnp.trace(M) + 1e-300) * jnp.eye(memory, dtype=dt) + jnp.diag(1.0 - mask)
        gamma = jnp.linalg.solve(M, (A @ f)[:, None])[:, 0] * mask
        z_new = g - (dG * mask[:, None]).T @ gamma
        z_new = jnp.where(jnp.all(jnp.isfinite(z_new)), z_new, g)
        return z_new, g, f, dF, dG, jnp.max(jnp.abs(f)), it + 1

    init = (z0, jnp.zeros(d, dt), jnp.zeros(d, dt), jnp.zeros((memory, d), dt), jnp.zeros((memory, d), dt),
            jnp.asarray(jnp.inf, dt), 0)
    z, _, _, _, _, nrm, it = lax.while_loop(cond, body, init)
    return z, nrm, it


def anderson_batched(G: Callable[[jnp.ndarray], jnp.ndarray], z0: jnp.ndarray, *, memory: int = 6,
                     tol: float = 1e-13, max_iter: int = 500,
                     reg: float = 1e-12) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """:func:`anderson` for ``B`` independent problems at once: ``G`` maps ``(B, d) -> (B, d)``.

    The same iteration as :func:`anderson` for each row (same least-squares step,
    regularised normal equations), written for the batch rather than ``vmap``-ped:
    the history sits in one ``(memory, B, d)`` ring buffer updated in place at the
    shared iteration index, and only the iterate, the last residual and the last
    ``G`` value are frozen per row once the row has converged (a ``vmap`` of
    :func:`anderson` selects the whole loop state, history included, every step).
    Rows stop independently: a converged row's answer does not change while the
    others iterate, so each row's answer does not depend on the rest of the batch.
    Measured at ``B = 64``, ``d = 623``: 1.6-1.7x less loop overhead than the ``vmap``.

    Returns ``(z (B, d), ||G(z) - z||_inf (B,), iterations (B,))``.
    """
    b, d = z0.shape
    dt = z0.dtype
    m = memory

    def clean(v):
        return jnp.where(jnp.isfinite(v), v, 0.0)

    g0 = G(z0)
    f0 = clean(g0 - z0)
    nrm0 = jnp.max(jnp.abs(f0), axis=1)

    def cond(s):
        return jnp.any(s[5] > tol) & (s[6] < max_iter)

    def body(s):
        z, g_prev, f_prev, dF, dG, nrm, it, its = s
        active = nrm > tol
        g = G(z)
        f = clean(g - z)
        k = (it - 1) % m
        dF = lax.dynamic_update_index_in_dim(dF, f - f_prev, k, 0)
        dG = lax.dynamic_update_index_in_dim(dG, g - g_prev, k, 0)
        unused = (jnp.arange(m) >= jnp.minimum(it, m)).astype(dt)     # rows of the buffer not yet filled (zeros)
        M = jnp.einsum("kbd,lbd->bkl", dF, dF)
        tr = jnp.trace(M, axis1=1, axis2=2)
        M = M + (reg * tr + 1e-300)[:, None, None] * jnp.eye(m, dtype=dt) + jnp.diag(unused)
        gamma = jnp.linalg.solve(M, jnp.einsum("kbd,bd->bk", dF, f)[..., None])[..., 0]
        z_new = g - jnp.einsum("kbd,bk->bd", dG, gamma)
        z_new = jnp.where(jnp.all(jnp.isfinite(z_new), axis=1, keepdims=True), z_new, g)
        a = active[:, None]
        return (jnp.where(a, z_new, z), jnp.where(a, g, g_prev), jnp.where(a, f, f_prev), dF, dG,
                jnp.where(active, jnp.max(jnp.abs(f), axis=1), nrm), it + 1, its + active.astype(its.dtype))

    init = (g0, g0, f0, jnp.zeros((m, b, d), dt), jnp.zeros((m, b, d), dt), nrm0, 1, jnp.ones(b, jnp.int32))
    z, _, _, _, _, nrm, _, its = lax.while_loop(cond, body, init)
    return z, nrm, its
