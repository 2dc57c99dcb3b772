"""Batched GE solves: many parameter sets through one jit-compiled ``vmap`` of the
Caliendo-Parro kernel (:func:`tariffsim.models.ge.equilibrium`), in fixed-size
chunks so memory stays bounded and the kernel compiles once.

Per problem the solve is two stages, both pure JAX:

1. Broyden iterations on the labour-market residual ``F(log w_hat)`` started
   from a shared warm start ``x0`` with a shared initial Jacobian ``J0`` (the
   exact Jacobian at the reference solution, computed once per batch job).
   Computing ``jacfwd(F)`` per problem costs ~25 residual evaluations on the
   7x44 IO world (its tangents go through the nested price and spending
   solves), about four times the rest of the solve, so sharing it is the main
   saving; Broyden's rank-one updates (Dennis & Schnabel 1996, ch. 8) adapt it
   to each problem. Step cap and Armijo backtracking as in
   :func:`tariffsim.solve.roots.newton_root`.
2. :func:`~tariffsim.models.ge.equilibrium` with ``method="newton"`` from the
   Broyden point. Where stage 1 converged this takes no Newton step (its
   Jacobian is only formed inside a step) and just evaluates the outputs; where
   it did not, it runs exact Newton, the engine's own fallback. Its residual is
   the one reported, and a problem is accepted only when that residual is below
   :data:`tariffsim.models.ge.ACCEPT_TOL`.

``vmap`` of a ``while_loop`` freezes members that have converged (the batched
loop selects their old state), so each problem's answer does not depend on
which other problems share its chunk, up to floating-point rounding in
differently sized batched operations.

References
----------
Dennis, J. E. and R. B. Schnabel (1996), Numerical Methods for Unconstrained
Optimization and Nonlinear Equations, SIAM, ch. 6 and 8.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ..models import ge
from ..solve.roots import dense_solve

#: Broyden iterations before the exact-Newton polish takes over.
MAX_BROYDEN = 40


def accept_tol() -> float:
    """Residual below which a solve is accepted (the engine's ``ACCEPT_TOL``)."""
    return ge.ACCEPT_TOL


def _inf_norm(x):
    n = jnp.max(jnp.abs(x))
    return jnp.where(jnp.isfinite(n), n, jnp.inf)


def _broyden(F: Callable, x0, J0, *, tol: float, max_iter: int, max_step: float = 1.0):
    """Broyden's method from ``(x0, J0)``; returns ``(x, ||F(x)||_inf, iterations)``."""

    def step(state):
        x, fx, nrm, J, it = state
        dx = -dense_solve(J, fx)
        dx = jnp.where(jnp.isfinite(dx), dx, 0.0)
        dx = dx * jnp.minimum(1.0, max_step / jnp.maximum(_inf_norm(dx), 1e-300))

        def ls_cond(s):
            a, _, n_new, k = s
            return (n_new > (1.0 - 1e-4 * a) * nrm) & (k < 30)

        def ls_body(s):
            a, _, _, k = s
            a = 0.5 * a
            f_new = F(x + a * dx)
            return a, f_new, _inf_norm(f_new), k + 1

        f1 = F(x + dx)
        a, f_new, n_new, _ = lax.while_loop(ls_cond, ls_body, (jnp.asarray(1.0, x.dtype), f1, _inf_norm(f1), 0))
        s = a * dx
        ss = jnp.dot(s, s)
        upd = jnp.outer(f_new - fx - J @ s, s) / jnp.where(ss > 0, ss, 1.0)
        J = J + jnp.where((ss > 0) & jnp.all(jnp.isfinite(upd)), upd, 0.0)
        return x + s, f_new, n_new, J, it + 1

    def cond(state):
        _, _, nrm, _, it = state
        return (nrm > tol) & (it < max_iter)

    f0 = F(x0)
    x, _, nrm, _, it = lax.while_loop(cond, step, (x0, f0, _inf_norm(f0), J0, 0))
    return x, nrm, it


def summarise(sol: ge.GESolution, p: ge.GEParams) -> dict[str, jnp.ndarray]:
    """Per-problem outputs kept by batch jobs (small: no (N, N, S) arrays).

    ``exports[i] = sum_{n != i, s} flows[i, n, s]`` and ``imports[n] = sum_{i != n, s} flows[i, n, s]``
    (pre-tariff values, USD mn); ``bilateral_trade[i, n] = sum_s flows[i, n, s]`` (diagonal:
    domestic sales).
    """
    n = p.va0.shape[0]
    off = 1.0 - jnp.eye(n, dtype=sol.flows.dtype)
    bil = jnp.sum(sol.flows, axis=2)
    trade = bil * off
    return {
        "welfare_hat": sol.welfare_hat,
        "wage_hat": sol.wage_hat,
        "income": sol.income,
        "tariff_revenue": sol.tariff_revenue,
        "exports": jnp.sum(trade, axis=1),
        "imports": jnp.sum(trade, axis=0),
        "bilateral_trade": bil,
        "residual": sol.residual,
    }


def solve_one(p: ge.GEParams, x0, J0, has_io: bool) -> dict[str, jnp.ndarray]:
    """One problem: shared-Jacobian Broyden, then the engine's Newton polish (see module docstring)."""
    x, _, it_b = _broyden(lambda x: ge._excess_labour(x, p, has_io), x0, J0, tol=ge.TOL, max_iter=MAX_BROYDEN)
    x = jnp.where(jnp.all(jnp.isfinite(x)), x, x0)
    sol = ge.equilibrium(p, x, has_io, method="newton")
    out = summarise(sol, p)
    out["iterations"] = it_b + sol.iterations
    return out


@partial(jax.jit, static_argnames=("has_io", "names"))
def _solve_chunk(base: ge.GEParams, leaves: tuple, x0, J0, *, has_io: bool, names: tuple[str, ...]):
    def one(vals):
        return solve_one(base._replace(**dict(zip(names, vals))), x0, J0, has_io)

    return jax.vmap(one)(leaves)


@partial(jax.jit, static_argnames=("has_io",))
def reference_jacobian(p: ge.GEParams, x, *, has_io: bool):
    """Exact Jacobian of the labour-market residual at ``x`` (shared initial Broyden matrix)."""
    return jax.jacfwd(lambda y: ge._excess_labour(y, p, has_io))(x)


def solve_batched(
    base: ge.GEParams,
    batched: Mapping[str, np.ndarray],
    *,
    x0: np.ndarray,
    J0: np.ndarray,
    has_io: bool,
    chunk_size: int,
    on_chunk: Callable[[int], None] | None = None,
) -> dict[str, np.ndarray]:
    """Solve ``len(batched[...])`` problems that differ from ``base`` in the leaves ``batched``.

    Problems are cut into chunks of ``chunk_size`` (the last one padded by repeating
    its final problem, then trimmed) so one compiled kernel serves every chunk.
    Returns numpy arrays with a leading problem axis; ``ok`` marks accepted solves.
    """
    names = tuple(sorted(batched))
    arrays = [np.asarray(batched[k], dtype=np.float64) for k in names]
    n = arrays[0].shape[0]
    if any(a.shape[0] != n for a in arrays):
        raise ValueError("batched leaves differ in length")
    chunk_size = max(1, min(int(chunk_size), n))
    x0 = jnp.asarray(x0, dtype=jnp.float64)
    J0 = jnp.asarray(J0, dtype=jnp.float64)
    parts: list[dict[str, np.ndarray]] = []
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        leaves = []
        for a in arrays:
            c = a[start:stop]
            if stop - start < chunk_size:
                c = np.concatenate([c, np.repeat(c[-1:], chunk_size - (stop - start), axis=0)])
            leaves.append(jnp.asarray(c))
        out = _solve_chunk(base, tuple(leaves), x0, J0, has_io=has_io, names=names)
        parts.append({k: np.asarray(v)[: stop - start] for k, v in out.items()})
        if on_chunk is not None:
            on_chunk(stop - start)
    res = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    res["ok"] = (np.isfinite(res["residual"]) & (res["residual"] < accept_tol())
                 & np.isfinite(res["welfare_hat"]).all(axis=1))
    return res
