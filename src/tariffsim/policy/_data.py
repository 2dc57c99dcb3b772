"""Base-year data of the policy layer: the (hs10, partner) universe, import weights and the MFN layer.

Everything here is computed once per process (``functools.lru_cache``) from bundled tables built by
``scripts/builders/policy.py``:

- ``us_imports_japan_2024_hs10``: HS10 detail for 49 partners + the EU aggregate, HS2 for all 226 partners.
  Partners without HS10 detail are split to HS10 within each HS2 chapter by the HS10 mix of a reference group
  (EU members: the EU aggregate minus Slovakia, which has its own detail; everyone else: the pooled detail
  partners). Such rows carry ``imputed = True`` and no duties.
- ``hts_2025_mfn.mfn_hs8``: statutory column-1 General rates. Specific and compound duties have no ad valorem
  equivalent in the HTS; their AVE is realised 2024 duties / customs value (HTS U.S. note 2(v)(xix) uses the same
  definition for the 2025 deals), pooled by HS10 over partners that paid column-1 rates in 2024 (no US FTA, not
  subject to Section 301 or 232 duties).

The *applied* MFN rate of a row is the statutory rate, except where a preference was used in 2024: for US FTA
partners (:data:`FTA_PARTNERS`) and for Japan on HTS lines with a "JP" special rate (USJTA), min(statutory,
realised) on HS10 detail rows and, on imputed FTA-partner rows, statutory × min(1, realised/statutory) of the
partner's HS2 chapter (Budget Lab's ``mfn_exemption: hs2`` method). Japan's applied 2024 average comes out at
1.507% against Census calculated duties of 1.508%.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import polars as pl

from ..data import read_table
from ..errors import DataError

EU27 = ("AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "IRL", "ITA",
        "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE")

# Partners whose 2024 realised duties are plain column-1 duties: no US FTA in force in 2024, no Section 301,
# no AGOA; Section 232 duties only on ch. 72/73/76 (excluded by the min() rule). USMCA, KORUS, CAFTA-DR and the
# bilateral FTAs (AUS, CHL, COL, PER, SGP, ISR, ...), China (301), Russia, and Japan (USJTA) are left out.
# US FTA partners in force in 2024 (USMCA, KORUS, CAFTA-DR and the bilateral FTAs): their realised 2024 duties
# below the column-1 rate are preference use. Other partners pay the statutory rate, except Japan on the HTS lines
# whose special column lists "JP" (US-Japan Trade Agreement, 2020).
FTA_PARTNERS = ("CAN", "MEX", "KOR", "AUS", "CHL", "COL", "PER", "PAN", "SGP", "ISR", "JOR", "MAR", "BHR", "OMN",
                "CRI", "DOM", "SLV", "GTM", "HND", "NIC")

COLUMN1_POOL = ("EU", "GBR", "CHE", "TWN", "VNM", "IND", "THA", "MYS", "BRA", "IDN", "TUR", "PHL", "KHM", "SAU",
                "ARG", "IRQ", "ARE", "NOR", "HKG", "NZL", "PAK", "LKA", "EGY", "KWT", "BGD", "ECU", "VEN", "TTO",
                "DZA")


@dataclass(frozen=True)
class Base:
    """The row universe and per-row base data (arrays aligned with ``table``)."""

    table: pl.DataFrame          # h, p (integer keys), value_usd, duties_usd, imputed
    hs10_codes: np.ndarray       # unique HS10 codes (str), sorted
    partners: tuple[str, ...]    # unique partner ISO3 codes, sorted
    h_idx: np.ndarray            # row -> position in hs10_codes
    p_idx: np.ndarray            # row -> position in partners
    value_usd: np.ndarray
    mfn_general: np.ndarray      # statutory column-1 AVE (fraction) per row
    mfn_applied: np.ndarray      # applied MFN (preferences used in 2024), per row
    prefixes: dict[int, np.ndarray]  # L -> hs10_codes[:L] for L in 2, 4, 6, 8, 10


@lru_cache(maxsize=1)
def partner_table() -> pl.DataFrame:
    """Census partners: ``partner`` (ISO3), ``name``, ``eu_member``, ``hs10_detail``."""
    p = read_table("us_imports_japan_2024_hs10", "partners")
    return (p.group_by("partner").agg(pl.col("name").first(), pl.col("eu_member").any(), pl.col("hs10_detail").any())
            .sort("partner"))


@lru_cache(maxsize=1)
def _codes() -> tuple[np.ndarray, tuple[str, ...]]:
    """Sorted unique HS10 codes (with detail somewhere) and sorted partner codes."""
    top = read_table("us_imports_japan_2024_hs10", "hs10_top_partners")
    hs2 = read_table("us_imports_japan_2024_hs10", "hs2_all_partners")
    hs10 = np.array(sorted(top["hs10"].unique().to_list()))
    partners = tuple(sorted(set(hs2["partner"].unique().to_list()) - {"EU"}))
    return hs10, partners


@lru_cache(maxsize=1)
def _imports() -> pl.DataFrame:
    """Import rows as integer keys ``h, p`` (positions in :func:`_codes`) + ``value_usd, duties_usd, imputed``."""
    hs10_codes, partners = _codes()
    hmap = pl.DataFrame({"hs10": hs10_codes, "h": np.arange(len(hs10_codes), dtype=np.int32)})
    pmap = pl.DataFrame({"partner": list(partners), "p": np.arange(len(partners), dtype=np.int32)})
    top = read_table("us_imports_japan_2024_hs10", "hs10_top_partners").join(hmap, on="hs10")
    hs2 = read_table("us_imports_japan_2024_hs10", "hs2_all_partners").filter(pl.col("partner") != "EU")
    detail = (top.filter(pl.col("partner") != "EU").join(pmap, on="partner")
              .select("h", "p", pl.col("value_usd").cast(pl.Float64), pl.col("duties_usd").cast(pl.Float64),
                      pl.lit(False).alias("imputed"), "partner"))
    detail_partners = set(detail["partner"].unique().to_list())
    # EU members without their own detail: EU aggregate minus the members that have detail (Slovakia).
    eu_detail = detail.filter(pl.col("partner").is_in(EU27)).group_by("h").agg(pl.col("value_usd").sum().alias("sub"))
    eu_rest = (top.filter(pl.col("partner") == "EU").join(eu_detail, on="h", how="left")
               .select("h", (pl.col("value_usd") - pl.col("sub").fill_null(0)).clip(0).alias("w")))
    pool = pl.concat([detail.select("h", pl.col("value_usd").alias("w")), eu_rest]).group_by("h").agg(pl.col("w").sum())
    hs2_of_h = pl.DataFrame({"h": np.arange(len(hs10_codes), dtype=np.int32), "hs2": [c[:2] for c in hs10_codes]})

    def shares(w: pl.DataFrame) -> pl.DataFrame:
        w = w.filter(pl.col("w") > 0).join(hs2_of_h, on="h")
        return w.with_columns((pl.col("w") / pl.col("w").sum().over("hs2")).alias("share")).select("hs2", "h", "share")

    rest = hs2.filter(~pl.col("partner").is_in(list(detail_partners))).join(pmap, on="partner")
    parts = []
    for group, sh in ((True, shares(eu_rest)), (False, shares(pool))):
        r = rest.filter(pl.col("partner").is_in(EU27) == group)
        parts.append(r.join(sh, on="hs2", how="inner").select(
            "h", "p", (pl.col("value_usd") * pl.col("share")).alias("value_usd"),
            pl.lit(None, pl.Float64).alias("duties_usd"), pl.lit(True).alias("imputed")))
    out = pl.concat([detail.drop("partner"), *parts]).filter(pl.col("value_usd") > 0)
    return out  # order: detail partners, then imputed (deterministic; sorting 2M rows costs ~1 s)


def _with_labels(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``hs10`` and ``partner`` string columns to a frame keyed by ``h, p``."""
    hs10_codes, partners = _codes()
    return df.with_columns(pl.Series("hs10", hs10_codes).gather(df["h"]),
                           pl.Series("partner", list(partners)).gather(df["p"]))


@lru_cache(maxsize=1)
def _hs2_realised() -> pl.DataFrame:
    return read_table("us_imports_japan_2024_hs10", "hs2_all_partners").filter(pl.col("partner") != "EU")


@lru_cache(maxsize=1)
def mfn_hs10() -> pl.DataFrame:
    """Statutory column-1 General AVE by HS10 of the import universe.

    Columns ``hs10, mfn_general_rate, rate_type, ave_source`` where ``ave_source`` is ``statutory`` (ad valorem or
    free), ``realised_pool`` (specific/compound: duties/value over :data:`COLUMN1_POOL`), ``realised_all`` (same
    over all HS10-detail partners except CHN and RUS), or ``adval_part`` (no realised duties: ad valorem part only).
    """
    imp = _with_labels(_imports().filter(~pl.col("imputed")))
    codes = pl.DataFrame({"hs10": _codes()[0]})
    hts = read_table("hts_2025_mfn", "mfn_hs8")
    pool = imp.filter(pl.col("partner").is_in(COLUMN1_POOL)).group_by("hs10").agg(
        (pl.col("duties_usd").sum() / pl.col("value_usd").sum()).alias("r_pool"))
    allp = imp.filter(~pl.col("partner").is_in(["CHN", "RUS"])).group_by("hs10").agg(
        (pl.col("duties_usd").sum() / pl.col("value_usd").sum()).alias("r_all"))
    t = (codes.with_columns(pl.col("hs10").str.slice(0, 8).alias("hs8"))
         .join(hts.select("hs8", "rate_type", "adval_rate", "has_specific", "usjta_line"), on="hs8", how="left")
         .join(pool, on="hs10", how="left").join(allp, on="hs10", how="left"))
    spec = pl.col("has_specific") | pl.col("rate_type").is_null()
    t = t.with_columns(
        pl.when(~spec).then(pl.lit("statutory"))
        .when(pl.col("r_pool").is_not_null()).then(pl.lit("realised_pool"))
        .when(pl.col("r_all").is_not_null()).then(pl.lit("realised_all"))
        .otherwise(pl.lit("adval_part")).alias("ave_source"),
        pl.when(~spec).then(pl.col("adval_rate"))
        .otherwise(pl.max_horizontal(pl.col("adval_rate").fill_null(0.0), pl.coalesce("r_pool", "r_all", pl.lit(0.0))))
        .alias("mfn_general_rate"),
    )
    return t.select("hs10", "mfn_general_rate", pl.col("rate_type").fill_null("unknown"), "ave_source",
                    pl.col("usjta_line").fill_null(False)).sort("hs10")


@lru_cache(maxsize=1)
def base() -> Base:
    """The cached :class:`Base` (about 2 s to build)."""
    hs10_codes, partners = _codes()
    imp = _imports()
    mfn = mfn_hs10()  # sorted by hs10 = aligned with hs10_codes
    if mfn.height != len(hs10_codes):
        raise DataError("policy base: MFN table and HS10 universe disagree (rebuild the bundle)")
    h = imp["h"].to_numpy()
    p = imp["p"].to_numpy()
    gen_u = mfn["mfn_general_rate"].fill_null(0.0).to_numpy()
    spec_u = (mfn["ave_source"] != "statutory").to_numpy()
    value = imp["value_usd"].to_numpy()
    duties = imp["duties_usd"].to_numpy()  # NaN on imputed rows
    imputed = imp["imputed"].to_numpy()
    gen = gen_u[h]
    with np.errstate(invalid="ignore", divide="ignore"):
        realised = duties / value
    # Applied MFN on detail rows: statutory, except preference use (FTA partners; Japan on USJTA lines):
    # min(statutory, realised). Specific-duty lines use the partner's own realised AVE (except CHN/RUS whose
    # realised duties include Section 301/232 duties).
    pidx = {c: i for i, c in enumerate(partners)}
    p_chn_rus = np.zeros(len(partners), dtype=bool)
    p_chn_rus[[pidx[c] for c in ("CHN", "RUS") if c in pidx]] = True
    p_fta = np.zeros(len(partners), dtype=bool)
    p_fta[[pidx[c] for c in FTA_PARTNERS if c in pidx]] = True
    usjta_u = mfn["usjta_line"].to_numpy()
    pref = p_fta[p] | (usjta_u[h] & (p == pidx.get("JPN", -1)))
    own = spec_u[h] & ~p_chn_rus[p]
    applied = np.where(own, realised, np.where(pref, np.minimum(gen, realised), gen))
    # Imputed rows of FTA partners: statutory x min(1, realised / statutory duties) of the partner's HS2 chapter.
    hs2_u = np.array([int(c[:2]) for c in hs10_codes], dtype=np.int16)
    key = p.astype(np.int64) * 100 + hs2_u[h]
    stat_d = np.bincount(key[imputed], weights=(gen * value)[imputed], minlength=len(partners) * 100)
    real = _hs2_realised().join(pl.DataFrame({"partner": list(partners), "p": np.arange(len(partners))}), on="partner")
    real_d = np.zeros(len(partners) * 100)
    real_d[(real["p"].to_numpy() * 100 + real["hs2"].cast(pl.Int64).to_numpy())] = real["duties_usd"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(stat_d > 0, np.clip(real_d / stat_d, 0.0, 1.0), 1.0)
    applied = np.where(imputed, np.where(p_fta[p], gen * factor[key], gen), applied)
    applied = np.nan_to_num(applied, nan=0.0)
    table = pl.DataFrame({"h": h, "p": p, "value_usd": value, "duties_usd": imp["duties_usd"], "imputed": imputed})
    prefixes = {L: np.array([c[:L] for c in hs10_codes]) for L in (2, 4, 6, 8, 10)}
    return Base(table=table, hs10_codes=hs10_codes, partners=partners, h_idx=h.astype(np.int32),
                p_idx=p.astype(np.int32), value_usd=value, mfn_general=gen, mfn_applied=applied, prefixes=prefixes)


@lru_cache(maxsize=1)
def product_lists() -> pl.DataFrame:
    """All 2025 and 2026 product lists (``list, hts_code, rate, effective_date, ch99_code, metal``)."""
    return pl.concat([read_table("us_tariff_actions_2025", "product_lists"),
                      read_table("us_tariff_actions_2026", "product_lists")], how="vertical_relaxed")


#: USMCA claim-share conventions: column of ``us_tariff_actions_2026.usmca_shares`` or a flat per-country share.
USMCA_COLUMNS = ("share_since_2025_07", "share_2025", "share_2024")


@lru_cache(maxsize=8)
def usmca_row_shares(column: str, fill: str = "zero") -> np.ndarray:
    """Per-row USMCA claim share (0 outside Canada and Mexico) from the product-level shares ``column``.

    Lines without a measured share (no DataWeb imports in the window) get ``fill``: ``"zero"`` (the tracker:
    ``coalesce(usmca_share, 0)`` in ``06_calculate_rates.R`` step 7, i.e. no USMCA claim) or ``"mean"`` (the
    country's import-weighted mean share over the lines that have one).
    """
    if fill not in ("zero", "mean"):
        raise DataError(f"usmca_row_shares: fill must be 'zero' or 'mean', got {fill!r}")
    b = base()
    t = read_table("us_tariff_actions_2026", "usmca_shares").select("hs10", "partner", pl.col(column).alias("s"))
    out = np.zeros(b.value_usd.size)
    codes = pl.DataFrame({"hs10": b.hs10_codes, "h": np.arange(len(b.hs10_codes), dtype=np.int32)})
    for iso in ("CAN", "MEX"):
        if iso not in b.partners:
            continue
        pi = b.partners.index(iso)
        rows = np.nonzero(b.p_idx == pi)[0]
        sh = np.full(len(b.hs10_codes), np.nan)
        j = codes.join(t.filter(pl.col("partner") == iso).drop_nulls("s"), on="hs10", how="inner")
        sh[j["h"].to_numpy()] = j["s"].cast(pl.Float64).to_numpy()
        v = sh[b.h_idx[rows]]
        ok = ~np.isnan(v)
        mean = float(np.average(v[ok], weights=b.value_usd[rows][ok])) if ok.any() and fill == "mean" else 0.0
        out[rows] = np.clip(np.where(ok, v, mean), 0.0, 1.0)
    out.flags.writeable = False
    return out


@lru_cache(maxsize=1)
def goods_row_mask() -> np.ndarray:
    """True for base rows whose HS10 maps to a goods sector: every chapter but 98 (special classification
    provisions, e.g. US goods returned) and 99 (Census estimate 9999.95).

    The Budget Lab tracker weights its ETRs by Census 2024 imports by HS10 x country x GTAP sector
    (``08_weighted_etr.R``); ``resources/hs10_gtap_crosswalk.csv`` maps chapters 98/99 to no GTAP sector, so those
    flows are not in its weights (``budget_lab_gtap_imports_2024`` SOURCES.md: total $3,119bn).
    """
    b = base()
    ch = b.prefixes[2]
    out = ~np.isin(ch, ["98", "99"])[b.h_idx]
    out.flags.writeable = False
    return out


#: MFN conventions: ``realised_2024`` (:attr:`Base.mfn_applied`) or ``budgetlab`` (:func:`mfn_budgetlab_rows`).
MFN_CONVENTIONS = ("budgetlab", "realised_2024")


@lru_cache(maxsize=4)
def mfn_budgetlab_rows(usmca_column: str = "share_since_2025_07", usmca_fill: str = "zero") -> np.ndarray:
    """Per-row MFN rate as the Budget Lab tracker measures it (its ``base_rate`` after steps 6c and 7).

    ``base_rate = statutory ad valorem column-1 rate`` (``helpers.R::parse_rate``: "Free" = 0, a simple percentage
    is read, a specific or compound rate is NA and then counted as 0), times ``1 - exemption_share[hs2, partner]``
    (FTA/GSP preference use from Census calculated duties, ``mfn_exemption: hs2``,
    ``06_calculate_rates.R`` step 6c) for every partner but Canada and Mexico, whose rate is times
    ``1 - usmca_share[hs10]`` instead (step 7; ``exclude_usmca_countries``).
    """
    b = base()
    m = mfn_hs10()
    adval = np.where((m["ave_source"] == "statutory").to_numpy(), m["mfn_general_rate"].fill_null(0.0).to_numpy(), 0.0)
    ex = read_table("us_tariff_actions_2026", "mfn_exemption_shares")
    share = np.zeros((len(b.partners), 100))
    pos = {c: i for i, c in enumerate(b.partners)}
    keep = ex.filter(pl.col("partner").is_in(list(pos)))
    share[[pos[c] for c in keep["partner"]], keep["hs2"].cast(pl.Int64).to_numpy()] = \
        keep["exemption_share"].cast(pl.Float64).to_numpy()
    hs2 = b.prefixes[2].astype(np.int64)
    pref = share[b.p_idx, hs2[b.h_idx]]
    usmca = usmca_row_shares(usmca_column, usmca_fill)
    camx = np.isin(b.p_idx, [pos[c] for c in ("CAN", "MEX") if c in pos])
    out = adval[b.h_idx] * np.where(camx, 1.0 - usmca, 1.0 - pref)
    out.flags.writeable = False
    return out


def flat_usmca_row_shares(shares: tuple[tuple[str, float], ...]) -> np.ndarray:
    """Per-row USMCA claim share from one share per country (e.g. ``(("CAN", 0.67), ("MEX", 0.68))``)."""
    b = base()
    per = np.zeros(len(b.partners))
    for iso, v in shares:
        if iso in b.partners:
            per[b.partners.index(iso)] = v
    return per[b.p_idx]


@lru_cache(maxsize=1)
def list_names() -> frozenset[str]:
    return frozenset(product_lists()["list"].unique().to_list())


@lru_cache(maxsize=1)
def metal_shares() -> dict[str, np.ndarray]:
    """Steel / aluminium / copper / total metal content shares aligned with ``base().hs10_codes``.

    HS10 codes missing from the Budget Lab table take 0.5 (Budget Lab ``metal_content.flat_share`` fallback).
    """
    b = base()
    ms = read_table("us_tariff_actions_2025", "metal_shares")
    j = pl.DataFrame({"hs10": b.hs10_codes}).join(ms, on="hs10", how="left")
    return {m: j[f"{m}_share"].cast(pl.Float64).fill_null(0.5).to_numpy() for m in ("steel", "aluminum", "copper", "metal")}


@lru_cache(maxsize=1)
def hts_universe() -> frozenset[str]:
    """HS8 codes of HTS 2025 Basic plus HS10 codes with 2024 imports (for validating user HS codes)."""
    return frozenset(read_table("hts_2025_mfn", "mfn_hs8")["hs8"].to_list()) | frozenset(base().hs10_codes.tolist())


def known_hs_code(code: str) -> bool:
    """True if ``code`` (2-10 digits) is a prefix of some HTS8 line or imported HS10 code."""
    if len(code) == 10:
        return code in hts_universe() or code[:8] in hts_universe()
    return code in _hs8_by_len(len(code))


@lru_cache(maxsize=8)
def _hs8_by_len(n: int) -> frozenset[str]:
    return frozenset(c[:n] for c in hts_universe())


def as_date(d: object, what: str = "date") -> date:
    """Parse a ``date``/``datetime``/ISO string; ScenarioError naming ``what`` otherwise."""
    from datetime import datetime

    from ..errors import ScenarioError

    if isinstance(d, datetime):
        return d.date()
    if isinstance(d, date):
        return d
    if isinstance(d, str):
        try:
            return date.fromisoformat(d.strip())
        except ValueError:
            pass
    raise ScenarioError(f"{what}: {d!r} is not a date (use YYYY-MM-DD)")


