"""Multi-country, multi-sector general equilibrium with input-output links and
deficits, in changes ("exact hat algebra"): Caliendo & Parro (2015).

For importer n, exporter i, sectors j, k (docs/design.md §4)::

    c_hat[i,j]  = w_hat[i]^va[i,j] * prod_k P_hat[i,k]^io[i,k,j]                    (CP eq. 10)
    P_hat[n,j]  = ( sum_i pi[i,n,j] (tau_hat[i,n,j] c_hat[i,j])^-theta[j] )^(-1/theta[j])   (CP eq. 11)
    pi1[i,n,j]  = pi[i,n,j] (tau_hat[i,n,j] c_hat[i,j] / P_hat[n,j])^-theta[j]     (CP eq. 12)
    X1[n,j]     = sum_k io[n,j,k] sum_m X1[m,k] pi1[n,m,k] / (1 + t1[n,m,k]) + alpha[n,j] I1[n]   (CP eq. 13)
    I1[n]       = w_hat[n] VA[n] + sum_{i,j} t1[i,n,j] X1[n,j] pi1[i,n,j] / (1 + t1[i,n,j]) + D1[n]
    w_hat[n] VA[n] = sum_j va[n,j] sum_m X1[m,j] pi1[n,m,j] / (1 + t1[n,m,j])      (CP eq. 14, labour market)
    tau_hat     = (1 + t1) / (1 + t0)

Numeraire: world value added, ``sum_n w_hat[n] VA[n] = sum_n VA[n]``. Deficit
closures: ``fixed`` (D1 = D0 in numeraire units), ``balanced`` (D1 = 0), or a
user-given D1 that sums to zero. Welfare (real income)::

    W_hat[n] = (I1[n] / I0[n]) / prod_j P_hat[n,j]^alpha[n,j]

Without IO (va = 1) the model is the multi-sector Armington / Eaton-Kortum model
of Costinot & Rodriguez-Clare (2014), and with one sector, no tariffs and
balanced trade ``W_hat = lambda_hat_nn^(-1/theta)`` (Arkolakis, Costinot and
Rodriguez-Clare 2012).

Solution method. Unknown ``x = log w_hat`` (N values). For a given ``x``:
(1) the price system ``log P = f(log P; x)`` is a contraction (IO shares sum to
less than one), solved by iteration with implicit-function derivatives;
(2) trade shares follow in closed form; (3) spending ``X1`` solves a linear
system ``(I - M) X1 = alpha (w VA + D1)`` whose map M has spectral radius < 1
(value added and tariffs leak), solved by Neumann iteration (closed form without
IO); (4) the labour-market residuals plus the numeraire give ``F(x)``, solved by
safeguarded Newton with exact JAX Jacobians. Everything is one jit-compiled
pure function, vmappable over tariffs, theta and deficits, and differentiable
end to end by the implicit function theorem. An unconverged solve raises
:class:`~tariffsim.errors.ConvergenceError`.

References
----------
Caliendo, L. and F. Parro (2015), "Estimates of the Trade and Welfare Effects of
NAFTA", Review of Economic Studies 82(1), 1-44, section 3 and equations (10)-(14),
welfare decomposition eq. (21)-(22) / section 5.
Costinot, A. and A. Rodriguez-Clare (2014), "Trade Theory with Numbers", Handbook
of International Economics vol. 4, section 4.
Arkolakis, C., A. Costinot and A. Rodriguez-Clare (2012), "New Trade Models, Same
Old Gains?", American Economic Review 102(1), 94-130.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Mapping, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConvergenceError, DataError, ScenarioError, show_code
from ..solve.anderson import anderson
from ..solve.implicit import attach_root, dense_tangent, neumann_tangent
from ..solve.roots import fixed_point, neumann_solve, newton_root
from ..world import World
from .base import BoundModel, register_model
from .ge_certify import LSE_SWITCH, certify, check_feasible

jax.config.update("jax_enable_x64", True)

#: Newton tolerance on the labour-market residual (relative to value added) and numeraire.
TOL = 1e-12
#: A result is accepted when its residual is below this (a little slack over TOL for vmapped solves).
ACCEPT_TOL = 1e-9
MAX_NEWTON = 100


# --------------------------------------------------------------------------- parameters
class GEParams(NamedTuple):
    """Arrays the kernel needs (a pytree: vmap over any leaf)."""

    pi0: jnp.ndarray      # (N, N, S) baseline trade shares, tariff-inclusive, exporter x importer x sector
    t0: jnp.ndarray       # (N, N, S) baseline tariffs
    t1: jnp.ndarray       # (N, N, S) new tariffs
    theta: jnp.ndarray    # (S,)
    va: jnp.ndarray       # (N, S) value-added shares
    io: jnp.ndarray       # (N, S, S) io[n, k, j]: share of sector j costs on inputs from k
    alpha: jnp.ndarray    # (N, S) final-demand shares
    va0: jnp.ndarray      # (N,) baseline value added, USD mn
    d1: jnp.ndarray       # (N,) new deficits, USD mn (numeraire units)
    i0: jnp.ndarray       # (N,) baseline income, USD mn (for welfare)


class GEState(NamedTuple):
    """Warm-start state: log wage changes."""

    log_w: jnp.ndarray


class GESolution(NamedTuple):
    """Raw kernel output (arrays only)."""

    wage_hat: jnp.ndarray
    price_hat: jnp.ndarray
    cost_hat: jnp.ndarray
    trade_share: jnp.ndarray
    expenditure: jnp.ndarray
    flows: jnp.ndarray
    income: jnp.ndarray
    tariff_revenue: jnp.ndarray
    welfare_hat: jnp.ndarray
    residual: jnp.ndarray
    iterations: jnp.ndarray


# --------------------------------------------------------------------------- pure math
def calc_log_cost(log_w: jnp.ndarray, log_p: jnp.ndarray, va: jnp.ndarray, io: jnp.ndarray) -> jnp.ndarray:
    """``log c_hat[i,j] = va[i,j] log w_hat[i] + sum_k io[i,k,j] log P_hat[i,k]`` (CP eq. 10)."""
    return va * log_w[:, None] + jnp.einsum("ikj,ik->ij", io, log_p)


def calc_log_price(log_c: jnp.ndarray, log_tau_hat: jnp.ndarray, pi0: jnp.ndarray, theta: jnp.ndarray) -> jnp.ndarray:
    """``log P_hat[n,j] = -1/theta_j log sum_i pi[i,n,j] (tau_hat c_hat[i,j])^-theta_j`` (CP eq. 11).

    Computed in a form exact as theta -> 0. With ``z = log(tau_hat c_hat)``, the
    share-weighted mean ``zbar = sum_i pi z`` and ``a = -theta (z - zbar)``::

        log P_hat = zbar - log(sum_i pi e^a) / theta,   log(sum_i pi e^a) = log1p(sum_i pi expm1(a))

    The first-order terms of ``sum pi expm1(a)`` cancel analytically (``sum pi a = 0``),
    so the Cobb-Douglas limit ``log P_hat -> sum_i pi log(tau_hat c_hat)`` is reached
    without the cancellation error ``eps / theta`` of a plain log-sum-exp (which
    flipped the sign of welfare changes below theta ~ 1e-13). Where some ``a`` exceeds
    :data:`~tariffsim.models.ge_certify.LSE_SWITCH` (large theta times a large cost
    spread), the max-shifted log-sum-exp is used: accurate there, and it cannot overflow.
    Importer-sectors with no spending at all keep ``P_hat = 1``.
    """
    z = log_tau_hat + log_c[:, None, :]
    has = pi0 > 0
    tot = jnp.sum(jnp.where(has, pi0, 0.0), axis=0)
    empty = tot <= 0
    wn = jnp.where(has, pi0, 0.0) / jnp.where(empty, 1.0, tot)
    zs = jnp.where(has, z, 0.0)
    zbar = jnp.sum(wn * zs, axis=0)
    a = -theta[None, None, :] * (zs - zbar[None])
    amax = jnp.max(jnp.where(has, a, -jnp.inf), axis=0)
    amax = jnp.where(jnp.isfinite(amax), amax, 0.0)
    x = jnp.sum(wn * jnp.expm1(jnp.where(has, jnp.minimum(a, LSE_SWITCH), 0.0)), axis=0)
    s = jnp.sum(jnp.where(has, wn * jnp.exp(jnp.where(has, a - amax[None], 0.0)), 0.0), axis=0)
    shifted = jnp.log(jnp.where(s > 0, s, 1.0)) + amax
    centred = (amax <= LSE_SWITCH) & (x > -0.5)
    lse = jnp.where(centred, jnp.log1p(jnp.where(centred, x, 0.0)), shifted)
    return jnp.where(empty, 0.0, zbar - lse / theta[None, :])


def calc_trade_share(pi0: jnp.ndarray, log_tau_hat: jnp.ndarray, log_c: jnp.ndarray, log_p: jnp.ndarray,
                     theta: jnp.ndarray) -> jnp.ndarray:
    """``pi1[i,n,j] = pi[i,n,j] (tau_hat c_hat[i,j] / P_hat[n,j])^-theta_j`` (CP eq. 12)."""
    z = -theta[None, None, :] * (log_tau_hat + log_c[:, None, :] - log_p[None, :, :])
    return jnp.where(pi0 > 0, pi0 * jnp.exp(z), 0.0)


class SweepConstants(NamedTuple):
    """What one sweep of the fast kernel needs from the tariffs and baseline shares, computed
    once per solve rather than once per sweep."""

    log_tau_hat: jnp.ndarray   # (N, N, S) log(1 + t1) - log(1 + t0)
    weight: jnp.ndarray        # (N, N, S) pi0 / sum_i pi0 (0 where pi0 = 0)
    has: jnp.ndarray           # (N, N, S) pi0 > 0
    empty: jnp.ndarray         # (N, S) importer-sectors without any spending
    inv_gross: jnp.ndarray     # (N, N, S) 1 / (1 + t1)
    tax_factor: jnp.ndarray    # (N, N, S) t1 / (1 + t1)


def sweep_constants(p: GEParams) -> SweepConstants:
    """The per-solve constants of :func:`calc_log_price_and_share` and the spending terms."""
    has = p.pi0 > 0
    tot = jnp.sum(jnp.where(has, p.pi0, 0.0), axis=0)
    empty = tot <= 0
    inv = 1.0 / (1.0 + p.t1)
    return SweepConstants(_log_tau_hat(p), jnp.where(has, p.pi0, 0.0) / jnp.where(empty, 1.0, tot), has, empty,
                          inv, p.t1 * inv)


def calc_log_price_and_share(log_c: jnp.ndarray, c: SweepConstants, pi0: jnp.ndarray,
                             theta: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """CP eq. (11) and (12) from one exponential per trade flow (the fast kernel's sweep).

    With ``z = log(tau_hat c_hat)``, ``zbar = sum_i w z`` (``w = pi0 / sum_i pi0``),
    ``a = -theta (z - zbar)`` and a shift ``m = max(max_i a - LSE_SWITCH, 0)``::

        x = sum_i w expm1(a - m),   log P_hat = zbar - (m + log1p(x)) / theta,
        pi1 = pi0 exp(a - m) / (1 + x) = pi0 (tau_hat c_hat / P_hat)^-theta.

    Without the shift (the usual case: by Jensen's inequality ``x >= 0`` there) this is
    :func:`calc_log_price`'s centred form, exact as theta -> 0; with it, the max-shifted
    log-sum-exp, which cannot overflow. The shares reuse the same exponentials, so a sweep
    costs one transcendental per flow instead of three; the kernel's certificate is still
    computed with :func:`calc_log_price` and :func:`calc_trade_share`.
    """
    z = jnp.where(c.has, c.log_tau_hat + log_c[:, None, :], 0.0)
    zbar = jnp.sum(c.weight * z, axis=0)
    a = -theta[None, None, :] * (z - zbar[None])
    amax = jnp.max(jnp.where(c.has, a, -jnp.inf), axis=0)
    shift = jnp.where(jnp.isfinite(amax), jnp.maximum(amax - LSE_SWITCH, 0.0), 0.0)
    em = jnp.expm1(jnp.minimum(a - shift[None], LSE_SWITCH))
    x = jnp.sum(c.weight * em, axis=0)
    log_p = jnp.where(c.empty, 0.0, zbar - (shift + jnp.log1p(x)) / theta[None, :])
    return log_p, pi0 * (1.0 + em) * (1.0 / (1.0 + x))[None]


def _solve_prices(log_w: jnp.ndarray, log_tau_hat: jnp.ndarray, p: GEParams, has_io: bool) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Unit costs and price indices given wages: closed form without IO, contraction with IO."""
    if not has_io:
        log_c = p.va * log_w[:, None]
        return log_c, calc_log_price(log_c, log_tau_hat, p.pi0, p.theta)

    def T(log_p):
        return calc_log_price(calc_log_cost(log_w, log_p, p.va, p.io), log_tau_hat, p.pi0, p.theta)

    log_p0 = calc_log_price(p.va * log_w[:, None], log_tau_hat, p.pi0, p.theta)
    log_p = fixed_point(T, log_p0)
    return calc_log_cost(log_w, log_p, p.va, p.io), log_p


def _log_tau_hat(p: GEParams) -> jnp.ndarray:
    """``log tau_hat = log(1 + t1) - log(1 + t0)``."""
    return jnp.log1p(p.t1) - jnp.log1p(p.t0)


def _spending_terms(w: jnp.ndarray, pi1: jnp.ndarray, p: GEParams):
    """``sales[i,n,j] = pi1/(1+t1)`` (producer i's revenue per unit of n's spending),
    ``tax_share[n,j] = sum_i pi1 t1/(1+t1)`` and ``base[n] = w VA + D1``."""
    sales = pi1 / (1.0 + p.t1)
    return sales, jnp.sum(sales * p.t1, axis=0), w * p.va0 + p.d1


def _io_spending(out: jnp.ndarray, X: jnp.ndarray, tax_share: jnp.ndarray, base, p: GEParams) -> jnp.ndarray:
    """Right-hand side of CP eq. (13): ``sum_k io[n,j,k] Y[n,k] + alpha[n,j] (base[n] + R[n](X))``
    with ``out = Y`` the producer revenue at spending ``X`` and ``R`` the tariff revenue."""
    rev = jnp.sum(X * tax_share, axis=1)
    return jnp.einsum("nkj,nj->nk", p.io, out) + p.alpha * (base + rev)[:, None]


def _noio_spending(tax_share: jnp.ndarray, base: jnp.ndarray, p: GEParams) -> jnp.ndarray:
    """Without IO: ``X1 = alpha I1`` with ``I1 = (w VA + D1) / (1 - sum_j alpha_j r_j)`` (closed form)."""
    return p.alpha * (base / (1.0 - jnp.sum(p.alpha * tax_share, axis=1)))[:, None]


def _numeraire_row(p: GEParams) -> jnp.ndarray:
    """The labour market the numeraire replaces: the largest economy's (by baseline value added).

    Walras' law clears the market left out only up to the sum of the other markets'
    absolute errors; left with the largest economy that is the smallest relative error
    (a tiny country left out could be tens of percent off). Ties go to the first.
    """
    return jnp.argmax(p.va0)


def _labour_residual(w: jnp.ndarray, out: jnp.ndarray, p: GEParams) -> jnp.ndarray:
    """CP eq. (14) as ``(sum_j va Y - w VA) / VA`` for every n but :func:`_numeraire_row`,
    whose row holds the numeraire condition ``sum w VA / sum VA - 1``."""
    labour = jnp.sum(p.va * out, axis=1)
    excess = (labour - w * p.va0) / p.va0
    return excess.at[_numeraire_row(p)].set(jnp.sum(w * p.va0) / jnp.sum(p.va0) - 1.0)


def _solve_spending(w: jnp.ndarray, pi1: jnp.ndarray, p: GEParams, has_io: bool) -> jnp.ndarray:
    """New tariff-inclusive spending ``X1[n,j]`` from CP eq. (13) and the income identity:
    closed form without IO, the linear system ``(I - M) X1 = alpha (w VA + D1)`` with IO."""
    sales, tax_share, base = _spending_terms(w, pi1, p)
    if not has_io:
        return _noio_spending(tax_share, base, p)

    def M(x):
        return _io_spending(jnp.einsum("inj,nj->ij", sales, x), x, tax_share, 0.0, p)

    return neumann_solve(lambda x: x - M(x), p.alpha * base[:, None])


def _excess_labour(x: jnp.ndarray, p: GEParams, has_io: bool) -> jnp.ndarray:
    """Residual ``F(log w)``: labour-market excess demand / VA, the numeraire in :func:`_numeraire_row`."""
    log_tau_hat = _log_tau_hat(p)
    log_c, log_p = _solve_prices(x, log_tau_hat, p, has_io)
    pi1 = calc_trade_share(p.pi0, log_tau_hat, log_c, log_p, p.theta)
    w = jnp.exp(x)
    X1 = _solve_spending(w, pi1, p, has_io)
    return _labour_residual(w, jnp.einsum("inj,nj->ij", pi1 / (1.0 + p.t1), X1), p)


def _jacobian_noio(x: jnp.ndarray, p: GEParams) -> jnp.ndarray:
    """Analytic Jacobian of :func:`_excess_labour` without IO (c_hat = w_hat), O(N^3 S) via batched matmuls.

    With ``d log pi1[i,n,s] / d log w_k = -theta_s (delta_ik - pi1[k,n,s])``, tariff
    share ``r[n,s] = sum_i pi1 t1/(1+t1)``, ``a[n] = sum_s alpha r``,
    ``I[n] = (w_n VA_n + D_n) / (1 - a[n])`` and ``L[i] = sum_{n,s} pi1/(1+t1) alpha I``:

        dL_i/dx_k = -delta_ik sum_{n,s} theta_s Y[i,n,s] + sum_{n,s} theta_s Y[i,n,s] pi1[k,n,s]
                    + sum_n G[i,n] (delta_nk h_n + H[n,k])

    with ``Y = pi1 X / (1+t1)``, ``G[i,n] = sum_s pi1 alpha / (1+t1)``,
    ``h_n = w_n VA_n / (1-a_n)`` and
    ``H[n,k] = -(I_n/(1-a_n)) sum_s alpha[n,s] theta_s pi1[k,n,s] (tt[k,n,s] - r[n,s])``.
    """
    log_tau_hat = _log_tau_hat(p)
    log_c = x[:, None] * jnp.ones_like(p.va)
    log_p = calc_log_price(log_c, log_tau_hat, p.pi0, p.theta)
    pi1 = calc_trade_share(p.pi0, log_tau_hat, log_c, log_p, p.theta)
    w = jnp.exp(x)
    inv1 = 1.0 / (1.0 + p.t1)
    tt = p.t1 * inv1
    r = jnp.sum(pi1 * tt, axis=0)                                   # (n, s)
    a = jnp.sum(p.alpha * r, axis=1)                                # (n,)
    income = (w * p.va0 + p.d1) / (1.0 - a)
    X = p.alpha * income[:, None]
    Y = pi1 * inv1 * X[None]                                         # (i, n, s)
    th = p.theta[None, None, :]
    term1 = -jnp.diag(jnp.sum(th * Y, axis=(1, 2))) + jnp.einsum("ins,kns->ik", th * Y, pi1)
    G = jnp.sum(pi1 * inv1 * p.alpha[None], axis=2)                  # (i, n)
    h = w * p.va0 / (1.0 - a)
    H = -(income / (1.0 - a))[:, None] * jnp.einsum("ns,kns->nk", p.alpha * p.theta[None, :], pi1 * (tt - r[None]))
    dL = term1 + G * h[None, :] + G @ H
    J = (dL - jnp.diag(w * p.va0)) / p.va0[:, None]
    return J.at[_numeraire_row(p)].set(w * p.va0 / jnp.sum(p.va0))


def _outputs(p: GEParams, x, log_c, log_p, pi1, X1, residual, iterations) -> GESolution:
    """Everything a solution reports, from wages, costs, prices, trade shares and spending:
    new flows ``pi1 X1 / (1+t1)``, tariff revenue, income ``w VA + R + D1`` and welfare
    ``(I1/I0) / prod_j P_hat^alpha``."""
    w = jnp.exp(x)
    flows = pi1 * X1[None, :, :] / (1.0 + p.t1)
    revenue = jnp.sum(flows * p.t1, axis=(0, 2))
    income = w * p.va0 + revenue + p.d1
    welfare = (income / p.i0) * jnp.exp(-jnp.sum(p.alpha * log_p, axis=1))
    return GESolution(w, jnp.exp(log_p), jnp.exp(log_c), pi1, X1, flows, income, revenue, welfare, residual, iterations)


def equilibrium(p: GEParams, log_w0: jnp.ndarray, has_io: bool, method: str = "broyden",
                max_iter: int = MAX_NEWTON) -> GESolution:
    """Solve the CP equilibrium in changes; pure, jit-able, vmappable, differentiable."""
    jac = None if has_io else (lambda x: _jacobian_noio(x, p))
    x, res, it = newton_root(lambda x: _excess_labour(x, p, has_io), log_w0, tol=TOL, max_iter=max_iter,
                             method=method, jac=jac)
    log_tau_hat = _log_tau_hat(p)
    log_c, log_p = _solve_prices(x, log_tau_hat, p, has_io)
    pi1 = calc_trade_share(p.pi0, log_tau_hat, log_c, log_p, p.theta)
    X1 = _solve_spending(jnp.exp(x), pi1, p, has_io)
    return _outputs(p, x, log_c, log_p, pi1, X1, res, it)


_equilibrium_jit = jax.jit(equilibrium, static_argnames=("has_io", "method", "max_iter"))


# --------------------------------------------------------------------------- fast joint kernel
def _joint_parts(x, lp, X, p: GEParams, has_io: bool):
    """One sweep of every equilibrium condition at ``(log w, log P, X)``.

    Returns the updated prices ``T(log P)``, spending ``M X + b``, the labour
    residual (CP eq. 14 with the numeraire last) evaluated at the *given* X, and
    the trade shares.
    """
    log_tau_hat = _log_tau_hat(p)
    w = jnp.exp(x)
    log_c = calc_log_cost(x, lp, p.va, p.io) if has_io else p.va * x[:, None]
    lp_new = calc_log_price(log_c, log_tau_hat, p.pi0, p.theta)
    pi1 = calc_trade_share(p.pi0, log_tau_hat, log_c, lp_new, p.theta)
    sales, tax_share, base = _spending_terms(w, pi1, p)
    out = jnp.einsum("inj,nj->ij", sales, X)          # producer revenue at the given X (used twice)
    X_new = _io_spending(out, X, tax_share, base, p) if has_io else _noio_spending(tax_share, base, p)
    return lp_new, X_new, _labour_residual(w, out, p), pi1


#: Price and spending sweeps per step of the fast kernel's map (:func:`fast_map`) in batch
#: jobs. With IO, two of each per step (and the labour residual at the updated spending)
#: took 14.6 Anderson steps per Monte Carlo draw on world_io_7x44_2017 instead of 22 for one
#: of each, 1.5x less time; three saved no more time (docs/performance.md). Single solves
#: keep one of each (``SINGLE_SWEEPS``): the same speed there, and a kernel half the size
#: to compile (the strategy layer compiles it inside every gradient).
BATCH_SWEEPS = (2, 2)       # (price sweeps, spending sweeps)
SINGLE_SWEEPS = (1, 1)


def _lean_parts(x, lp, X, p: GEParams, c: SweepConstants, has_io: bool, sweeps: tuple[int, int] = BATCH_SWEEPS):
    """The fast kernel's sweep: the conditions of :func:`_joint_parts` with one exponential
    per flow (:func:`calc_log_price_and_share`) and the per-solve constants ``c`` hoisted.

    With IO, ``sweeps[0]`` price sweeps ``log P <- T(log P; log w)`` (CP eq. 10-11), then
    ``sweeps[1]`` spending sweeps ``X <- M X + b`` (CP eq. 13) at those trade shares, and
    the labour residual (CP eq. 14) at the updated spending.
    Every sweep maps a fixed point to itself, so the map's fixed points are the equilibria.
    """
    w = jnp.exp(x)
    n_price, n_spend = sweeps if has_io else (1, 1)
    for _ in range(n_price):
        log_c = calc_log_cost(x, lp, p.va, p.io) if has_io else p.va * x[:, None]
        lp, pi1 = calc_log_price_and_share(log_c, c, p.pi0, p.theta)
    tax_share = jnp.sum(pi1 * c.tax_factor, axis=0)
    base = w * p.va0 + p.d1
    sales = pi1 * c.inv_gross
    out = jnp.einsum("inj,nj->ij", sales, X)
    for _ in range(n_spend):
        X = _io_spending(out, X, tax_share, base, p) if has_io else _noio_spending(tax_share, base, p)
        out = jnp.einsum("inj,nj->ij", sales, X)
    return lp, X, _labour_residual(w, out, p)


class FastProblem(NamedTuple):
    """One problem of the fast kernel: parameters, hoisted constants, the wage preconditioner
    ``H0`` and the spending scale of the stacked unknown ``z = [log w, log P, X / xscale]``."""

    p: GEParams
    c: SweepConstants
    H0: jnp.ndarray
    xscale: jnp.ndarray


def fast_start(p: GEParams, log_w0: jnp.ndarray, H0: jnp.ndarray, has_io: bool,
               log_p0: jnp.ndarray | None = None, expenditure0: jnp.ndarray | None = None):
    """Starting point ``z0`` and the :class:`FastProblem` of :func:`equilibrium_fast`.

    Prices and spending start at ``log_p0`` and ``expenditure0`` when given (a nearby
    solution), else at the no-IO prices and one spending sweep.
    """
    if log_p0 is None or expenditure0 is None:
        lp0 = calc_log_price(p.va * log_w0[:, None], _log_tau_hat(p), p.pi0, p.theta)
        X0 = p.alpha * (jnp.exp(log_w0) * p.va0 + p.d1)[:, None]
        _, X0, _, _ = _joint_parts(log_w0, lp0, X0, p, has_io)
    else:
        lp0, X0 = log_p0, expenditure0
    xscale = jnp.maximum(jnp.abs(X0), 1e-9 * jnp.max(jnp.abs(X0)))
    prob = FastProblem(p, sweep_constants(p), H0, xscale)
    return jnp.concatenate([log_w0, lp0.ravel(), (X0 / xscale).ravel()]), prob


def _unpack(z, prob: FastProblem):
    n, s = prob.p.alpha.shape
    return z[:n], z[n:n + n * s].reshape(n, s), z[n + n * s:].reshape(n, s) * prob.xscale


def fast_map(z: jnp.ndarray, prob: FastProblem, has_io: bool, sweeps: tuple[int, int] = BATCH_SWEEPS) -> jnp.ndarray:
    """The fixed-point map ``G(z)`` Anderson accelerates: one joint sweep, the wage step a
    chord step ``log w <- log w - H0 e`` capped at 0.25 in the sup norm."""
    x, lp, X = _unpack(z, prob)
    lp_new, X_new, e = _lean_parts(x, lp, X, prob.p, prob.c, has_io, sweeps)
    dx = prob.H0 @ e
    x_new = x - dx * jnp.minimum(1.0, 0.25 / jnp.maximum(jnp.max(jnp.abs(dx)), 1e-300))  # step cap
    return jnp.concatenate([x_new, lp_new.ravel(), (X_new / prob.xscale).ravel()])


def fast_finish(z: jnp.ndarray, prob: FastProblem, has_io: bool, iterations) -> GESolution:
    """Outputs at ``z`` with the certificate: the largest violation of *every* equilibrium
    condition (labour markets and numeraire, price system, spending system, relative),
    recomputed with the accurate :func:`_joint_parts`."""
    p = prob.p
    x, lp, X = _unpack(z, prob)
    lp_chk, X_chk, e, pi1 = _joint_parts(x, lp, X, p, has_io)
    residual = jnp.maximum(jnp.max(jnp.abs(e)),
                           jnp.maximum(jnp.max(jnp.abs(lp_chk - lp)), jnp.max(jnp.abs(X_chk - X)) / jnp.max(jnp.abs(X))))
    residual = jnp.where(jnp.isfinite(residual), residual, jnp.inf)
    # outputs at the certified point (prices and trade shares from the checking sweep)
    log_c = calc_log_cost(x, lp, p.va, p.io) if has_io else p.va * x[:, None]
    return _outputs(p, x, log_c, lp_chk, pi1, X, residual, iterations)


def equilibrium_fast(p: GEParams, log_w0: jnp.ndarray, H0: jnp.ndarray, has_io: bool,
                     max_iter: int = 400, tol: float = 1e-13, memory: int = 8,
                     log_p0: jnp.ndarray | None = None, expenditure0: jnp.ndarray | None = None,
                     sweeps: tuple[int, int] = SINGLE_SWEEPS) -> GESolution:
    """Forward-only fast solve: Anderson acceleration (Walker & Ni 2011) of one joint
    sweep over wages, prices and spending (:func:`fast_map`), with the wage step
    preconditioned by a fixed inverse Jacobian ``H0`` (chord method: ``x <- x - H0 e``).

    The returned ``residual`` is the largest violation of *every* equilibrium
    condition at the returned point (:func:`fast_finish`), so a small residual
    certifies the equilibrium independently of how it was found. Not differentiable
    (use :func:`equilibrium_implicit`). ``log_p0`` and ``expenditure0`` warm-start
    prices and spending (e.g. from a nearby solution). Many problems at once:
    :func:`tariffsim.scale._kernel.solve_batched` runs the same three steps over a batch
    with :func:`tariffsim.solve.anderson.anderson_batched`.
    """
    z0, prob = fast_start(p, log_w0, H0, has_io, log_p0, expenditure0)
    z, _, it = anderson(lambda z: fast_map(z, prob, has_io, sweeps), z0, memory=memory, tol=tol, max_iter=max_iter)
    return fast_finish(z, prob, has_io, it)


@partial(jax.jit, static_argnames=("has_io",))
def _fast_solve_jit(p: GEParams, log_w0: jnp.ndarray, has_io: bool) -> GESolution:
    """Single-solve fast path for IO worlds: :func:`equilibrium_fast` preconditioned by the
    cheap analytic Jacobian of the model *without* IO (an approximation: Anderson corrects
    it). Measured: world_io_7x44_2017 3.2 ms vs 18 ms (Broyden), CP 31x40 72 ms vs 580 ms."""
    H0 = jnp.linalg.solve(_jacobian_noio(log_w0, p), jnp.eye(log_w0.shape[0], dtype=log_w0.dtype))
    return equilibrium_fast(p, log_w0, H0, has_io, max_iter=1000)


def equilibrium_implicit(p: GEParams, log_w0: jnp.ndarray, has_io: bool) -> GESolution:
    """The certified fast solve, differentiable by the implicit function theorem.

    Forward (no derivative flows through the iterations): with IO the Anderson
    kernel :func:`_fast_solve_jit`'s solve, falling back to Broyden
    (:func:`equilibrium`) when it cannot certify its residual; without IO Newton
    with the analytic Jacobian. Derivatives are then re-attached at the root
    (:func:`tariffsim.solve.implicit.attach_root`), nested as the model is:

    - prices ``log P = T(log P; log w)`` (CP eq. 10-11): Neumann tangent solve;
    - spending ``X = M X + b`` (CP eq. 13 with the income identity): Neumann;
    - wages, labour markets and numeraire ``F(log w) = 0`` (CP eq. 14): dense
      tangent solve with the exact Jacobian (analytic without IO, forward mode with IO).

    Values equal the forward solve's; ``residual`` is its certified residual
    (``inf``-safe), so callers must check it against :data:`ACCEPT_TOL`.
    """
    ps = jax.lax.stop_gradient(p)
    x0 = jax.lax.stop_gradient(log_w0)
    if has_io:
        H0 = jnp.linalg.solve(_jacobian_noio(x0, ps), jnp.eye(x0.shape[0], dtype=x0.dtype))
        fast = equilibrium_fast(ps, x0, H0, True, max_iter=1000)
        ok = (fast.residual < ACCEPT_TOL) & jnp.all(jnp.isfinite(fast.welfare_hat))
        fast = fast._replace(iterations=fast.iterations.astype(jnp.int32))
        sol = jax.lax.cond(ok, lambda: fast, lambda: equilibrium(ps, x0, True, method="broyden"))
    else:
        sol = equilibrium(ps, x0, False, method="newton")
    sol = jax.lax.stop_gradient(sol)
    x_star, lp_star, X_star = jnp.log(sol.wage_hat), jnp.log(sol.price_hat), sol.expenditure
    log_tau_hat = _log_tau_hat(p)

    def prices(x):
        if not has_io:
            log_c = p.va * x[:, None]
            return log_c, calc_log_price(log_c, log_tau_hat, p.pi0, p.theta)

        def resid(lp):
            return lp - calc_log_price(calc_log_cost(x, lp, p.va, p.io), log_tau_hat, p.pi0, p.theta)

        lp = attach_root(resid, lp_star, neumann_tangent())
        return calc_log_cost(x, lp, p.va, p.io), lp

    def spending(x, pi1):
        sales, tax_share, base = _spending_terms(jnp.exp(x), pi1, p)
        if not has_io:
            return _noio_spending(tax_share, base, p)

        def resid(X):
            return X - _io_spending(jnp.einsum("inj,nj->ij", sales, X), X, tax_share, base, p)

        return attach_root(resid, X_star, neumann_tangent())

    def parts(x):
        log_c, lp = prices(x)
        pi1 = calc_trade_share(p.pi0, log_tau_hat, log_c, lp, p.theta)
        return log_c, lp, pi1, spending(x, pi1)

    def F(x):
        _, _, pi1, X = parts(x)
        return _labour_residual(jnp.exp(x), jnp.einsum("inj,nj->ij", pi1 / (1.0 + p.t1), X), p)

    jac = None if has_io else jax.lax.stop_gradient(_jacobian_noio(x_star, ps))
    x = attach_root(F, x_star, dense_tangent(jac))
    log_c, lp, pi1, X = parts(x)
    return _outputs(p, x, log_c, lp, pi1, X, sol.residual, sol.iterations)


# --------------------------------------------------------------------------- glue
def _deficits(world: World, closure: str | None, deficits) -> np.ndarray:
    """D1 for a closure; user-given deficits must be finite and sum to zero."""
    n = world.n_regions
    if deficits is not None:
        if isinstance(deficits, Mapping):
            d = np.array(world.deficit_usd if closure in (None, "fixed") else np.zeros(n), dtype=float)
            for k, v in deficits.items():
                d[world.index(k)] = _float(v, f"deficits[{k!r}]")
        else:
            d = _numeric("deficits", deficits)
            if d.shape != (n,):
                raise DataError(f"deficits: expected shape ({n},), got {d.shape}")
        if not np.isfinite(d).all():
            raise DataError("deficits: non-finite value")
        if abs(d.sum()) > 1e-6 * max(1.0, float(world.value_added_usd.sum())):
            raise DataError(f"deficits: must sum to zero across regions (world trade balances), got {d.sum():.6g}")
        return d
    if closure in (None, "fixed"):
        return np.asarray(world.deficit_usd, dtype=float)
    if closure == "balanced":
        return np.zeros(n)
    raise ScenarioError(f"closure must be 'fixed' or 'balanced' (or give deficits=), got {closure!r}")


def _numeric(name: str, x) -> np.ndarray:
    """``x`` as a float array, or :class:`DataError` naming ``name`` (strings, ragged lists, complex)."""
    try:
        if np.iscomplexobj(x):
            raise TypeError("complex values")
        return np.asarray(x, dtype=float)
    except (TypeError, ValueError, OverflowError) as exc:
        raise DataError(f"{name}: not numeric ({str(exc).splitlines()[0][:120]})") from None


def _float(v, name: str) -> float:
    try:
        return float(v)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"{name}: not a number: {v!r}") from None


def make_params(world: World, tariffs=None, *, closure: str | None = "fixed", deficits=None,
                theta=None) -> GEParams:
    """Kernel parameters from a World and a scenario (validated)."""
    if not isinstance(world, World):
        raise DataError(f"world: expected a tariffsim World (tariffsim.load_world(...)), got {type(world).__name__}")
    t1 = _numeric("tariffs", world.tariffs if tariffs is None else tariffs)
    if t1.shape != world.flows.shape:
        raise DataError(f"tariffs: expected shape {world.flows.shape}, got {t1.shape}")
    if not np.isfinite(t1).all():
        raise DataError("tariffs: non-finite value")
    if (t1 <= -1).any():
        i, j, s = (int(v[0]) for v in np.nonzero(t1 <= -1))
        raise DataError(f"tariffs: rate {t1[i, j, s]:.4g} <= -100% for {show_code(world.regions[i])} -> "
                        f"{show_code(world.regions[j])}, sector {show_code(world.sectors[s])}")
    n = world.n_regions
    if np.abs(t1[np.arange(n), np.arange(n), :]).max() > 0:
        raise DataError("tariffs: a country's tariff on itself must be 0")
    th = _numeric("theta", world.theta if theta is None else theta)
    if th.shape == ():
        th = np.full(world.n_sectors, float(th))
    if th.shape != (world.n_sectors,) or not np.isfinite(th).all() or (th <= 0).any():
        raise DataError("theta: need one finite positive trade elasticity per sector")
    d1 = _deficits(world, closure, deficits)
    check_feasible(world.flows, d1, world.regions, closure="given" if deficits is not None else str(closure or "fixed"))
    return GEParams(
        pi0=jnp.asarray(world.trade_share),
        t0=jnp.asarray(world.tariffs),
        t1=jnp.asarray(t1),
        theta=jnp.asarray(th),
        va=jnp.asarray(world.value_added_share),
        io=jnp.asarray(world.io_share),
        alpha=jnp.asarray(world.final_demand_share),
        va0=jnp.asarray(world.value_added_usd),
        d1=jnp.asarray(d1),
        i0=jnp.asarray(world.income_usd),
    )


@dataclass(frozen=True, eq=False)
class Equilibrium:
    """A solved counterfactual equilibrium (changes relative to ``baseline``).

    Arrays are numpy, labelled by ``regions`` and ``sectors``; money in USD millions.
    """

    baseline: World
    tariffs: np.ndarray
    deficits: np.ndarray
    theta: np.ndarray
    welfare_hat: np.ndarray
    wage_hat: np.ndarray
    price_hat: np.ndarray
    cost_hat: np.ndarray
    trade_share: np.ndarray
    expenditure: np.ndarray
    flows: np.ndarray
    income: np.ndarray
    tariff_revenue: np.ndarray
    converged: bool
    residual: float
    iterations: int
    seconds: float
    closure: str = "fixed"
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def regions(self) -> tuple[str, ...]:
        return self.baseline.regions

    @property
    def sectors(self) -> tuple[str, ...]:
        return self.baseline.sectors

    @property
    def trade_balance(self) -> np.ndarray:
        """Exports minus imports (pre-tariff), USD mn: equals ``-deficits``."""
        off = self.flows * (1 - np.eye(len(self.regions)))[:, :, None]
        return off.sum(axis=(1, 2)) - off.sum(axis=(0, 2))

    @property
    def ev_usd(self) -> np.ndarray:
        """Money-metric welfare (equivalent variation), USD mn: ``(W_hat - 1) * I0``."""
        return (self.welfare_hat - 1.0) * self.baseline.income_usd

    @property
    def real_wage_hat(self) -> np.ndarray:
        """``w_hat[n] / prod_j P_hat[n,j]^alpha[n,j]``."""
        return self.wage_hat / np.exp((self.baseline.final_demand_share * np.log(self.price_hat)).sum(axis=1))

    @property
    def world(self) -> World:
        """The counterfactual economy as a new World (its own baseline), so counterfactuals chain."""
        b = self.baseline
        return World.from_arrays(
            regions=b.regions, sectors=b.sectors, flows=self.flows, tariffs=self.tariffs, theta=self.theta,
            value_added_share=b.value_added_share, io_share=b.io_share if b.has_io else None,
            final_demand_share=b.final_demand_share, name=f"{b.name}*", sector_names=b.sector_names, meta=dict(b.meta),
        )

    def decomposition(self) -> "Decomposition":
        """First-order terms-of-trade and volume-of-trade decomposition (CP 2015, eq. 21-22); see :func:`decompose`.

        It approximates ``welfare_hat - 1`` to first order only; ``exact_pct`` and
        ``higher_order_pct`` in its summary say how far the exact change is from it.
        """
        return decompose(self)

    def summary(self):
        """Tidy table by region (polars)."""
        import polars as pl

        b = self.baseline
        off = self.flows * (1 - np.eye(len(self.regions)))[:, :, None]
        off0 = b.flows * (1 - np.eye(len(self.regions)))[:, :, None]
        return pl.DataFrame({
            "region": list(self.regions),
            "welfare_change_pct": (self.welfare_hat - 1) * 100,
            "ev_usd_mn": self.ev_usd,
            "real_wage_change_pct": (self.real_wage_hat - 1) * 100,
            "wage_hat": self.wage_hat,
            "exports_change_pct": (off.sum(axis=(1, 2)) / off0.sum(axis=(1, 2)) - 1) * 100,
            "imports_change_pct": (off.sum(axis=(0, 2)) / off0.sum(axis=(0, 2)) - 1) * 100,
            "tariff_revenue_usd_mn": self.tariff_revenue,
            "trade_balance_usd_mn": self.trade_balance,
        })

    def to_parquet(self, path: str | Path) -> Path:
        """Write :meth:`summary` to Parquet atomically (temp file + rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        try:
            self.summary().write_parquet(tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return path

    def __repr__(self) -> str:
        w = ", ".join(f"{r} {100 * (v - 1):+.3f}%" for r, v in zip(self.regions[:8], self.welfare_hat[:8]))
        more = "" if len(self.regions) <= 8 else ", ..."
        return (f"Equilibrium(welfare: {w}{more}; closure={self.closure}, residual={self.residual:.1e}, "
                f"iterations={self.iterations}, {self.seconds * 1e3:.1f} ms)")


@dataclass(frozen=True)
class Decomposition:
    """First-order welfare decomposition (percent of baseline income), CP (2015) eq. (21)-(22) at baseline values.

    ``total_pct = terms_of_trade_pct + volume_of_trade_pct`` is a first-order
    approximation of the exact welfare change ``exact_pct = 100 (welfare_hat - 1)``;
    ``higher_order_pct = exact_pct - total_pct`` is what the linear terms miss (mostly
    the Harberger triangle -1/2 sum dt dM of a large tariff change, and any change of
    deficits). The two may differ in sign for large shocks: see :func:`decompose`.
    """

    regions: tuple[str, ...]
    terms_of_trade_pct: np.ndarray
    volume_of_trade_pct: np.ndarray
    exact_pct: np.ndarray | None = None

    @property
    def total_pct(self) -> np.ndarray:
        return self.terms_of_trade_pct + self.volume_of_trade_pct

    @property
    def higher_order_pct(self) -> np.ndarray | None:
        return None if self.exact_pct is None else self.exact_pct - self.total_pct

    def summary(self):
        import polars as pl

        cols = {"region": list(self.regions), "terms_of_trade_pct": self.terms_of_trade_pct,
                "volume_of_trade_pct": self.volume_of_trade_pct, "total_pct": self.total_pct}
        if self.exact_pct is not None:
            cols.update(exact_pct=self.exact_pct, higher_order_pct=self.higher_order_pct)
        return pl.DataFrame(cols)


def decompose(eq: Equilibrium) -> Decomposition:
    """ToT_n = sum_{i,j} (E_ni^j (c_hat_n^j - 1) - M_ni^j (c_hat_i^j - 1)) / I_n and
    VoT_n = sum_{i,j} t_ni^j M_ni^j (M_hat_ni^j - c_hat_i^j) / I_n,

    with E exports and M imports (pre-tariff) at baseline values, t the baseline
    tariff n levies on i, and c_hat unit-cost changes (Caliendo & Parro 2015,
    eq. 21-22 evaluated discretely at baseline values).

    This is a first-order expansion of d ln W_n, not the exact welfare change: the
    gap to ``100 (welfare_hat - 1)`` (``higher_order_pct``) is second order in the
    tariff change. Measured on ``world_io_7x44_2017`` for the README's +24% US tariff
    on Japan scaled by s (fixed deficits): decomposition / exact for the US is 1.002,
    1.020, 1.23 at s = 0.001, 0.01, 0.1 (the error shrinks like s^2), while at s = 1
    the decomposition says +0.031% and the exact change is -0.016%: the first-order
    VoT term prices the lost imports at the small baseline tariff t0, whereas the
    exact change also loses the triangle -1/2 sum (t1 - t0) M (M_hat - c_hat) / I,
    which brings the approximation to -0.027% (``tests/test_ge_decomposition.py``). The
    decomposition also omits changes of deficits, so under the balanced closure or
    with transfers the two differ by the deficit change itself. Use ``welfare_hat``
    for the welfare change and the decomposition only for its channels.
    """
    b = eq.baseline
    n = len(b.regions)
    off = 1.0 - np.eye(n)
    f0 = b.flows * off[:, :, None]                 # f0[i, n, j]: exports of i to n
    c = eq.cost_hat                                # (N, S)
    exports_term = np.einsum("nij,nj->n", f0, c - 1.0)          # E_ni^j = f0[n, i, j]
    imports_term = np.einsum("inj,ij->n", f0, c - 1.0)          # M_ni^j = f0[i, n, j]
    m_hat = np.divide(eq.flows, b.flows, out=np.ones_like(eq.flows), where=b.flows > 0)
    vot = np.einsum("inj,inj->n", b.tariffs * f0, m_hat - c[:, None, :])
    inc = b.income_usd
    return Decomposition(b.regions, 100 * (exports_term - imports_term) / inc, 100 * vot / inc,
                         exact_pct=100 * (np.asarray(eq.welfare_hat) - 1.0))


def solve(
    world: World,
    *,
    tariffs: np.ndarray | None = None,
    closure: str = "fixed",
    deficits: np.ndarray | Mapping[str, float] | None = None,
    theta: np.ndarray | None = None,
    initial_wage_hat: np.ndarray | None = None,
    throw: bool = True,
    max_iter: int = MAX_NEWTON,
) -> Equilibrium:
    """Solve the Caliendo-Parro equilibrium for new ``tariffs`` (default: the world's own).

    Parameters
    ----------
    world : the baseline economy.
    tariffs : (N, N, S) new ad valorem tariffs (fractions), exporter x importer x sector.
    closure : ``"fixed"`` (deficits fixed at baseline levels in numeraire units) or ``"balanced"`` (zero).
    deficits : user-given new deficits (N,) or {region: USD mn}; must sum to zero (transfers).
    theta : override trade elasticities (S,).
    initial_wage_hat : warm start.
    throw : raise :class:`ConvergenceError` if the residual exceeds tolerance (default).
    max_iter : cap on Newton/Broyden steps.

    Returns
    -------
    Equilibrium with ``welfare_hat``, ``wage_hat``, ``price_hat``, new ``flows`` and diagnostics.

    Examples
    --------
    >>> import tariffsim as ts
    >>> w = ts.load_world("world_io_7x44_2017")
    >>> eq = ts.solve(w)                       # zero shock
    >>> bool(abs(eq.welfare_hat - 1).max() < 1e-10)
    True
    """
    p = make_params(world, tariffs, closure=closure, deficits=deficits, theta=theta)
    if initial_wage_hat is None:
        x0 = jnp.zeros(world.n_regions)
    else:
        w0 = _numeric("initial_wage_hat", initial_wage_hat)
        if w0.shape != (world.n_regions,) or not np.isfinite(w0).all() or (w0 <= 0).any():
            raise DataError(f"initial_wage_hat: need {world.n_regions} finite positive wage changes, got shape {w0.shape}")
        x0 = jnp.log(jnp.asarray(w0))
    t_start = time.perf_counter()
    # Methods in order: the fast path for IO worlds (Anderson), then the robust path --
    # without IO the exact Jacobian is analytic and cheap, so Newton (4 steps) beats
    # Broyden (9) -- and the other outer method as a fallback. Each result is certified
    # against every equilibrium condition from its returned arrays (ge_certify.certify);
    # the first that passes is kept.
    primary = "broyden" if world.has_io else "newton"
    methods = (["anderson"] if world.has_io and max_iter >= MAX_NEWTON else []) + [primary]
    methods.append("newton" if primary == "broyden" else "broyden")
    for method in methods:
        if method == "anderson":
            sol = jax.tree_util.tree_map(np.asarray, _fast_solve_jit(p, x0, has_io=True))
        else:
            sol = jax.tree_util.tree_map(np.asarray, _equilibrium_jit(p, x0, has_io=world.has_io, method=method, max_iter=max_iter))
        cert = certify(p, sol, world.regions, world.sectors)
        solver_residual = float(sol.residual) if np.isfinite(sol.residual) else np.inf
        residual = max(solver_residual, cert.max)
        ok = bool(residual < ACCEPT_TOL and np.isfinite(sol.welfare_hat).all())
        if ok:
            break
    seconds = time.perf_counter() - t_start
    if throw and not ok:
        if solver_residual < ACCEPT_TOL:
            cond, v, where = cert.worst
            raise ConvergenceError(
                f"GE solve did not reach an equilibrium: the {cond} condition fails by {v:.3g} (relative) at {where} "
                f"although the solver's residual is {solver_residual:.3g} (tolerance {ACCEPT_TOL:g})",
                residual=residual, iterations=int(sol.iterations))
        raise ConvergenceError(
            f"GE solve did not converge: residual {residual:.3g} after {int(sol.iterations)} Newton steps "
            f"(tolerance {ACCEPT_TOL:g})", residual=residual, iterations=int(sol.iterations))
    # A root of the equations is not an economy if some country's income (hence spending)
    # turns negative: with deficits fixed in levels a collapsing surplus country can end
    # there under extreme shocks. No valid equilibrium exists for that closure.
    neg = np.nonzero(~(sol.income > 0))[0] if ok else np.array([], dtype=int)
    if len(neg):
        ok = False
        if throw:
            k = int(neg[0])
            raise ConvergenceError(
                f"no valid equilibrium: income of {world.regions[k]} would be {sol.income[k]:.4g} USD mn (< 0) "
                f"with deficits {'fixed' if deficits is None and closure == 'fixed' else 'as given'}; "
                "try closure='balanced' or a smaller shock", residual=residual, iterations=int(sol.iterations))
    label = closure if deficits is None else "given"
    return Equilibrium(
        baseline=world, tariffs=np.asarray(p.t1), deficits=np.asarray(p.d1), theta=np.asarray(p.theta),
        welfare_hat=sol.welfare_hat, wage_hat=sol.wage_hat, price_hat=sol.price_hat, cost_hat=sol.cost_hat,
        trade_share=sol.trade_share, expenditure=sol.expenditure, flows=sol.flows, income=sol.income,
        tariff_revenue=sol.tariff_revenue, converged=ok, residual=residual, iterations=int(sol.iterations),
        seconds=seconds, closure=label, meta={"method": method, "certificate": dict(cert.violations)},
    )


def rebase_world(world: World, *, closure: str = "fixed") -> World:
    """Re-solve the baseline at the world's own tariffs (and deficits, or zero with
    ``closure="balanced"``) so it is an exact equilibrium of the model with its
    final-demand shares; the result solves to all hats = 1 under a zero shock."""
    eq = solve(world, tariffs=np.asarray(world.tariffs), closure=closure)
    w = eq.world
    from dataclasses import replace

    return replace(w, name=world.name, meta={**dict(world.meta), "rebased": closure})


# --------------------------------------------------------------------------- batched & strategy hooks
def _cp_evaluate(base: GEParams, tariffs, state: GEState, *, has_io: bool, kernel: str):
    """The CP model's ``evaluate(tariffs, state)`` (BoundModel contract) with the world's
    parameters ``base`` as data: welfare twice (no political-economy weights) and the
    warm start. Uncertified equilibria give NaN welfare (the strategy layer backs off)."""
    p = base._replace(t1=tariffs)
    x0 = jax.lax.stop_gradient(state.log_w)
    sol = equilibrium_implicit(p, x0, has_io) if kernel == "fast" else equilibrium(p, x0, has_io)
    ok = sol.residual < ACCEPT_TOL
    w = jnp.where(ok, sol.welfare_hat, jnp.nan)
    log_w = jnp.where(ok, jnp.log(jax.lax.stop_gradient(sol.wage_hat)), x0)
    return w, w, GEState(log_w)


#: One evaluate function per static configuration: bound models carry it as a
#: ``jax.tree_util.Partial`` whose leaves are the world's arrays, so jit-compiled
#: strategy objectives taking it as an argument compile once per shape, not per world.
_CP_EVALUATE = {(io, k): partial(_cp_evaluate, has_io=io, kernel=k) for io in (True, False) for k in ("fast", "broyden")}


def _bind_cp(world: World, *, closure: str = "balanced", weights: str = "none", deficits=None,
             kernel: str = "fast") -> BoundModel:
    """Bind the CP model for the strategy layer: ``evaluate(tariffs, state)``.

    Government welfare equals welfare (no political-economy weights in this family).
    ``kernel="fast"`` (default) differentiates the certified fast solve implicitly
    (:func:`equilibrium_implicit`); ``"broyden"`` the Broyden kernel
    (:func:`equilibrium`; the previous path, kept as a baseline for benchmarks).
    """
    if weights != "none":
        raise ScenarioError("model 'caliendo_parro' has no political-economy weights; use weights='none'")
    if kernel not in ("fast", "broyden"):
        raise ScenarioError(f"kernel must be 'fast' or 'broyden', got {kernel!r}")
    if closure == "balanced" and deficits is None and np.abs(world.deficit_usd).max() > 0:
        # Purge deficits first (Ossa 2014; Ignatenko et al. 2025): welfare is then measured
        # against the balanced-trade baseline, not against the data with deficits.
        world = rebase_world(world, closure="balanced")
    base = make_params(world, None, closure=closure, deficits=deficits)
    evaluate = jax.tree_util.Partial(_CP_EVALUATE[(world.has_io, kernel)], base)

    def _solve(tariffs):
        return solve(world, tariffs=tariffs, closure=closure, deficits=deficits)

    return BoundModel(name="caliendo_parro", world=world, evaluate=evaluate,
                      init_state=GEState(jnp.zeros(world.n_regions)), solve=_solve,
                      options={"closure": closure, "weights": weights, "kernel": kernel})


register_model("caliendo_parro", _bind_cp)
