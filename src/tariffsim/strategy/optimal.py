"""Optimal (best-response) tariffs: one government maximises its welfare, others' tariffs fixed.

Country ``j`` chooses its import tariffs ``t[., j, .]`` (with the given
``structure``) to maximise its government welfare ``G_hat[j]`` (equal to real
income ``W_hat[j]`` when ``weights="none"``), holding every other tariff at
``others`` (default: the world's tariffs). This is Ossa (2014), section III.A
(``myoptimaltariffj.m``; MFN variant ``mymfnoptimaltariffj.m`` = ``"by_sector"``),
solved here with exact gradients through the equilibrium and L-BFGS-B instead
of Ossa's constrained NLP in (G, E, w, t).

References
----------
Ossa, R. (2014), "Trade Wars and Trade Talks with Data", AER 104(12), section III.A.
Gros, D. (1987), "A Note on the Optimal Tariff, Retaliation and the Welfare Loss
from Tariff Wars in a Framework with Intra-Industry Trade", JIE 23(3-4).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import ConvergenceError, CornerSolutionWarning, ScenarioError
from ..models.base import BoundModel
from ..world import World
from ._core import (
    Control, OptOutcome, as_model, check_bounds, make_control, minimize_scaled, parameter_scale, player_objective,
    resolve_tariffs, welfare_fn,
)


@dataclass(frozen=True, eq=False)
class OptimalTariffResult:
    """A best response. ``tariff_rate`` is the full (exporter, importer, sector) array at the optimum.

    ``parameters`` are the chosen rates in the order of ``labels``; ``exporters`` the
    partners whose rates were chosen (``None``: all). ``start`` names the starting
    point whose local optimum won (``"current"``/``"given"``, or the coarser
    structure whose optimum it started from: ``"uniform"``, ``"by_sector"``,
    ``"by_partner"``) and ``start_welfare`` the government welfare each start reached;
    ``gradient_norm`` is the norm of d G_hat / d parameters at the optimum and
    ``projected_gradient_norm`` its max-norm after removing bound-blocked
    directions (0 at a KKT point). ``corner`` is True when a parameter sits at a
    bound its gradient pushes against (then it is not an interior optimum).
    """

    country: str
    structure: str
    model: str
    weights: str
    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    tariff_rate: np.ndarray
    parameters: np.ndarray
    labels: tuple[tuple[str, str, str], ...]
    welfare_hat: np.ndarray
    government_welfare_hat: np.ndarray
    gradient_norm: float
    projected_gradient_norm: float
    iterations: int
    evaluations: int
    corner: bool
    n_at_lower: int
    n_at_upper: int
    bounds: tuple[float, float]
    seconds: float
    options: Mapping[str, Any]
    start: str = "current"
    start_welfare: Mapping[str, float] = field(default_factory=dict)
    exporters: tuple[str, ...] | None = None

    @property
    def median_tariff(self) -> float:
        """Median of the chosen tariffs over all cells the country controls (Ossa's summary statistic)."""
        j = self.regions.index(self.country)
        n = len(self.regions)
        partners = [i for i in range(n) if i != j and (self.exporters is None or self.regions[i] in self.exporters)]
        return float(np.median(self.tariff_rate[partners, j, :]))

    def summary(self):
        """Tidy table (polars): the chosen rates by (importer, exporter, sector)."""
        import polars as pl

        return pl.DataFrame({
            "importer": [lb[0] for lb in self.labels],
            "exporter": [lb[1] for lb in self.labels],
            "sector": [lb[2] for lb in self.labels],
            "tariff_rate": self.parameters,
        })

    def welfare_table(self):
        """Tidy table (polars) by region: welfare and government welfare changes, percent."""
        import polars as pl

        return pl.DataFrame({
            "region": list(self.regions),
            "welfare_change_pct": 100 * (self.welfare_hat - 1),
            "government_welfare_change_pct": 100 * (self.government_welfare_hat - 1),
        })

    def __repr__(self) -> str:
        j = self.regions.index(self.country)
        return (f"OptimalTariffResult({self.country}, {self.structure}, model={self.model!r}, median={100 * self.median_tariff:.1f}%, "
                f"G_hat={self.government_welfare_hat[j]:.5f}, |grad|={self.projected_gradient_norm:.1e}, "
                f"iterations={self.iterations}, start={self.start}{', CORNER' if self.corner else ''})")


def best_response(
    model: BoundModel,
    j: int,
    control: Control,
    tariffs: np.ndarray,
    lower: float,
    upper: float,
    *,
    start: np.ndarray | None = None,
    state: Any = None,
    gtol: float = 1e-9,
    max_iter: int = 5000,
) -> tuple[OptOutcome, np.ndarray]:
    """Kernel: maximise ``G_hat[j]`` over ``control``'s parameters; returns (outcome, full tariff array).

    ``tariffs`` gives every cell (controlled cells: the default start).
    """
    vg = player_objective(model)
    scale = parameter_scale(control, model.world, tariffs)
    index = control.index
    p0 = control.initial(tariffs) if start is None else np.asarray(start, dtype=np.float64)
    st0 = model.init_state if state is None else state

    def fun(q, st):
        (val, new_st), g = vg(q, scale, index, tariffs, j, st)
        return val, g, new_st

    out = minimize_scaled(fun, p0, scale, lower, upper, st0, gtol=gtol, max_iter=max_iter,
                          what=f"optimal tariff of {model.regions[j]}")
    t = np.asarray(control.expand(out.p, tariffs))
    return out, t


#: Coarser structures each structure contains (its parameters can reproduce theirs).
NESTED = {"uniform": (), "by_sector": ("uniform",), "by_partner": ("uniform",),
          "bilateral": ("uniform", "by_sector", "by_partner")}
STARTS = ("auto", "all", "current")


@dataclass(frozen=True)
class GlobalOutcome:
    """The best of several local optima (:func:`global_best_response`)."""

    out: OptOutcome
    tariffs: np.ndarray
    control: Control
    start: str
    start_welfare: Mapping[str, float]


def global_best_response(
    model: BoundModel,
    j: int,
    structure: str,
    tariffs: np.ndarray,
    lower: float,
    upper: float,
    *,
    exporters: tuple[int, ...] | None = None,
    start: np.ndarray | None = None,
    starts: str = "auto",
    state: Any = None,
    gtol: float = 1e-9,
    max_iter: int = 5000,
    _memo: dict | None = None,
) -> GlobalOutcome:
    """Multi-start best response: the best local optimum over several starting points.

    Starts: the current rates (or ``start``) and, with ``starts="auto"``, the best of the
    optimum of every coarser structure this one contains (:data:`NESTED`, each solved the
    same way first; ``"all"``: from each of them, ``"current"``: no other start).
    L-BFGS-B never accepts a step that lowers welfare, so starting from the best
    contained optimum makes the richer structure's answer at least as good as every
    contained one: the invariant ``G(bilateral) >= G(by_sector), G(by_partner) >=
    G(uniform)`` holds by construction. A heuristic against local optima, not a proof
    of global optimality (measured on Ossa's data in docs/ossa2014.md).
    A start whose optimiser fails is skipped; all failing raises the first error.
    """
    if starts not in STARTS:
        raise ScenarioError(f"starts must be one of {', '.join(STARTS)}, got {starts!r}")
    memo = {} if _memo is None else _memo
    control = make_control(model.regions, model.sectors, [j], structure, exporters)
    cands: list[tuple[str, np.ndarray]] = [("given" if start is not None else "current",
                                           control.initial(tariffs) if start is None else np.asarray(start, float))]
    if starts != "current":
        found = []
        for coarse in NESTED[structure]:
            if coarse not in memo:
                memo[coarse] = global_best_response(model, j, coarse, tariffs, lower, upper, exporters=exporters,
                                                    starts=starts, state=state, gtol=gtol, max_iter=max_iter, _memo=memo)
            if memo[coarse] is not None:
                found.append((memo[coarse].out.value, coarse))
        if starts == "auto":
            found = sorted(found)[:1]  # the best contained optimum dominates the others as a start value
        cands += [(c, control.initial(memo[c].tariffs)) for _, c in found]
    best, values, first_error, tried = None, {}, None, []
    for name, p0 in cands:
        p0 = np.clip(p0, lower, upper)
        if any(np.array_equal(p0, q) for q in tried):
            continue  # the same point as an earlier start
        tried.append(p0)
        try:
            out, t = best_response(model, j, control, tariffs, lower, upper, start=p0, state=state, gtol=gtol,
                                   max_iter=max_iter)
        except ConvergenceError as exc:
            first_error = first_error or exc
            continue
        values[name] = float(np.exp(-out.value / 100.0))  # G_hat from the objective -100 log G_hat
        if best is None or out.value < best[0].value:
            best = (out, t, name)
    if best is None:
        if _memo is not None:
            return None  # a coarser sub-problem failed: the richer one still runs from its other starts
        raise first_error
    result = GlobalOutcome(out=best[0], tariffs=best[1], control=control, start=best[2], start_welfare=values)
    memo[structure] = result
    return result


def optimal_tariff(
    world: World | BoundModel,
    country: str,
    *,
    structure: str = "uniform",
    exporters: Sequence[str] | None = None,
    others: np.ndarray | None = None,
    model: str = "caliendo_parro",
    weights: str = "none",
    closure: str = "balanced",
    bounds: tuple[float, float] = (0.0, 10.0),
    start: np.ndarray | float | None = None,
    starts: str = "auto",
    gtol: float = 1e-9,
    max_iter: int = 5000,
    warn: bool = True,
) -> OptimalTariffResult:
    """Best-response tariffs of ``country`` maximising its government welfare.

    Parameters
    ----------
    world : a World (bound to ``model`` here, cached per World object) or an already
        bound model (then ``model``, ``weights`` and ``closure`` are taken from it).
    country : region code of the government choosing its import tariffs.
    structure : ``"uniform"`` (one rate on all partners and sectors),
        ``"by_sector"`` (one rate per sector; MFN), ``"by_partner"`` (one rate per
        partner) or ``"bilateral"`` (per partner and sector, as in Ossa 2014).
    exporters : partners whose rates the country chooses (default: all others); every
        other rate stays at ``others``. ``structure="uniform", exporters=["USA"]`` is
        one retaliatory rate on US goods in all sectors.
    others : full (exporter, importer, sector) tariff array holding every rate
        the country does not choose (default: the world's tariffs).
    bounds : admissible range of each chosen rate (fractions); default 0-1000%
        as in Ossa (2014).
    start : starting rates (scalar or one per parameter); default the current
        rates averaged over each parameter's cells.
    starts : ``"auto"`` (default): also start from the best optimum of the coarser
        structures this one contains and keep the better result (see
        :func:`global_best_response`; ``result.start`` names the winner); ``"all"``:
        from each contained optimum; ``"current"``: only from ``start`` / the current
        rates (one local optimum).

    Returns
    -------
    OptimalTariffResult; ``corner=True`` (and a :class:`CornerSolutionWarning`)
    when the optimum sits at a bound its gradient pushes against.

    Raises
    ------
    ConvergenceError if the equilibrium or the optimiser fails to converge.
    """
    t_start = time.perf_counter()
    m = as_model(world, model, weights, closure)
    j = m.world.index(country)
    lower, upper = check_bounds(bounds)
    t = resolve_tariffs(m, others)
    exp_idx = _exporter_indices(m, country, exporters)
    control = make_control(m.regions, m.sectors, [j], structure, exp_idx)
    p0 = None if start is None else np.broadcast_to(np.asarray(start, dtype=np.float64), (control.n_params,)).copy()
    g = global_best_response(m, j, structure, t, lower, upper, exporters=exp_idx, start=p0, starts=starts,
                             gtol=gtol, max_iter=max_iter)
    return _result(m, country, structure, g.control, g.out, g.tariffs, (lower, upper), warn=warn, start=g.start,
                   start_welfare=g.start_welfare,
                   exporters=None if exp_idx is None else tuple(m.regions[i] for i in exp_idx),
                   seconds=time.perf_counter() - t_start)


def _exporter_indices(m: BoundModel, country: str, exporters: Sequence[str] | None) -> tuple[int, ...] | None:
    if exporters is None:
        return None
    if isinstance(exporters, str):
        exporters = [exporters]
    codes = list(exporters)
    if not codes or len(set(codes)) != len(codes):
        raise ScenarioError("exporters: give one or more distinct region codes")
    if country in codes:
        raise ScenarioError(f"exporters: {country} cannot levy tariffs on itself")
    return tuple(sorted(m.world.index(c) for c in codes))


def _result(m: BoundModel, country: str, structure: str, control: Control, out: OptOutcome, t_opt: np.ndarray,
            bounds: tuple[float, float], *, warn: bool, start: str = "current",
            start_welfare: Mapping[str, float] | None = None,
            exporters: tuple[str, ...] | None = None, seconds: float | None = None) -> OptimalTariffResult:
    w, g, _ = welfare_fn(m)(t_opt, out.state)
    corner = bool(out.corner_lower.any() or out.corner_upper.any())
    if corner and warn:
        warnings.warn(
            f"optimal tariff of {country} ({structure}): {int(out.corner_upper.sum())} rate(s) at the upper bound "
            f"{bounds[1]:g} and {int(out.corner_lower.sum())} at the lower bound {bounds[0]:g} with the gradient pushing "
            "outward: a corner, not an interior optimum", CornerSolutionWarning, stacklevel=3)
    grad_g = -out.grad / 100.0 * np.asarray(g)[m.world.index(country)]  # d G_hat / d p from d(-100 log G)/dp
    return OptimalTariffResult(
        country=country, structure=structure, model=m.name, weights=str(m.options.get("weights", "none")),
        regions=m.regions, sectors=m.sectors, tariff_rate=t_opt, parameters=out.p, labels=control.labels,
        welfare_hat=np.asarray(w), government_welfare_hat=np.asarray(g), gradient_norm=float(np.linalg.norm(grad_g)),
        projected_gradient_norm=out.projected_grad_norm, iterations=out.iterations, evaluations=out.evaluations,
        corner=corner, n_at_lower=int(out.at_lower.sum()), n_at_upper=int(out.at_upper.sum()), bounds=bounds,
        seconds=out.seconds if seconds is None else seconds, options=dict(m.options), start=start, start_welfare=dict(start_welfare or {}),
        exporters=exporters)
