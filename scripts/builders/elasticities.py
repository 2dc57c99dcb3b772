"""Trade elasticities: Broda-Weinstein sigma (US HTS10), Hauk (US HS6, with std errors),
Broda-Greenfield-Weinstein (USA, JPN, HS3), Caliendo-Parro theta, and the fallback lookups.

Source: ``../shared/data/elasticities/elasticities_tidy.csv`` (see its SOURCES.md).

Tables written to ``bundled/elasticities/``:

- ``sigma_lookup(level, code, sigma, n_codes)``: the elasticity of substitution between
  sources (varieties) of one US import product used by the product-level PE model. ``hs10``
  rows are Broda & Weinstein (2006) HTS10 estimates as published; ``hs6``, ``hs4`` and
  ``hs2`` rows are medians of those HTS10 estimates over the codes sharing the prefix.
- ``epsilon_lookup(level, code, epsilon, std_err, n_codes)``: the (absolute) US import
  demand elasticity. ``hs6`` rows are Hauk (2012) estimates kept where positive and
  significant at 5%; ``hs4``/``hs2`` rows are medians of the kept HS6 estimates.
- ``sigma_hs6_hauk(hs6, sigma, std_err)`` and ``epsilon_hs6_hauk(hs6, epsilon, std_err,
  significant_5pct)``: Hauk (2012) estimates as published (all rows; for Monte Carlo).
- ``sigma_hs3_bgw(country, hs3, sigma)``: Broda, Greenfield & Weinstein, USA and JPN.
- ``theta_cp(sector, name, isic_rev3, theta)``: Caliendo & Parro (2015) sectoral theta.
- ``defaults(parameter, value, rule)``: the documented last-resort values (global medians).

Codes are matched by string prefix at run time. The estimates use 1989-2001 HS/HTS
vintages; 2024 codes that were created later fall back to a coarser level.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .common import record, write_table

COLS = {
    "level": "code level of the row: hs10, hs6, hs4 or hs2",
    "code": "HS/HTS code prefix, zero-padded string of 10, 6, 4 or 2 digits",
    "sigma": "elasticity of substitution between sources (varieties) of one product, > 0",
    "epsilon": "import demand elasticity, absolute value (Q falls by epsilon % per 1 % price rise), > 0",
    "std_err": "standard error of the underlying price coefficient (Hauk 2012); null for medians",
    "n_codes": "number of source estimates behind the value (1 for published rows, > 1 for medians)",
    "hs6": "HS 6-digit code (HS 1988-1996 vintages), zero-padded string",
    "hs3": "HS 1988/92 3-digit code, zero-padded string",
    "country": "importer ISO3 code",
    "significant_5pct": "Hauk's 5% significance dummy of the price coefficient (bool)",
    "sector": "Caliendo-Parro sector code (CP01..CP20, CP_SERVICES, AGG)",
    "name": "sector name",
    "isic_rev3": "ISIC Rev.3 definition of the sector",
    "theta": "trade elasticity (Frechet dispersion), > 0",
    "parameter": "parameter name: sigma or epsilon",
    "value": "documented default value",
    "rule": "how the default was derived",
}


def _tidy(src: Path) -> pl.DataFrame:
    d = pl.read_csv(src / "elasticities" / "elasticities_tidy.csv", infer_schema_length=0)
    return d.with_columns(pl.col("value").cast(pl.Float64), pl.col("std_err").cast(pl.Float64))


def _prefix_medians(df: pl.DataFrame, code_col: str, value_col: str, digits: list[int]) -> pl.DataFrame:
    out = []
    for n in digits:
        out.append(df.group_by(pl.col(code_col).str.slice(0, n).alias("code")).agg(
            pl.col(value_col).median().alias(value_col), pl.len().cast(pl.Int64).alias("n_codes"))
            .with_columns(level=pl.lit(f"hs{n}")))
    return pl.concat(out)


def build(source: Path, out: Path) -> list[dict]:
    d = _tidy(source)
    o = out / "elasticities"
    t = {}

    # Broda & Weinstein (2006) HTS10: one code appears twice in the source (2103204020): average it.
    bw = (d.filter(pl.col("level") == "hts10", pl.col("parameter") == "elasticity_of_substitution_sigma")
          .group_by("code").agg(pl.col("value").mean().alias("sigma"), pl.len().cast(pl.Int64).alias("n_codes"))
          .with_columns(level=pl.lit("hs10")))
    sig = pl.concat([
        bw.select("level", "code", "sigma", "n_codes"),
        _prefix_medians(bw, "code", "sigma", [6, 4, 2]).select("level", "code", "sigma", "n_codes"),
    ]).sort("level", "code")
    t["sigma_lookup"] = write_table(sig, o, "sigma_lookup", COLS)

    hk_eps = (d.filter(pl.col("level") == "hs6", pl.col("parameter") == "import_demand_elasticity_abs")
              .select(pl.col("code").alias("hs6"), pl.col("value").alias("epsilon"), "std_err",
                      pl.col("note").str.contains("sig5pct=1").alias("significant_5pct")).sort("hs6"))
    t["epsilon_hs6_hauk"] = write_table(hk_eps, o, "epsilon_hs6_hauk", COLS)
    kept = hk_eps.filter(pl.col("significant_5pct"), pl.col("epsilon") > 0)
    eps = pl.concat([
        kept.select(pl.lit("hs6").alias("level"), pl.col("hs6").alias("code"), "epsilon", "std_err",
                    pl.lit(1, dtype=pl.Int64).alias("n_codes")),
        _prefix_medians(kept, "hs6", "epsilon", [4, 2]).select(
            "level", "code", "epsilon", pl.lit(None, dtype=pl.Float64).alias("std_err"), "n_codes"),
    ]).sort("level", "code")
    t["epsilon_lookup"] = write_table(eps, o, "epsilon_lookup", COLS)

    hk_sig = (d.filter(pl.col("level") == "hs6", pl.col("parameter") == "elasticity_of_substitution_sigma")
              .select(pl.col("code").alias("hs6"), pl.col("value").alias("sigma"), "std_err").sort("hs6"))
    t["sigma_hs6_hauk"] = write_table(hk_sig, o, "sigma_hs6_hauk", COLS)

    bgw = (d.filter(pl.col("level") == "hs3").select("country", pl.col("code").alias("hs3"), pl.col("value").alias("sigma"))
           .sort("country", "hs3"))
    t["sigma_hs3_bgw"] = write_table(bgw, o, "sigma_hs3_bgw", COLS)

    cp = d.filter(pl.col("parameter") == "trade_elasticity_theta").select(
        pl.col("code").alias("sector"), pl.col("code_desc").alias("name"),
        pl.col("classification").str.extract(r"ISIC Rev\.3 ([0-9\-]+)").alias("isic_rev3"),
        pl.col("value").alias("theta"))
    t["theta_cp"] = write_table(cp, o, "theta_cp", COLS)

    defaults = pl.DataFrame({
        "parameter": ["sigma", "epsilon"],
        "value": [float(bw["sigma"].median()), float(kept["epsilon"].median())],
        "rule": [
            "median of the 13,971 Broda-Weinstein (2006) US HTS10 sigmas, 1990-2001",
            "median of the Hauk (2012) US HS6 import demand elasticities that are positive and significant at 5%",
        ],
    })
    t["defaults"] = write_table(defaults, o, "defaults", COLS)

    return [record(
        "elasticities", title="Trade elasticities: US product-level sigma and epsilon, Caliendo-Parro theta",
        kind="parameters", year="1990-2001",
        source=("Broda & Weinstein (2006) files via GitHub insongkim/concordance data-raw @201c812; "
                "Hauk (2012) via GitHub BillHauk/tradeelasticityestimates @0ab196e; "
                "Caliendo & Parro (2015) T.txt via GitHub powell001/Caliendo_Parro_2015_Python @5973839"),
        publisher="Christian Broda, Joshua Greenfield, David Weinstein; William Hauk; Lorenzo Caliendo, Fernando Parro",
        license="none stated (authors' 'please cite'); concordance package MIT",
        units="dimensionless elasticities (> 0)",
        citation=("Broda, C. and D. Weinstein (2006), Globalization and the Gains from Variety, QJE 121(2): 541-585. "
                  "Hauk, W. (2012), U.S. import and export elasticities: a panel data approach, Empirical Economics. "
                  "Caliendo, L. and F. Parro (2015), REStud 82(1): 1-44."),
        notes=("Lookup for a 2024 HS10 code: exact hs10 (sigma only), then hs6, hs4, hs2 medians, then the "
               "documented default. Hauk epsilon kept only where positive and significant at 5%. "
               "Codes of 1989-2001 vintages are matched to 2024 codes by string prefix."),
        tables=t)]
