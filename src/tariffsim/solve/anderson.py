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
        k = it % memory
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
