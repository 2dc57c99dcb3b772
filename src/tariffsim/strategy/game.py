"""The two-player bargaining game: group-tariff instruments and a transfer over one compiled GE kernel.

``_Game`` maps an agreement ``x = [group tariffs..., T]`` to the money-metric welfare
changes ``EV = (W_hat - 1) I0`` (USD mn) of the two players in the Caliendo-Parro GE model
and their exact Jacobian (``jax.jacrev`` through the implicit-function derivatives of the
solver). The transfer ``T`` (USD mn a year, partner -> home) enters as ``D1[home] += T``,
``D1[partner] -= T``. Also here: the bounded optimiser with a projected-gradient check
(:func:`_lbfgsb`), the natural <-> optimiser unit map (:class:`_Scaled`) and the outcome
record :class:`Point`, shared by the war, frontier, NBS and deal modules.

References
----------
Caliendo, L. and F. Parro (2015), REStud 82(1) (the GE model; deficits as transfers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import minimize

from ..errors import ConvergenceError, ScenarioError
from ..models.base import bind_model
from ..models.ge import ACCEPT_TOL, Equilibrium, equilibrium_implicit, make_params, solve
from ..world import World
from .sector_groups import default_groups

EV_SCALE = 1e3      # objectives in USD bn
T_SCALE = 1e4       # transfer variable in units of USD 10 bn
BOUND_TOL = 1e-7


def _ev_fn(x, log_w0, base, idx, a, b, has_io: bool):
    """EV (2,) of the two players at agreement ``x`` (group tariffs via ``idx``, transfer ``x[-1]``), and aux."""
    t1 = jnp.where(idx >= 0, x[jnp.maximum(idx, 0)], base.t1)
    d1 = base.d1.at[a].add(x[-1]).at[b].add(-x[-1])
    sol = equilibrium_implicit(base._replace(t1=t1, d1=d1), log_w0, has_io)
    ev = (sol.welfare_hat - 1.0) * base.i0
    out = jnp.stack([ev[a], ev[b]])
    return out, (out, jnp.log(sol.wage_hat), sol.residual)


#: one compiled kernel per shape: the world's data are arguments, so a second game (or a
#: second ``bargain`` call) of the same shapes compiles nothing
_ev_jacobian = jax.jit(jax.jacrev(_ev_fn, has_aux=True), static_argnames=("has_io",))


class _Game:
    """Two players, their group-tariff instruments and a transfer, over one compiled GE kernel.

    ``x = [tariff parameters..., T]``; ``evaluate(x)`` returns (EV (2,), d EV / d x (2, k+1)),
    exact (``jax.jacrev`` through the implicit-function derivatives of the solver).
    """

    def __init__(self, world: World, players: Sequence[str], groups, closure: str):
        if closure not in ("fixed", "balanced"):
            raise ScenarioError(f"closure must be 'fixed' or 'balanced', got {closure!r}")
        # the same baseline as optimal_tariff / nash_tariffs (balanced: deficits purged first)
        self.world = bind_model(world, "caliendo_parro", closure=closure).world
        self.closure = closure
        w = self.world
        self.players = tuple(players)
        self.a, self.b = w.index(players[0]), w.index(players[1])
        groups = default_groups(w, players) if groups is None else groups
        index = -np.ones(w.flows.shape, dtype=np.int64)
        labels, owner = [], []
        for imp, exp in ((players[0], players[1]), (players[1], players[0])):
            for g, secs in dict(groups.get(imp, {})).items():
                sidx = w.sector_index(list(secs))
                if len(sidx) == 0:
                    continue
                if (index[w.index(exp), w.index(imp), sidx] >= 0).any():
                    raise ScenarioError(f"groups: sector listed twice in the groups of {imp}")
                index[w.index(exp), w.index(imp), sidx] = len(labels)
                labels.append((imp, exp, g))
                owner.append(0 if imp == players[0] else 1)
        self.index, self.labels, self.owner = index, tuple(labels), np.array(owner)
        self.n_t = len(labels)
        self.base = make_params(w, None, closure=closure)
        self.log_w = np.zeros(w.n_regions)
        self.n_eval = 0
        self.curvature: dict[int, np.ndarray] = {}     # column k -> d J / d x_k (2, k+1): fill_curvature
        self._last: tuple[bytes, np.ndarray, np.ndarray] | None = None
        self._args = (self.base, jnp.asarray(index), jnp.asarray(self.a), jnp.asarray(self.b))

    # ------------------------------------------------------------------ kernel
    def evaluate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """EV (2,) and Jacobian (2, k+1); NaN when the equilibrium fails at ``x``.

        The last point is memoised (the optimisers ask for the same point twice: the
        end of one frontier solve is the start of the next); ``n_eval`` counts kernel calls.
        """
        x = np.asarray(x, dtype=float)
        key = x.tobytes()
        if self._last is not None and self._last[0] == key:
            return self._last[1].copy(), self._last[2].copy()
        self.n_eval += 1
        jac, (ev, log_w, res) = _ev_jacobian(jnp.asarray(x), jnp.asarray(self.log_w), *self._args,
                                             has_io=bool(self.world.has_io))
        ev, jac = np.asarray(ev), np.asarray(jac)
        if not (float(res) < ACCEPT_TOL and np.isfinite(ev).all() and np.isfinite(jac).all()):
            return np.full(2, np.nan), np.full((2, len(x)), np.nan)
        self.log_w = np.asarray(log_w)
        self._last = (key, ev, jac)
        return ev.copy(), jac.copy()

    def fill_curvature(self, x: np.ndarray, cols, step: np.ndarray, upper: np.ndarray, refresh: bool = False) -> None:
        """Second derivatives by forward differences of the exact Jacobian: ``curvature[k] = d J / d x_k`` (2, k+1) at ``x``.

        One evaluation per column ``k`` in ``cols`` not yet known (all of them when ``refresh``);
        ``step[k]`` is the difference step in ``x_k``'s units, taken downwards when ``x_k + step``
        would pass ``upper[k]``. The columns are kept and reused (the callers use them as Newton's
        Hessian, which needs no more than an approximation: they accept a point only on exact
        first-order conditions). Raises ConvergenceError when the equilibrium fails at a step.
        """
        x = np.asarray(x, dtype=float)
        _, j0 = self.evaluate(x)
        for k in (int(c) for c in cols):
            if k in self.curvature and not refresh:
                continue
            h = float(step[k]) if x[k] + step[k] <= upper[k] else -float(step[k])
            xx = x.copy()
            xx[k] += h
            _, j1 = self.evaluate(xx)
            if not np.isfinite(j1).all():
                raise ConvergenceError("the equilibrium failed at a finite-difference point")
            self.curvature[k] = (j1 - j0) / h

    def tariffs(self, x: np.ndarray) -> np.ndarray:
        t = np.array(self.world.tariffs, dtype=float)
        m = self.index >= 0
        t[m] = np.asarray(x)[self.index[m]]
        return t

    def solve(self, tariffs: np.ndarray, transfer: float = 0.0) -> Equilibrium:
        """Full equilibrium via the public :func:`solve` (raises :class:`ConvergenceError`)."""
        d = np.asarray(self.base.d1, dtype=float).copy()
        d[self.a] += transfer
        d[self.b] -= transfer
        return solve(self.world, tariffs=tariffs, deficits=d, closure=self.closure)

    def ev_of(self, eq: Equilibrium) -> np.ndarray:
        return np.asarray(eq.ev_usd)[[self.a, self.b]]

    def start(self) -> np.ndarray:
        """Status-quo-like start: each group's current trade-weighted mean rate, T = 0."""
        w = self.world
        x = np.zeros(self.n_t + 1)
        f, t = np.asarray(w.flows), np.asarray(w.tariffs)
        for k in range(self.n_t):
            m = self.index == k
            x[k] = float((f[m] * t[m]).sum() / max(f[m].sum(), 1e-300))
        return x


# =========================================================================== optimisers
def _lbfgsb(fun, x0, bounds, what: str, gtol: float = 1e-10, max_iter: int = 500):
    """Minimise ``fun(x) -> (f, g)`` (NaN = failed equilibrium: back off) over a box with L-BFGS-B."""

    def f(x):
        v, g = fun(x)
        if not np.isfinite(v) or not np.isfinite(g).all():
            return 1e12, np.zeros_like(x)
        return v, g

    res = minimize(f, np.clip(x0, [b[0] for b in bounds], [b[1] for b in bounds]), jac=True, method="L-BFGS-B",
                   bounds=bounds, options={"maxiter": max_iter, "ftol": 1e-15, "gtol": gtol, "maxcor": 20})
    v, g = fun(res.x)
    if not np.isfinite(v):
        raise ConvergenceError(f"{what}: the equilibrium did not converge at the optimiser's last point")
    lo, hi = np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])
    pg = np.where(res.x <= lo + BOUND_TOL, np.minimum(g, 0), np.where(res.x >= hi - BOUND_TOL, np.maximum(g, 0), g))
    pgn = float(np.max(np.abs(pg))) if pg.size else 0.0
    if res.status != 0 and pgn > 1e-5:
        raise ConvergenceError(f"{what}: optimiser stopped ({res.message}); projected gradient {pgn:.2e}",
                               residual=pgn, iterations=int(res.nit))
    return res.x, v, g, pgn


class _Scaled:
    """x (natural units: tariffs, T in USD mn) <-> z (optimiser units: T / T_SCALE)."""

    def __init__(self, game: _Game, tariff_bounds, transfer_bounds, free: np.ndarray):
        self.g, self.free = game, free
        self.scale = np.ones(game.n_t + 1)
        self.scale[-1] = 1.0 / T_SCALE
        lo = np.r_[np.full(game.n_t, tariff_bounds[0]), transfer_bounds[0]]
        hi = np.r_[np.full(game.n_t, tariff_bounds[1]), transfer_bounds[1]]
        self.lo, self.hi = lo, hi

    def bounds(self, x_fixed):
        z_lo, z_hi = self.lo * self.scale, self.hi * self.scale
        return [(z_lo[k], z_hi[k]) for k in np.nonzero(self.free)[0]]

    def x(self, z, x_fixed):
        x = np.array(x_fixed, dtype=float)
        x[self.free] = np.asarray(z) / self.scale[self.free]
        return x

    def z(self, x):
        return (np.asarray(x) * self.scale)[self.free]


# =========================================================================== results
@dataclass(frozen=True, eq=False)
class Point:
    """An outcome: full tariff array, transfer (USD mn/yr, partner -> home), EV of (home, partner) in USD mn."""

    label: str
    tariffs: np.ndarray
    transfer_usd: float
    ev_usd: np.ndarray
    parameters: np.ndarray | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)


__all__ = ["Point", "EV_SCALE", "T_SCALE", "BOUND_TOL"]
