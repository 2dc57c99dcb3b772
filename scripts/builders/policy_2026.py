"""US tariff actions of 2026 (after the IEEPA ruling) and the conventions behind the published statutory ETR.

Builds from ``../shared/data/us_tariff_actions_2026`` (see its SOURCES.md and stacking_rules_2026.md); raw files are
never copied. Tables written (``us_tariff_actions_2026.<table>``):

- ``product_lists``: every 2026 product list in one long table (same columns as the 2025 ``product_lists``):
  ``s122_exempt``, ``s232_annex_1a|1b|1c|2|3`` (metals annex regime, entry dates 2026-04-06 / 2026-06-08),
  ``s232_pharma``, ``s232_polysilicon``, ``s232_semis``, ``s301fl_excl_full|aircraft|pharma`` (forced-labor
  Annex II Part A; 'Ex' lines counted as full), ``s301_brazil_exempt`` (June proposal), ``s338_alcohol|dairy|
  motor_vehicles``, ``ieepa_exempt_budgetlab_dated`` (the tracker's IEEPA exempt list pruned to the lines traceable to
  Annex II, each dated by the Annex II revision that first lists it), ``fentanyl_energy_ca|potash_ca|potash_mx``
  (products at the 10% fentanyl rate), ``s232_mhd_vehicles`` (the vehicle lines of the 2025 MHD list).
- ``fl_tiers``: forced-labor Section 301 tier of each covered economy (ISO3, tier, rate, rule).
- ``usmca_shares``: share of 2024-weighted US imports of each HS10 from Canada / Mexico entered under USMCA
  (SPI S/S+), annual 2024, annual 2025, and the Budget Lab default ``since`` window (value-weighted average of
  the monthly files 2025-07 .. 2026-02).
- ``mfn_exemption_shares``: share of 2024 imports of each HS2 chapter from each partner that entered free or reduced
  under an FTA/GSP preference (Census calculated duties; the tracker's ``mfn_exemption: hs2`` input), by ISO3.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .common import record, write_table

COLS = {
    "list": "product list name (see dataset notes)",
    "hts_code": "HTS code prefix (2-10 digits) the list entry covers",
    "rate": "ad valorem rate of the list entry, fraction (null if the list carries no rate)",
    "effective_date": "legal effective date of the list entry (null = from the programme start)",
    "ch99_code": "HTS chapter 99 heading",
    "metal": "metal type of a Section 232 metals-annex entry (steel / aluminum / copper)",
    "iso3": "partner ISO3 code",
    "tier": "forced-labor 301 tier: flat_10, net_of_mfn_10, net_of_mfn_12.5, flat_12.5",
    "rule": "ad_valorem (additional = rate) or floor_all_in (additional = max(rate - MFN, 0))",
    "hs10": "HTS 10-digit statistical code",
    "partner": "partner ISO3 code (CAN or MEX)",
    "share_2024": "USMCA claim share of the line's imports, calendar 2024 (fraction)",
    "share_2025": "USMCA claim share, calendar 2025 (fraction)",
    "share_since_2025_07": "USMCA claim share, value-weighted over the monthly files 2025-07 .. 2026-02 (fraction)",
    "hs2": "HS chapter (2 digits)",
    "exemption_share": "share of the partner's 2024 imports in the chapter entered under an FTA/GSP preference",
}

CTY = {"1220": "CAN", "2010": "MEX"}


def _f(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Float64, strict=False)


def _lst(path: Path, name: str | pl.Expr, metal: pl.Expr | None = None) -> pl.DataFrame:
    x = pl.read_csv(path, infer_schema_length=0)
    return x.select(
        (pl.lit(name) if isinstance(name, str) else name).alias("list"),
        pl.col("hts_code").str.replace_all(r"\.", ""),
        _f("rate").alias("rate"),
        pl.col("effective_date").str.to_date(strict=False).alias("effective_date"),
        (pl.col("ch99_code") if "ch99_code" in x.columns else pl.lit(None, pl.Utf8)).alias("ch99_code"),
        (metal if metal is not None else pl.lit(None, pl.Utf8)).alias("metal"),
    )


def _lists(d: Path, d25: Path) -> pl.DataFrame:
    annex = _lst(d / "s232_metals_annexes_update_2026-06.csv", pl.lit("s232_annex_") + pl.col("annex"),
                 pl.col("metal_type"))
    fl = _lst(d / "s301fl_exclusions_final_common_2026.csv",
              pl.lit("s301fl_excl_") + pl.col("exclusion_condition").replace({"ex": "full"}))
    s338 = _lst(d / "s338_canada_products_2026.csv", pl.lit("s338_") + pl.col("program"))
    poly = _lst(d / "s232_polysilicon_products_2026.csv", "s232_polysilicon").filter(pl.col("rate").is_not_null())
    parts = [
        _lst(d / "s122_exempt_products_2026.csv", "s122_exempt"), annex,
        _lst(d / "s232_pharma_products_2026.csv", "s232_pharma"), poly,
        _lst(d25 / "s232_semiconductors_2026.csv", "s232_semis"), fl,
        _lst(d / "s301_brazil_exempt_proposed_2026-06.csv", "s301_brazil_exempt"), s338, _budgetlab_dated(d25),
        _fentanyl_carveouts(d),
        _lst(d25 / "s232_trucks_buses_2025.csv", "s232_mhd_vehicles").filter(
            pl.Series(pl.read_csv(d25 / "s232_trucks_buses_2025.csv", infer_schema_length=0)["authority"]
                      .str.contains("MHD vehicles"))),
    ]
    out = pl.concat(parts)
    bad = out.filter(~pl.col("hts_code").str.contains(r"^\d{2}(\d{2}){0,4}$"))
    if bad.height:
        raise ValueError(f"2026 product lists: malformed HTS codes {bad['hts_code'].head(5).to_list()}")
    return out.unique(subset=["list", "hts_code", "effective_date"], keep="first", maintain_order=True)


def _budgetlab_dated(d25: Path) -> pl.DataFrame:
    """The tracker's IEEPA exempt union (``ieepa_exempt_products_budgetlab_hs10.csv``, tracker @ 8315fff) pruned and
    dated as the tracker's 2026-06 list (``scripts/prune_ieepa_exempt_untraceable.R`` of 2026-06-11 and
    ``scripts/build_annex_ii_dates.R``, arifshehab/tariff-rate-tracker @ 9919812): keep only the lines traceable
    (longest prefix) to the printed Annex II enumeration of U.S. note 2(v)(iii) — here the April 2025 Annex II, the
    2025-04-11 electronics memorandum and the amended Annex II of 2025-11-14 — plus chapter 98 (note 2(v)(i)) and
    the Berman-amendment chapters 49 and 97; the dropped lines are Section 232 programme members (handled by
    stacking), chapter 88 civil aircraft (country-conditional, per-deal lists) and residue with no legal basis.
    Each line counts from the revision that first lists it: the April list from the start, the electronics lines
    from 2025-04-05 (the memorandum is retroactive), the agricultural and fertiliser lines (ch. 1-24, 31) of the
    November list that the April list lacks from 2025-11-13; other lines of the amended list from the start (the
    April transcription of 720 HS10 lines misses parts of the original Annex II, e.g. ch. 29)."""
    union = _lst(d25 / "ieepa_exempt_products_budgetlab_hs10.csv", "ieepa_exempt_budgetlab_dated")

    def covered(path: Path) -> pl.Series:
        codes = set(pl.read_csv(path, infer_schema_length=0)["hts_code"].str.replace_all(r"\.", "").to_list())
        return pl.Series([any(c[:k] in codes for k in (2, 4, 6, 8, 10)) for c in union["hts_code"]])

    apr = covered(d25 / "ieepa_annex_ii_exempt_apr2025.csv")
    el = covered(d25 / "ieepa_exempt_electronics_apr11.csv")
    nov = covered(d25 / "ieepa_annex_ii_exempt_nov2025.csv")
    chapter = union["hts_code"].str.slice(0, 2)
    own = chapter.is_in(["98", "49", "97"])
    ag = chapter.cast(pl.Int32).le(24) | (chapter == "31")
    D = pl.lit(None, pl.Date)
    when = (pl.when(apr | own).then(D)
            .when(el).then(pl.lit("2025-04-05").str.to_date())
            .when(nov & ag).then(pl.lit("2025-11-13").str.to_date()).otherwise(D))
    return union.with_columns(when.alias("effective_date")).filter(apr | el | nov | own)


def _fentanyl_carveouts(d: Path) -> pl.DataFrame:
    """Products paying the lower 10% IEEPA fentanyl rate (tracker ``fentanyl_carveout_products.csv``): Canadian
    energy (9903.01.13) and potash (9903.01.15), Mexican potash (9903.01.05); lists ``fentanyl_<category>``."""
    x = pl.read_csv(d / "conventions" / "fentanyl_carveout_products.csv", infer_schema_length=0)
    return x.select(("fentanyl_" + pl.col("category")).alias("list"), pl.col("hts8").alias("hts_code"),
                    pl.lit(None, pl.Float64).alias("rate"), pl.lit(None, pl.Date).alias("effective_date"),
                    pl.col("ch99_code"), pl.lit(None, pl.Utf8).alias("metal"))


def _tiers(d: Path) -> pl.DataFrame:
    t = pl.read_csv(d / "s301_forced_labor_tiers_2026.csv", infer_schema_length=0)
    return t.select("iso3", "tier", _f("rate").alias("rate"),
                    pl.when(pl.col("tier").str.starts_with("net")).then(pl.lit("floor_all_in"))
                    .otherwise(pl.lit("ad_valorem")).alias("rule")).sort("iso3")


def _usmca(d: Path) -> pl.DataFrame:
    c = d / "conventions"

    def annual(year: int) -> pl.DataFrame:
        x = pl.read_csv(c / f"usmca_product_shares_{year}.csv", schema_overrides={"hts10": pl.Utf8,
                                                                                   "cty_code": pl.Utf8})
        return x.select("hts10", "cty_code", _f("usmca_share").alias(f"share_{year}"))

    months = [f"2025_{m:02d}" for m in range(7, 13)] + ["2026_01", "2026_02"]
    ms = pl.concat([pl.read_csv(c / f"usmca_product_shares_{m}.csv", infer_schema_length=0).select(
        "hts10", "cty_code", _f("total_value").alias("v"), _f("usmca_value").alias("u")) for m in months])
    since = ms.group_by("hts10", "cty_code").agg(pl.col("v").sum(), pl.col("u").sum()).filter(pl.col("v") > 0) \
        .select("hts10", "cty_code", (pl.col("u") / pl.col("v")).clip(0, 1).alias("share_since_2025_07"))
    j = annual(2024).join(annual(2025), on=["hts10", "cty_code"], how="full", coalesce=True) \
        .join(since, on=["hts10", "cty_code"], how="full", coalesce=True)
    j = j.filter(pl.col("cty_code").is_in(list(CTY)))
    return j.select("hts10", pl.col("cty_code").replace_strict(CTY).alias("partner"),
                    *[pl.col(k).cast(pl.Float32) for k in ("share_2024", "share_2025", "share_since_2025_07")]
                    ).rename({"hts10": "hs10"}).sort("partner", "hs10")


def _mfn_exemption(d: Path, source: Path) -> pl.DataFrame:
    """Tracker MFN preference shares (hs2 x Census code) keyed by ISO3 (Census code map of the 2024 imports)."""
    x = pl.read_csv(d / "conventions" / "mfn_exemption_shares.csv", infer_schema_length=0)
    cc = pl.read_csv(source / "us_imports_japan_2024_hs10" / "us_imports_2024_by_partner_hs2.csv",
                     infer_schema_length=0).select("cty_code", "iso3").drop_nulls().unique("cty_code")
    return x.join(cc, on="cty_code", how="inner").select(
        pl.col("hs2").str.zfill(2), pl.col("iso3").alias("partner"),
        _f("exemption_share").clip(0, 1).cast(pl.Float32)).unique(["hs2", "partner"]).sort("partner", "hs2")


def build(source: Path, out: Path) -> list[dict]:
    d = source / "us_tariff_actions_2026"
    o = out / "us_tariff_actions_2026"
    t = {
        "product_lists": write_table(_lists(d, source / "us_tariff_actions_2025"), o, "product_lists", COLS),
        "fl_tiers": write_table(_tiers(d), o, "fl_tiers", COLS),
        "usmca_shares": write_table(_usmca(d), o, "usmca_shares", COLS),
        "mfn_exemption_shares": write_table(_mfn_exemption(d, source), o, "mfn_exemption_shares", COLS),
    }
    return [record(
        "us_tariff_actions_2026", title="US tariff actions 2026: Section 122, forced-labor and Brazil 301, Section "
        "338, 2026 Section 232 programmes; USMCA claim shares", kind="policy", year="2026",
        source="us_tariff_actions_2026 (Budget-Lab-Yale/tariff-rate-tracker 04bd7d62 / 8315fffd, SAIL-Engineering "
               "and arifshehab copies; see SOURCES.md)",
        publisher="Federal Register / USITC HTS ch. 99 / USTR / CBP, compiled by The Budget Lab at Yale",
        license="MIT (compilations); underlying texts US government public domain", units="fractions",
        citation="Learning Resources v. Trump (2026); Proclamations 11002, 11020, 11032, 11047, 11051, 11055; "
                 "USTR FR 2026-14542, FR 2026-15181; HTS U.S. notes 39-52.",
        tables=t,
        notes="Rates by date live in tariffsim.policy (timeline_2026). Brazil 301 exemptions are the June proposal "
              "(the final list of 2,126 HTS8 is not in the source); forced-labor country-specific exclusions "
              "(Annex II Parts B-O) are not in the source.")]
