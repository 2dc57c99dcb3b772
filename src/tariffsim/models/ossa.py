"""Ossa (2014): multi-industry Krugman model with profit shifting and political-economy weights.

Equilibrium in changes (exact hat algebra) as coded in Ossa's replication files
(``mycalculations.m``, ``myconditions.m``, ``mycongov.m``) and described
equation by equation in ``../shared/data/ossa2014_7x33_2007/SOURCES.md``.
Regions i, j, n; sectors s; base flows ``X[i, j, s]`` (before j's tariff),
factual tariffs ``t``, new tariffs ``t'``, ``tau_hat = (1 + t') / (1 + t)``,
elasticity of substitution ``sigma[s]`` (trade elasticity ``sigma - 1``).

Base-data shares (``mycalculations.m`` l.20-35)::

    alpha[i,j,s] = X[i,j,s] / sum_n X[i,n,s]                  (sales shares)
    gamma[i,j,s] = (1+t)X[i,j,s] / sum_m (1+t)X[m,j,s]         (expenditure shares)
    delta[i,s]   = sum_j (sigma-1)/sigma X[i,j,s] / sum_{k,j} (sigma_k-1)/sigma_k X[i,j,k]
    mu[j,s]      = sum_i (1+t)X[i,j,s] / E[j],   E[j] = sum_{i,s} (1+t)X[i,j,s]
    Pi[i,s]      = sum_j X[i,j,s] / sigma[s]                   (profits)
    L[i]         = E[i] + NX[i] - R[i] - sum_s Pi[i,s]         (labour income)

Equilibrium conditions in the 2N unknowns (E_hat, w_hat) (``myconditions.m``)::

    P_hat[j,s]^(1-sigma) = sum_i gamma[i,j,s] (w_hat[i] tau_hat[i,j,s])^(1-sigma)       (l.13)
    X'[i,j,s] = X[i,j,s] w_hat[i]^(1-sigma) tau_hat^(-sigma) P_hat[j,s]^(sigma-1) E_hat[j]   (l.15-16)
    R_hat[i,s] = sum_j alpha[i,j,s] X'[i,j,s] / X[i,j,s]                                   (l.17)
    (a) w_hat[i] = sum_s delta[i,s] R_hat[i,s]        labour markets, region 1 dropped       (l.19)
    (b) E'[j] = L[j] w_hat[j] + sum_s Pi[j,s] R_hat[j,s] + sum_{i,s} t'[i,j,s] X'[i,j,s] - NX'[j]   (l.21)
    sum_i L[i] / sum_n L[n] w_hat[i] = 1              normalisation                          (l.28)

Welfare ``W_hat[j] = E_hat[j] / P_hat[j]`` with ``P_hat[j] = prod_s P_hat[j,s]^mu[j,s]``
(``mycounterfactuals.m`` l.20). Government welfare (``mycongov.m``)::

    EL[j,s]   = sum_n X[j,n,s] + delta[j,s] R[j]       (sector sales + its share of tariff revenue)
    G_hat[j]  = [sum_s lambda[j,s] EL'[j,s] / sum_s lambda[j,s] EL[j,s]] / P_hat[j]

with ``EL'`` computed from ``X'``, ``t'`` and ``delta'`` recomputed from ``X'``. With
``lambda = 1`` and balanced base data ``G_hat = W_hat``.

Closure: ``"balanced"`` (Ossa's: NX' = 0 in every counterfactual) or ``"fixed"``
(NX' = NX, the base-data net exports). The bundled ``ossa2014_7x33_2007`` flows are
already balanced (see :func:`balance_world`), so both closures agree there.

References
----------
Ossa, R. (2014), "Trade Wars and Trade Talks with Data", American Economic Review
104(12): 4104-46, section I (model) and the replication files named above.
Krugman, P. (1980), "Scale Economies, Product Differentiation, and the Pattern of Trade", AER 70(5).
Grossman, G. and E. Helpman (1994), "Protection for Sale", AER 84(4) (the political-economy weights).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConvergenceError, DataError, ScenarioError
from ..world import World
from .base import BoundModel, register_model

TOL = 1e-11  # residual tolerance of the equilibrium conditions (max abs, relative units)
MAX_NEWTON = 60


class OssaData(NamedTuple):
    """Base-data arrays of the model (``mycalculations.m``); a pytree of constants."""

    X: jnp.ndarray        # (N, N, S) base flows, before tariffs
    t0: jnp.ndarray       # (N, N, S) base tariffs
    sigma: jnp.ndarray    # (S,)
    alpha: jnp.ndarray    # (N, N, S) sales shares
    gamma: jnp.ndarray    # (N, N, S) expenditure shares
    delta: jnp.ndarray    # (N, S) labour-income shares
    mu: jnp.ndarray       # (N, S) Cobb-Douglas expenditure shares
    E: jnp.ndarray        # (N,) expenditure
    L: jnp.ndarray        # (N,) labour income
    Pi: jnp.ndarray       # (N, S) profits
    NX1: jnp.ndarray      # (N,) counterfactual net exports (0 under "balanced")
    lam: jnp.ndarray      # (N, S) political-economy weights (1: none)
    EL: jnp.ndarray       # (N, S) base group incomes


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b > 0)


def base_shares(X: np.ndarray, t: np.ndarray, sigma: np.ndarray) -> dict[str, np.ndarray]:
    """The base-data shares and levels of Ossa (2014), ``mycalculations.m`` l.20-35.

    Returns alpha, gamma, delta, mu, E, Pi, NX, R, L (see the module docstring).
    """
    tx = (1.0 + t) * X
    alpha = _safe_div(X, X.sum(axis=1, keepdims=True))
    gamma = _safe_div(tx, tx.sum(axis=0, keepdims=True))
    adj = ((sigma - 1.0) / sigma) * X
    delta = _safe_div(adj.sum(axis=1), adj.sum(axis=(1, 2))[:, None])
    E = tx.sum(axis=(0, 2))
    mu = tx.sum(axis=0) / E[:, None]
    Pi = X.sum(axis=1) / sigma
    NX = X.sum(axis=(1, 2)) - X.sum(axis=(0, 2))
    R = (t * X).sum(axis=(0, 2))
    L = E + NX - R - Pi.sum(axis=1)
    return dict(alpha=alpha, gamma=gamma, delta=delta, mu=mu, E=E, Pi=Pi, NX=NX, R=R, L=L)


def make_data(X, t0, sigma, *, lam=None, closure: str = "balanced") -> OssaData:
    """Precompute :class:`OssaData` from base flows, tariffs, sigma and weights."""
    X, t0, sigma = (np.asarray(a, dtype=np.float64) for a in (X, t0, sigma))
    b = base_shares(X, t0, sigma)
    n, _, s = X.shape
    lam = np.ones((n, s)) if lam is None else np.asarray(lam, dtype=np.float64)
    if closure == "balanced":
        nx1 = np.zeros(n)
    elif closure == "fixed":
        nx1 = b["NX"]
    else:
        raise ScenarioError(f"closure for model 'ossa2014' must be 'balanced' or 'fixed', got {closure!r}")
    EL = X.sum(axis=1) + b["delta"] * b["R"][:, None]
    return OssaData(
        X=jnp.asarray(X), t0=jnp.asarray(t0), sigma=jnp.asarray(sigma), alpha=jnp.asarray(b["alpha"]),
        gamma=jnp.asarray(b["gamma"]), delta=jnp.asarray(b["delta"]), mu=jnp.asarray(b["mu"]), E=jnp.asarray(b["E"]),
        L=jnp.asarray(b["L"]), Pi=jnp.asarray(b["Pi"]), NX1=jnp.asarray(nx1), lam=jnp.asarray(lam), EL=jnp.asarray(EL),
    )


# ----------------------------------------------------------------- kernels
def _flows(d: OssaData, t1, e_hat, w_hat):
    """Price indices and new flows given (E_hat, w_hat) (``myconditions.m`` l.13-17).

    Returns ``(psum, ratio, r_hat)``: ``psum = P_hat[j,s]^(1-sigma)``, ``ratio = X'/X`` and ``R_hat[i,s]``.
    """
    sig = d.sigma
    tau = (1.0 + t1) / (1.0 + d.t0)
    wpow = w_hat[:, None, None] ** (1.0 - sig)              # (N,1,S)
    cost = wpow * tau ** (1.0 - sig)                         # (w tau)^(1-sigma)
    psum = jnp.einsum("ijs,ijs->js", d.gamma, cost)          # P_hat^(1-sigma)
    ratio = wpow * tau ** (-sig) / psum[None] * e_hat[None, :, None]
    r_hat = jnp.einsum("ijs,ijs->is", d.alpha, ratio)
    return psum, ratio, r_hat


def _residual(y, t1, d: OssaData):
    """Equilibrium conditions (a), (b) and the normalisation in log unknowns ``y = log(E_hat, w_hat)``."""
    n = d.E.shape[0]
    x = jnp.exp(y)
    e_hat, w_hat = x[:n], x[n:]
    _, ratio, r_hat = _flows(d, t1, e_hat, w_hat)
    labour = w_hat - (d.delta * r_hat).sum(axis=1)
    revenue = jnp.einsum("ijs,ijs,ijs->j", d.X, t1, ratio)
    budget = (e_hat * d.E - (d.L * w_hat + (d.Pi * r_hat).sum(axis=1) + revenue - d.NX1)) / d.E
    norm = (d.L / d.L.sum() * w_hat).sum() - 1.0
    return jnp.concatenate([labour[1:], budget, norm[None]])


def _newton(y0, t1, d: OssaData):
    """Newton's method with a step cap on ``||dy||_inf <= 1`` (log units); returns (y, residual, iterations)."""
    f = partial(_residual, t1=t1, d=d)

    def cond(c):
        _, res, k = c
        return (res > TOL) & (k < MAX_NEWTON) & jnp.isfinite(res)

    def body(c):
        y, _, k = c
        F, J = f(y), jax.jacfwd(f)(y)
        dy = jnp.linalg.solve(J, -F)
        step = jnp.minimum(1.0, 1.0 / jnp.maximum(jnp.max(jnp.abs(dy)), 1e-300))
        y = y + step * dy
        return y, jnp.max(jnp.abs(f(y))), k + 1

    res0 = jnp.max(jnp.abs(f(y0)))
    return jax.lax.while_loop(cond, body, (y0, res0, 0))


def _solve(t1, y0, d: OssaData):
    """Equilibrium log hats ``y(t1)``, differentiable in ``t1`` by the implicit function theorem.

    The Newton iterations run without gradient; one final Newton step with the
    Jacobian held constant, ``y = y* - J^-1 F(y*, t1)``, has value ``y*`` (F = 0)
    and derivative ``-J^-1 dF/dt1``: exactly the implicit-function derivative.
    """
    y_star, res, k = _newton(jax.lax.stop_gradient(y0), jax.lax.stop_gradient(t1), d)
    y_star = jax.lax.stop_gradient(y_star)
    J = jax.lax.stop_gradient(jax.jacfwd(_residual)(y_star, jax.lax.stop_gradient(t1), d))
    y = y_star - jnp.linalg.solve(J, _residual(y_star, t1, d))
    return y, res, k


_solve_jit = jax.jit(_solve)


def _outcomes(y, t1, d: OssaData):
    """Welfare, government welfare and the equilibrium pieces at log hats ``y``."""
    n = d.E.shape[0]
    x = jnp.exp(y)
    e_hat, w_hat = x[:n], x[n:]
    psum, ratio, r_hat = _flows(d, t1, e_hat, w_hat)
    log_p_js = jnp.log(jnp.where(psum > 0, psum, 1.0)) / (1.0 - d.sigma)
    p_hat = jnp.exp((d.mu * log_p_js).sum(axis=1))
    welfare = e_hat / p_hat
    X1 = d.X * ratio
    sales1 = X1.sum(axis=1)                                        # (N, S)
    adj1 = ((d.sigma - 1.0) / d.sigma) * sales1
    delta1 = adj1 / adj1.sum(axis=1, keepdims=True)
    R1 = jnp.einsum("ijs,ijs->j", t1, X1)
    EL1 = sales1 + delta1 * R1[:, None]
    gov = (d.lam * EL1).sum(axis=1) / (d.lam * d.EL).sum(axis=1) / p_hat
    return dict(welfare=welfare, gov=gov, e_hat=e_hat, w_hat=w_hat, p_hat=p_hat,
                p_hat_sector=jnp.exp(log_p_js), flows=X1, r_hat=r_hat)


def evaluate(tariffs, state, d: OssaData):
    """``(welfare_hat, government_welfare_hat, state)`` at new tariffs (the BoundModel contract).

    Unconverged solves return NaN welfare (the strategy layer raises ConvergenceError).
    """
    t1 = jnp.asarray(tariffs)
    y, res, k = _solve(t1, state["y"], d)
    out = _outcomes(y, t1, d)
    ok = res <= TOL
    nan = jnp.full_like(out["welfare"], jnp.nan)
    welfare = jnp.where(ok, out["welfare"], nan)
    gov = jnp.where(ok, out["gov"], nan)
    # keep the warm start only when it converged
    y_next = jnp.where(ok, jax.lax.stop_gradient(y), state["y"])
    return welfare, gov, {"y": y_next, "residual": res, "iterations": k}


# ----------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class OssaEquilibrium:
    """A counterfactual equilibrium of the Ossa (2014) model relative to the bound world's baseline."""

    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    tariffs: np.ndarray
    welfare_hat: np.ndarray
    government_welfare_hat: np.ndarray
    expenditure_hat: np.ndarray
    wage_hat: np.ndarray
    price_hat: np.ndarray
    flows: np.ndarray
    residual: float
    iterations: int
    world: World

    def summary(self):
        """Tidy table (polars) by region: welfare, government welfare, wage, expenditure and price changes."""
        import polars as pl

        return pl.DataFrame({
            "region": list(self.regions),
            "welfare_change_pct": 100 * (self.welfare_hat - 1),
            "government_welfare_change_pct": 100 * (self.government_welfare_hat - 1),
            "wage_hat": self.wage_hat,
            "expenditure_hat": self.expenditure_hat,
            "price_index_hat": self.price_hat,
        })

    def __repr__(self) -> str:
        return f"OssaEquilibrium(regions={len(self.regions)}, residual={self.residual:.1e}, iterations={self.iterations})"


def _model_arrays(world: World, weights: str) -> tuple[np.ndarray, np.ndarray | None]:
    sigma = world.meta.get("sigma")
    sigma = np.asarray(world.theta) + 1.0 if sigma is None else np.asarray(sigma, dtype=np.float64)
    if sigma.shape != (world.n_sectors,) or not (sigma > 1).all():
        raise DataError(f"{world.name}: sigma must have one value > 1 per sector")
    lam = None
    if weights == "political_economy":
        if "lambda_pol" not in world.meta:
            raise ScenarioError(f"weights='political_economy' needs meta['lambda_pol'] in world {world.name!r}")
        lam = np.asarray(world.meta["lambda_pol"], dtype=np.float64)
        if lam.shape != (world.n_regions, world.n_sectors) or (lam < 0).any():
            raise DataError(f"{world.name}: lambda_pol must be a non-negative (regions, sectors) array")
    return sigma, lam


def bind(world: World, *, closure: str = "balanced", weights: str = "none", **options: Any) -> BoundModel:
    """Bind the Ossa (2014) model to ``world`` (registered as model ``"ossa2014"``).

    ``sigma`` comes from ``world.meta["sigma"]`` (else ``theta + 1``); political-economy
    weights from ``world.meta["lambda_pol"]`` when ``weights="political_economy"``.
    """
    if options:
        raise ScenarioError(f"model 'ossa2014': unknown option(s) {', '.join(sorted(options))}")
    if world.has_io:
        raise ScenarioError("model 'ossa2014' has no intermediate inputs; this world has IO links")
    sigma, lam = _model_arrays(world, weights)
    d = make_data(world.flows, world.tariffs, sigma, lam=lam, closure=closure)
    n = world.n_regions
    init = {"y": jnp.zeros(2 * n), "residual": jnp.asarray(0.0), "iterations": jnp.asarray(0)}
    # the data travel as a pytree inside the Partial: strategy code jit-compiles once per shape
    ev = jax.tree_util.Partial(evaluate, d=d)

    def solve(tariffs) -> OssaEquilibrium:
        t1 = np.asarray(tariffs, dtype=np.float64)
        if t1.shape != world.flows.shape:
            raise DataError(f"tariffs: expected shape {world.flows.shape}, got {t1.shape}")
        y, res, k = _solve_jit(jnp.asarray(t1), init["y"], d)
        if not float(res) <= TOL:
            raise ConvergenceError(f"ossa2014: equilibrium residual {float(res):.2e} > {TOL:.0e} after {int(k)} Newton steps",
                                   residual=float(res), iterations=int(k))
        o = {k_: np.asarray(v) for k_, v in _outcomes(y, jnp.asarray(t1), d).items()}
        new_world = replace(world, flows=_ro(o["flows"]), tariffs=_ro(t1))
        return OssaEquilibrium(
            regions=world.regions, sectors=world.sectors, tariffs=t1, welfare_hat=o["welfare"],
            government_welfare_hat=o["gov"], expenditure_hat=o["e_hat"], wage_hat=o["w_hat"], price_hat=o["p_hat"],
            flows=o["flows"], residual=float(res), iterations=int(k), world=new_world)

    return BoundModel(name="ossa2014", world=world, evaluate=ev, init_state=init, solve=solve,
                      options={"closure": closure, "weights": weights})


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    a.flags.writeable = False
    return a


def balance_world(world: World, *, sigma=None) -> World:
    """Ossa's re-basing (``results.m`` l.44-65): the factual equilibrium with zero net exports.

    Solves the model at unchanged tariffs with NX' = 0 and returns the world with
    its flows replaced by the resulting (balanced) flows. The bundled
    ``ossa2014_7x33_2007`` flows are already these.
    """
    if sigma is None:
        sigma, _ = _model_arrays(world, "none")
    d = make_data(world.flows, world.tariffs, sigma, closure="balanced")
    t0 = jnp.asarray(world.tariffs)
    y, res, k = _solve_jit(t0, jnp.zeros(2 * world.n_regions), d)
    if not float(res) <= TOL:
        raise ConvergenceError(f"ossa2014 balance_world: residual {float(res):.2e}", residual=float(res), iterations=int(k))
    flows = np.asarray(_outcomes(y, t0, d)["flows"])
    return replace(world, flows=_ro(flows))


register_model("ossa2014", bind)

__all__ = ["OssaEquilibrium", "balance_world", "base_shares", "bind", "evaluate", "make_data"]
