"""Section: Nash bargaining over tariffs and a transfer; the Pareto frontier in (EV_a, EV_b) and where the deal sits."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import polars as pl

from ... import api
from ...errors import CornerSolutionWarning
from ..context import RunContext
from ..result import FigureSpec, SectionResult, TableView
from .common import BN, num


def bargain_section(ctx: RunContext) -> SectionResult:
    """``tariffsim.bargain`` for the scenario's first bargaining task; frontier, disagreement, NBS, deal."""
    tasks = ctx.scenario.strategy.bargain
    if not tasks:
        return SectionResult.skipped("bargain", "", "The scenario has no bargaining task.")
    k, task = 0, tasks[0]
    loc = ("strategy", "bargain", k)
    a, b = task.players
    ia, ib = ctx.baseline.index(a), ctx.baseline.index(b)
    if task.disagreement in ("nash", "threat"):
        threat: Any = task.disagreement
    else:
        threat = ctx.counterfactual(task.disagreement).tariffs
    deal = ctx.counterfactual(task.deal) if task.deal else None
    kw = dict(task.options)
    kw.setdefault("closure", ctx.scenario.model.ge.closure)
    kw.setdefault("n_frontier", task.frontier_points)
    if task.security_value_usd_bn is not None:
        kw.setdefault("security_value_usd", {p: BN * v for p, v in task.security_value_usd_bn.items()})
    kw.setdefault("deal", None if deal is None else
                  api.Deal(name=deal.label, tariffs=deal.tariffs, transfer_usd=BN * deal.transfer_usd_bn))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CornerSolutionWarning)
        try:
            res = api.bargain(ctx.baseline, players=(a, b), beta=task.beta, disagreement=threat, **kw)
        except TypeError as exc:   # an unknown key in the scenario's free-form bargain options
            raise ctx.scenario.error((*loc, "options"), f"tariffsim.bargain: {exc}") from None
    front = res.frontier()
    points = []
    d_ev = np.asarray(res.disagreement.ev_usd) / BN
    points.append({"label": f"disagreement ({res.disagreement_kind})", "kind": "disagreement", "x": float(d_ev[0]), "y": float(d_ev[1])})
    nb = np.asarray(res.nbs.ev_usd) / BN
    points.append({"label": f"Nash bargaining (beta={task.beta:g})", "kind": "nash_bargaining", "x": float(nb[0]), "y": float(nb[1])})
    if res.deal is not None:
        dv = np.asarray(res.deal.point.ev_usd) / BN
        points.append({"label": res.deal.deal.name, "kind": "deal", "x": float(dv[0]), "y": float(dv[1])})
    for s in ctx.solved.values():   # the report's other outcomes, for reference
        if s.kind == "counterfactual" and deal is not None and s.name == deal.name and res.deal is not None:
            continue
        ev = s.eq.ev_usd / BN
        points.append({"label": s.label, "kind": s.kind, "x": float(ev[ia]), "y": float(ev[ib])})
    pts = pl.DataFrame(points)
    data: dict[str, Any] = {"players": [a, b], "beta": task.beta, "points": points,
                            "nbs_transfer_usd_bn": float(res.nbs.transfer_usd) / BN,
                            "security_value_usd_bn": (np.asarray(res.security_value_usd) / BN).tolist()}
    note = (f"Disagreement: {res.disagreement_kind}; security value lost at disagreement {a} "
            f"{res.security_value_usd[0] / BN:,.1f}, {b} {res.security_value_usd[1] / BN:,.1f} USD bn/yr. "
            f"Nash bargaining solution: transfer {b} to {a} {res.nbs.transfer_usd / BN:,.1f} USD bn/yr.")
    if res.deal is not None:
        dp = res.deal
        data["deal_position"] = {"gap_partner_usd_bn": dp.gap_partner_usd / BN, "distance_usd_bn": dp.distance_usd / BN,
                                 "home_share_of_surplus": dp.home_share_of_surplus, "efficiency": dp.efficiency,
                                 "individually_rational": list(dp.individually_rational)}
        note += (f" The deal ({dp.deal.name}) gives {a} {dv[0]:+,.1f} and {b} {dv[1]:+,.1f} USD bn/yr; {b} could gain "
                 f"{dp.gap_partner_usd / BN:,.1f} USD bn/yr more on the frontier; {a}'s share of the surplus "
                 f"{num(dp.home_share_of_surplus)}, efficiency {num(dp.efficiency)}"
                 + ("" if all(dp.individually_rational) else
                    f"; not individually rational for {', '.join(p for p, ok in zip((a, b), dp.individually_rational) if not ok)}")
                 + ".")
        data["headline"] = (f"{b} could gain {dp.gap_partner_usd / BN:,.1f} USD bn/yr more on the frontier "
                            f"(efficiency {num(dp.efficiency)})")
    data.setdefault("headline", f"Nash bargaining: {a} {nb[0]:+,.1f}, {b} {nb[1]:+,.1f} USD bn/yr")
    tables = {"bargain_frontier": front, "bargain_points": pts, "bargain_summary": res.summary()}
    return SectionResult("bargain", "", note=note, tables=tables,
                         figures=[FigureSpec("fig-frontier", "Pareto frontier", "frontier", front,
                                             {"points": points, "players": (a, b)},
                                             f"Pareto frontier of equivalent variations (USD bn/yr) of {a} and {b}, the "
                                             "disagreement point, the Nash bargaining solution and the deal.")],
                         views=[TableView(pts, digits=2)], data=data)
