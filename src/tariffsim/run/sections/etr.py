"""Section: the import-weighted US tariff rate on the partner and on all partners at each timeline date."""

from __future__ import annotations

import polars as pl

from ... import api
from ..context import RunContext
from ..result import FigureSpec, SectionResult, TableView


def etr_section(ctx: RunContext) -> SectionResult:
    """ETR on the partner and on all partners at each timeline date (policy layer, 2024 import weights).

    One ``etr(schedule, dates, by="partner")`` call per schedule; the all-partner rate is the
    import-weighted mean of the partner rates (same 2024 weights).
    """
    pol = ctx.scenario.policy
    if not pol.timeline:
        return SectionResult.skipped("etr", "", "The scenario has no policy timeline.")
    by_sched: dict[str, list[int]] = {}
    for k, e in enumerate(pol.timeline):
        by_sched.setdefault(e.schedule, []).append(k)
    rates: dict[int, tuple[float, float]] = {}
    for name, idx in by_sched.items():
        sch = ctx.schedule(name, ("policy", "timeline", idx[0], "schedule"))
        dates = [pol.timeline[k].date for k in idx]
        t = api.etr(sch, dates, by="partner")
        agg = (t.group_by("date").agg(((pl.col("etr") * pl.col("value_usd")).sum() / pl.col("value_usd").sum()).alias("all"),
                                      pl.col("etr").filter(pl.col("partner") == pol.partner).first().alias("partner")))
        got = {r["date"]: (r["partner"], r["all"]) for r in agg.to_dicts()}
        for k in idx:
            p, al = got.get(pol.timeline[k].date, (None, None))
            rates[k] = (float("nan") if p is None else float(p), float("nan") if al is None else float(al))
    rows = [{"date": e.date, "label": e.label or e.schedule, "schedule": e.schedule,
             "etr_partner_pct": 100 * rates[k][0], "etr_all_pct": 100 * rates[k][1]} for k, e in enumerate(pol.timeline)]
    df = pl.DataFrame(rows)
    last = rows[-1]
    return SectionResult(
        "etr", "",
        figures=[FigureSpec("fig-etr-timeline", "ETR timeline", "etr_timeline", df, {"partner": pol.partner},
                            f"Import-weighted (2024 import values, pre-substitution) US tariff rate on {pol.partner} "
                            "and on all partners.")],
        tables={"etr_timeline": df},
        views=[TableView(df.with_columns(pl.col("date").cast(pl.Utf8)), digits=1)],
        data={"partner": pol.partner, "latest": {"date": last["date"], "etr_partner_pct": last["etr_partner_pct"],
                                                  "etr_all_pct": last["etr_all_pct"]}})
