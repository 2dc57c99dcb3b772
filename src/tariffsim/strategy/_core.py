"""Shared machinery of the strategy layer: which tariffs a player controls, and a bounded maximiser.

Everything here drives a :class:`~tariffsim.models.base.BoundModel` through its
``evaluate(tariffs, state) -> (welfare_hat, government_welfare_hat, state)`` and
never looks inside the model. Gradients are exact (``jax.value_and_grad`` of
``evaluate``; the model differentiates its equilibrium implicitly).

Design notes (honest about the heuristics):

- **Instruments.** A *control* maps a parameter vector ``p`` onto cells of the
  (exporter, importer, sector) tariff array: ``index[i, j, s] = k`` when cell
  (i, j, s) is set to ``p[k]``, ``-1`` when it stays at the given tariffs.
  Structures: ``"uniform"`` (one rate for all partners and sectors),
  ``"by_sector"`` (one rate per sector, all partners: Ossa's MFN variant),
  ``"by_partner"`` (one rate per partner, all sectors) and ``"bilateral"``
  (one rate per partner and sector: Ossa 2014's bilateral sector-specific tariffs).
- **Scaling.** The welfare curvature in a tariff is roughly proportional to the
  importer's expenditure share on the cells it moves, and these shares span
  eleven orders of magnitude in real data. Each parameter is therefore scaled
  by ``sqrt(share / max share)`` before it reaches L-BFGS-B (a diagonal
  preconditioner from data, not from the model), and the objective is
  ``100 * log(G_hat)`` (percent), so the scaled Hessian is O(1).
- **Corners.** At the solution, a parameter at a bound whose gradient pushes
  further out is a corner: the result says so and a
  :class:`~tariffsim.errors.CornerSolutionWarning` is issued.

References
----------
Byrd, R. H., P. Lu, J. Nocedal and C. Zhu (1995), "A Limited Memory Algorithm for
Bound Constrained Optimization", SIAM J. Sci. Comput. 16(5) (L-BFGS-B).
Nocedal, J. and S. Wright (2006), Numerical Optimization, 2nd ed., ch. 17
(augmented Lagrangian, used by the cooperative solver).
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import minimize

from ..errors import ConvergenceError, DataError, ScenarioError
from ..models.base import BoundModel, bind_model
from ..world import World

STRUCTURES = ("uniform", "by_sector", "by_partner", "bilateral")
OBJ_SCALE = 100.0  # objective in percent of log government welfare
BOUND_TOL = 1e-7   # a parameter this close to a bound counts as at it


# ---------------------------------------------------------------- binding
#: Recently bound models by World object and (model, closure, weights): binding may
#: re-solve the baseline (balanced closure), so a second call on the same World reuses
#: the first's. A small LRU (a bound model refers to its World, so a weak-keyed cache
#: would never release it); holding the World keeps its ``id`` unique while cached.
_BOUND: "OrderedDict[tuple[int, str, str, str], tuple[World, BoundModel]]" = OrderedDict()
BOUND_CACHE_SIZE = 8


def as_model(world: World | BoundModel, model: str, weights: str, closure: str) -> BoundModel:
    """A :class:`BoundModel` from a World (bound here, cached per World object) or an already bound model (used as is)."""
    if isinstance(world, BoundModel):
        return world
    if not isinstance(world, World):
        raise ScenarioError(f"expected a World or a BoundModel, got {type(world).__name__}")
    key = (id(world), model, closure, weights)
    hit = _BOUND.get(key)
    if hit is not None and hit[0] is world:
        _BOUND.move_to_end(key)
        return hit[1]
    bound = bind_model(world, model, closure=closure, weights=weights)
    _BOUND[key] = (world, bound)
    while len(_BOUND) > BOUND_CACHE_SIZE:
        _BOUND.popitem(last=False)
    return bound


# ---------------------------------------------------------------- controls
@dataclass(frozen=True, eq=False)
class Control:
    """Which tariff cells a parameter vector sets (see module docstring)."""

    structure: str
    importers: tuple[int, ...]
    index: np.ndarray       # (N, N, S) int, -1 = not controlled
    n_params: int
    labels: tuple[tuple[str, str, str], ...]  # (importer, exporter or '*', sector or '*') per parameter

    def expand(self, p, fixed):
        """Full tariff array: controlled cells from ``p``, the rest from ``fixed`` (jit-able)."""
        idx = jnp.asarray(self.index)
        return jnp.where(idx >= 0, jnp.asarray(p)[jnp.maximum(idx, 0)], fixed)

    def initial(self, tariffs: np.ndarray) -> np.ndarray:
        """Starting parameters: the mean current rate over each parameter's cells."""
        flat_idx, flat_t = self.index.ravel(), np.asarray(tariffs).ravel()
        m = flat_idx >= 0
        tot = np.bincount(flat_idx[m], weights=flat_t[m], minlength=self.n_params)
        cnt = np.bincount(flat_idx[m], minlength=self.n_params)
        return tot / np.maximum(cnt, 1)

    def weights(self, world: World, tariffs: np.ndarray) -> np.ndarray:
        """Importer expenditure share of each parameter's cells (the scaling proxy)."""
        x = np.asarray(world.flows) * (1.0 + np.asarray(tariffs))
        share = x / x.sum(axis=(0, 2))[None, :, None]
        flat_idx = self.index.ravel()
        m = flat_idx >= 0
        return np.bincount(flat_idx[m], weights=share.ravel()[m], minlength=self.n_params)


def make_control(regions: Sequence[str], sectors: Sequence[str], importers: Sequence[int], structure: str,
                 exporters: Sequence[int] | None = None) -> Control:
    """Build the :class:`Control` of ``importers`` for a tariff ``structure``.

    Parameters are numbered importer by importer; within an importer, for
    ``"bilateral"``, exporter varies fastest, then sector (Ossa's stored order).
    ``exporters`` (indices) restricts the controlled partners (default: all others);
    the other partners' rates stay as given.
    """
    if structure not in STRUCTURES:
        raise ScenarioError(f"structure must be one of {', '.join(STRUCTURES)}, got {structure!r}")
    n, s = len(regions), len(sectors)
    index = -np.ones((n, n, s), dtype=np.int64)
    labels: list[tuple[str, str, str]] = []
    allowed = set(range(n)) if exporters is None else {int(i) for i in exporters}
    k = 0
    for j in importers:
        partners = [i for i in range(n) if i != j and i in allowed]
        if not partners:
            raise ScenarioError(f"exporters: {regions[j]} controls no partner's tariffs (give partners other than itself)")
        group = "*" if exporters is None else ",".join(regions[i] for i in partners)
        if structure == "uniform":
            index[partners, j, :] = k
            labels.append((regions[j], group, "*"))
            k += 1
        elif structure == "by_sector":
            for q in range(s):
                index[partners, j, q] = k
                labels.append((regions[j], group, sectors[q]))
                k += 1
        elif structure == "by_partner":
            for i in partners:
                index[i, j, :] = k
                labels.append((regions[j], regions[i], "*"))
                k += 1
        else:
            for q in range(s):
                for i in partners:
                    index[i, j, q] = k
                    labels.append((regions[j], regions[i], sectors[q]))
                    k += 1
    index.flags.writeable = False
    return Control(structure=structure, importers=tuple(int(j) for j in importers), index=index, n_params=k, labels=tuple(labels))


def check_bounds(bounds: tuple[float, float]) -> tuple[float, float]:
    lo, hi = (float(b) for b in bounds)
    if not (lo > -1.0 and hi > lo and np.isfinite(hi)):
        raise ScenarioError(f"bounds must satisfy -1 < lower < upper < inf, got {bounds!r}")
    return lo, hi


def resolve_tariffs(model: BoundModel, tariffs: np.ndarray | None) -> np.ndarray:
    t = np.array(model.base_tariffs if tariffs is None else tariffs, dtype=np.float64)
    if t.shape != model.base_tariffs.shape:
        raise DataError(f"tariffs: expected shape {model.base_tariffs.shape}, got {t.shape}")
    return t


# ---------------------------------------------------------------- compiled objectives
_CACHE: "weakref.WeakKeyDictionary[BoundModel, dict]" = weakref.WeakKeyDictionary()
_SHARED: dict[str, Callable] = {}


def model_function(model: BoundModel, key: str, make: Callable[[Callable], Callable]) -> Callable:
    """jit-compiled ``make(model.evaluate)``, compiled once per shape where possible.

    When ``model.evaluate`` is a :class:`jax.tree_util.Partial` (the built-in families
    bind their world's arrays that way), one jitted function per ``key`` takes it as an
    argument: its arrays are traced inputs, so every world of the same shapes and
    static options reuses one compilation (and the persistent cache across processes).
    Otherwise the function is compiled per bound model.
    """
    ev = model.evaluate
    if isinstance(ev, jax.tree_util.Partial):
        if key not in _SHARED:
            _SHARED[key] = jax.jit(lambda ev_, *args: make(ev_)(*args))
        shared = _SHARED[key]
        return lambda *args: shared(ev, *args)
    d = _CACHE.setdefault(model, {})
    if key not in d:
        d[key] = jax.jit(make(ev))
    return d[key]


def welfare_fn(model: BoundModel) -> Callable:
    """jit-compiled ``(tariffs, state) -> (welfare_hat, government_welfare_hat, state)``."""
    return model_function(model, "evaluate", lambda ev: ev)


def _player_objective(ev: Callable) -> Callable:
    def f(q, scale, index, fixed, player, state):
        p = q / scale
        t = jnp.where(index >= 0, p[jnp.maximum(index, 0)], fixed)
        _, gov, new_state = ev(t, state)
        return -OBJ_SCALE * jnp.log(gov[player]), new_state

    return jax.value_and_grad(f, has_aux=True)


def player_objective(model: BoundModel) -> Callable:
    """jit-compiled value and gradient of ``-100 log G_hat[player]`` in scaled parameters.

    Signature ``(q, scale, index, fixed, player, state) -> ((f, state), grad)``; the
    control enters as data (``index``), so one compilation serves every player
    with the same number of parameters.
    """
    return model_function(model, "player", _player_objective)


# ---------------------------------------------------------------- optimiser
@dataclass(frozen=True)
class OptOutcome:
    """What :func:`maximize_scaled` found (parameters in natural units)."""

    p: np.ndarray
    value: float            # objective (minimised form)
    grad: np.ndarray        # gradient in natural units
    projected_grad_norm: float
    grad_norm: float
    iterations: int
    evaluations: int
    at_lower: np.ndarray    # bool per parameter
    at_upper: np.ndarray
    corner_lower: np.ndarray  # at bound and gradient pushes outward
    corner_upper: np.ndarray
    state: Any
    success: bool
    message: str
    seconds: float


def minimize_scaled(
    fun: Callable[[np.ndarray, Any], tuple[float, np.ndarray, Any]],
    p0: np.ndarray,
    scale: np.ndarray,
    lower: float,
    upper: float,
    state: Any,
    *,
    max_iter: int = 5000,
    gtol: float = 1e-9,
    what: str = "optimal tariff",
    strict: bool = True,
) -> OptOutcome:
    """Minimise ``fun`` over ``lower <= p <= upper`` with L-BFGS-B in scaled variables ``q = p * scale``.

    ``fun(q, state) -> (f, grad_q, state)`` works in scaled variables. Raises
    :class:`ConvergenceError` when the equilibrium fails at the solution (NaN)
    or (``strict``) the optimiser stops for a reason other than convergence;
    with ``strict=False`` the outcome carries ``success=False`` instead.
    """
    t0 = time.perf_counter()
    box = {"state": state, "evals": 0, "last_ok": None}

    def f(q):
        box["evals"] += 1
        val, g, st = fun(q, box["state"])
        val = float(val)
        g = np.asarray(g, dtype=np.float64)
        if not np.isfinite(val) or not np.isfinite(g).all():
            # equilibrium failed at a trial point: make the line search back off
            return 1e6, np.zeros_like(q)
        box["state"] = st
        return val, g

    q0 = np.clip(p0, lower, upper) * scale
    bnds = list(zip(lower * scale, upper * scale))
    res = minimize(f, q0, jac=True, method="L-BFGS-B", bounds=bnds,
                   options={"maxiter": max_iter, "maxfun": 4 * max_iter, "ftol": 1e-15, "gtol": gtol, "maxcor": 30})
    q = np.clip(res.x, lower * scale, upper * scale)
    val, gq, st = fun(q, box["state"])
    val, gq = float(val), np.asarray(gq, dtype=np.float64)
    if not np.isfinite(val) or not np.isfinite(gq).all():
        raise ConvergenceError(f"{what}: the equilibrium did not converge at the optimiser's last point")
    p = q / scale
    g = gq * scale  # d f / d p
    at_lo = p <= lower + BOUND_TOL
    at_hi = p >= upper - BOUND_TOL
    pg = np.where(at_lo, np.minimum(gq, 0.0), np.where(at_hi, np.maximum(gq, 0.0), gq))
    pgn = float(np.max(np.abs(pg))) if pg.size else 0.0
    # status 2 = "ABNORMAL" line search: accept when the projected gradient is small anyway
    ok = res.status == 0 or (pgn <= 1e3 * gtol)
    if not ok and strict:
        raise ConvergenceError(f"{what}: optimiser stopped ({res.message}); projected gradient {pgn:.2e}",
                               residual=pgn, iterations=int(res.nit))
    scale_g = 1e-6 * max(1.0, float(np.max(np.abs(gq))) if gq.size else 1.0)
    corner_lo = at_lo & (gq > scale_g)    # minimising: positive gradient at the lower bound = wants lower
    corner_hi = at_hi & (gq < -scale_g)
    return OptOutcome(
        p=p, value=val, grad=g, projected_grad_norm=pgn, grad_norm=float(np.linalg.norm(g)), iterations=int(res.nit),
        evaluations=box["evals"], at_lower=at_lo, at_upper=at_hi, corner_lower=corner_lo, corner_upper=corner_hi,
        state=st, success=bool(ok), message=str(res.message), seconds=time.perf_counter() - t0)


def parameter_scale(control: Control, world: World, tariffs: np.ndarray, flows: np.ndarray | None = None) -> np.ndarray:
    """Diagonal preconditioner ``sqrt(share / max share)`` (floored at 1e-8), see module docstring.

    ``flows`` (default: the world's) are the pre-tariff flows at ``tariffs``, e.g. of a
    solved equilibrium when the optimiser has moved far from the baseline.
    """
    if flows is not None:
        from dataclasses import replace

        world = replace(world, flows=np.asarray(flows))
    w = control.weights(world, tariffs)
    w = np.maximum(w / max(float(w.max()), 1e-300), 1e-16)
    return np.sqrt(w)


def median_by_importer(tariffs: np.ndarray, importers: Sequence[int] | None = None) -> np.ndarray:
    """Median of each importer's tariffs over partners and sectors (Ossa's 'average' is the mean of these)."""
    t = np.asarray(tariffs)
    n = t.shape[0]
    importers = range(n) if importers is None else importers
    off = ~np.eye(n, dtype=bool)
    return np.array([np.median(t[off[:, j], j, :]) for j in importers])


class PlayersResultMixin:
    """Shared views of results over a set of players (Nash, cooperative)."""

    players: tuple[str, ...]
    regions: tuple[str, ...]
    tariff_rate: np.ndarray
    welfare_hat: np.ndarray
    government_welfare_hat: np.ndarray

    @property
    def median_tariff(self) -> np.ndarray:
        """Median of each player's tariffs over partners and sectors."""
        return median_by_importer(self.tariff_rate, [self.regions.index(p) for p in self.players])

    def welfare_table(self):
        """Tidy table (polars) by region: welfare and government welfare changes, percent."""
        import polars as pl

        return pl.DataFrame({
            "region": list(self.regions),
            "welfare_change_pct": 100 * (self.welfare_hat - 1),
            "government_welfare_change_pct": 100 * (self.government_welfare_hat - 1),
        })
