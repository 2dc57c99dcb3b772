"""Section: the one-screen summary, headline numbers taken from the other sections (computed last, shown first)."""

from __future__ import annotations

from typing import Any

import polars as pl

from .. import quantities as Q
from ..context import RunContext
from ..result import SectionResult, TableView
from .common import BN, iso, partner_pair


def summary_section(ctx: RunContext) -> SectionResult:
    """Rows (label, value) from the ETR, GE, fairness and bargaining sections; no number is recomputed here."""
    rows: list[dict[str, Any]] = []
    a, b = partner_pair(ctx)
    etr = ctx.results.get("etr")
    if etr is not None and etr.status == "ok":
        lt = etr.data["latest"]
        rows.append({"label": f"US effective tariff on {etr.data['partner']} ({iso(lt['date'])})", "value": f"{lt['etr_partner_pct']:.1f}%"})
        rows.append({"label": f"US effective tariff, all imports ({iso(lt['date'])})", "value": f"{lt['etr_all_pct']:.1f}%"})
    qs: list[Q.Quantity] = []
    ia, ib = ctx.baseline.index(a), ctx.baseline.index(b)
    for s in ctx.solved.values():
        if s.kind != "counterfactual":
            w, ev = s.eq.welfare_hat, s.eq.ev_usd / BN
            ta, tb = (Q.Quantity("", float(ev[k]), "USD bn per year", "", "").text() for k in (ia, ib))
            rows.append({"label": f"{s.label}: welfare {a} / {b} (EV, change vs baseline, {Q.ge_world(ctx)})",
                         "value": f"{100 * (w[ia] - 1):+.3f}% ({ta}) / {100 * (w[ib] - 1):+.3f}% ({tb})"})
            continue
        qa, qb = Q.counterfactual_ev(ctx, s.name, a), Q.counterfactual_ev(ctx, s.name, b)
        qs += [qa, qb]
        w = s.eq.welfare_hat
        rows.append({"label": f"{s.label}: welfare {a} / {b} (EV, change vs baseline, {Q.ge_world(ctx)})",
                     "value": f"{100 * (w[ia] - 1):+.3f}% ({qa.text()}) / {100 * (w[ib] - 1):+.3f}% ({qb.text()})"})
    # the same functions the sections use, so each figure has one value (and its basis in the label)
    others: list[Q.Quantity] = []
    if a == "USA":
        try:
            others += [Q.deficit_census_2024(a, b), Q.ustr_rate(a, b)]
        except KeyError:                       # a partner the USTR table does not list
            pass
    others.append(Q.deficit_ge_baseline(ctx, a, b))
    fair = ctx.results.get("fairness")
    bal = Q.balancing_tariff(ctx) if fair is not None and fair.status == "ok" else None
    if bal is not None:
        others += [bal[0], bal[1], bal[2]]
    rows += [{"label": q.label, "value": q.text()} for q in others]
    qs += others
    prod = ctx.results.get("products")
    if prod is not None and prod.status == "ok":
        d = prod.data
        rows.append({"label": f"US imports from {d['partner']}, change: product-level PE (2024 HS10 Census) / GE "
                              f"({Q.GE_WORLD})",
                     "value": f"{d['partner_imports_change_pct']:+.1f}% / "
                              + (f"{d['ge_partner_imports_change_pct']:+.1f}%" if "ge_partner_imports_change_pct" in d else "n/a")})
    bar = ctx.results.get("bargain")
    if bar is not None and bar.status == "ok":
        pts = {p["kind"]: p for p in bar.data.get("points", [])}
        if "nash_bargaining" in pts:
            p = pts["nash_bargaining"]
            ta, tb = (Q.Quantity("", float(v), "USD bn per year", "", "").text() for v in (p["x"], p["y"]))
            rows.append({"label": f"Nash bargaining solution: EV {a} / {b} (change vs baseline, {Q.GE_WORLD})",
                         "value": f"{ta} / {tb}"})
        if "headline" in bar.data:
            rows.append({"label": "Deal vs Pareto frontier", "value": bar.data["headline"]})
    deal = ctx.results.get("deal")
    if deal is not None and deal.status == "ok":
        for d, line in zip(deal.data["dates"], deal.data["lines"]):
            rows.append({"label": f"Does the deal hold on {d}? (participation margins, GE)", "value": line})
    df = pl.DataFrame(rows, schema={"label": pl.Utf8, "value": pl.Utf8})
    return SectionResult("summary", "", tables={"summary": df}, data={"rows": rows, "quantities": Q.quantities_data(*qs)},
                         views=[TableView(df)],
                         note=ctx.baseline_note)
