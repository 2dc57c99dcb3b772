"""Ossa (2014) calibration data: ossa2014_7x33_2007 (7 regions x 33 goods sectors).

Writes the same tidy world tables as :mod:`builders.worlds` (regions, sectors,
flows, tariffs, theta) plus the model's own parameters:

- ``flows.value_usd_mn`` = the **balanced** flows (``DATA.mat`` TRADE): Ossa's
  factual equilibrium re-solved with zero net exports at unchanged tariffs
  (``results.m`` l.44-65). Every stored result of the paper uses them as the
  baseline, so the factual equilibrium on these flows has all hats = 1. The raw
  GTAP flows (with trade imbalances) are kept as ``value_raw_usd_mn``.
- ``sigma(sector, sigma, sigma_low, sigma_med, sigma_high, sigma_novar)``: the
  elasticity of substitution between varieties (Feenstra 1994 estimates; the
  paper's baseline is ``sigma``). ``theta = sigma - 1`` is written for the World.
- ``lambda(country, sector, lambda_pol)``: political-economy weights
  (``DATA.mat`` LAMBDAPOL), mean 1 over sectors for each region.
- ``tariff_noncoop(importer, sector, target_tariff, target_kind)``: the targets
  of Ossa's lambda calibration (for reference).

Source folder: ``../shared/data/ossa2014_7x33_2007`` (see its SOURCES.md).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .common import record, write_table
from .worlds import COLS as WORLD_COLS

NAME = "ossa2014_7x33_2007"

COLS = {
    **WORLD_COLS,
    "value_usd_mn": "balanced flow (Ossa's factual equilibrium with zero net exports, DATA.mat TRADE), before the importer's tariff, USD millions (2007)",
    "value_raw_usd_mn": "raw GTAP flow as shipped in trade_ijs.csv (with trade imbalances), before the importer's tariff, USD millions (2007)",
    "theta": "trade elasticity theta = sigma - 1 (Krugman model), > 0",
    "sigma": "elasticity of substitution between varieties, baseline (Feenstra 1994; Ossa's 'Main')",
    "sigma_low": "sensitivity: sigma x 1.023 (mean 3.5)",
    "sigma_med": "sensitivity: sigma x 1.461 (mean 5)",
    "sigma_high": "sensitivity: sigma x 1.900 (mean 6.5)",
    "sigma_novar": "sensitivity: every sector at the mean 3.4216 (no profit-shifting variation)",
    "lambda_pol": "political-economy weight of the sector's income in the government's objective (mean 1 over sectors)",
    "target_tariff": "target of Ossa's lambda calibration (noncooperative tariff), fraction",
    "target_kind": "noncoop_csv (CHN EU JPN USA) or factual_tradeweighted_mean (BRA IND ROW)",
}


def build(source: Path, out: Path) -> list[dict]:
    """Build ``ossa2014_7x33_2007`` from ``source/ossa2014_7x33_2007``; return its manifest record."""
    d = source / NAME
    if not d.is_dir():
        return []
    o = out / NAME
    t = {}
    reg = pl.read_csv(d / "regions.csv").sort("index").select("code", "name")
    t["regions"] = write_table(reg, o, "regions", COLS)
    sec = pl.read_csv(d / "sectors.csv").sort("index").select(
        pl.col("code").cast(pl.Utf8), "name", pl.lit(True).alias("tradable"))
    t["sectors"] = write_table(sec, o, "sectors", COLS)
    fl = pl.read_csv(d / "flows.csv").select(
        "exporter", "importer", pl.col("sector").cast(pl.Utf8),
        pl.col("value_balanced").alias("value_usd_mn"), pl.col("value").alias("value_raw_usd_mn"))
    t["flows"] = write_table(fl, o, "flows", COLS)
    ta = pl.read_csv(d / "tariffs.csv").select(
        "exporter", "importer", pl.col("sector").cast(pl.Utf8), pl.col("tariff").alias("tariff_rate"))
    t["tariffs"] = write_table(ta, o, "tariffs", COLS)
    sg = pl.read_csv(d / "sigma.csv").select(
        pl.col("sector").cast(pl.Utf8), pl.col("sigma_main").alias("sigma"), "sigma_low", "sigma_med", "sigma_high", "sigma_novar")
    t["sigma"] = write_table(sg, o, "sigma", COLS)
    t["theta"] = write_table(sg.select("sector", (pl.col("sigma") - 1.0).alias("theta")), o, "theta", COLS)
    lam = pl.read_csv(d / "lambda.csv").select(
        pl.col("region").alias("country"), pl.col("sector").cast(pl.Utf8), "lambda_pol")
    t["lambda"] = write_table(lam, o, "lambda", COLS)
    nc = pl.read_csv(d / "tariff_noncoop.csv").select("importer", pl.col("sector").cast(pl.Utf8), "target_tariff", "target_kind")
    t["tariff_noncoop"] = write_table(nc, o, "tariff_noncoop", COLS)
    return [record(
        NAME, title="Ossa (2014) Trade Wars and Trade Talks: 7 regions x 33 goods sectors, 2007", kind="world", year="2007",
        source="R. Ossa's replication files (GTAP flows and tariffs, Feenstra 1994 elasticities), via GitHub adamsconchallos/trade commit 17a67ae",
        publisher="Ralph Ossa", license="none stated", units="USD millions (2007), fractions",
        citation="Ossa, R. (2014), Trade Wars and Trade Talks with Data, American Economic Review 104(12): 4104-46.",
        notes=("Flows are Ossa's balanced baseline (zero net exports, all hats 1 at the factual tariffs); raw flows kept as "
               "value_raw_usd_mn. Goods sectors only, no intermediate inputs. Model: tariffsim.models.ossa (model='ossa2014')."),
        tables=t)]
