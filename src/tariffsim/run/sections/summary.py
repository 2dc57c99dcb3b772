"""Section: the one-screen summary, headline numbers taken from the other sections (computed last, shown first)."""

from __future__ import annotations

from typing import Any

import polars as pl

from ..context import RunContext
from ..result import SectionResult, TableView
from .common import BN, iso, money, partner_pair


def summary_section(ctx: RunContext) -> SectionResult:
    """Rows (label, value) from the ETR, GE, fairness and bargaining sections; no number is recomputed here."""
    rows: list[dict[str, Any]] = []
    a, b = partner_pair(ctx)
    etr = ctx.results.get("etr")
    if etr is not None and etr.status == "ok":
        lt = etr.data["latest"]
        rows.append({"label": f"US effective tariff on {etr.data['partner']} ({iso(lt['date'])})", "value": f"{lt['etr_partner_pct']:.1f}%"})
        rows.append({"label": f"US effective tariff, all imports ({iso(lt['date'])})", "value": f"{lt['etr_all_pct']:.1f}%"})
    ia, ib = ctx.baseline.index(a), ctx.baseline.index(b)
    for s in ctx.solved.values():
        w, ev = s.eq.welfare_hat, s.eq.ev_usd / BN
        rows.append({"label": f"{s.label}: welfare {a} / {b}",
                     "value": f"{100 * (w[ia] - 1):+.3f}% ({money(ev[ia])}) / {100 * (w[ib] - 1):+.3f}% ({money(ev[ib])})"})
    fair = ctx.results.get("fairness")
    if fair is not None and fair.status == "ok":
        for r in fair.data["rows"]:
            if r["measure"].startswith(("USTR formula", "GE balancing")):
                v = r[f"{a}_on_{b}_pct"]
                rows.append({"label": r["measure"], "value": "none" if v is None else f"{v:.1f}%"})
    bar = ctx.results.get("bargain")
    if bar is not None and bar.status == "ok":
        pts = {p["kind"]: p for p in bar.data.get("points", [])}
        if "nash_bargaining" in pts:
            p = pts["nash_bargaining"]
            rows.append({"label": f"Nash bargaining solution: EV {a} / {b}", "value": f"{money(p['x'])} / {money(p['y'])}"})
        if "headline" in bar.data:
            rows.append({"label": "Deal vs Pareto frontier", "value": bar.data["headline"]})
    df = pl.DataFrame(rows, schema={"label": pl.Utf8, "value": pl.Utf8})
    return SectionResult("summary", "", tables={"summary": df}, data={"rows": rows}, views=[TableView(df)],
                         note=ctx.baseline_note)
