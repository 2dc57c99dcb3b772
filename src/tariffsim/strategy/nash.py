"""Nash tariffs (a tariff war): iterated best responses to a fixed point.

Every player ``j`` in ``players`` sets its import tariffs (``structure``) to
maximise its government welfare given everyone else's; a Nash equilibrium is a
profile where nobody gains from a unilateral deviation. Following Ossa (2014),
section III.B (``mynashtariff.m``), we iterate best responses from a starting
profile (default: the world's tariffs). ``update="simultaneous"`` is Ossa's
Jacobi scheme (all players respond to the previous round); the default
``"sequential"`` (Gauss-Seidel: each player responds to the latest rates)
usually needs fewer rounds. Stopping rule: in one full round no player's best
response raises its government welfare by more than ``gain_tol`` and no rate
moves by more than ``tariff_tol`` (trade-weighted mean absolute change). A final
verification round re-solves each best response at the reported profile and
records each player's deviation gain.

References
----------
Ossa, R. (2014), "Trade Wars and Trade Talks with Data", AER 104(12), section III.B.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import ConvergenceError, CornerSolutionWarning, ScenarioError
from ..models.base import BoundModel
from ..world import World
from ._core import PlayersResultMixin, as_model, check_bounds, make_control, resolve_tariffs, welfare_fn
from .optimal import global_best_response


@dataclass(frozen=True, eq=False)
class NashResult(PlayersResultMixin):
    """A Nash tariff equilibrium among ``players`` (others' tariffs fixed).

    ``welfare_hat`` / ``government_welfare_hat`` are relative to the bound
    world's baseline (its tariffs). ``deviation_gain[k]`` is what player k would
    gain (G_hat units) by re-optimising at the reported profile: ~0 at a Nash
    equilibrium. ``history`` holds, per round, the largest best-response gain
    and the trade-weighted mean absolute tariff change.
    """

    players: tuple[str, ...]
    structure: str
    model: str
    weights: str
    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    tariff_rate: np.ndarray
    welfare_hat: np.ndarray
    government_welfare_hat: np.ndarray
    deviation_gain: np.ndarray
    projected_gradient_norm: np.ndarray
    rounds: int
    iterations: int
    history: tuple[tuple[float, float], ...]
    corner: bool
    converged: bool
    seconds: float
    options: Mapping[str, Any]


    def summary(self):
        """Tidy table (polars) by region: median Nash tariff (players), welfare changes, deviation gain."""
        import polars as pl

        med = dict(zip(self.players, self.median_tariff))
        dev = dict(zip(self.players, self.deviation_gain))
        return pl.DataFrame({
            "region": list(self.regions),
            "player": [r in self.players for r in self.regions],
            "median_tariff_pct": [100 * med[r] if r in med else None for r in self.regions],
            "welfare_change_pct": 100 * (self.welfare_hat - 1),
            "government_welfare_change_pct": 100 * (self.government_welfare_hat - 1),
            "deviation_gain": [dev.get(r) for r in self.regions],
        })

    def __repr__(self) -> str:
        return (f"NashResult(players={len(self.players)}, {self.structure}, model={self.model!r}, rounds={self.rounds}, "
                f"max deviation gain={float(np.max(self.deviation_gain)):.1e}, converged={self.converged})")


def nash_tariffs(
    world: World | BoundModel,
    players: Sequence[str] | None = None,
    *,
    structure: str = "uniform",
    model: str = "caliendo_parro",
    weights: str = "none",
    closure: str = "balanced",
    start: np.ndarray | None = None,
    bounds: tuple[float, float] = (0.0, 10.0),
    update: str = "sequential",
    max_rounds: int = 50,
    gain_tol: float = 1e-7,
    tariff_tol: float = 1e-4,
    verify: bool = True,
    starts: str = "auto",
) -> NashResult:
    """Nash tariffs by iterated best responses (Ossa 2014).

    Parameters
    ----------
    world : a World or an already bound model.
    players : region codes that play (default: all regions); the others keep
        their tariffs from ``start``.
    structure : tariff instruments of each player (see :func:`optimal_tariff`).
    start : starting (exporter, importer, sector) tariff array (default: the world's).
    update : ``"sequential"`` (Gauss-Seidel) or ``"simultaneous"`` (Jacobi, Ossa's).
    gain_tol : largest best-response gain in G_hat (1e-7 = 0.00001%) still counted as no gain.
    tariff_tol : largest trade-weighted mean absolute change of a player's rates in a round.
    starts : multi-start safeguard of every best response (see :func:`optimal_tariff`):
        ``"auto"`` also starts from the best optimum of the coarser structures, ``"all"`` from
        each, ``"current"`` from the current rates only.

    Raises
    ------
    ConvergenceError when ``max_rounds`` pass without reaching the tolerances.
    """
    t_start = time.perf_counter()
    m = as_model(world, model, weights, closure)
    lower, upper = check_bounds(bounds)
    if update not in ("sequential", "simultaneous"):
        raise ScenarioError(f"update must be 'sequential' or 'simultaneous', got {update!r}")
    players = tuple(m.regions if players is None else players)
    if len(players) < 1 or len(set(players)) != len(players):
        raise ScenarioError("players: give distinct region codes")
    idx = [m.world.index(p) for p in players]
    controls = {j: make_control(m.regions, m.sectors, [j], structure) for j in idx}
    t = resolve_tariffs(m, start)
    for j in idx:  # project the start onto each player's instrument set and bounds
        t = np.asarray(controls[j].expand(np.clip(controls[j].initial(t), lower, upper), t))
    share = _import_shares(m.world)
    states: dict[int, Any] = {}
    history: list[tuple[float, float]] = []
    total_iter = 0
    converged = False
    for rnd in range(1, max_rounds + 1):
        base = t.copy()
        t_new = t.copy()
        max_gain, max_change = 0.0, 0.0
        for j in idx:
            given = t if update == "sequential" else base
            br = global_best_response(m, j, structure, given, lower, upper, starts=starts, state=states.get(j))
            out, t_br = br.out, br.tariffs
            states[j] = out.state
            total_iter += out.iterations
            g_cur = float(np.asarray(welfare_fn(m)(given, out.state)[1])[j])
            g_br = float(np.asarray(welfare_fn(m)(t_br, out.state)[1])[j])
            max_gain = max(max_gain, g_br - g_cur)
            change = float((np.abs(t_br - given)[:, j, :] * share[:, j, :]).sum())
            max_change = max(max_change, change)
            if update == "sequential":
                t = t_br
            else:
                t_new[:, j, :] = t_br[:, j, :]
        if update == "simultaneous":
            t = t_new
        history.append((max_gain, max_change))
        if max_gain <= gain_tol and max_change <= tariff_tol:
            converged = True
            break
    if not converged:
        raise ConvergenceError(
            f"nash_tariffs: no fixed point after {max_rounds} rounds (last best-response gain {history[-1][0]:.2e}, "
            f"tariff change {history[-1][1]:.2e})", residual=history[-1][0], iterations=max_rounds)
    dev = np.zeros(len(idx))
    pgn = np.zeros(len(idx))
    corner = False
    if verify:
        for k, j in enumerate(idx):
            br = global_best_response(m, j, structure, t, lower, upper, starts=starts, state=states.get(j))
            out, t_br = br.out, br.tariffs
            g_cur = float(np.asarray(welfare_fn(m)(t, out.state)[1])[j])
            g_br = float(np.asarray(welfare_fn(m)(t_br, out.state)[1])[j])
            dev[k] = g_br - g_cur
            pgn[k] = out.projected_grad_norm
            corner |= bool(out.corner_lower.any() or out.corner_upper.any())
    if corner:
        warnings.warn(f"nash_tariffs: some best responses sit at a bound ({lower:g} or {upper:g}) with the gradient pushing "
                      "outward (corner)", CornerSolutionWarning, stacklevel=2)
    w, g, _ = welfare_fn(m)(t, m.init_state)
    w, g = np.asarray(w), np.asarray(g)
    if not (np.isfinite(w).all() and np.isfinite(g).all()):
        raise ConvergenceError("nash_tariffs: the equilibrium at the Nash tariffs did not converge")
    return NashResult(
        players=players, structure=structure, model=m.name, weights=str(m.options.get("weights", "none")),
        regions=m.regions, sectors=m.sectors, tariff_rate=t, welfare_hat=w, government_welfare_hat=g,
        deviation_gain=dev, projected_gradient_norm=pgn, rounds=len(history), iterations=total_iter,
        history=tuple(history), corner=corner, converged=converged, seconds=time.perf_counter() - t_start,
        options={**dict(m.options), "update": update, "gain_tol": gain_tol, "tariff_tol": tariff_tol, "bounds": (lower, upper),
                 "starts": starts})


def _import_shares(world: World) -> np.ndarray:
    """Share of each exporter-sector in an importer's imports (the weights of the tariff-change criterion)."""
    x = np.asarray(world.flows) * (1.0 - np.eye(world.n_regions))[:, :, None]
    tot = x.sum(axis=(0, 2), keepdims=True)
    return np.divide(x, tot, out=np.zeros_like(x), where=tot > 0)
