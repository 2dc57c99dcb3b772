"""Batched GE solves: many parameter sets of the Caliendo-Parro model through one
jit-compiled batch kernel, in fixed-size chunks so memory stays bounded and the kernel
compiles once; on CPU several chunks at a time from a thread pool (one per core).

Per problem the solve is two stages, both pure JAX:

1. Fast path: the three steps of :func:`tariffsim.models.ge.equilibrium_fast`
   (:func:`~tariffsim.models.ge.fast_start`, :func:`~tariffsim.models.ge.fast_map`,
   :func:`~tariffsim.models.ge.fast_finish`) with one
   :func:`~tariffsim.solve.anderson.anderson_batched` loop for the chunk: Anderson
   acceleration of a joint sweep over wages, prices and spending, the wage step
   preconditioned by the inverse of the exact Jacobian at the reference solution
   (computed once per batch job and shared). Its residual bounds every equilibrium
   condition at the returned point, so an accepted draw is a certified equilibrium.
   Measured: ~15 steps per draw on world_io_7x44_2017 (docs/performance.md).
2. Draws the fast path cannot certify are re-solved by the engine's own
   robust path (:func:`~tariffsim.models.ge.equilibrium`, Broyden from the exact
   Jacobian with the Newton fallback) and flagged ``fallback``. A problem is
   accepted only when its residual is below
   :data:`tariffsim.models.ge.ACCEPT_TOL`.

Converged problems are frozen while the rest of their chunk iterates, so each
problem's answer does not depend on which other problems share its chunk, up to
floating-point rounding in differently sized batched operations.

References
----------
Dennis, J. E. and R. B. Schnabel (1996), Numerical Methods for Unconstrained
Optimization and Nonlinear Equations, SIAM, ch. 6 and 8.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ..models import ge
from ..solve.anderson import anderson_batched



def accept_tol() -> float:
    """Residual below which a solve is accepted (the engine's ``ACCEPT_TOL``)."""
    return ge.ACCEPT_TOL


def _inf_norm(x):
    n = jnp.max(jnp.abs(x))
    return jnp.where(jnp.isfinite(n), n, jnp.inf)


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
    """Robust path for one problem: the engine's own Broyden (exact Jacobian per problem,
    Newton fallback is applied by the caller via ``method``); used for draws the fast
    path could not certify."""
    sol = ge.equilibrium(p, x0, has_io, method="broyden")
    out = summarise(sol, p)
    out["iterations"] = sol.iterations
    return out


@partial(jax.jit, static_argnames=("has_io", "names"))
def _solve_chunk_fast(base: ge.GEParams, leaves: tuple, x0, H0, warm=None, *, has_io: bool, names: tuple[str, ...]):
    """The fast path for a chunk: :func:`tariffsim.models.ge.fast_start` per problem, one
    :func:`~tariffsim.solve.anderson.anderson_batched` loop over the whole chunk (the batch's
    history in one buffer, converged problems frozen), then the certificate per problem."""
    # memory 5 / tol 1e-10: measured faster than 8 / 1e-13 (1.8x) and 5 / 1e-11 (1.15x) on
    # world_io_7x44_2017; the certified residual (~5e-11) stays an order below ACCEPT_TOL.
    lp0, X0 = (None, None) if warm is None else warm

    def params(vals):
        return base._replace(**dict(zip(names, vals)))

    def problem(vals, xscale):
        # rebuilt inside each vmapped step so that what does not depend on the batched leaves
        # (trade shares, IO coefficients, the hoisted constants when only theta varies) stays
        # one unbatched array: a vmap of fast_start would broadcast all of it to the batch,
        # measured 2.5x slower per sweep on world_io_7x44_2017
        p = params(vals)
        return ge.FastProblem(p, ge.sweep_constants(p), H0, xscale)

    def start(vals):
        z0, prob = ge.fast_start(params(vals), x0, H0, has_io, lp0, X0)
        return z0, prob.xscale

    z0, xscale = jax.vmap(start)(leaves)
    step = jax.vmap(lambda z, vals, xs: ge.fast_map(z, problem(vals, xs), has_io))
    z, _, it = anderson_batched(lambda Z: step(Z, leaves, xscale), z0, memory=5, tol=1e-10, max_iter=400)

    def finish(z, vals, xs, k):
        prob = problem(vals, xs)
        sol = ge.fast_finish(z, prob, has_io, k)
        out = summarise(sol, prob.p)
        out["iterations"] = sol.iterations
        return out

    return jax.vmap(finish)(z, leaves, xscale, it)


@partial(jax.jit, static_argnames=("has_io", "names"))
def _solve_chunk(base: ge.GEParams, leaves: tuple, x0, J0, *, has_io: bool, names: tuple[str, ...]):
    def one(vals):
        return solve_one(base._replace(**dict(zip(names, vals))), x0, J0, has_io)

    return jax.vmap(one)(leaves)


@partial(jax.jit, static_argnames=("has_io",))
def reference_jacobian(p: ge.GEParams, x, *, has_io: bool):
    """Exact Jacobian of the labour-market residual at ``x`` (shared initial Broyden matrix)."""
    return jax.jacfwd(lambda y: ge._excess_labour(y, p, has_io))(x)


def worker_count() -> int:
    """Chunks solved at once on CPU: ``$TARIFFSIM_MC_THREADS``, else the usable cores (at most 8).

    XLA runs one compiled batch mostly on one core; chunks dispatched from several Python
    threads run side by side (JAX releases the GIL while a computation runs). Measured on
    2 cores: 4,096 draws 3.3 s with 2 threads vs 5.2 s with 1 (docs/performance.md). More
    JAX CPU devices (``jax_num_cpu_devices``) gave the same speed-up but slowed every other
    compilation in the process (a gradient test 15.6 s -> 26.9 s), so they are not used.
    On accelerators one thread: the device itself runs the batch in parallel.
    """
    if jax.default_backend() != "cpu":
        return 1
    env = os.environ.get("TARIFFSIM_MC_THREADS", "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


def map_chunks(solve_chunk: Callable[[np.ndarray], Mapping[str, object]], n: int, chunk_size: int, *,
               on_chunk: Callable[[int], None] | None = None, workers: int | None = None) -> dict[str, np.ndarray]:
    """Run ``solve_chunk(positions)`` over ``0..n-1`` in chunks of ``chunk_size`` and stack the results.

    Each call gets exactly ``chunk_size`` positions (the last chunk padded by repeating its
    final position, so one compiled kernel serves every chunk) and returns arrays with that
    leading axis; the padding is trimmed. ``workers`` chunks run at once from a thread pool
    (default :func:`worker_count`), in order; ``on_chunk(k)`` reports each finished chunk's size.
    """
    starts = range(0, n, chunk_size)

    def one(start: int) -> dict[str, np.ndarray]:
        pos = np.arange(start, min(start + chunk_size, n))
        pad = np.concatenate([pos, np.repeat(pos[-1:], chunk_size - len(pos))]) if len(pos) < chunk_size else pos
        return {k: np.asarray(v)[: len(pos)] for k, v in solve_chunk(pad).items()}

    k = min(worker_count() if workers is None else max(1, int(workers)), len(starts))
    pool = ThreadPoolExecutor(max_workers=k) if k > 1 else None
    parts: list[dict[str, np.ndarray]] = []
    try:
        for part in (pool.map(one, starts) if pool is not None else map(one, starts)):
            parts.append(part)
            if on_chunk is not None:
                on_chunk(len(next(iter(part.values()))))
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def solve_batched(
    base: ge.GEParams,
    batched: Mapping[str, np.ndarray],
    *,
    x0: np.ndarray,
    J0: np.ndarray,
    has_io: bool,
    chunk_size: int,
    on_chunk: Callable[[int], None] | None = None,
    warm: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Solve ``len(batched[...])`` problems that differ from ``base`` in the leaves ``batched``.

    ``warm = (log price_hat, expenditure)`` of a reference solution (the point estimate)
    warm-starts the fast path's prices and spending, as ``x0`` does its wages.

    Problems are cut into chunks of ``chunk_size`` (the last one padded by repeating
    its final problem, then trimmed) so one compiled kernel serves every chunk; on CPU
    :func:`worker_count` chunks run at once from a thread pool. A problem's answer does
    not depend on which chunk or thread solved it beyond rounding.
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
    H0 = jnp.linalg.solve(J0, jnp.eye(J0.shape[0], dtype=J0.dtype))
    warm_j = None if warm is None else tuple(jnp.asarray(a, dtype=jnp.float64) for a in warm)

    def run(kernel, M, idx: np.ndarray) -> dict[str, np.ndarray]:
        extra = (warm_j,) if kernel is _solve_chunk_fast and warm_j is not None else ()

        def one(pos: np.ndarray) -> dict:
            leaves = tuple(jnp.asarray(a[idx[pos]]) for a in arrays)
            return kernel(base, leaves, x0, M, *extra, has_io=has_io, names=names)

        return map_chunks(one, len(idx), chunk_size, on_chunk=on_chunk if kernel is _solve_chunk_fast else None)

    def accepted(r):
        # a certified root with negative income (hence welfare <= 0) is not a valid equilibrium
        return (np.isfinite(r["residual"]) & (r["residual"] < accept_tol()) & np.isfinite(r["welfare_hat"]).all(axis=1)
                & (r["welfare_hat"] > 0).all(axis=1))

    res = run(_solve_chunk_fast, H0, np.arange(n))
    bad = np.nonzero(~accepted(res))[0]
    if len(bad):
        # the robust engine path for draws the fast path could not certify
        again = run(_solve_chunk, J0, bad)
        for k in res:
            res[k] = np.array(res[k], copy=True)
            res[k][bad] = again[k]
    res["ok"] = accepted(res)
    res["fallback"] = np.zeros(n, dtype=bool)
    res["fallback"][bad] = True
    return res
