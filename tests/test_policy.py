"""Policy layer (issue 4): stacking rules on hand-checked products, ETRs, the USTR formula, Japan's side, GE hook.

Expected rates are worked out by hand from the legal texts (cited per test) and the products' column-1 rates in
HTS 2025; none is copied from the code's output.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

import tariffsim as ts
from tariffsim.errors import ScenarioError
from tariffsim.policy import Measure, Schedule, builtin_schedule, etr, list_schedules, us_imports_2024
from tariffsim.policy.japan import FX_JPY_PER_USD, japan_line_aves, ntb_aves
from tariffsim.policy.to_world import sector_rates
from tariffsim.policy.ustr import ustr_reciprocal_rate, ustr_table

CAR = "8703230140"      # passenger car 1.5-3.0 l, HTS 8703.23.01: MFN 2.5%, 232 autos list (Proc. 10908)
STEEL = "7208390030"    # hot-rolled flat steel, ch. 72: MFN free
PHARMA = "3004901000"   # medicaments, EO 14257 Annex II: MFN free
TURBINE = "7020006000"  # other articles of glass, HTS 7020.00.60: MFN 5%, no 232 programme, no USJTA rate
EXCAVATOR = "8429521010"  # steel derivative added by the 2025-08-18 inclusions (FR 2025-15819), MFN free


def rate(schedule: str, hs10: str, partner: str, d: str) -> float:
    return float(builtin_schedule(schedule).lookup(hs10, partner, d)["tariff_rate"][0])


def test_builtin_schedule_names():
    assert list_schedules() == ["baseline-2024", "liberation-day-2025-04-02", "pause-2025-04-10", "august-2025",
                                "japan-deal-2025-09", "end-2025", "post-ruling-2026-02-24", "section122-2026",
                                "forced-labor-301-2026-07-24", "current", "latest"]
    with pytest.raises(ScenarioError, match="unknown schedule"):
        builtin_schedule("nope")


@pytest.mark.parametrize("d, expected", [
    ("2024-12-31", 0.025),         # MFN 2.5% only
    ("2025-04-03", 0.025 + 0.25),  # + Section 232 autos 25% (Proc. 10908), no reciprocal on 232 goods (EO 14257 3(b))
    ("2025-08-10", 0.025 + 0.25),  # Japan floor does not reach 232 goods before the auto deal
    ("2025-09-16", 0.15),          # EO 14345 / HTS 9903.94.40: 15% all-in (MFN included)
])
def test_japanese_passenger_car(d, expected):
    assert rate("baseline-2024" if d < "2025" else "latest", CAR, "JPN", d) == pytest.approx(expected, abs=2e-4)


def test_car_before_the_deal_schedule_keeps_25_percent():
    # as known on 7 Aug 2025, the auto deal (announced 4 Sept) is not in the schedule
    assert rate("august-2025", CAR, "JPN", "2025-09-16") == pytest.approx(0.275, abs=2e-4)


@pytest.mark.parametrize("d, expected", [
    ("2024-12-31", 0.0),   # Japan steel TRQ arrangement (Proc. 9705 country arrangements)
    ("2025-03-12", 0.25),  # Proc. 10896 ends exemptions
    ("2025-06-04", 0.50),  # Proc. 10947
    ("2025-09-16", 0.50),  # no Japan relief on metals; no reciprocal on 232 goods
])
def test_japanese_steel(d, expected):
    assert rate("baseline-2024" if d < "2025" else "latest", STEEL, "JPN", d) == pytest.approx(expected, abs=1e-12)


def test_steel_232_in_2024_by_country_arrangement():
    # Proc. 9705: 25% on ch. 72/73 steel; Taiwan had no arrangement, Japan a TRQ (modelled exempt)
    t = builtin_schedule("baseline-2024").at("2024-12-31").filter(pl.col("hs10").str.starts_with("72"))
    assert (t.filter(pl.col("partner") == "TWN")["s232_rate"] == 0.25).all()
    assert (t.filter(pl.col("partner") == "JPN")["s232_rate"] == 0.0).all()


@pytest.mark.parametrize("d", ["2025-04-05", "2025-04-09", "2025-09-16"])
def test_annex_ii_product_pays_no_reciprocal(d):
    r = builtin_schedule("latest").lookup(PHARMA, "JPN", d)
    assert r["ieepa_rate"][0] == 0.0
    assert r["tariff_rate"][0] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("schedule, d, expected", [
    ("latest", "2025-04-05", 0.05 + 0.10),        # EO 14257 baseline 10%
    ("latest", "2025-04-09", 0.05 + 0.24),        # Annex I Japan 24% for one day
    ("latest", "2025-04-10", 0.05 + 0.10),        # EO 14266 pause
    ("liberation-day-2025-04-02", "2025-05-01", 0.05 + 0.24),  # as announced: no pause
    ("august-2025", "2025-08-10", 0.05 + 0.15),   # EO 14326: Japan +15% on top of MFN
    ("latest", "2025-08-10", 0.15),               # EO 14345 floor, retroactive to 2025-08-07: 15% incl. MFN
])
def test_japanese_non_232_good(schedule, d, expected):
    assert rate(schedule, TURBINE, "JPN", d) == pytest.approx(expected, abs=1e-12)


def test_derivative_pays_232_on_steel_content_and_reciprocal_on_the_rest():
    ms = ts.read_table("us_tariff_actions_2025", "metal_shares").filter(pl.col("hs10") == EXCAVATOR)
    s = float(ms["steel_share"][0])
    assert 0 < s < 1
    # before the inclusion date only the Japan floor (MFN free -> 15%)
    assert rate("latest", EXCAVATOR, "JPN", "2025-08-10") == pytest.approx(0.15, abs=1e-12)
    # from 2025-08-18: 50% on steel content + 15% floor on the non-steel value
    r = builtin_schedule("latest").lookup(EXCAVATOR, "JPN", "2025-08-18")
    assert r["s232_rate"][0] == pytest.approx(0.5 * s, rel=1e-6)
    assert r["ieepa_rate"][0] == pytest.approx(0.15 * (1 - s), rel=1e-6)


def test_china_april_2025_stack():
    # a Chinese MFN-free good on no 301 list: fentanyl 20% (EO 14228) + reciprocal 125% (EO 14266)
    r = builtin_schedule("latest").lookup(TURBINE, "CHN", "2025-04-10")
    assert r["fentanyl_rate"][0] == pytest.approx(0.20)
    assert r["ieepa_rate"][0] == pytest.approx(1.25)
    r = builtin_schedule("latest").lookup(TURBINE, "CHN", "2025-05-14")  # EO 14298: back to 10%
    assert r["ieepa_rate"][0] == pytest.approx(0.10)


def test_at_covers_every_import_row_and_layers_add_up():
    s = builtin_schedule("japan-deal-2025-09")
    t = s.at("2025-09-16")
    imp = us_imports_2024()
    assert t.height == imp.height
    assert t["hs10"].str.len_chars().min() == 10
    layers = [c for c in t.columns if c.endswith("_rate") and c != "tariff_rate"]
    assert len(layers) == 12
    assert np.allclose(t.select(pl.sum_horizontal(layers)).to_series().to_numpy(), t["tariff_rate"].to_numpy())


def test_imports_match_census_totals():
    imp = us_imports_2024()
    # SOURCES.md: $3,251.2bn over 226 partners; Japan $151.34bn
    assert imp["value_usd"].sum() / 1e9 == pytest.approx(3251.15, abs=0.1)
    assert us_imports_2024("JPN")["value_usd"].sum() / 1e9 == pytest.approx(151.34, abs=0.01)


def test_etr_2024_close_to_census_calculated_duties():
    # Census calculated duties / customs value, 2024: Japan 1.51%, all partners 2.34% (SOURCES.md); ours adds
    # statutory 301/232 rates without product exclusions, so allow 0.5 pp overall, plus the Section 201 solar
    # safeguard at its end-2024 rate on all modules (the bifacial exclusion, most of 2024's modules, ended in June)
    t = etr("baseline-2024", "2024-12-31", by="partner", partners=["JPN"])
    assert t["etr"][0] == pytest.approx(0.0151, abs=0.001)
    e = etr("baseline-2024", "2024-12-31")
    assert e["etr"][0] - e["etr_s201"][0] == pytest.approx(0.0234, abs=0.005)


def test_etr_layers_sum_and_post_hook():
    t = etr("latest", ["2025-04-10", "2025-09-16"], by="hs2")
    parts = [c for c in t.columns if c.startswith("etr_")]
    assert np.allclose(t.select(pl.sum_horizontal(parts)).to_series(), t["etr"])
    pre = etr("latest", "2025-09-16")["etr"][0]
    same = etr("latest", "2025-09-16", weights="post",
               post_imports=lambda r: r.select("hs10", "partner", pl.col("value_usd").alias("value_usd_new")))
    assert same["etr"][0] == pytest.approx(pre, rel=1e-12)
    only_jpn = etr("latest", "2025-09-16", weights="post", post_imports=lambda r: r.select(
        "hs10", "partner", pl.when(pl.col("partner") == "JPN").then(pl.col("value_usd")).otherwise(0.0)
        .alias("value_usd_new")))
    assert only_jpn["etr"][0] == pytest.approx(etr("latest", "2025-09-16", partners=["JPN"])["etr"][0], rel=1e-12)


def test_ustr_formula_japan_and_floor():
    # USTR: dtau = (148,208.6 - 79,740.8) / (4 * 0.25 * 148,208.6) = 46.2% -> ceil(23.1) = 24%
    assert ustr_reciprocal_rate(148_208.6, 79_740.8) == 0.24
    assert ts.ustr_reciprocal_rate(100.0, 200.0) == 0.10
    assert ustr_reciprocal_rate(100.0, 0.0) == 0.50
    with pytest.raises(ScenarioError):
        ustr_reciprocal_rate(0.0, 1.0)


def test_ustr_table_reproduces_announced_rates_and_explains_exceptions():
    t = ustr_table()
    counts = dict(zip(*t["match"].value_counts().to_dict(as_series=False).values()))
    # SOURCES.md: 178 match, 23 mismatch, 33 n/a (27 EU members + 6 excluded)
    assert counts == {True: 178, False: 23, None: 33}
    bad = t.filter(pl.col("match") == False)  # noqa: E712
    assert bad["reason"].null_count() == 0
    assert not bad["reason"].str.contains("unexplained").any()
    for name, rule in [("China", 0.34), ("Vietnam", 0.46), ("Japan", 0.24)]:
        row = t.filter(pl.col("partner") == name)
        assert row["computed_rate"][0] == rule and row["match"][0]


def test_rice_into_japan_ave():
    # 1006.30-090: WTO *(341 yen/kg); AVE at $1.10/kg and 151.4 JPY/USD = 341 / 166.54 = 2.0476
    expected = 341 / (1.10 * FX_JPY_PER_USD)
    a = japan_line_aves().filter(pl.col("stat_code9") == "100630090")
    assert a["mfn_ave"][0] == pytest.approx(expected, rel=1e-9)
    n = ntb_aves().filter(pl.col("hs") == "1006")
    assert n["ave"][0] == pytest.approx(expected, rel=1e-9)
    # in-quota state-trading line is duty free
    assert japan_line_aves().filter(pl.col("stat_code9") == "100630010")["mfn_ave"][0] == 0.0


def test_beef_usjta_rate_for_us_goods():
    a = japan_line_aves().filter(pl.col("stat_code9") == "020130010")
    assert a["mfn_ave"][0] == pytest.approx(0.385)
    assert a["us_ave"][0] == pytest.approx(0.216)


def test_fairness_table_layout():
    f = ts.fairness_table(date="2025-09-16")
    assert f.columns == ["measure", "usa_on_jpn", "jpn_on_usa", "weights", "note"]
    usta = f.filter(pl.col("measure") == "USTR formula")
    assert usta["usa_on_jpn"][0] == 0.24
    assert usta["jpn_on_usa"][0] == pytest.approx((148_208.6 - 79_740.8) / 148_208.6, abs=1e-3)
    ge = f.filter(pl.col("measure") == "ge_balancing_tariff")
    assert ge.height == 1 and ge["usa_on_jpn"][0] is None
    assert f["weights"].str.contains("world_io_7x44_2017").any()


# ------------------------------------------------------------------ user measures and errors
def test_yaml_measure(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("""
name: my-deal
base: latest
measures:
  - name: jpn-cars-10
    layer: s232
    rule: floor_all_in
    rate: 0.10
    products: ["list:s232_autos"]
    partners: [JPN]
    start: 2026-01-01
    replaces: [s232-autos-jpn-floor]
    authority: hypothetical
""")
    s = Schedule.from_yaml(p)
    assert rate("latest", CAR, "JPN", "2026-01-02") == pytest.approx(0.15)
    assert float(s.lookup(CAR, "JPN", "2026-01-02")["tariff_rate"][0]) == pytest.approx(0.10)


def test_uniform_mfn_measure_aggregates_to_the_same_rate_in_every_sector():
    world = ts.load_world("world_io_7x44_2017")
    s = Schedule("flat", (Measure(name="flat-7", layer="mfn", rate=0.07, start=ts.policy._data.as_date("2020-01-01")),))
    t = s.to_world(world, "2024-12-31")
    j = world.regions.index("USA")
    _, w = sector_rates(world, np.zeros(us_imports_2024().height))
    assert (w > 0).sum() > 100  # most exporter x goods-sector cells have 2024 imports
    assert np.allclose(t[:, j, :][w > 0], 0.07)
    # other importers untouched, diagonal zero
    mask = np.ones(t.shape, dtype=bool)
    mask[:, j, :] = False
    assert np.array_equal(t[mask], np.asarray(world.tariffs)[mask])
    assert (t[j, j, :] == 0).all()


def test_bad_input_unknown_hs_code():
    s = builtin_schedule("baseline-2024").with_measures(
        {"name": "typo", "layer": "other", "rate": 0.1, "products": ["1299"], "start": "2025-01-01"})
    with pytest.raises(ScenarioError, match=r"measure typo: unknown HS code '1299'"):
        s.at("2025-02-01")


def test_bad_input_contradictory_measures():
    a = {"name": "a", "layer": "other", "rate": 0.1, "products": ["8703"], "partners": ["JPN"], "start": "2025-01-01"}
    b = {**a, "name": "b", "rate": 0.2}
    s = Schedule("x", ()).with_measures(a, b)
    with pytest.raises(ScenarioError, match=r"measures a and b overlap"):
        s.at("2025-02-01")
    ok = Schedule("x", ()).with_measures(a, {**b, "replaces": ["a"]})
    assert float(ok.lookup(CAR, "JPN", "2025-02-01")["other_rate"][0]) == pytest.approx(0.2)


def test_bad_input_dates_and_rates():
    base = {"name": "m", "layer": "other", "rate": 0.1, "start": "2025-05-01"}
    with pytest.raises(ScenarioError, match=r"measure m: end date 2025-04-01 is before its start 2025-05-01"):
        Measure.from_dict({**base, "end": "2025-04-01"})
    with pytest.raises(ScenarioError, match=r"measure m: rate -1.5 is below -100%"):
        Measure.from_dict({**base, "rate": -1.5})
    with pytest.raises(ScenarioError, match="measure m: unknown layer"):
        Measure.from_dict({**base, "layer": "s999"})
    with pytest.raises(ScenarioError, match="measure m: unknown field"):
        Measure.from_dict({**base, "rat": 0.1})
    assert math.isclose(Measure.from_dict({"name": "sp", "layer": "other", "specific_usd": 0.5,
                                           "unit_value_usd": 10.0, "start": "2025-01-01"}).rate, 0.05)
