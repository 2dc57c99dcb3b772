"""Cooperative tariffs (trade talks): efficient tariffs with equal proportional gains for all.

Ossa (2014), section III.C (``mycooperativetariff.m``, ``myconcoop.m``): all
governments' tariffs are chosen together to maximise the first government's
welfare subject to every government gaining in the same proportion,

    max_t  G_hat[1](t)   s.t.  G_hat[k](t) = G_hat[1](t)  for all k,   lower <= t <= upper,

relative to a baseline (the bound world's tariffs, or ``baseline=`` whose
equilibrium becomes the new base data, as Ossa re-bases for his Nash and
free-trade baselines). ``restricted=True`` keeps tariffs >= 0; unrestricted
allows import subsidies down to ``unrestricted_lower``.

Solved by an augmented Lagrangian (Nocedal & Wright 2006, algorithm 17.4) in
``u = 100 log G_hat`` with L-BFGS-B inner solves over the bounded tariffs;
multipliers are the Pareto weights. The result reports the largest rate at
which all governments could gain together from the solution (a small linear
programme over feasible directions; ~0 when the solution is efficient).

References
----------
Ossa, R. (2014), "Trade Wars and Trade Talks with Data", AER 104(12), section III.C.
Nocedal, J. and S. Wright (2006), Numerical Optimization, 2nd ed., ch. 17.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import linprog

from ..errors import ConvergenceError, ScenarioError
from ..models.base import BoundModel, bind_model
from ..world import World
from ._core import (
    PlayersResultMixin,
    OBJ_SCALE, as_model, model_function, check_bounds, make_control, minimize_scaled,
    parameter_scale, resolve_tariffs, welfare_fn,
)


@dataclass(frozen=True, eq=False)
class CooperativeResult(PlayersResultMixin):
    """Efficient tariffs with equal proportional government-welfare gains (relative to ``baseline``).

    ``constraint_violation`` is max_k |100 log(G_k / G_1)| (percent);
    ``pareto_weights`` the multipliers normalised to sum to one;
    ``common_improvement`` the largest first-order rate (percent per unit step in a
    box of tariff directions) at which every government could still gain: ~0
    at an efficient point.
    """

    players: tuple[str, ...]
    structure: str
    model: str
    weights: str
    restricted: bool
    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    tariff_rate: np.ndarray
    baseline_tariffs: np.ndarray
    welfare_hat: np.ndarray
    government_welfare_hat: np.ndarray
    constraint_violation: float
    projected_gradient_norm: float
    pareto_weights: np.ndarray
    common_improvement: float
    outer_iterations: int
    iterations: int
    seconds: float
    baseline_model: BoundModel
    options: Mapping[str, Any]


    def summary(self):
        """Tidy table (polars) by region: median cooperative tariff, welfare and government welfare changes."""
        import polars as pl

        med = dict(zip(self.players, self.median_tariff))
        return pl.DataFrame({
            "region": list(self.regions),
            "median_tariff_pct": [100 * med[r] if r in med else None for r in self.regions],
            "welfare_change_pct": 100 * (self.welfare_hat - 1),
            "government_welfare_change_pct": 100 * (self.government_welfare_hat - 1),
        })

    def __repr__(self) -> str:
        return (f"CooperativeResult(players={len(self.players)}, {'restricted' if self.restricted else 'unrestricted'}, "
                f"gain={100 * (self.government_welfare_hat[self.regions.index(self.players[0])] - 1):.3f}%, "
                f"violation={self.constraint_violation:.1e}, common_improvement={self.common_improvement:.1e})")


def _alm(ev):
    def f(q, scale, index, fixed, players, mu, rho, state):
        p = q / scale
        t = jnp.where(index >= 0, p[jnp.maximum(index, 0)], fixed)
        _, gov, new_state = ev(t, state)
        u = OBJ_SCALE * jnp.log(gov[players])
        c = u[1:] - u[0]
        return -u[0] - mu @ c + 0.5 * rho * (c @ c), (new_state, c)

    return jax.value_and_grad(f, has_aux=True)


def _alm_objective(model: BoundModel):
    return model_function(model, "cooperative", _alm)


def _gov_u(ev):
    def u(p, index, fixed, players, state):
        t = jnp.where(index >= 0, p[jnp.maximum(index, 0)], fixed)
        return OBJ_SCALE * jnp.log(ev(t, state)[1][players])

    return jax.jacrev(u)


def _gov_jacobian(model: BoundModel):
    return model_function(model, "gov_jacobian", _gov_u)


def common_improvement(jac: np.ndarray, at_lower: np.ndarray, at_upper: np.ndarray) -> tuple[float, np.ndarray]:
    """Largest ``s`` with ``jac @ d >= s`` for all rows, ``|d| <= 1``, ``d >= 0`` at lower and ``<= 0`` at upper bounds.

    A linear programme in (d, s); ``s ~ 0`` means no feasible direction improves
    every government at once (first-order Pareto efficiency).
    """
    k, n = jac.shape
    c = np.zeros(n + 1)
    c[-1] = -1.0
    a_ub = np.hstack([-jac, np.ones((k, 1))])
    lo = np.where(at_lower, 0.0, -1.0)
    hi = np.where(at_upper, 0.0, 1.0)
    bounds = list(zip(lo, hi)) + [(None, None)]
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(k), bounds=bounds, method="highs")
    if res.status != 0:
        raise ConvergenceError(f"common_improvement: linear programme failed ({res.message})")
    return float(res.x[-1]), res.x[:-1]


def cooperative_tariffs(
    world: World | BoundModel,
    *,
    players: Sequence[str] | None = None,
    structure: str = "bilateral",
    model: str = "caliendo_parro",
    weights: str = "none",
    closure: str = "balanced",
    restricted: bool = True,
    baseline: np.ndarray | None = None,
    upper: float = 10.0,
    unrestricted_lower: float = -0.9,
    tol: float = 1e-7,
    max_outer: int = 30,
    max_inner: int = 20000,
    chunk: int = 1500,
    gtol: float = 1e-8,
) -> CooperativeResult:
    """Ossa's (2014) trade talks: maximise the first player's government welfare with equal gains for all players.

    Parameters
    ----------
    world : a World or a bound model (its tariffs are the status quo).
    players : the negotiating governments (default all); the first one's welfare is maximised.
        Non-players keep their tariffs and are not constrained.
    baseline : tariffs of the talks' starting point (e.g. Nash tariffs). The
        model is re-bound to the equilibrium at these tariffs (``solve(baseline).world``),
        so gains are relative to that baseline, as in Ossa's re-based runs.
    restricted : tariffs >= 0 (True) or >= ``unrestricted_lower`` (import subsidies).
    tol : largest admissible |100 log(G_k / G_1)| (percent) at the solution.
    chunk, max_inner : L-BFGS-B iterations per inner solve before the scaling is refreshed
        from the current equilibrium flows, and in all.

    Raises
    ------
    ConvergenceError if the augmented Lagrangian does not reach ``tol``.
    """
    t_start = time.perf_counter()
    m = as_model(world, model, weights, closure)
    if baseline is not None:
        eq = m.solve(np.asarray(baseline, dtype=np.float64))
        new_world = getattr(eq, "world", None)
        if not isinstance(new_world, World):
            raise ScenarioError(f"model {m.name!r}: solve() result carries no re-based world; cannot use baseline=")
        m = bind_model(new_world, m.name, **dict(m.options))
    lower = 0.0 if restricted else float(unrestricted_lower)
    lower, upper = check_bounds((lower, upper))
    players = tuple(m.regions if players is None else players)
    if len(players) < 2 or len(set(players)) != len(players):
        raise ScenarioError("players: give at least two distinct region codes")
    pidx = np.array([m.world.index(p) for p in players])
    t0 = resolve_tariffs(m, None)
    control = make_control(m.regions, m.sectors, list(pidx), structure)
    scale = parameter_scale(control, m.world, t0)
    vg = _alm_objective(m)
    index = control.index
    p = np.clip(control.initial(t0), lower, upper)
    # Start from equal Pareto weights (mu_k = 1/K gives weight 1/K on every u_k), a moderate penalty,
    # and loose inner tolerances that tighten with the constraint violation (inexact ALM).
    mu = np.full(len(players) - 1, 1.0 / len(players))
    rho = 10.0
    inner_gtol = 1e-5
    state = m.init_state
    viol_prev = np.inf
    total_iter = 0
    out = None
    for outer in range(1, max_outer + 1):
        box = {"c": None}

        def fun(q, st, mu=mu, rho=rho, scale=scale):
            (val, (new_st, c)), g = vg(q, scale, index, t0, pidx, mu, rho, st)
            box["c"] = np.asarray(c)
            return val, g, new_st

        out = minimize_scaled(fun, p, scale, lower, upper, state, gtol=inner_gtol, max_iter=chunk,
                              what="cooperative tariffs", strict=False)
        total_iter += out.iterations
        p, state = out.p, out.state
        if not out.success:
            # Far from the baseline the data-based scaling is stale (flows fall steeply in
            # the tariff): re-scale with the current equilibrium's flows and continue.
            if total_iter > max_inner:
                raise ConvergenceError(f"cooperative_tariffs: inner solves did not converge in {total_iter} iterations "
                                       f"(projected gradient {out.projected_grad_norm:.2e})",
                                       residual=out.projected_grad_norm, iterations=total_iter)
            t_cur = np.asarray(control.expand(p, t0))
            scale = parameter_scale(control, m.world, t_cur, np.asarray(m.solve(t_cur).flows))
            continue
        _, _, _ = fun(p * scale, state)  # constraint values at the accepted point
        c = box["c"]
        viol = float(np.max(np.abs(c)))
        if viol <= tol and inner_gtol <= gtol:
            break
        inner_gtol = max(gtol, min(inner_gtol, 0.1 * viol))
        mu = mu - rho * c
        if viol > 0.25 * viol_prev:
            rho *= 10.0
        viol_prev = viol
    else:
        raise ConvergenceError(f"cooperative_tariffs: equal-gains constraints violated by {viol:.2e}% after {max_outer} rounds",
                               residual=viol, iterations=max_outer)
    t_coop = np.asarray(control.expand(p, t0))
    w, g, _ = welfare_fn(m)(t_coop, state)
    jac = np.asarray(_gov_jacobian(m)(jnp.asarray(p), index, t0, pidx, state))
    s, _ = common_improvement(jac, out.at_lower, out.at_upper)
    # Pareto weights: stationarity of -u_0 - mu.c gives weights (1 - sum mu, mu) on (u_0, u_k)
    lam = np.concatenate([[1.0 - mu.sum()], mu])
    return CooperativeResult(
        players=players, structure=structure, model=m.name, weights=str(m.options.get("weights", "none")),
        restricted=restricted, regions=m.regions, sectors=m.sectors, tariff_rate=t_coop, baseline_tariffs=t0,
        welfare_hat=np.asarray(w), government_welfare_hat=np.asarray(g), constraint_violation=viol,
        projected_gradient_norm=out.projected_grad_norm, pareto_weights=lam, common_improvement=s,
        outer_iterations=outer, iterations=total_iter, seconds=time.perf_counter() - t_start, baseline_model=m,
        options={**dict(m.options), "bounds": (lower, upper), "tol": tol})


__all__ = ["CooperativeResult", "common_improvement", "cooperative_tariffs"]
