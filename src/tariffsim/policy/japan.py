"""Japan's side: applied tariffs on US goods, quota AVEs, and the US-Japan fairness table.

Japan's applied schedule (Japan Customs, 1 April 2025) gives ad valorem, specific (JPY per unit) and compound rates
by 9-digit line; US goods may claim the US-Japan Trade Agreement (USJTA, 2020) rate where listed. Specific duties
become ad valorem equivalents (AVE) with a documented unit price: ``AVE = duty_jpy / (price_usd * fx_jpy_per_usd)``.

There are no US exports to Japan by product in the data: Japan's tariffs are weighted by the USA->JPN sector flows
of ``world_io_7x44_2017`` (2017) through the HS -> ICIO crosswalk, using the simple average of line AVEs within each
sector — the fairness table says so in its ``weights`` column.

References
----------
Japan Customs, Customs Tariff Schedules of Japan (2025-04-01); Agreement between the United States of America and
Japan concerning Trade (USJTA), Annex I; WTO Schedule XXXVIII (rice minimum access 770,000 t, milled basis).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

import numpy as np
import polars as pl

from ..data import read_table
from ..errors import DataError, ScenarioError
from .to_world import hs_sector_crosswalk

#: JPY per USD, 2024 annual average (Federal Reserve H.10, about 151.4).
FX_JPY_PER_USD = 151.4

#: Unit prices (USD per unit of the specific duty) used to turn Japan's specific duties into AVEs. Order-of-magnitude
#: 2024 US export prices, *user parameters*: rice — California medium-grain milled, USDA ERS Rice Outlook 2024
#: (~$1,100/t); wheat — US export FOB, USDA ERS Wheat Outlook 2024 (~$280/t); barley (~$250/t); wheat flour
#: (~$450/t); butter (~$6,000/t) and skim milk powder (~$2,700/t), Global Dairy Trade 2024 averages; leather
#: footwear (~$40/pair). Lines with a specific duty and no price here keep their ad valorem part only.
UNIT_PRICES_USD: dict[str, tuple[float, str]] = {
    "1006": (1.10, "kg"), "1001": (0.28, "kg"), "1003": (0.25, "kg"), "1101": (0.45, "kg"),
    "0405": (6.0, "kg"), "0402": (2.7, "kg"), "6403": (40.0, "pair"),
}


def _price_table(prices: Mapping[str, tuple[float, str]] | None) -> dict[str, tuple[float, str]]:
    p = dict(UNIT_PRICES_USD if prices is None else prices)
    for k, (v, _unit) in p.items():
        if not v > 0:
            raise ScenarioError(f"japan unit price for HS {k}: must be > 0, got {v}")
    return p


def japan_line_aves(*, prices: Mapping[str, tuple[float, str]] | None = None,
                    fx_jpy_per_usd: float = FX_JPY_PER_USD) -> pl.DataFrame:
    """AVE of every line of Japan's applied schedule, MFN and for US goods (USJTA where listed).

    Returns
    -------
    polars.DataFrame ``stat_code9, line_seq, hs6, sector, mfn_type, mfn_ave, us_ave, ave_basis,
    trq_or_quota_flag, state_trading_flag``; ``ave_basis`` = ``ad_valorem``, ``specific_priced`` (price from
    ``prices``) or ``adval_part_only`` (specific part without a price: understated).

    Rules: ``av_plus_specific``: av + s/p; ``max_of_av_or_specific``: max(av, s/p);
    ``max_of_av_or_(av2_plus_specific)``: max(av, av2 + s/p); ranges take the upper ad valorem bound.
    """
    if not fx_jpy_per_usd > 0:
        raise ScenarioError(f"fx_jpy_per_usd must be > 0, got {fx_jpy_per_usd}")
    pt = _price_table(prices)
    return _line_aves(tuple(sorted(pt.items())), float(fx_jpy_per_usd))


@lru_cache(maxsize=8)
def _line_aves(pt_items: tuple, fx_jpy_per_usd: float) -> pl.DataFrame:
    pt = dict(pt_items)
    ln = read_table("japan_tariffs", "lines_2025")
    keys = sorted(pt, key=len, reverse=True)

    def price_jpy(hs6: str, unit: str | None) -> float | None:
        for k in keys:
            if hs6.startswith(k) and (unit is None or pt[k][1] == unit):
                return pt[k][0] * fx_jpy_per_usd
        return None

    rows = []
    for r in ln.iter_rows(named=True):
        av = r["mfn_ad_valorem"] or 0.0
        av2 = r["mfn_ad_valorem_2"]
        sp = r["mfn_specific_jpy"]
        basis = "ad_valorem"
        spec_ave = None
        if sp is not None:
            pj = price_jpy(r["hs6"], r["mfn_specific_unit"])
            if pj is None:
                basis = "adval_part_only"
            else:
                basis = "specific_priced"
                spec_ave = sp / pj
        rule = r["mfn_rule"]
        if r["mfn_type"] == "range" and av2 is not None:
            mfn = max(av, av2)
        elif spec_ave is None:
            mfn = av
        elif rule == "av_plus_specific" or r["mfn_type"] in ("compound",):
            mfn = av + spec_ave
        elif rule == "max_of_av_or_specific":
            mfn = max(av, spec_ave)
        elif rule and rule.startswith("max_of_av_or_(av2"):
            mfn = max(av, (av2 or 0.0) + spec_ave)
        else:  # pure specific
            mfn = av + spec_ave
        us = mfn if r["usjta_ad_valorem"] is None or r["usjta_specific_jpy"] is not None else min(mfn, r["usjta_ad_valorem"])
        rows.append((r["stat_code9"], r["line_seq"], r["hs6"], r["mfn_type"], mfn, us, basis,
                     r["trq_or_quota_flag"], r["state_trading_flag"]))
    out = pl.DataFrame(rows, schema=["stat_code9", "line_seq", "hs6", "mfn_type", "mfn_ave", "us_ave", "ave_basis",
                                     "trq_or_quota_flag", "state_trading_flag"], orient="row")
    hs6u = out["hs6"].unique().to_list()
    sec = dict(zip(hs6u, hs_sector_crosswalk(hs6u)))
    return out.with_columns(pl.col("hs6").replace_strict(sec, default=None).alias("sector")).select(
        "stat_code9", "line_seq", "hs6", "sector", "mfn_type", "mfn_ave", "us_ave", "ave_basis",
        "trq_or_quota_flag", "state_trading_flag")


def ntb_aves(*, prices: Mapping[str, tuple[float, str]] | None = None,
             fx_jpy_per_usd: float = FX_JPY_PER_USD, auto_standards_ave: float = 0.0) -> pl.DataFrame:
    """AVEs of Japan's quota and non-tariff barriers on US goods, with every parameter shown.

    Rows: rice out-of-quota (¥341/kg over 770 kt minimum access), wheat and barley out-of-quota, butter and skim
    milk powder out-of-quota, leather footwear out-of-quota, beef (MFN 38.5% vs USJTA 21.6% in FY2025; a
    safeguard, not a quota), and auto standards (``auto_standards_ave``: no sourced estimate in the data, default 0).
    """
    pt = _price_table(prices)
    q = read_table("japan_tariffs", "trqs")

    def row(product: str, hs: str, specific: float | None, unit: str, av: float, rule: str, quota: str, src: str
            ) -> dict[str, Any]:
        price = pt[hs][0] if hs in pt else None
        spec = None if specific is None or price is None else specific / (price * fx_jpy_per_usd)
        if spec is None:
            ave = av
        elif rule == "max":
            ave = max(av, spec)
        else:
            ave = av + spec
        return {"product": product, "hs": hs, "out_quota_specific_jpy": specific, "unit": unit,
                "out_quota_ad_valorem": av, "unit_price_usd": price, "fx_jpy_per_usd": fx_jpy_per_usd,
                "ave": ave, "quota": quota, "source": src}

    def trq(prefix: str) -> dict[str, Any]:
        hit = q.filter(pl.col("hs_scope").str.starts_with(prefix))
        if hit.height == 0:
            raise DataError(f"japan_tariffs.trqs: no row for HS {prefix}")
        return hit.row(0, named=True)

    rice, wheat, barley = trq("1006"), trq("1001"), trq("1003")
    butter, smp, shoes = trq("0405"), trq("0402"), trq("6403")
    src = "Japan Customs tariff schedule 2025-04-01; japan_tariffs/japan_trqs.csv"
    rows = [
        row("rice, out of quota", "1006", rice["out_quota_specific_jpy"], "kg", 0.0, "add",
            f"{rice['quota_quantity']:,.0f} t minimum access (state trading)", src + "; quota: " + rice["source_quantity"]),
        row("wheat, out of quota", "1001", wheat["out_quota_specific_jpy"], "kg", 0.0, "add", "state trading TRQ", src),
        row("barley, out of quota", "1003", barley["out_quota_specific_jpy"], "kg", 0.0, "add", "state trading TRQ", src),
        row("butter, out of quota", "0405", butter["out_quota_specific_jpy"], "kg", butter["out_quota_ad_valorem"],
            "add", "common quota + ALIC", src),
        row("skim milk powder, out of quota", "0402", smp["out_quota_specific_jpy"], "kg", smp["out_quota_ad_valorem"],
            "add", "common quota + ALIC", src),
        row("leather footwear, out of quota", "6403", shoes["out_quota_specific_jpy"], "pair",
            shoes["out_quota_ad_valorem"], "max", f"{shoes['quota_quantity']:,.0f} pairs (all origins)",
            src + "; quota: " + str(shoes["source_quantity"])),
        {"product": "beef (USJTA FY2025 rate; MFN 38.5%)", "hs": "0201", "out_quota_specific_jpy": None, "unit": None,
         "out_quota_ad_valorem": 0.216, "unit_price_usd": None, "fx_jpy_per_usd": fx_jpy_per_usd, "ave": 0.216,
         "quota": "US-specific safeguard trigger, not a quota", "source": src},
        {"product": "motor vehicles: standards and certification (user parameter)", "hs": "8703",
         "out_quota_specific_jpy": None, "unit": None, "out_quota_ad_valorem": None, "unit_price_usd": None,
         "fx_jpy_per_usd": fx_jpy_per_usd, "ave": float(auto_standards_ave), "quota": "none",
         "source": "no sourced estimate in the data folder; default 0"},
    ]
    return pl.DataFrame(rows)


def _world(world: Any) -> Any:
    if world is None:
        raise DataError("pass world= (a World with USA and JPN, e.g. tariffsim.load_world('world_io_7x44_2017')); "
                        "tariffsim.fairness_table() fills that default")
    for r in ("USA", "JPN"):
        if r not in world.regions:
            raise DataError(f"fairness_table: world {world.name!r} has no region {r}")
    return world


def japan_sector_tariffs(world: Any = None, *, preference: str = "usjta", **ave_kw: Any) -> pl.DataFrame:
    """Japan's tariff by world sector: simple mean of line AVEs (``us_ave`` for ``usjta``, ``mfn_ave`` for ``mfn``)
    and the USA->JPN flow weight of the world."""
    if preference not in ("usjta", "mfn"):
        raise ScenarioError(f"preference must be 'usjta' or 'mfn', got {preference!r}")
    w = _world(world)
    col = "us_ave" if preference == "usjta" else "mfn_ave"
    a = japan_line_aves(**ave_kw).filter(pl.col("sector").is_not_null())
    by = a.group_by("sector").agg(pl.col(col).mean().alias("tariff_rate"), pl.len().alias("n_lines"))
    i, j = w.regions.index("USA"), w.regions.index("JPN")
    flows = pl.DataFrame({"sector": list(w.sectors), "flow_usd_mn": w.flows[i, j, :]})
    return flows.join(by, on="sector", how="inner").sort(pl.col("sector").cast(pl.Int64))


def japan_tariffs_to_world(world: Any, *, preference: str = "usjta", exporters: tuple[str, ...] = ("USA",),
                           **ave_kw: Any) -> np.ndarray:
    """World tariffs (N, N, S) with Japan's tariffs on ``exporters`` set to its 2025 applied schedule by sector.

    Sector rate = simple mean of line AVEs (no Japanese import weights by product in the data). Only the
    importer-JPN slices of ``exporters`` change; ``preference="usjta"`` uses USJTA rates where listed (right for US
    goods only).
    """
    st = japan_sector_tariffs(world, preference=preference, **ave_kw)
    t = np.array(world.tariffs, dtype=np.float64, copy=True)
    j = world.regions.index("JPN")
    pos = {s: k for k, s in enumerate(world.sectors)}
    for e in exporters:
        i = world.index(e)
        for s, r in zip(st["sector"], st["tariff_rate"]):
            t[i, j, pos[s]] = r
    return t


def fairness_table(world: Any = None, *, schedule: Any = "latest", date: Any = "2025-09-16",
                   **ave_kw: Any) -> pl.DataFrame:
    """US tariffs on Japan vs Japan's tariffs on the US, the way a reader of the news would compare them.

    Columns ``measure, usa_on_jpn, jpn_on_usa, weights, note`` (fractions). Rows: trade-weighted tariff in 2024
    and on ``date``; simple averages; Japan's quota/NTB AVEs (rice etc., documented parameters, see
    :func:`ntb_aves`); the USTR formula (US rate 24%, "tariffs charged to the USA" = Δτ); and an empty
    ``ge_balancing_tariff`` row that :mod:`tariffsim.strategy` fills from the GE world.
    """
    from ..errors import ScenarioError as _SE
    from ._data import as_date
    from .etr import etr
    from .schedules import as_schedule
    from .ustr import ustr_formula_delta, ustr_reciprocal_rate

    w = _world(world)
    d = as_date(date, "fairness_table: date")
    s = as_schedule(schedule)
    us24 = etr("baseline-2024", "2024-12-31", partners=["JPN"])["etr"][0]
    usd = etr(s, d, partners=["JPN"])["etr"][0]
    jp = s.at(d).filter(pl.col("partner") == "JPN")
    us_simple = float(jp["tariff_rate"].mean())
    us_simple24 = float(as_schedule("baseline-2024").at("2024-12-31").filter(pl.col("partner") == "JPN")["tariff_rate"].mean())
    st = japan_sector_tariffs(w, preference="usjta", **ave_kw)
    st_mfn = japan_sector_tariffs(w, preference="mfn", **ave_kw)
    fw = st["flow_usd_mn"].to_numpy()
    if fw.sum() <= 0:
        raise _SE("fairness_table: the world has no USA->JPN goods flows")
    jp_tw = float((st["tariff_rate"].to_numpy() * fw).sum() / fw.sum())
    jp_tw_mfn = float((st_mfn["tariff_rate"].to_numpy() * fw).sum() / fw.sum())
    lines = japan_line_aves(**ave_kw)
    jp_simple = float(lines["us_ave"].mean())
    ntb = ntb_aves(**{k: v for k, v in ave_kw.items() if k in ("prices", "fx_jpy_per_usd")})
    rice = float(ntb.filter(pl.col("hs") == "1006")["ave"][0])
    u = read_table("ustr_reciprocal_2025", "formula").filter(pl.col("iso3") == "JPN").row(0, named=True)
    dtau = ustr_formula_delta(u["imports_usd_m"], u["exports_usd_m"])
    usr = ustr_reciprocal_rate(u["imports_usd_m"], u["exports_usd_m"])
    wt_jp = f"USA->JPN sector flows of {w.name} (no US exports to Japan by product in the data)"
    rows = [
        ("trade-weighted tariff, 2024", us24, jp_tw, "US: 2024 US imports from Japan by HS10; JP: " + wt_jp,
         "US: baseline-2024 schedule; JP: 2025-04-01 applied schedule with USJTA rates (2024 schedule not in data)"),
        (f"trade-weighted tariff, {d}", usd, jp_tw, "US: 2024 US imports from Japan by HS10; JP: " + wt_jp,
         f"US: schedule {s.name}; JP: USJTA rates where listed"),
        ("trade-weighted tariff, Japan MFN (no USJTA)", None, jp_tw_mfn, wt_jp, "what non-preferential goods pay"),
        ("simple average tariff, 2024", us_simple24, jp_simple, "US: HS10 lines imported from Japan; JP: all 9-digit lines",
         "unweighted"),
        (f"simple average tariff, {d}", us_simple, jp_simple, "US: HS10 lines imported from Japan; JP: all 9-digit lines",
         "unweighted"),
        ("rice out-of-quota AVE (¥341/kg)", None, rice, "per unit price (UNIT_PRICES_USD, FX_JPY_PER_USD)",
         "770 kt minimum access enters in-quota through state trading; see ntb_aves()"),
        ("USTR formula", usr, dtau, "2024 Census goods trade (general imports, exports)",
         "US: announced reciprocal rate max(10%, ceil(Δτ/2)); JP: USTR's 'tariffs charged to the U.S.A.' = Δτ"),
        ("ge_balancing_tariff", None, None, "GE world",
         "tariff that zeroes the bilateral deficit in GE: filled by tariffsim.strategy"),
    ]
    return pl.DataFrame(rows, schema={"measure": pl.Utf8, "usa_on_jpn": pl.Float64, "jpn_on_usa": pl.Float64,
                                      "weights": pl.Utf8, "note": pl.Utf8}, orient="row")


__all__ = ["japan_line_aves", "ntb_aves", "japan_sector_tariffs", "japan_tariffs_to_world", "fairness_table",
           "FX_JPY_PER_USD", "UNIT_PRICES_USD"]
