"""Section: product-level PE, US imports by HS10 and partner under a schedule; the partner's largest changes."""

from __future__ import annotations

import warnings

import polars as pl

from ... import api
from ...errors import ImplausibleResultWarning, TariffsimError
from ..context import RunContext
from ..result import FigureSpec, SectionResult, TableView
from .common import bilateral_row, fmt_bn


def products_section(ctx: RunContext) -> SectionResult:
    """``tariffsim.pe.simulate_schedule`` for the scenario's schedule and date against its baseline.

    Cells that break the PE plausibility rule (``PEResult.plausibility``: growth > 10x, or a
    move against the whole product market) are listed under a warning and left out of the
    chart and the top table. The PE headline (imports from the partner) sits beside the GE
    change for the counterfactual built from the same schedule, with the sentence of
    ``pe.explain_pe_vs_ge``.
    """
    spec = ctx.scenario.model.pe
    if not spec.enabled:
        return SectionResult.skipped("products", "", "Product-level PE is switched off in the scenario.")
    base = ctx.scenario.policy.baseline or "baseline-2024"
    try:
        res = api.pe.simulate_schedule(spec.schedule, spec.date, base=base, base_date=ctx.scenario.policy.baseline_date)
    except TariffsimError as exc:
        raise ctx.scenario.error(("model", "pe", "schedule"), str(exc)) from None
    flagged = res.plausibility()
    bad = flagged.filter(pl.col("source") == spec.partner)
    t = res.table.filter(pl.col("source") == spec.partner).join(bad.select("product"), on="product", how="anti")
    by = (t.group_by("product").agg(pl.col("value_usd").sum(), pl.col("value_usd_new").sum(),
                                     pl.col("tariff_old").first(), pl.col("tariff_new").first())
           .with_columns(change_usd_mn=(pl.col("value_usd_new") - pl.col("value_usd")) / 1e6,
                         change_pct=100 * (pl.col("value_usd_new") / pl.col("value_usd") - 1))
           .sort(pl.col("change_usd_mn").abs(), descending=True)
           .rename({"product": "hs10"}))
    desc = _descriptions()
    by = by.join(desc, on="hs10", how="left")
    by = by.with_columns(pl.col("description").fill_null(""),
                         (100 * pl.col("tariff_old")).alias("tariff_old_pct"), (100 * pl.col("tariff_new")).alias("tariff_new_pct"))
    top = by.head(spec.top).select("hs10", "description", "tariff_old_pct", "tariff_new_pct",
                                   (pl.col("value_usd") / 1e6).alias("imports_2024_usd_mn"), "change_usd_mn", "change_pct")
    by_source = res.summary("source").with_columns((pl.col("value_usd") / 1e9).alias("imports_usd_bn"),
                                                   ((pl.col("value_usd_new") - pl.col("value_usd")) / 1e9).alias("change_usd_bn"))
    tot = res.totals()
    head = res.partner_imports_change(spec.partner)
    ge = _ge_partner_change(ctx, spec)
    data = {"schedule": spec.schedule, "date": spec.date, "partner": spec.partner,
            "imports_total_change_usd_bn": (tot["value_usd_new"] - tot["value_usd"]) / 1e9,
            "partner_imports_2024_usd_bn": head.value_usd_old / 1e9,
            "partner_imports_change_usd_bn": head.change_usd / 1e9,
            "partner_imports_change_pct": head.change_pct,
            "tariff_revenue_new_usd_bn": tot["tariff_revenue_new"] / 1e9,
            "deadweight_loss_usd_bn": tot["deadweight_loss_usd"] / 1e9,
            "flagged_cells": flagged.height, "flagged_partner_cells": bad.height,
            "growth_limit": api.pe.GROWTH_LIMIT, "share_limit": api.pe.SHARE_LIMIT,
            "top_max_abs_change_pct": float(top["change_pct"].abs().max()) if top.height else None}
    views = [TableView(_human(top), digits=1, max_rows=spec.top)]
    tables = {"pe_top_products": top,
              "pe_by_partner": by_source.drop([c for c in by_source.columns if by_source[c].dtype == pl.Null]),
              "pe_flagged": flagged}
    note = (f"Schedule {spec.schedule!r} on {spec.date.isoformat()} against {base}, 2024 US imports by HS10 (Census): "
            f"US imports from {spec.partner} {head.change_pct:+.1f}% ({fmt_bn(head.change_usd / 1e9)} per year), all US "
            f"imports {fmt_bn(data['imports_total_change_usd_bn'])} per year; tariff revenue "
            f"{tot['tariff_revenue_new'] / 1e9:,.1f} USD bn per year.")
    if ge is not None:
        data.update(ge_counterfactual=ge["counterfactual"], ge_partner_imports_change_pct=ge["pct"],
                    pe_vs_ge=api.pe.explain_pe_vs_ge(head.change_pct, ge["pct"], partner=spec.partner))
        side = pl.DataFrame({"model": ["Product-level PE (2024 HS10 Census data)", f"GE, {ge['label']} (2017 world)"],
                             f"US imports from {spec.partner}, change (%)": [head.change_pct, ge["pct"]]})
        tables["pe_vs_ge"] = side
        views.insert(0, TableView(side, digits=1))
        note += " " + data["pe_vs_ge"]
    if bad.height:
        shown = bad.join(desc.rename({"hs10": "product"}), on="product", how="left").select(
            pl.col("product").alias("HS10"), pl.col("description").fill_null("").alias("description"),
            (pl.col("value_usd") / 1e6).alias("imports 2024 (USD mn per year)"),
            (pl.col("change_usd") / 1e6).alias("predicted change (USD mn per year)"),
            pl.col("growth").alias("growth factor"),
            pl.col("rule").replace_strict(_RULES, default=pl.col("rule")).alias("plausibility rule broken"))
        views.append(TableView(shown, digits=1, max_rows=20))
        warnings.warn(f"{bad.height} product cells from {spec.partner} ({flagged.height} from all partners) break the "
                        f"plausibility rule (imports more than {api.pe.GROWTH_LIMIT:g}x, or a move against the whole "
                        f"product market larger than the market's own change): listed in the last table, not charted.",
                      ImplausibleResultWarning, stacklevel=2)
    return SectionResult("products", "", note=note,
                        figures=[FigureSpec("fig-top-products", f"Top products: US imports from {spec.partner}", "top_products",
                                            top, {"partner": spec.partner, "n": spec.top},
                                            "Largest changes in US imports by HS10 product (exact CES partial equilibrium, "
                                            "2024 Census data; cells failing the plausibility check are not charted).")],
                        tables=tables, views=views, data=data)


def _ge_partner_change(ctx: RunContext, spec) -> dict | None:
    """GE change in US imports from the partner for the counterfactual built from the same schedule (and date)."""
    cands = [c for c in ctx.scenario.counterfactuals if c.schedule == spec.schedule and not c.measures and not c.base]
    if not cands or "USA" not in ctx.baseline.regions or spec.partner not in ctx.baseline.regions:
        return None
    cf = next((c for c in cands if c.date == spec.date), cands[0])
    row = bilateral_row(ctx.counterfactual(cf.name), ctx.baseline, "USA", spec.partner)
    return {"counterfactual": cf.name, "label": cf.label or cf.name, "pct": row[f"USA_imports_from_{spec.partner}_change_pct"]}


_RULES = {"growth": "grows more than tenfold", "exceeds_market": "moves against its whole product market",
          "growth+exceeds_market": "both"}


def _human(top: pl.DataFrame) -> pl.DataFrame:
    return top.rename({"hs10": "HS10", "tariff_old_pct": "tariff before (%)", "tariff_new_pct": "tariff after (%)",
                       "imports_2024_usd_mn": "imports 2024 (USD mn per year)", "change_usd_mn": "change (USD mn per year)",
                       "change_pct": "change (%)"})


def _descriptions() -> pl.DataFrame:
    """HS10 descriptions of the bundled 2024 US import table (``hs10, description``)."""
    return api.read_table("us_imports_japan_2024_hs10", "hs10_descriptions").select("hs10", "description")
