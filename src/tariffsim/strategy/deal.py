"""A negotiated deal: its terms, its equilibrium, and where it sits relative to the Pareto frontier.

A :class:`Deal` (default: the 2025 US-Japan agreement, :func:`deal_2025`) is the all-in
US tariff floor (EO 14345: ``max(MFN, 15%)``), the investment pledge as a transfer
equivalent (``pledge x grant_share`` a year), and purchase commitments as the demand shift
that reaches the pledged value (modelled as the partner's import-subsidy equivalent on the
committed goods, the shadow price of a quantity commitment, financed by the partner's
government). :func:`deal_outcome` solves its equilibrium; :func:`locate_deal` measures
its gaps to the frontier (exact epsilon-constraint solves at its EVs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
from scipy.optimize import root

from ..errors import ConvergenceError, DataError
from ..models.ge import Equilibrium
from ..world import World
from .facts import _default_values
from .frontier import _dist_to_polyline, _eps_constraint
from .game import Point, _Game, _Scaled
from .sector_groups import default_purchase_sectors, goods_sectors


@dataclass(frozen=True, eq=False)
class Deal:
    """A negotiated package between the two players (home = first player, partner = second).

    ``home_tariff_floor``: the home country's all-in tariff on the partner's goods,
    ``max(current, floor)`` (EO 14345's rule); ``tariffs``: a full (exporter, importer,
    sector) array instead. ``transfer_usd``: extra lump-sum transfer partner -> home, USD
    mn/yr. The pledge enters as ``pledge_usd x grant_share`` USD mn/yr. ``purchases_usd``:
    {label: (sector codes, USD mn/yr)}: the partner's imports from home in those sectors
    rise by that amount over the status quo (reached by an import-subsidy equivalent).
    """

    name: str = "custom deal"
    home_tariff_floor: float | None = None
    tariffs: np.ndarray | None = None
    transfer_usd: float = 0.0
    pledge_usd: float = 0.0
    grant_share: float = 0.0
    purchases_usd: Mapping[str, tuple[tuple[str, ...], float]] = field(default_factory=dict)

    @property
    def transfer_equivalent_usd(self) -> float:
        """Transfer partner -> home, USD mn/yr: extra transfer + pledge x grant share."""
        return float(self.transfer_usd + self.pledge_usd * self.grant_share)


def deal_2025(world: World) -> Deal:
    """The 2025 US-Japan agreement (EO 14345; White House fact sheet) on ``world``'s sectors, from the bundled facts:
    15% all-in US tariff floor on Japanese goods (autos included), the USD 550bn pledge at the default grant
    share, USD 8bn/yr farm and other purchases and USD 3bn/yr more defence purchases (as additions)."""
    d = {r["name"]: r["value"] for r in _default_values()}
    sec = default_purchase_sectors(world)
    return Deal(
        name="2025 US-Japan agreement", home_tariff_floor=d["deal_tariff_floor"], pledge_usd=d["pledge_usd"],
        grant_share=d["grant_share"],
        purchases_usd={"agriculture, food, chemicals": (sec["agriculture, food, chemicals"],
                                                        d["purchases_usd[agriculture, food, chemicals]"]),
                       "other transport (defence)": (sec["other transport (defence)"],
                                                     d["purchases_usd[other transport (defence)]"])})



@dataclass(frozen=True, eq=False)
class DealPosition:
    """Where a deal sits relative to the frontier (all money in USD mn/yr).

    ``gap_partner_usd``: how much more the partner could get on the frontier with the home
    country at the deal's EV (vertical distance); ``gap_home_usd`` the same for home
    (horizontal); ``distance_usd``: Euclidean distance to the traced frontier;
    ``home_share_of_surplus``: home's share of the deal's gains over disagreement (NaN unless both gain);
    ``efficiency``: the deal's total gain over disagreement / the NBS's.
    """

    deal: Deal
    point: Point
    gap_partner_usd: float
    gap_home_usd: float
    distance_usd: float
    home_share_of_surplus: float
    efficiency: float
    individually_rational: tuple[bool, bool]
    purchase_wedges: Mapping[str, float]


def deal_outcome(game: _Game, deal: Deal) -> tuple[Equilibrium, dict[str, float]]:
    """Equilibrium of a deal: tariffs (floor or array), transfer equivalent, and the purchase wedges
    ``sigma_k`` (partner's tariff factor ``(1 + t)(1 - sigma_k)`` on home's goods in the committed
    sectors) that raise the partner's imports from home there by the committed amounts."""
    w = game.world
    if deal.tariffs is not None:
        t = np.array(deal.tariffs, dtype=float)
        if t.shape != w.flows.shape:
            raise DataError(f"deal.tariffs: expected shape {w.flows.shape}, got {t.shape}")
    else:
        t = np.array(w.tariffs, dtype=float)
        if deal.home_tariff_floor is not None:
            for s in goods_sectors(w):
                k = w.sectors.index(s)
                t[game.b, game.a, k] = max(t[game.b, game.a, k], float(deal.home_tariff_floor))
    T = deal.transfer_equivalent_usd
    items = [(lab, w.sector_index(list(secs)), float(v)) for lab, (secs, v) in dict(deal.purchases_usd).items() if float(v) != 0]
    if not items:
        return game.solve(t, T), {}
    f0 = np.asarray(w.flows)[game.a, game.b]
    targets = np.array([f0[s].sum() + v for _, s, v in items])
    if (targets <= 0).any():
        raise DataError("deal.purchases_usd: a commitment would push imports below zero")

    def tariffs_with(sig):
        tt = t.copy()
        for (_, s, _), sg in zip(items, sig):
            tt[game.a, game.b, s] = (1.0 + t[game.a, game.b, s]) * (1.0 - sg) - 1.0
        return tt

    def resid(sig):
        if (np.asarray(sig) >= 0.95).any():
            return np.full(len(items), 1e3)
        eq = game.solve(tariffs_with(sig), T)
        fl = np.asarray(eq.flows)[game.a, game.b]
        return np.array([fl[s].sum() for _, s, _ in items]) / targets - 1.0

    sol = root(resid, np.zeros(len(items)), method="hybr", options={"xtol": 1e-12})
    # the residual decides, not hybr's flag: at xtol 1e-12 hybr can report "not making good progress"
    # at a root whose residual is at rounding level (the equilibrium itself is solved to ~1e-12)
    if np.max(np.abs(resid(sol.x))) > 1e-8:
        raise ConvergenceError(f"deal {deal.name!r}: no import-subsidy equivalent reaches the purchase commitments ({sol.message})")
    return game.solve(tariffs_with(sol.x), T), {lab: float(sg) for (lab, _, _), sg in zip(items, sol.x)}


def locate_deal(game: _Game, sc: _Scaled, deal: Deal, d: np.ndarray, fx: np.ndarray, fe: np.ndarray,
                e_nbs: np.ndarray) -> DealPosition:
    """Evaluate ``deal`` and measure its distance to the frontier (exact epsilon-constraint solves at its EVs)."""
    eq, wedges = deal_outcome(game, deal)
    e = game.ev_of(eq)
    # vertical gap: max partner EV with home >= deal's home EV (start from the nearest frontier point)
    k = int(np.argmin(np.abs(fe[:, 0] - e[0])))
    _, e_v = _eps_constraint(game, sc, fx[k], e[0], 0, what=f"frontier at the deal ({deal.name})")
    k = int(np.argmin(np.abs(fe[:, 1] - e[1])))
    _, e_h = _eps_constraint(game, sc, fx[k], e[1], 1, what=f"frontier at the deal ({deal.name})")
    pts = np.vstack([e_v, fe, e_h])
    pts = pts[np.argsort(pts[:, 0])]
    g = e - d
    tot = g.sum()
    return DealPosition(
        deal=deal, point=Point(deal.name, np.asarray(eq.tariffs), deal.transfer_equivalent_usd, e,
                               meta={"welfare_hat": np.asarray(eq.welfare_hat)}),
        gap_partner_usd=float(e_v[1] - e[1]), gap_home_usd=float(e_h[0] - e[0]),
        distance_usd=_dist_to_polyline(e, pts), home_share_of_surplus=float(g[0] / tot) if (g > 0).all() else float("nan"),
        efficiency=float(tot / (e_nbs - d).sum()), individually_rational=(bool(g[0] >= 0), bool(g[1] >= 0)),
        purchase_wedges=wedges)

__all__ = ["Deal", "DealPosition", "deal_2025", "deal_outcome", "locate_deal"]
