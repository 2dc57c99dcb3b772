"""Nash bargaining between two governments over tariffs, a lump-sum transfer, pledges and purchases.

Two players (default the USA and Japan) bargain over an agreement ``x``:

- tariffs by sector group that each levies on the other (``"home_tariffs"`` /
  ``"partner_tariffs"``; the default groups are *autos* and *other goods* for the
  first player's tariffs, *agriculture & food* and *other goods* for the second's),
  each group rate replacing the current rates of its cells;
- a lump-sum transfer ``T`` (USD mn a year) from the second player to the first,
  e.g. Japan's host-nation support for US forces: ``D1[home] += T``,
  ``D1[partner] -= T`` in the GE model (``solve(..., deficits=...)``).

Payoffs are money-metric welfare changes ``EV = (W_hat - 1) I0`` (USD mn) in the
Caliendo-Parro GE model relative to the status quo. The disagreement point ``d``
is the bilateral Nash tariff war (:mod:`.war`), a user-given threat (a tariff array or
a :class:`~tariffsim.strategy.threat.ThreatPoint`), or the April 2025 US tariffs on
Japan (``"threat"``), minus a *security value* each player loses when talks fail. The
Nash bargaining solution (Nash 1950; the asymmetric form of Kalai 1977 with weight
``beta`` on the first player) is

    max_x  beta log(EV_home(x) - d_home) + (1 - beta) log(EV_partner(x) - d_partner)

over the bounded instruments, solved with exact gradients (``jax.jacrev`` through the
equilibrium: implicit differentiation) and L-BFGS-B, started where the Nash product peaks
along the traced Pareto frontier (:mod:`.frontier`, traced by Newton-KKT continuation). A deal is placed relative to the frontier by
:mod:`.deal`; defaults and their sources are in :mod:`.facts`.

The pieces live in one file per concept: :mod:`.game` (the compiled two-player game),
:mod:`.sector_groups`, :mod:`.war`, :mod:`.frontier`, :mod:`.deal`, :mod:`.threat`,
:mod:`.facts`; this module holds the entry point and its result.

References
----------
Nash, J. F. (1950), "The Bargaining Problem", Econometrica 18(2), 155-162.
Kalai, E. (1977), "Nonsymmetric Nash solutions and replications of 2-person
bargaining", International Journal of Game Theory 6(3), 129-133.
Ossa, R. (2014), "Trade Wars and Trade Talks with Data", AER 104(12), section III.
Caliendo, L. and F. Parro (2015), REStud 82(1) (the GE model; deficits as transfers).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import ConvergenceError, CornerSolutionWarning, ScenarioError, TariffsimError
from ..world import World
from .deal import Deal, DealPosition, deal_2025, locate_deal
from .facts import _facts, fact, policy_defaults
from .frontier import _eps_constraint, _frontier_point
from .game import EV_SCALE, Point, _Game, _lbfgsb, _Scaled
from .sector_groups import default_groups, goods_sectors
from .threat import ThreatPoint, threat_2025
from .war import bilateral_war

INSTRUMENTS = ("home_tariffs", "partner_tariffs", "transfer")
#: aliases accepted for the default US-Japan players
_ALIASES = {"us_tariffs": "home_tariffs", "jpn_tariffs": "partner_tariffs", "japan_tariffs": "partner_tariffs"}


@dataclass(frozen=True, eq=False)
class BargainResult:
    """Nash bargaining solution, Pareto frontier and a deal's position (docs/design.md §5).

    ``nbs``, ``disagreement``, ``status_quo`` are :class:`Point`; ``frontier_ev_usd`` is
    (n, 2): EV of (home, partner) along the individually rational part of the frontier,
    ``frontier_parameters`` the instruments there. ``security_value_usd`` is subtracted
    from the disagreement EVs. ``nbs_frontier_gap_usd``: how much more the partner could
    get with home held at the NBS (0 when the NBS is efficient).
    """

    players: tuple[str, str]
    beta: float
    closure: str
    instruments: tuple[str, ...]
    labels: tuple[str, ...]
    bounds: Mapping[str, tuple[float, float]]
    disagreement: Point
    disagreement_kind: str
    security_value_usd: np.ndarray
    threat_values_usd: np.ndarray
    nbs: Point
    nbs_frontier_gap_usd: float
    nbs_corner: tuple[str, ...]
    frontier_ev_usd: np.ndarray
    frontier_parameters: np.ndarray
    deal: DealPosition | None
    defaults: Any
    evaluations: int
    seconds: float

    @property
    def nbs_gains_usd(self) -> np.ndarray:
        """Gains of (home, partner) at the NBS over their disagreement values, USD mn/yr."""
        return self.nbs.ev_usd - self.threat_values_usd

    @property
    def ev_usd_bn(self) -> np.ndarray:
        """EV of (home, partner) at the NBS, USD bn/yr."""
        return self.nbs.ev_usd / 1e3

    @property
    def disagreement_ev_usd_bn(self) -> np.ndarray:
        """EV of (home, partner) at the disagreement point (before security values), USD bn/yr."""
        return self.disagreement.ev_usd / 1e3

    def frontier(self):
        """Tidy table (polars) of the frontier: EV of both players (``ev_<code>_usd_bn``, USD bn/yr) and the instruments."""
        import polars as pl

        cols = {f"ev_{self.players[0]}_usd_bn": self.frontier_ev_usd[:, 0] / 1e3,
                f"ev_{self.players[1]}_usd_bn": self.frontier_ev_usd[:, 1] / 1e3}
        for k, lab in enumerate(self.labels):
            cols[lab] = self.frontier_parameters[:, k]
        return pl.DataFrame(cols)

    def summary(self):
        """Tidy table (polars): EVs of the disagreement point, NBS, deal; instruments at the NBS and the deal."""
        import polars as pl

        h, p = self.players
        rows = [("disagreement (" + self.disagreement_kind + ")", self.disagreement), ("Nash bargaining solution", self.nbs)]
        if self.deal is not None:
            rows.append((self.deal.deal.name, self.deal.point))
        return pl.DataFrame({
            "outcome": [r[0] for r in rows],
            f"ev_{h.lower()}_usd_mn": [float(r[1].ev_usd[0]) for r in rows],
            f"ev_{p.lower()}_usd_mn": [float(r[1].ev_usd[1]) for r in rows],
            "transfer_usd_mn": [float(r[1].transfer_usd) for r in rows],
        })

    def __str__(self) -> str:
        h, p = self.players
        lines = [f"Nash bargaining {h}-{p} (beta={self.beta:g} on {h}; closure={self.closure}; EV in USD mn/yr vs status quo)",
                 f"  disagreement ({self.disagreement_kind}): EV {h} {self.disagreement.ev_usd[0]:,.0f}, {p} "
                 f"{self.disagreement.ev_usd[1]:,.0f}; security value lost {h} {self.security_value_usd[0]:,.0f}, "
                 f"{p} {self.security_value_usd[1]:,.0f}",
                 f"  NBS: EV {h} {self.nbs.ev_usd[0]:,.0f}, {p} {self.nbs.ev_usd[1]:,.0f}; transfer {p}->{h} "
                 f"{self.nbs.transfer_usd:,.0f}; " + ", ".join(f"{lab} {v:.4g}" for lab, v in zip(self.labels, self.nbs.parameters))]
        if self.deal is not None:
            d = self.deal
            lines.append(f"  {d.deal.name}: EV {h} {d.point.ev_usd[0]:,.0f}, {p} {d.point.ev_usd[1]:,.0f}; transfer-equivalent "
                         f"{d.deal.transfer_equivalent_usd:,.0f}; {p} could gain {d.gap_partner_usd:,.0f} more on the frontier; "
                         f"{h}'s share of surplus {d.home_share_of_surplus:.2f}; efficiency {d.efficiency:.2f}")
        lines.append("  defaults (vary those marked *):")
        for r in self.defaults.iter_rows(named=True):
            lines.append(f"   {'*' if r['vary'] else ' '} {r['name']} = {r['value']:,.4g} {r['unit']}: {r['source']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"BargainResult({self.players[0]}-{self.players[1]}, beta={self.beta:g}, NBS EV=({self.nbs.ev_usd[0]:,.0f}, "
                f"{self.nbs.ev_usd[1]:,.0f}), frontier {len(self.frontier_ev_usd)} points)")



def bargain(
    world: World,
    players: Sequence[str] = ("USA", "JPN"),
    *,
    instruments: Sequence[str] = INSTRUMENTS,
    groups: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    disagreement: str | np.ndarray | Any = "nash",
    beta: float = 0.5,
    weight: float | None = None,
    security_value_usd: Mapping[str, float] | None = None,
    tariff_bounds: tuple[float, float] = (0.0, 2.0),
    transfer_bounds: tuple[float, float] = (-50_000.0, 50_000.0),
    deal: Deal | str | None = "2025",
    pledge_usd: float | None = None,
    grant_share: float | None = None,
    purchases_usd: Mapping[str, tuple[Sequence[str], float]] | None = None,
    closure: str = "balanced",
    n_frontier: int = 50,
    frontier_points: int | None = None,
    security_value_usd_bn: Mapping[str, float] | None = None,
) -> BargainResult:
    """Nash bargaining solution, Pareto frontier and the position of a deal (docs/design.md §5, issue 6).

    Parameters
    ----------
    world : the baseline World (status quo: its tariffs).
    players : (home, partner); the transfer goes partner -> home.
    instruments : subset of ``"home_tariffs"`` (home's group tariffs on the partner),
        ``"partner_tariffs"`` (partner's group tariffs on home), ``"transfer"`` (T, USD mn/yr).
        Aliases ``"us_tariffs"``, ``"jpn_tariffs"``. Tariffs not chosen stay at the status quo.
    groups : {importer: {group: sector codes}}; default :func:`default_groups`.
    disagreement : ``"nash"`` (bilateral group-tariff Nash war, others at the status quo),
        ``"threat"`` (April 2025 US tariffs on Japan, no retaliation: :func:`threat_2025`),
        a :class:`~tariffsim.strategy.threat.ThreatPoint` (legal instruments on a date: :func:`threat_point`),
        a full tariff array, or a result with a ``tariff_rate`` array (e.g. ``nash_tariffs``).
    beta : bargaining weight of home (``weight`` is an alias).
    security_value_usd : {player: USD mn/yr lost at disagreement}; default from
        :func:`policy_defaults` (Japan: US cost of its forces in Japan, GAO; USA: 0).
    tariff_bounds, transfer_bounds : admissible group rates (fractions; negative = import
        subsidies, the purchase-commitment instrument) and transfer (USD mn/yr).
    deal : ``"2025"`` (:func:`deal_2025`), a :class:`Deal`, or None; ``pledge_usd``,
        ``grant_share``, ``purchases_usd`` ({label: (sectors, USD mn/yr)}) override its terms.
    closure : ``"balanced"`` (deficits purged first, as for optimal tariffs) or ``"fixed"``.
    n_frontier : number of frontier points (individually rational part); ``frontier_points`` is an alias.
    security_value_usd_bn : the same as ``security_value_usd`` in USD bn/yr (alias for scenario files).

    Returns
    -------
    BargainResult; ``str(result)`` prints the outcome and the defaults with their sources.

    Raises
    ------
    ScenarioError on invalid options; ConvergenceError when an equilibrium or optimiser fails;
    TariffsimError when no agreement beats disagreement for both players.
    """
    t_start = time.perf_counter()
    if weight is not None:
        beta = weight
    if frontier_points is not None:
        n_frontier = frontier_points
    if security_value_usd_bn is not None:
        if security_value_usd is not None:
            raise ScenarioError("give security_value_usd or security_value_usd_bn, not both")
        security_value_usd = {k: 1e3 * float(v) for k, v in dict(security_value_usd_bn).items()}
    if not 0.0 < float(beta) < 1.0:
        raise ScenarioError(f"beta: bargaining weight must lie in (0, 1), got {beta!r}")
    players = tuple(players)
    if len(players) != 2 or players[0] == players[1]:
        raise ScenarioError("players: give two distinct region codes (home, partner)")
    inst = tuple(_ALIASES.get(i, i) for i in instruments)
    bad = [i for i in inst if i not in INSTRUMENTS]
    if bad or not inst:
        raise ScenarioError(f"instruments: unknown {bad}; choose from {', '.join(INSTRUMENTS)}")
    lo_t, hi_t = (float(v) for v in tariff_bounds)
    if not (-1.0 < lo_t < hi_t and np.isfinite(hi_t)):
        raise ScenarioError(f"tariff_bounds must satisfy -1 < lower < upper < inf, got {tariff_bounds!r}")
    lo_T, hi_T = (float(v) for v in transfer_bounds) if "transfer" in inst else (0.0, 0.0)
    if not lo_T <= hi_T:
        raise ScenarioError(f"transfer_bounds: lower > upper: {transfer_bounds!r}")
    if int(n_frontier) < 2:
        raise ScenarioError("n_frontier: need at least 2 points")
    for p in players:
        world.index(p)

    game = _Game(world, players, groups, closure)
    w = game.world
    defaults = policy_defaults() if _facts() else None
    sec = np.zeros(2)
    if security_value_usd is None:
        if players == ("USA", "JPN") and defaults is not None:
            sec[1] = float(defaults.filter(defaults["name"] == "security_value_usd[JPN]")["value"][0])
    else:
        for k, v in dict(security_value_usd).items():
            if k not in players:
                raise ScenarioError(f"security_value_usd: {k!r} is not a player")
            if not np.isfinite(float(v)):
                raise ScenarioError(f"security_value_usd[{k}]: not finite")
            sec[players.index(k)] = float(v)

    # ---- disagreement point
    if isinstance(disagreement, str):
        if disagreement == "nash":
            x_d, ev_d, _ = bilateral_war(game, (lo_t, hi_t))
            d_point = Point("bilateral Nash tariff war", game.tariffs(x_d), 0.0, ev_d, x_d)
        elif disagreement == "threat":
            eq = game.solve(threat_2025(w, *players))
            d_point = Point("April 2025 US tariffs, no retaliation", np.asarray(eq.tariffs), 0.0, game.ev_of(eq))
        else:
            raise ScenarioError(f"disagreement must be 'nash', 'threat' or a tariff array, got {disagreement!r}")
        kind = disagreement
    else:
        arr = getattr(disagreement, "tariff_rate", disagreement)      # an array, a ThreatPoint, a Nash result
        eq = game.solve(np.asarray(arr, dtype=float))
        d_point = Point(getattr(disagreement, "label", "given threat"), np.asarray(eq.tariffs), 0.0, game.ev_of(eq))
        kind = "threat point" if isinstance(disagreement, ThreatPoint) else "given"
    d = d_point.ev_usd - sec
    game.curvature.clear()      # the war's Newton left second derivatives at the war point; the frontier lies elsewhere

    # ---- instruments in play
    free = np.r_[[(("home_tariffs" in inst) if o == 0 else ("partner_tariffs" in inst)) for o in game.owner],
                 hi_T > lo_T]
    if not free.any():
        raise ScenarioError("instruments: nothing to bargain over (no tariff group and a fixed transfer)")
    sc = _Scaled(game, (lo_t, hi_t), (lo_T, hi_T), free)
    x_sq = game.start()
    x_sq[-1] = float(np.clip(0.0, lo_T, hi_T))

    # ---- frontier: individually rational part, by the epsilon-constraint method
    # (SLSQP from the status quo for the first end; the rest by continuation along the frontier, see .frontier)
    top = _frontier_point(game, sc, x_sq, d[0], 0, what="frontier (partner's best)")    # max EV partner, home >= d
    rgt = _frontier_point(game, sc, top.x, d[1], 1, what="frontier (home's best)")    # max EV home, partner >= d
    e_top, e_rgt = top.ev, rgt.ev
    if e_top[1] < d[1] - 1e-6 * EV_SCALE or e_rgt[0] < d[0]:
        raise TariffsimError(f"bargain: no agreement in the instrument set beats disagreement for both {players[0]} and {players[1]}")
    targets = np.linspace(d[0], e_rgt[0], int(n_frontier))
    points = [top]
    for u in targets[1:-1]:
        points.append(_frontier_point(game, sc, points[-1].x, u, 0, what=f"frontier at EV {players[0]} = {u:,.0f}"))
    points.append(replace(rgt, lam=1.0 / rgt.lam))        # its multiplier in the home-constrained form: slope -lam
    fx, fe = np.array([q.x for q in points]), np.array([q.ev for q in points])

    # ---- Nash bargaining solution: start from the frontier point where the Nash product peaks
    # (regula falsi on its derivative along the frontier), refine with exact gradients
    gains = fe - d
    ok = (gains > 0).all(axis=1)
    if not ok.any():
        raise TariffsimError("bargain: the bargaining set is a single point (no strict gain over disagreement for both)")
    x0 = _nbs_start(game, sc, points, d, float(beta), players)
    wts = np.array([beta, 1 - beta])

    def nbs_fun(z):
        x = sc.x(z, x0)
        e, j = game.evaluate(x)
        g = e - d
        if not np.isfinite(e).all() or (g <= 0).any():
            return np.nan, np.zeros_like(z)
        val = -(wts @ np.log(g))
        grad = -((wts / g) @ j)[free] / sc.scale[free]
        return val, grad

    z, _, _, pgn = _lbfgsb(nbs_fun, sc.z(x0), sc.bounds(x0), "Nash bargaining solution", gtol=1e-12)
    x_nbs = sc.x(z, x0)
    e_nbs, _ = game.evaluate(x_nbs)
    corner = tuple(lab for lab, v, lo, hi, f in zip(
        [f"{i}<-{e} {g}" for i, e, g in game.labels] + ["transfer"], x_nbs, sc.lo, sc.hi, free)
        if f and (v <= lo + 1e-6 * max(1, abs(lo)) or v >= hi - 1e-6 * max(1, abs(hi))))
    if "transfer" in corner:
        warnings.warn("bargain: the transfer at the Nash bargaining solution sits at a bound of transfer_bounds",
                      CornerSolutionWarning, stacklevel=2)
    # efficiency check: with home held at its NBS value, how much more could the partner get?
    _, e_chk = _eps_constraint(game, sc, x_nbs, e_nbs[0], 0, what="frontier check at the NBS")
    gap = float(max(e_chk[1] - e_nbs[1], 0.0))
    eq_nbs = game.solve(game.tariffs(x_nbs), x_nbs[-1])   # independent re-solve via the public solver
    nbs = Point("Nash bargaining solution", np.asarray(eq_nbs.tariffs), float(x_nbs[-1]), game.ev_of(eq_nbs), x_nbs,
                meta={"welfare_hat": np.asarray(eq_nbs.welfare_hat), "projected_gradient": pgn})

    # ---- the deal
    dpos = None
    if deal is not None:
        dl = deal_2025(w) if isinstance(deal, str) and deal == "2025" else deal
        if not isinstance(dl, Deal):
            raise ScenarioError(f"deal must be '2025', a Deal or None, got {deal!r}")
        over = {}
        if pledge_usd is not None:
            over["pledge_usd"] = float(pledge_usd)
        if grant_share is not None:
            over["grant_share"] = float(grant_share)
        if purchases_usd is not None:
            over["purchases_usd"] = {k: (tuple(s), float(v)) for k, (s, v) in dict(purchases_usd).items()}
        dl = replace(dl, **over)
        dpos = locate_deal(game, sc, dl, d, fx, fe, e_nbs)

    labels = tuple(f"{i}<-{e} {g}" for i, e, g in game.labels) + ("transfer_usd_mn",)
    return BargainResult(
        players=players, beta=float(beta), closure=closure, instruments=inst, labels=labels,
        bounds={"tariffs": (lo_t, hi_t), "transfer": (lo_T, hi_T)}, disagreement=d_point, disagreement_kind=kind,
        security_value_usd=sec, threat_values_usd=d, nbs=nbs, nbs_frontier_gap_usd=gap, nbs_corner=corner,
        frontier_ev_usd=fe, frontier_parameters=fx, deal=dpos, defaults=defaults, evaluations=game.n_eval,
        seconds=time.perf_counter() - t_start)



def _nash_slope(p, d: np.ndarray, beta: float) -> float:
    """Derivative of the Nash product's log along the frontier at point ``p`` (in home's EV; frontier slope ``-p.lam``)."""
    g = p.ev - d
    return beta / g[0] - (1.0 - beta) * p.lam / g[1]


def _nbs_start(game: _Game, sc: _Scaled, points: list, d: np.ndarray, beta: float, players, max_iter: int = 8) -> np.ndarray:
    """The frontier point where ``beta log(EV_home - d_home) + (1 - beta) log(EV_partner - d_partner)`` peaks.

    Regula falsi (Illinois) on the Nash product's derivative along the frontier
    (:func:`_nash_slope`), bracketed by the traced points, each trial point a frontier solve
    continued from the nearest traced one. Falls back on the best traced point when no
    bracket exists (a multiplier is missing or the sign never changes). This is only the NBS
    solver's start: the NBS itself is the L-BFGS-B optimum over all instruments.
    """
    gains = np.array([q.ev for q in points]) - d
    ok = (gains > 0).all(axis=1)
    nash = np.where(ok, beta * np.log(np.where(ok, gains[:, 0], 1)) + (1 - beta) * np.log(np.where(ok, gains[:, 1], 1)), -np.inf)
    best = int(np.argmax(nash))
    slopes = np.array([_nash_slope(q, d, beta) if o and np.isfinite(q.lam) else np.nan for q, o in zip(points, ok)])
    lo = next((k for k in range(len(points) - 1) if slopes[k] > 0 and slopes[k + 1] < 0), None)
    if lo is None:
        return points[best].x
    a, b = points[lo], points[lo + 1]
    fa, fb = slopes[lo], slopes[lo + 1]
    side, f_scale, p = 0, max(abs(fa), abs(fb)), points[best]
    for _ in range(max_iter):
        u = a.ev[0] - fa * (b.ev[0] - a.ev[0]) / (fb - fa)
        near = a if abs(u - a.ev[0]) <= abs(u - b.ev[0]) else b
        try:
            p = _frontier_point(game, sc, near.x, u, 0, what=f"frontier at EV {players[0]} = {u:,.0f} (NBS start)")
        except ConvergenceError:        # only the start: L-BFGS-B goes on from the best point found so far
            return p.x
        f = _nash_slope(p, d, beta) if np.isfinite(p.lam) else np.nan
        if not np.isfinite(f) or abs(f) <= 1e-10 * f_scale:
            return p.x
        if f > 0:
            a, fa = p, f
            fb = fb / 2 if side == 1 else fb
            side = 1
        else:
            b, fb = p, f
            fa = fa / 2 if side == -1 else fa
            side = -1
        if b.ev[0] - a.ev[0] <= 1e-9 * max(1.0, abs(u)):
            return p.x
    return p.x


__all__ = ["bargain", "BargainResult", "Deal", "DealPosition", "Point", "deal_2025", "threat_2025", "policy_defaults",
           "default_groups", "goods_sectors", "bilateral_war", "fact"]
