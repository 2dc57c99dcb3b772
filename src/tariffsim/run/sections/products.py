"""Section: product-level PE, US imports by HS10 and partner under a schedule; the partner's largest changes."""

from __future__ import annotations

import polars as pl

from ... import api
from ...errors import TariffsimError
from ..context import RunContext
from ..result import FigureSpec, SectionResult, TableView
from .common import fmt_bn


def products_section(ctx: RunContext) -> SectionResult:
    """``tariffsim.pe.simulate_schedule`` for the scenario's schedule and date against its baseline."""
    spec = ctx.scenario.model.pe
    if not spec.enabled:
        return SectionResult.skipped("products", "", "Product-level PE is switched off in the scenario.")
    try:
        res = api.pe.simulate_schedule(spec.schedule, spec.date, base=ctx.scenario.policy.baseline or "baseline-2024",
                                       base_date=ctx.scenario.policy.baseline_date)
    except TariffsimError as exc:
        raise ctx.scenario.error(("model", "pe", "schedule"), str(exc)) from None
    t = res.table.filter(pl.col("source") == spec.partner)
    by = (t.group_by("product").agg(pl.col("value_usd").sum(), pl.col("value_usd_new").sum(),
                                     pl.col("tariff_old").first(), pl.col("tariff_new").first())
           .with_columns(change_usd_mn=(pl.col("value_usd_new") - pl.col("value_usd")) / 1e6,
                         change_pct=100 * (pl.col("value_usd_new") / pl.col("value_usd") - 1))
           .sort(pl.col("change_usd_mn").abs(), descending=True)
           .rename({"product": "hs10"}))
    by = by.join(_descriptions(), on="hs10", how="left")
    by = by.with_columns(pl.col("description").fill_null(""),
                         (100 * pl.col("tariff_old")).alias("tariff_old_pct"), (100 * pl.col("tariff_new")).alias("tariff_new_pct"))
    top = by.head(spec.top).select("hs10", "description", "tariff_old_pct", "tariff_new_pct",
                                   (pl.col("value_usd") / 1e6).alias("imports_2024_usd_mn"), "change_usd_mn", "change_pct")
    by_source = res.summary("source").with_columns((pl.col("value_usd") / 1e9).alias("imports_usd_bn"),
                                                   ((pl.col("value_usd_new") - pl.col("value_usd")) / 1e9).alias("change_usd_bn"))
    tot = res.totals()
    tp = by_source.filter(pl.col("source") == spec.partner)
    data = {"schedule": spec.schedule, "date": spec.date, "partner": spec.partner,
            "imports_total_change_usd_bn": (tot["value_usd_new"] - tot["value_usd"]) / 1e9,
            "partner_imports_change_usd_bn": float(tp["change_usd_bn"][0]) if tp.height else None,
            "tariff_revenue_new_usd_bn": tot["tariff_revenue_new"] / 1e9,
            "deadweight_loss_usd_bn": tot["deadweight_loss_usd"] / 1e9}
    note = (f"Schedule {spec.schedule!r} on {spec.date.isoformat()} against {ctx.scenario.policy.baseline or 'baseline-2024'}; "
            f"US imports from {spec.partner} change by {fmt_bn(data['partner_imports_change_usd_bn'])}, all US imports by "
            f"{fmt_bn(data['imports_total_change_usd_bn'])}; tariff revenue {fmt_bn(data['tariff_revenue_new_usd_bn'])}/yr.")
    return SectionResult("products", "", note=note,
                         figures=[FigureSpec("fig-top-products", "Top products", "top_products", top,
                                             {"partner": spec.partner, "n": spec.top},
                                             "Largest changes in US imports by HS10 product (exact CES partial equilibrium).")],
                         tables={"pe_top_products": top,
                                 "pe_by_partner": by_source.drop([c for c in by_source.columns if by_source[c].dtype == pl.Null])},
                         views=[TableView(top, digits=1, max_rows=spec.top)], data=data)


def _descriptions() -> pl.DataFrame:
    """HS10 descriptions of the bundled 2024 US import table (``hs10, description``)."""
    return api.read_table("us_imports_japan_2024_hs10", "hs10_descriptions").select("hs10", "description")
