"""Policy-layer datasets: US MFN, 2025 US tariff actions, USTR formula inputs, US imports 2024, Japan's tariffs.

Builds compact, documented tables from ``../shared/data`` (see each folder's SOURCES.md); raw files are never
copied. Tables written (dataset.table):

- ``hts_2025_mfn.mfn_hs8``: HTS 2025 Basic column-1 General rate by HS8 (ad valorem part, rate type).
- ``hs_icio44_crosswalk.rules``: hand-built HS-prefix -> 44-sector ICIO code rules (longest prefix wins), used to
  aggregate product schedules to ``world_io_7x44_2017`` sectors.
- ``us_tariff_actions_2025.product_lists``: every product list of the 2025 actions (Section 232 programmes, IEEPA
  Annex II / exemption lists, floor-exempt lists, Section 301 lists) in one long table.
- ``us_tariff_actions_2025.reciprocal_rates``: EO 14257 Annex I and EO 14326 Annex I country rates (ISO3).
- ``us_tariff_actions_2025.metal_shares``: steel / aluminium / copper content shares by HS10 (Budget Lab, BEA I-O).
- ``ustr_reciprocal_2025.formula``: 2024 goods trade by partner and the rates announced on 2 April 2025.
- ``us_imports_japan_2024_hs10.{partners, hs10_top_partners, hs2_all_partners, hs10_descriptions}``.
- ``japan_tariffs.{lines_2025, hs6_summary, trqs}``.
- ``budget_lab_gtap_imports_2024.imports_by_partner_gtap``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .common import record, write_table

# ISO 3166-1 alpha-3 codes for Census partners whose ISO3 is blank in the Census/Budget Lab map
# (territories and a few states). Gaza and the West Bank both map to PSE (summed).
ISO3_SUPPLEMENT = {
    "ST HELENA": "SHN", "MARTINIQUE": "MTQ", "NIUE": "NIU", "TUVALU": "TUV", "CAYMAN ISLANDS": "CYM",
    "BRITISH VIRGIN ISLANDS": "VGB", "FALKLAND ISLANDS (ISLAS MALVINAS)": "FLK", "GIBRALTAR": "GIB",
    "WEST BANK ADMINISTERED BY ISRAEL": "PSE", "MARSHALL ISLANDS": "MHL", "MONTSERRAT": "MSR", "COOK ISLANDS": "COK",
    "FRENCH POLYNESIA": "PYF", "ANGUILLA": "AIA", "NEW CALEDONIA": "NCL", "SOUTH SUDAN": "SSD", "NORFOLK ISLAND": "NFK",
    "GREENLAND": "GRL", "VATICAN CITY": "VAT", "REUNION": "REU", "SAN MARINO": "SMR", "MONACO": "MCO",
    "FAROE ISLANDS": "FRO", "GUADELOUPE": "GLP", "FRENCH GUIANA": "GUF", "CHRISTMAS ISLAND": "CXR",
    "PITCAIRN ISLANDS": "PCN", "NAURU": "NRU", "MICRONESIA": "FSM", "TOKELAU": "TKL",
    "DEMOCRATIC REPUBLIC OF THE CONGO": "COD", "SINT MAARTEN": "SXM", "GAZA STRIP ADMINISTERED BY ISRAEL": "PSE",
    "MACAU": "MAC", "TURKS AND CAICOS ISLANDS": "TCA", "SVALBARD, JAN MAYEN ISLAND": "SJM", "MAYOTTE": "MYT",
    "PALAU": "PLW", "CURACAO": "CUW", "COCOS (KEELING) ISLANDS": "CCK",
}

# Names in EO 14326 Annex I / EO 14257 Annex I that differ from the USTR/Census names.
NAME_ISO3 = {
    "Côte d`Ivoire": "CIV", "Democratic Republic of the Congo": "COD", "Falkland Islands": "FLK", "Laos": "LAO",
    "Moldova": "MDA", "Myanmar (Burma)": "MMR", "Syria": "SYR", "South Korea": "KOR", "Brunei": "BRN",
    "Bosnia and Herzegovina": "BIH", "North Macedonia": "MKD", "Taiwan": "TWN", "Vietnam": "VNM", "Turkey": "TUR",
    "United Kingdom": "GBR", "Nauru": "NRU", "Liechtenstein": "LIE", "European Union": "EU",
    "Trinidad and Tobago": "TTO", "Papua New Guinea": "PNG", "Equatorial Guinea": "GNQ",
}

EU27_ISO3 = ["AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "IRL", "ITA",
             "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE"]

# HS prefix -> ICIO (2021 edition, 45 industries without T97T98) sector code of world_io_7x44_2017.
# Longest matching prefix wins. Built by hand from the HS chapter/heading contents and the ISIC Rev.4 divisions
# that make up each ICIO industry (UN HS-ISIC correspondence logic at heading level). HS chapters 98-99 (US
# special provisions: returned goods, temporary entries) have no sector and drop out of sector aggregates.
HS_ICIO44 = {
    # agriculture (ICIO D01T02 = 1), fishing (D03 = 2), food (D10T12 = 6)
    **{f"{c:02d}": "1" for c in (1, 5, 6, 7, 8, 9, 10, 12, 13, 14)},
    "02": "6", "03": "2", "0304": "6", "0305": "6", "0306": "2", "0307": "2", "0308": "2",
    "04": "6", "0407": "1", "0408": "6", "0409": "1", "0410": "1", "11": "6",
    **{f"{c:02d}": "6" for c in range(15, 25)}, "2401": "1",
    # mining (energy D05T06 = 3, non-energy D07T08 = 4), coke & refined petroleum (D19 = 10), electricity (D35 = 23)
    "25": "4", "2523": "14", "26": "4", "27": "3", "2704": "10", "2706": "10", "2707": "10", "2708": "10",
    "2710": "10", "2712": "10", "2713": "10", "2714": "4", "2715": "10", "2716": "23",
    # chemicals (D20 = 11), pharma (D21 = 12), rubber & plastics (D22 = 13)
    "28": "11", "29": "11", "30": "12", **{f"{c:02d}": "11" for c in range(31, 39)},
    "39": "13", **{f"39{h:02d}": "11" for h in range(1, 16)}, "40": "13", "4001": "1", "4002": "11",
    # leather & textiles (D13T15 = 7), wood (D16 = 8), paper & printing (D17T18 = 9)
    "41": "7", "42": "7", "43": "7", "44": "8", "4401": "1", "4403": "1", "45": "8", "46": "8",
    "47": "9", "48": "9", "49": "9", **{f"{c:02d}": "7" for c in range(50, 66)},
    "5001": "1", "5101": "1", "5201": "1", "5301": "1", "5302": "1", "66": "22", "67": "22",
    # non-metallic minerals (D23 = 14), basic metals (D24 = 15), fabricated metals (D25 = 16)
    "68": "14", "69": "14", "70": "14", "71": "22", **{f"71{h:02d}": "15" for h in range(6, 13)}, "7102": "4",
    "72": "15", "73": "16", "7301": "15", "7302": "15", "7303": "15", "7304": "15", "7305": "15", "7306": "15",
    "74": "15", **{f"74{h:02d}": "16" for h in range(11, 20)}, "75": "15", "76": "15",
    **{f"76{h:02d}": "16" for h in range(8, 17)}, "78": "15", "79": "15", "80": "15", "81": "15",
    "82": "16", "83": "16", "93": "16",
    # machinery (D28 = 19), computers & electronics (D26 = 17), electrical equipment (D27 = 18)
    "84": "19", "8471": "17", "8415": "18", "8418": "18", "8450": "18", "8451": "19", "8516": "18",
    "85": "18", **{f"85{h:02d}": "17" for h in range(17, 30)}, **{f"85{h:02d}": "17" for h in range(32, 43)},
    "90": "17", "9018": "22", "9019": "22", "9020": "22", "9021": "22", "9022": "17", "91": "17",
    # vehicles (D29 = 20), other transport (D30 = 21), other manufacturing (D31T33 = 22)
    "86": "21", "87": "20", "8711": "21", "8712": "21", "8713": "21", "8714": "21", "88": "21", "89": "21",
    "92": "22", "94": "22", "9405": "18", "95": "22", "96": "22", "97": "22",
}

COLS = {
    "hs8": "HTS 8-digit code (zero-padded string)",
    "hs10": "HTS 10-digit statistical code (zero-padded string)",
    "hs2": "HS chapter (2 digits)",
    "hs6": "HS 6-digit subheading",
    "hs_prefix": "HS code prefix of any length (2-10 digits)",
    "hts_code": "HTS code prefix (2-10 digits) the list entry covers",
    "rate_type": "free / ad_valorem / specific / compound / *+text / other_text / missing (ch. 98-99)",
    "adval_rate": "ad valorem part of the column-1 General rate, fraction (0 for specific-only)",
    "has_specific": "rate has a specific (per-unit) component: AVE must come from realised duties",
    "general_rate_text": "column-1 General rate as printed in HTS 2025 Basic",
    "usjta_line": "special rate column lists program JP (US-Japan Trade Agreement preference)",
    "sector": "world_io_7x44_2017 sector code (ICIO industry)",
    "list": "product list name (see dataset notes)",
    "rate": "ad valorem rate of the list entry, fraction (null if the list carries no rate)",
    "effective_date": "legal effective date of the list entry (null = from the programme start)",
    "ch99_code": "HTS chapter 99 heading",
    "metal": "metal type of a Section 232 derivative (steel / aluminum / copper)",
    "iso3": "partner ISO3 code (EU = European Union aggregate)",
    "partner": "partner ISO3 code (EU = Census aggregate 0003 of the 27 members)",
    "country": "country name as in the source",
    "rate_annex_i_apr2025": "EO 14257 Annex I reciprocal rate (2025-04-09), fraction; China corrected 104 -> 34",
    "rate_eo14326_aug2025": "EO 14326 Annex I reciprocal rate (from 2025-08-07), fraction; unlisted = 10%",
    "steel_share": "steel content share of product value (BEA I-O, Budget Lab)",
    "aluminum_share": "aluminium content share of product value",
    "copper_share": "copper content share of product value",
    "metal_share": "total metal content share of product value",
    "cty_code": "US Census Schedule C country code",
    "name": "partner name (Census)",
    "eu_member": "EU-27 member",
    "hs10_detail": "partner has HS10 detail in the source (top-50 partners + EU aggregate)",
    "value_usd": "US imports for consumption 2024, customs value, USD",
    "duties_usd": "Census calculated duties 2024, USD",
    "description": "Census short description",
    "imports_usd_m": "US general imports 2024 (Census basis), USD millions",
    "exports_usd_m": "US exports 2024 (Census basis), USD millions",
    "chart_rate_pct": "rate on the White House chart of 2025-04-02, percent",
    "annex_i_rate_pct": "EO 14257 Annex I rate, percent",
    "announced_rate_pct": "announced rate: chart if listed, else Annex I, else 10 (EU members 20), percent",
    "excluded_from_reciprocal": "reason the partner is outside the reciprocal regime (null if inside)",
    "stat_code9": "Japan 9-digit statistical code",
    "line_seq": "rate line number within a code (seasonal rates etc.)",
    "mfn_type": "free / ad_valorem / specific / compound / alternative / range / conditional_or_formula",
    "mfn_ad_valorem": "Japan applied MFN ad valorem part, fraction",
    "mfn_ad_valorem_2": "second ad valorem part or max of a range, fraction",
    "mfn_specific_jpy": "Japan applied MFN specific part, JPY per unit",
    "mfn_specific_unit": "unit of the specific part (kg, l, pair, ...)",
    "mfn_rule": "how ad valorem and specific parts combine",
    "mfn_applied_raw": "applied MFN rate text as in the Japan Customs schedule",
    "usjta_ad_valorem": "US-Japan Trade Agreement rate, ad valorem part, fraction (null if not listed)",
    "usjta_specific_jpy": "USJTA specific part, JPY per unit",
    "trq_or_quota_flag": "line is in a tariff-rate quota / common quota",
    "state_trading_flag": "in-quota state-trading line (rice, wheat, barley)",
    "n_lines": "number of 9-digit lines", "any_specific_or_compound": "some line is non-ad-valorem",
    "any_trq_or_quota": "some line is under a quota", "mfn_av_simple_mean_adval_lines":
        "simple mean MFN of ad valorem or free lines, fraction",
    "us_pref_av_simple_mean_adval_lines": "simple mean of min(MFN, USJTA) over ad valorem lines, fraction",
    "mfn_max_specific_jpy": "largest specific duty in the subheading, JPY per unit",
    "product": "product group", "hs_scope": "HS codes covered", "quota_quantity": "quota volume",
    "quota_unit": "unit of the quota volume", "quota_basis": "legal basis of the quota",
    "in_quota_ad_valorem": "in-quota ad valorem rate, fraction", "out_quota_ad_valorem":
        "out-of-quota ad valorem rate, fraction", "out_quota_specific_jpy": "out-of-quota specific rate, JPY per unit",
    "out_quota_specific_unit": "unit of the out-of-quota specific rate", "out_quota_rule": "how out-of-quota parts combine",
    "usjta_or_deal_note": "USJTA / 2025 deal note", "source_quantity": "source of the quota volume",
    "gtap_code": "GTAP sector code", "imports_usd": "US imports 2024 by GTAP sector, USD",
}


def _f(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Float64, strict=False)


def _b(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Utf8).str.to_lowercase().eq("true")


def _hts(src: Path, out: Path) -> list[dict]:
    d = src / "hts_2025_mfn"
    m = pl.read_csv(d / "hts8_mfn_2025basic.csv", infer_schema_length=0).select(
        pl.col("hts8").alias("hs8"), "rate_type",
        _f("adval_rate").fill_null(0.0).alias("adval_rate"),
        (pl.col("rate_type").str.contains("specific|compound|other_text")).alias("has_specific"),
        pl.col("special_rate_text").str.contains(r"\bJP\b").fill_null(False).alias("usjta_line"),
        "general_rate_text")
    o = out / "hts_2025_mfn"
    t = {"mfn_hs8": write_table(m, o, "mfn_hs8", COLS)}
    recs = [record(
        "hts_2025_mfn", title="US HTS 2025 Basic, column-1 General (MFN) rates by HS8", kind="policy", year="2025",
        source="USITC HTS 2025 Basic JSON via arifshehab/tariff-rate-tracker 9919812f (see SOURCES.md)",
        publisher="USITC", license="US government public domain (copy: MIT)", units="fractions",
        citation="USITC, Harmonized Tariff Schedule of the United States (2025 Basic Edition).", tables=t,
        notes="Specific and compound duties carry only their ad valorem part here; tariffsim.policy computes AVEs "
              "from realised 2024 duties / customs value by HS10 (HTS U.S. note 2(v)(xix) uses the same definition).")]
    rules = pl.DataFrame({"hs_prefix": list(HS_ICIO44), "sector": list(HS_ICIO44.values())}).sort("hs_prefix")
    o2 = out / "hs_icio44_crosswalk"
    recs.append(record(
        "hs_icio44_crosswalk", title="HS prefix -> ICIO 44-sector crosswalk (longest prefix wins)", kind="crosswalk",
        year="2022", source="tariffsim, hand-built at HS heading level from ISIC Rev.4 division contents",
        publisher="tariffsim", license="MIT", units="codes",
        citation="tariffsim scripts/builders/policy.py HS_ICIO44; sectors as in world_io_7x44_2017.",
        tables={"rules": write_table(rules, o2, "rules", COLS)},
        notes="HS chapters 98-99 are unmapped. Chapter-level defaults with heading-level exceptions "
              "(e.g. 8471 computers -> 17, 8517-8542 electronics -> 17, 8711-8714 -> 21, 7301-7306 -> 15)."))
    return recs


def _actions(src: Path, out: Path) -> dict:
    d = src / "us_tariff_actions_2025"

    def lst(fname: str, name: str | pl.Expr, metal: pl.Expr | None = None) -> pl.DataFrame:
        x = pl.read_csv(d / fname, infer_schema_length=0)
        return x.select(
            (pl.lit(name) if isinstance(name, str) else name).alias("list"),
            pl.col("hts_code").alias("hts_code"),
            _f("rate").alias("rate"),
            pl.col("effective_date").str.to_date(strict=False).alias("effective_date"),
            pl.col("ch99_code").alias("ch99_code"),
            (metal if metal is not None else pl.lit(None, pl.Utf8)).alias("metal"),
        )

    sa = pl.read_csv(d / "s232_steel_aluminum_2025.csv", infer_schema_length=0)
    sa_metal = pl.when(pl.col("metal").is_not_null() & (pl.col("metal") != "")).then(pl.col("metal")).otherwise(
        pl.when(pl.col("hts_code") == "76").then(pl.lit("aluminum")).otherwise(pl.lit("steel")))
    steel_alu = lst("s232_steel_aluminum_2025.csv",
                    pl.when(pl.col("hts_level") == "2").then(pl.lit("s232_metals_primary"))
                    .otherwise(pl.lit("s232_metals_derivative")), sa_metal)
    # Primary chapters appear twice (25% from 2025-03-12, 50% from 2025-06-04): keep one row, rates live in code.
    steel_alu = steel_alu.unique(subset=["list", "hts_code"], keep="first", maintain_order=True)
    assert sa.height > 0
    ap = lst("s232_autos_parts_2025.csv", pl.when(pl.col("authority").str.contains("parts")).then(pl.lit("s232_auto_parts"))
             .otherwise(pl.lit("s232_autos")))
    cu = lst("s232_copper_2025.csv", "s232_copper", pl.lit("copper"))
    wood = lst("s232_lumber_wood_2025.csv", pl.when(pl.col("rate") == "0.1").then(pl.lit("s232_lumber"))
               .otherwise(pl.lit("s232_furniture_cabinets")))
    mhd = lst("s232_trucks_buses_2025.csv", pl.when(pl.col("authority").str.contains("buses")).then(pl.lit("s232_buses"))
              .otherwise(pl.lit("s232_mhd_trucks_parts")))
    a2a = lst("ieepa_annex_ii_exempt_apr2025.csv", "ieepa_annex_ii_apr2025")
    a2n = lst("ieepa_annex_ii_exempt_nov2025.csv", "ieepa_annex_ii_nov2025")
    el = lst("ieepa_exempt_electronics_apr11.csv", "ieepa_electronics_apr11")
    bl = lst("ieepa_exempt_products_budgetlab_hs10.csv", "ieepa_exempt_budgetlab")
    fe = pl.read_csv(d / "floor_exempt_products.csv", infer_schema_length=0).select(
        (pl.lit("floor_exempt_") + pl.col("country_group")).alias("list"), "hts_code",
        pl.lit(None, pl.Float64).alias("rate"), pl.lit(None, pl.Date).alias("effective_date"), "ch99_code",
        pl.col("category").alias("metal"))
    s301 = pl.read_csv(d / "s301_china_lists.csv", infer_schema_length=0).select(
        (pl.lit("s301_list_") + pl.col("list")).alias("list"), "hts_code", _f("rate").alias("rate"),
        pl.col("effective_date").str.to_date(strict=False).alias("effective_date"), "ch99_code",
        pl.lit(None, pl.Utf8).alias("metal"))
    lists = pl.concat([steel_alu, ap, cu, wood, mhd, a2a, a2n, el, bl, fe, s301]).with_columns(
        pl.col("hts_code").str.replace_all(r"\.", ""))
    cols = {**COLS, "metal": "metal type for Section 232 derivative lists; exemption category for floor_exempt_* lists"}
    o = out / "us_tariff_actions_2025"
    t = {"product_lists": write_table(lists, o, "product_lists", cols)}

    # reciprocal rates by ISO3
    ustr = pl.read_csv(src / "ustr_reciprocal_2025" / "ustr_reciprocal_formula_2024.csv", infer_schema_length=0)
    code_iso = dict(zip(ustr["cty_code"], ustr["iso3"]))
    name_iso = {**{k: v for k, v in zip(ustr["partner_census_name"], ustr["iso3"]) if v}, **NAME_ISO3}
    ai = pl.read_csv(d / "reciprocal_rates_annex_i_apr2025.csv", infer_schema_length=0).filter(
        ~pl.col("country").is_in(["Canada", "Mexico"]))
    ai = ai.with_columns(
        pl.col("cty_code").replace({"79f": "7910"}),
        pl.when(pl.col("country") == "China").then(pl.lit("34")).otherwise(pl.col("rate_pct")).alias("rate_pct"))
    ai = ai.with_columns(pl.coalesce(pl.col("country").replace_strict(NAME_ISO3, default=None),
                                     pl.col("cty_code").replace_strict(code_iso, default=None)).alias("iso3"))
    ai = ai.with_columns(pl.when(pl.col("country") == "European Union").then(pl.lit("EU")).otherwise(pl.col("iso3"))
                         .alias("iso3"))
    au = pl.read_csv(d / "reciprocal_rates_eo14326_aug2025.csv", infer_schema_length=0)
    au = au.with_columns(pl.col("country").replace_strict(name_iso, default=None).alias("iso3"))
    miss = ai.filter(pl.col("iso3").is_null())["country"].to_list() + au.filter(pl.col("iso3").is_null())["country"].to_list()
    if miss:
        raise ValueError(f"reciprocal rates: no ISO3 for {miss}")
    rr = (ai.select("iso3", "country", (_f("rate_pct") / 100).alias("rate_annex_i_apr2025"))
          .join(au.select("iso3", pl.col("country").alias("country_aug"), (_f("rate_pct") / 100).alias("rate_eo14326_aug2025")),
                on="iso3", how="full", coalesce=True)
          .with_columns(pl.coalesce("country", "country_aug").alias("country")).drop("country_aug").sort("iso3"))
    t["reciprocal_rates"] = write_table(rr, o, "reciprocal_rates", COLS)
    ms = pl.read_csv(d / "metal_content_shares_bea_hs10.csv", infer_schema_length=0).select(
        "hs10", *[_f(c).cast(pl.Float32).alias(c) for c in ("steel_share", "aluminum_share", "copper_share", "metal_share")])
    ms = ms.unique(subset=["hs10"], keep="first").sort("hs10")
    t["metal_shares"] = write_table(ms, o, "metal_shares", COLS)
    return record(
        "us_tariff_actions_2025", title="US tariff actions 2025: Section 232, IEEPA reciprocal, Section 301 lists",
        kind="policy", year="2025",
        source="Budget-Lab-Yale/tariff-rate-tracker 8315fffd; tradewartracker/trade-war-redux-2025 726c5958 "
               "(see us_tariff_actions_2025/SOURCES.md and stacking_rules.md)",
        publisher="Federal Register / USITC HTS ch. 99 / USTR, compiled by The Budget Lab at Yale and tradewartracker",
        license="MIT (compilations); underlying texts US government public domain", units="fractions",
        citation="EO 14257, 14266, 14326, 14345; Proclamations 10895, 10896, 10908, 10947, 10984; HTS ch. 99.",
        tables=t,
        notes="Lists: s232_metals_primary (ch. 72/73/76 blanket, Budget Lab shortcut), s232_metals_derivative (metal "
              "content basis), s232_autos, s232_auto_parts, s232_copper, s232_lumber, s232_furniture_cabinets, "
              "s232_mhd_trucks_parts, s232_buses, ieepa_annex_ii_apr2025, ieepa_annex_ii_nov2025, "
              "ieepa_electronics_apr11, ieepa_exempt_budgetlab, floor_exempt_<eu|japan|korea|swiss>, "
              "s301_list_<1|2|3|3_addl|4A|4B|biden_25|biden_50_jan25>. Rates by date live in tariffsim.policy.")


def _ustr(src: Path, out: Path) -> dict:
    d = src / "ustr_reciprocal_2025"
    u = pl.read_csv(d / "ustr_reciprocal_formula_2024.csv", infer_schema_length=0).select(
        pl.col("partner_census_name").alias("partner"), "cty_code", "iso3", _b("eu_member").alias("eu_member"),
        _f("imports_usd_m").alias("imports_usd_m"), _f("exports_usd_m").alias("exports_usd_m"),
        _f("chart_rate_pct").alias("chart_rate_pct"), _f("annex_i_rate_pct").alias("annex_i_rate_pct"),
        _f("announced_rate_pct").alias("announced_rate_pct"),
        pl.col("excluded_from_reciprocal").alias("excluded_from_reciprocal"))
    cols = {**COLS, "partner": "partner name (Census)", "iso3": "ISO3 code (null for the EU aggregate, East Timor)"}
    t = {"formula": write_table(u, out / "ustr_reciprocal_2025", "formula", cols)}
    return record(
        "ustr_reciprocal_2025", title="USTR April-2025 reciprocal tariff formula inputs and announced rates",
        kind="policy", year="2024", source="Census FT-900 2024 country file via ab604/charts-2025 4bf41778; Annex I via "
        "tradewartracker 726c5958; chart via MarcAT92/Real-Time-Tariff-Response-Tracker-Web-App b8151512",
        publisher="US Census Bureau; USTR; The White House", license="public domain data (copies: MIT / none stated)",
        units="USD millions; percent", citation="USTR, 'Reciprocal Tariff Calculations' (April 2025); EO 14257 Annex I.",
        tables=t, notes="Formula: dtau = (m - x) / (eps * phi * m), eps = 4, phi = 0.25; rate = max(10, ceil(100 dtau / 2)).")


def _imports(src: Path, out: Path) -> dict:
    d = src / "us_imports_japan_2024_hs10"
    cc = pl.read_csv(d / "census_country_codes.csv", infer_schema_length=0)
    h2 = pl.read_csv(d / "us_imports_2024_by_partner_hs2.csv", infer_schema_length=0)
    names = h2.select("cty_code", pl.col("census_name"), pl.col("iso3"), _b("is_aggregate").alias("agg")).unique("cty_code")
    names = names.with_columns(
        pl.when(pl.col("agg")).then(pl.lit("EU"))
        .otherwise(pl.coalesce(pl.col("iso3"), pl.col("census_name").replace_strict(ISO3_SUPPLEMENT, default=None)))
        .alias("iso3"))
    bad = names.filter(pl.col("iso3").is_null())
    if bad.height:
        raise ValueError(f"imports: partners without ISO3: {bad['census_name'].to_list()}")
    cmap = dict(zip(names["cty_code"], names["iso3"]))
    top = pl.read_parquet(d / "us_imports_2024_hs10_top_partners.parquet").with_columns(pl.col("cty_code").cast(pl.Utf8))
    top_codes = set(top["cty_code"].unique().to_list())
    partners = (names.join(cc.select("cty_code", pl.col("country_name")), on="cty_code", how="left")
                .select("cty_code", "iso3", pl.coalesce("country_name", "census_name").alias("name"),
                        pl.col("iso3").is_in(EU27_ISO3).alias("eu_member"),
                        pl.col("cty_code").is_in(list(top_codes)).alias("hs10_detail"))
                .with_columns(pl.col("iso3").alias("partner")).drop("iso3").sort("partner"))
    hs10 = (top.with_columns(pl.col("cty_code").replace_strict(cmap).alias("partner"))
            .group_by("partner", "hs10").agg(pl.col("customs_value_usd").sum().alias("value_usd"),
                                             pl.col("calculated_duties_usd").sum().alias("duties_usd"))
            .filter(pl.col("value_usd") > 0).sort("partner", "hs10"))
    hs2 = (h2.with_columns(pl.col("cty_code").replace_strict(cmap).alias("partner"))
           .group_by("partner", "hs2").agg(pl.col("customs_value_usd").cast(pl.Int64).sum().alias("value_usd"),
                                           pl.col("calculated_duties_usd").cast(pl.Int64).sum().alias("duties_usd"))
           .filter(pl.col("value_usd") > 0).sort("partner", "hs2"))
    desc = pl.read_csv(d / "hs10_descriptions_census_2024.csv", infer_schema_length=0).select(
        "hs10", pl.col("description_census_short").alias("description"))
    o = out / "us_imports_japan_2024_hs10"
    t = {
        "partners": write_table(partners, o, "partners", COLS),
        "hs10_top_partners": write_table(hs10, o, "hs10_top_partners", COLS),
        "hs2_all_partners": write_table(hs2, o, "hs2_all_partners", COLS),
        "hs10_descriptions": write_table(desc, o, "hs10_descriptions", COLS),
    }
    return record(
        "us_imports_japan_2024_hs10", title="US imports for consumption 2024: HS10 for top-50 partners (incl. Japan), "
        "HS2 for all partners", kind="trade", year="2024",
        source="US Census Bureau International Trade API via tradewartracker/trade-war-redux-2025 726c5958",
        publisher="US Census Bureau", license="public domain (copy: MIT)", units="USD",
        citation="US Census Bureau, imports for consumption (CON_VAL_YR, CAL_DUT_YR), 2024.", tables=t,
        notes="Partner 'EU' is the Census aggregate 0003; its members are also listed individually in hs2_all_partners "
              "(drop EU when summing). Census Gaza and West Bank are both PSE. Partners without HS10 detail are split "
              "to HS10 at run time (tariffsim.policy.us_imports_2024).")


def _japan(src: Path, out: Path) -> dict:
    d = src / "japan_tariffs"
    ln = pl.read_csv(d / "japan_tariff_lines_2025-04-01.csv", infer_schema_length=0).select(
        "stat_code9", pl.col("line_seq").cast(pl.Int16), "hs6", "hs2", "mfn_type",
        _f("mfn_ad_valorem").alias("mfn_ad_valorem"), _f("mfn_ad_valorem_2").alias("mfn_ad_valorem_2"),
        _f("mfn_specific_jpy").alias("mfn_specific_jpy"), "mfn_specific_unit", "mfn_rule", "mfn_applied_raw",
        _f("usjta_ad_valorem").alias("usjta_ad_valorem"), _f("usjta_specific_jpy").alias("usjta_specific_jpy"),
        _b("trq_or_quota_flag").alias("trq_or_quota_flag"), _b("state_trading_flag").alias("state_trading_flag"))
    s6 = pl.read_csv(d / "japan_mfn_hs6_summary_2025-04-01.csv", infer_schema_length=0).select(
        "hs6", "hs2", pl.col("n_lines").cast(pl.Int32), _b("any_specific_or_compound").alias("any_specific_or_compound"),
        _b("any_trq_or_quota").alias("any_trq_or_quota"),
        _f("mfn_av_simple_mean_adval_lines").alias("mfn_av_simple_mean_adval_lines"),
        _f("us_pref_av_simple_mean_adval_lines").alias("us_pref_av_simple_mean_adval_lines"),
        _f("mfn_max_specific_jpy").alias("mfn_max_specific_jpy"))
    tq = pl.read_csv(d / "japan_trqs.csv", infer_schema_length=0).select(
        "product", "hs_scope", _f("quota_quantity").alias("quota_quantity"), "quota_unit", "quota_basis",
        _f("in_quota_ad_valorem").alias("in_quota_ad_valorem"), _f("out_quota_ad_valorem").alias("out_quota_ad_valorem"),
        _f("out_quota_specific_jpy").alias("out_quota_specific_jpy"), "out_quota_specific_unit", "out_quota_rule",
        "usjta_or_deal_note", "source_quantity")
    o = out / "japan_tariffs"
    t = {"lines_2025": write_table(ln, o, "lines_2025", COLS), "hs6_summary": write_table(s6, o, "hs6_summary", COLS),
         "trqs": write_table(tq, o, "trqs", COLS)}
    return record(
        "japan_tariffs", title="Japan applied tariff schedule (2025-04-01), HS6 summary, TRQs", kind="policy",
        year="2025", source="Japan Customs tariff schedule via qlitre/japan-tariff-mcp 4630b3bc (see SOURCES.md)",
        publisher="Japan Customs (Ministry of Finance)", license="MIT (scrape); government publication",
        units="fractions; JPY per unit", citation="Japan Customs, Customs Tariff Schedules of Japan, 1 April 2025.",
        tables=t, notes="AVEs of specific duties are computed in tariffsim.policy.japan with documented unit prices.")


def _gtap(src: Path, out: Path) -> dict:
    d = src / "budget_lab_gtap_imports_2024"
    g = pl.read_csv(d / "imports_by_country_gtap_2024_long.csv", infer_schema_length=0).select(
        "cty_code", "gtap_code", _f("imports_usd").alias("imports_usd")).filter(pl.col("imports_usd") > 0)
    t = {"imports_by_partner_gtap": write_table(g, out / "budget_lab_gtap_imports_2024", "imports_by_partner_gtap", COLS)}
    return record(
        "budget_lab_gtap_imports_2024", title="US imports 2024 by Census partner x GTAP sector (Budget Lab tracker)",
        kind="trade", year="2024", source="arifshehab/tariff-rate-tracker 9919812f output/imports_by_country_gtap_2024.csv",
        publisher="The Budget Lab at Yale (fork output)", license="MIT", units="USD",
        citation="Budget Lab tariff-rate-tracker, imports_by_country_gtap_2024.", tables=t,
        notes="Cross-check of sector weights; ch. 98/99 dropped by the source.")


def build(source: Path, out: Path) -> list[dict]:
    return [*_hts(source, out), _actions(source, out), _ustr(source, out), _imports(source, out), _japan(source, out),
            _gtap(source, out)]
