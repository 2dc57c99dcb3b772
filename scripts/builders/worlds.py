"""GE world datasets: world_io_7x44_2017, caliendo_parro_1993, world_2023_aggregate.

Every world is written as the same tidy tables (docs/design.md §3):

- ``regions(code, name)``, ``sectors(code, name, tradable)``
- ``flows(exporter, importer, sector, value_usd_mn)`` pre-tariff, diagonal = domestic sales
- ``tariffs(exporter, importer, sector, tariff_rate, [other scenarios...])`` fractions
- ``theta(sector, theta)``
- ``value_added(country, sector, va_share)`` and ``io(country, input_sector, output_sector, io_share)``
  (only for worlds with input-output links)
- ``final_demand(country, sector, alpha)`` where the source ships final-demand shares
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .common import record, write_table

COLS = {
    "code": "region or sector code (ISO3 or aggregate; sector code as string)",
    "name": "human-readable name",
    "tradable": "sector is traded internationally (bool)",
    "exporter": "exporter code (ISO3 / aggregate)",
    "importer": "importer code (ISO3 / aggregate)",
    "sector": "sector code (string)",
    "country": "country code",
    "input_sector": "input (supplying) sector code",
    "output_sector": "output (using) sector code",
    "value_usd_mn": "value of goods before the importer's tariff, USD millions (current)",
    "tariff_rate": "ad valorem tariff levied by importer on exporter, fraction (0.24 = 24%)",
    "tariff_rate_2005": "2005 applied tariff, fraction",
    "tariff_rate_nafta_cf": "NAFTA counterfactual: 2005 tariffs among CAN/MEX/USA, 1993 elsewhere, fraction",
    "theta": "trade elasticity (dispersion of productivity), > 0",
    "psi": "scale elasticity from the source (unused by the CP model)",
    "va_share": "value-added share of gross output, (0, 1]",
    "io_share": "share of output sector's total cost spent on input sector, [0, 1)",
    "alpha": "final-demand expenditure share, sums to 1 per country",
    "partner": "partner ISO3 code",
    "rate_announced": "USTR rate announced 2 April 2025, fraction",
    "rate_used_in_model": "max(0.10, announced), 0 for USA, fraction (Ignatenko et al. 2025)",
    "gdp_usd": "GDP, current USD (WDI, latest year, mostly 2023)",
    "domestic_floored": "domestic sales floored because BACI exports exceed GDP (re-exports)",
}


def _s(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Utf8)


TABLE_ORDER = ("regions", "sectors", "flows", "tariffs", "theta", "value_added", "io", "final_demand", "tariff_scenarios")


def _in_order(t: dict) -> dict:
    """Manifest entries in the canonical table order."""
    return {k: t[k] for k in sorted(t, key=lambda k: TABLE_ORDER.index(k) if k in TABLE_ORDER else len(TABLE_ORDER))}


def _io_world_tables(d: Path, o: Path, *, theta_cols: tuple[str, ...], final_demand_file: str) -> dict:
    """The tables both IO calibrations ship in the same source layout: flows, theta,
    value_added, io (cost shares) and final_demand."""
    t = {}
    fl = pl.read_csv(d / "flows.csv").select("exporter", "importer", _s("sector").alias("sector"), "value_usd_mn")
    t["flows"] = write_table(fl, o, "flows", COLS)
    th = pl.read_csv(d / "elasticities.csv").select(_s("sector").alias("sector"), *theta_cols)
    t["theta"] = write_table(th, o, "theta", COLS)
    va = pl.read_csv(d / "value_added.csv").select("country", _s("sector").alias("sector"), "va_share")
    t["value_added"] = write_table(va, o, "value_added", COLS)
    io = pl.read_csv(d / "io.csv").select(
        "country", _s("input_sector").alias("input_sector"), _s("output_sector").alias("output_sector"),
        pl.col("cost_share").alias("io_share"))
    t["io"] = write_table(io, o, "io", COLS)
    fd = pl.read_csv(d / final_demand_file).select("country", _s("sector").alias("sector"), "alpha")
    t["final_demand"] = write_table(fd, o, "final_demand", COLS)
    return t


def _world_io_7x44(src: Path, out: Path) -> dict:
    d = src / "world_io_7x44_2017"
    o = out / "world_io_7x44_2017"
    t = {}
    reg = pl.read_csv(d / "regions.csv")
    t["regions"] = write_table(reg.select("code", "name"), o, "regions", COLS)
    sec = pl.read_csv(d / "sectors.csv").select(_s("code").alias("code"), pl.col("name_inferred").alias("name"), "tradable")
    t["sectors"] = write_table(sec, o, "sectors", COLS)
    t.update(_io_world_tables(d, o, theta_cols=("theta", "psi"), final_demand_file="final_demand_shares.csv"))
    ta = pl.read_csv(d / "tariffs.csv").select("exporter", "importer", _s("sector").alias("sector"), pl.col("tariff").alias("tariff_rate"))
    t["tariffs"] = write_table(ta, o, "tariffs", COLS)
    sc = pl.read_csv(d / "tariff_scenarios.csv").select(
        "scenario", "exporter", "importer", _s("sector").alias("sector"), pl.col("tariff_change").alias("tariff_change"))
    t["tariff_scenarios"] = write_table(sc, o, "tariff_scenarios", {
        **COLS, "scenario": "scenario name", "tariff_change": "tariff increment t' - t, fraction"})
    return record(
        "world_io_7x44_2017", title="World IO calibration: 7 regions x 44 sectors, 2017", kind="world", year="2017",
        source="ECON7115 (Zi Wang, HKBU) assignment W05 data, GitHub WangZi-HKBU/econ7115 commit 871d8b4",
        publisher="Zi Wang, Hong Kong Baptist University (teaching data; upstream source undocumented)",
        license="none stated", units="USD millions (current), fractions",
        citation="Wang, Z. (2026), ECON7115 Structural Models and Numerical Methods in Economics, W05 data.",
        notes=("Flows treated as pre-tariff (ICIO basic prices). Sector names inferred from OECD ICIO 2021 order. "
               "Final-demand shares shipped by the source; load_world re-solves the baseline with them so that the "
               "bundled world is an exact equilibrium (derived final demand is negative in 20 cells)."),
        tables=_in_order(t))


def _caliendo_parro(src: Path, out: Path) -> dict:
    d = src / "caliendo_parro_1993"
    o = out / "caliendo_parro_1993"
    t = {}
    reg = pl.read_csv(d / "regions.csv").select("code", "name")
    t["regions"] = write_table(reg, o, "regions", COLS)
    sec = pl.read_csv(d / "sectors.csv").select(_s("code").alias("code"), "name", "tradable")
    t["sectors"] = write_table(sec, o, "sectors", COLS)
    t.update(_io_world_tables(d, o, theta_cols=("theta",), final_demand_file="final_demand_shares_derived.csv"))
    ta = pl.read_csv(d / "tariffs.csv").select(
        "exporter", "importer", _s("sector").alias("sector"), pl.col("tariff").alias("tariff_rate"),
        pl.col("tariff_2005").alias("tariff_rate_2005"), pl.col("tariff_nafta_cf").alias("tariff_rate_nafta_cf"))
    t["tariffs"] = write_table(ta, o, "tariffs", COLS)
    return record(
        "caliendo_parro_1993", title="Caliendo-Parro (2015) NAFTA calibration: 31 countries x 40 sectors, 1993",
        kind="world", year="1993",
        source="Caliendo & Parro Data_and_Codes_CP (via GitHub powell001/Caliendo_Parro_2015_Python, commit 5973839)",
        publisher="Lorenzo Caliendo and Fernando Parro", license="none stated",
        units="USD millions (1993), fractions",
        citation=("Caliendo, L. and F. Parro (2015), Estimates of the Trade and Welfare Effects of NAFTA, "
                  "Review of Economic Studies 82(1): 1-44."),
        notes=("Diagonal = max(GO, exports) - exports as in script.m. Final-demand shares derived and clipped as in "
               "script.m. Replication: re-solve with zero deficits, then tariff_rate_nafta_cf."),
        tables=_in_order(t))


def _world_2023(src: Path, out: Path) -> dict:
    d = src / "world_2023_aggregate"
    o = out / "world_2023_aggregate"
    t = {}
    c = pl.read_csv(d / "countries.csv")
    t["regions"] = write_table(c.select(pl.col("iso3").alias("code"), "name"), o, "regions", COLS)
    t["sectors"] = write_table(pl.DataFrame({"code": ["ALL"], "name": ["All goods"], "tradable": [True]}), o, "sectors", COLS)
    fl = pl.read_csv(d / "flows.csv").select(
        "exporter", "importer", pl.lit("ALL").alias("sector"), (pl.col("value_usd_thousands") / 1e3).alias("value_usd_mn"))
    # Domestic sales: one sector, no IO, so gross output = GDP = domestic + exports.
    # Where BACI exports exceed GDP (re-exports: GMB, MHL) domestic sales are floored at 10% of GDP.
    gdp = c.select(pl.col("iso3"), (pl.col("gdp_usd") / 1e6).alias("gdp_mn"), (pl.col("exports_usd_thousands") / 1e3).alias("x_mn"))
    dom = gdp.with_columns(raw=pl.col("gdp_mn") - pl.col("x_mn")).with_columns(
        value_usd_mn=pl.max_horizontal(pl.col("raw"), 0.10 * pl.col("gdp_mn")),
        domestic_floored=pl.col("raw") < 0.10 * pl.col("gdp_mn"))
    diag = dom.select(pl.col("iso3").alias("exporter"), pl.col("iso3").alias("importer"), pl.lit("ALL").alias("sector"), "value_usd_mn")
    fl = pl.concat([fl, diag]).sort("exporter", "importer")
    t["flows"] = write_table(fl, o, "flows", COLS)
    tar = pl.read_csv(d / "us_tariffs_2025.csv")
    codes = c["iso3"].to_list()
    # Baseline tariffs: zero (the source has no pre-2025 tariffs); the 2025 US rates are a scenario table.
    ta = pl.DataFrame({"exporter": [e for e in codes for _ in codes], "importer": [i for _ in codes for i in codes]}).with_columns(
        sector=pl.lit("ALL"), tariff_rate=pl.lit(0.0))
    t["tariffs"] = write_table(ta, o, "tariffs", COLS)
    t["theta"] = write_table(pl.DataFrame({"sector": ["ALL"], "theta": [4.0]}), o, "theta", COLS)
    t["us_tariffs_2025"] = write_table(
        tar.select(pl.col("partner_iso3").alias("partner"), "rate_announced", "rate_used_in_model"), o, "us_tariffs_2025", COLS)
    t["gdp"] = write_table(dom.select(pl.col("iso3").alias("country"), (pl.col("gdp_mn") * 1e6).alias("gdp_usd"), "domestic_floored"),
                           o, "gdp", COLS)
    return record(
        "world_2023_aggregate", title="194 countries, one goods sector, 2023 (BACI) + US April-2025 tariffs",
        kind="world", year="2023",
        source="Ignatenko, Macedoni, Lashkaripour, Simonovska (2025) replication package via GitHub JoeLoera/liberation-day-replication",
        publisher="CEPII (BACI), World Bank (WDI), tariffs.inasimonovska.com", license="BACI: Etalab 2.0 (unverified); WDI: CC BY 4.0",
        units="USD millions (current); fractions",
        citation=("Ignatenko, A., L. Macedoni, A. Lashkaripour and I. Simonovska (2025), Making America Great Again? "
                  "The Economic Impacts of Liberation Day Tariffs, Journal of International Economics."),
        notes=("Domestic sales = GDP - exports (one sector, no IO), floored at 10% of GDP where BACI exports exceed GDP "
               "(GMB, MHL). Theta = 4 (trade elasticity epsilon of the paper). Baseline tariffs zero; US 2025 rates in us_tariffs_2025."),
        tables=t)


def build(source: Path, out: Path) -> list[dict]:
    return [_world_io_7x44(source, out), _caliendo_parro(source, out), _world_2023(source, out)]
