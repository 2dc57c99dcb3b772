"""The 2026 US tariff regime (issue 14): product-level rates on real HS10 lines after the IEEPA ruling, statuses,
conventions, bad input, the ETR timeline and its authority decomposition.

Expected rates are worked out by hand from the legal rules (cited per case; SR26 = us_tariff_actions_2026/
stacking_rules_2026.md) and the lines' HTS 2025 column-1 rates; none is copied from the code's output.
"""

from __future__ import annotations

import warnings

import polars as pl
import pytest

from tariffsim.errors import ScenarioError, ScheduledDateWarning
from tariffsim.policy import builtin_schedule, etr
from tariffsim.policy.etr_timeline import etr_timeline

CAR = "8703230140"     # passenger car 1.5-3.0 l, HTS 8703.23.01: MFN 2.5%, 232 autos (Proc. 10908)
STEEL = "7208390030"   # hot-rolled flat steel, HTS 7208.39.00: MFN free; 232 metals annex I-A from 2026-04-06
CRANE = "8426410090"   # self-propelled cranes on tyres, HTS 8426.41.00: MFN free, no 232 programme
BEEF = "0201308090"    # fresh beef, HTS 0201.30.80: MFN 26.4% (over 12.5%)
RETURNED = "9801001028"  # US goods returned, HTS 9801.00.10: free; chapter 98
ETHANOL = "2207106090"  # undenatured ethyl alcohol, HTS 2207.10.60: MFN 2.5%
AMMONIA = "2814100000"  # anhydrous ammonia, HTS 2814.10.00: MFN free; all 2025-07..2026-02 imports from Canada USMCA


def rate(hs10: str, partner: str, d: str, col: str = "tariff_rate", schedule: str = "latest") -> float:
    # Line rates under the law: the column-1 rate itself (convention "realised-mfn"; these lines' partners have no
    # FTA preference). The default "budgetlab" convention scales MFN by preference-claim shares, an ETR measure.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScheduledDateWarning)
        return float(builtin_schedule(schedule, convention="realised-mfn").lookup(hs10, partner, d)[col][0])


@pytest.mark.parametrize("d, expected", [
    ("2025-04-02", 0.025),  # MFN only: the autos 232 starts 2025-04-03 (Proc. 10908)
    ("2025-09-16", 0.15),   # EO 14345 / HTS 9903.94.40: 15% all-in
    ("2026-03-01", 0.15),   # the 232 deal survives the ruling; S122 not on 232 goods (9903.03.06)
    ("2026-12-01", 0.15),   # forced-labor 301 excludes 232 articles (note 52(f))
])
def test_japanese_passenger_car(d, expected):
    assert rate(CAR, "JPN", d) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("d, expected", [
    ("2025-06-04", 0.50),  # Proc. 10947: 50%
    ("2026-04-06", 0.50),  # April 2026 annex I-A: 50% on full value, no Japan relief (SR26 s.5)
])
def test_japanese_steel(d, expected):
    assert rate(STEEL, "JPN", d) == pytest.approx(expected, abs=1e-12)


def test_zero_mfn_japanese_machine_pays_s122_then_forced_labor_cap():
    assert rate(CRANE, "JPN", "2026-03-01") == pytest.approx(0.10, abs=1e-12)   # S122 9903.03.01: 10%
    assert rate(CRANE, "JPN", "2026-08-01") == pytest.approx(0.125, abs=1e-12)  # note 52: max(12.5% - 0, 0)
    assert rate(CRANE, "JPN", "2026-08-01", "s122_rate") == 0.0                  # S122 expired 2026-07-23


def test_japanese_good_with_mfn_above_the_cap_gets_no_forced_labor_top_up():
    # KN section 7: column-1 rate at or above the 12.5% cap -> 0% heading; total = MFN 26.4%
    assert rate(BEEF, "JPN", "2026-08-01", "s301_fl_rate") == 0.0
    assert rate(BEEF, "JPN", "2026-08-01") == pytest.approx(0.264, abs=1e-12)


@pytest.mark.parametrize("d", ["2025-04-09", "2025-08-07", "2025-11-14", "2026-02-24", "2026-08-01",
                               "2026-12-01"])
def test_returned_us_goods_pay_no_chapter_99_duty(d):
    # chapter-98 paragraph of every IEEPA / S122 / 301 note (e.g. U.S. note 2(v)(i)); 9801.00.10 is free
    assert rate(RETURNED, "JPN", d) == 0.0
    assert rate(RETURNED, "CHN", d) == 0.0


def test_canadian_usmca_good_pays_no_forced_labor_duty():
    # note 52: USMCA-qualifying goods of Canada exempt (9903.05.93); every measured entry claimed USMCA
    assert rate(AMMONIA, "CAN", "2026-08-01") == 0.0


def test_brazilian_good_stacks_brazil_301_on_forced_labor_301():
    # KN R2c: MFN 2.5% + Brazil 301 25% (note 50) + forced-labor 12.5% flat (Brazil tier) = 40%
    assert rate(ETHANOL, "BRA", "2026-08-01", "s301_brazil_rate") == pytest.approx(0.25)
    assert rate(ETHANOL, "BRA", "2026-08-01", "s301_fl_rate") == pytest.approx(0.125)
    assert rate(ETHANOL, "BRA", "2026-08-01") == pytest.approx(0.025 + 0.25 + 0.125, abs=1e-12)


def test_ieepa_struck_down_and_statuses():
    s = builtin_schedule("current")
    st = dict(s.status("2026-03-01").select("name", "status").iter_rows())
    assert st["ieepa-recip-jpn-floor"] == "struck_down"
    assert st["s122"] == "in_force"
    assert dict(s.status("2026-08-01").select("name", "status").iter_rows())["s122"] == "ended"
    assert dict(s.status("2026-06-01").select("name", "status").iter_rows())["s301-china-cranes"] == "suspended"
    assert dict(s.status("2026-11-30").select("name", "status").iter_rows())["s232-polysilicon"] == "scheduled"
    # as known on 2025-12-31 the reciprocal floor was expected to stay
    assert rate(CRANE, "JPN", "2026-03-01", schedule="end-2025") == pytest.approx(0.15, abs=1e-12)


def test_future_date_warns_and_range_and_convention_errors():
    with pytest.warns(ScheduledDateWarning, match="after today"):
        builtin_schedule("latest").lookup(CAR, "JPN", "2026-12-15")
    with pytest.raises(ScenarioError, match="outside its range 2025-01-01 .. 2026-12-31"):
        builtin_schedule("latest").lookup(CAR, "JPN", "2027-01-01")
    with pytest.raises(ScenarioError, match="unknown convention 'nope'; known: budgetlab"):
        builtin_schedule("latest", convention="nope")


def test_convention_moves_ieepa_end():
    # CBP collected IEEPA duties on entries to 2026-02-23: the reciprocal floor still applies on 2026-02-22
    assert rate(CRANE, "JPN", "2026-02-22") == 0.0
    s = builtin_schedule("latest", convention="cbp-collection")
    assert float(s.lookup(CRANE, "JPN", "2026-02-22")["ieepa_rate"][0]) == pytest.approx(0.15)


def test_authority_decomposition_adds_up():
    t = etr("latest", ["2025-09-16", "2026-08-01"], decompose="authority")
    parts = [c for c in t.columns if c.startswith("etr_")]
    assert parts == ["etr_mfn", "etr_s232", "etr_ieepa", "etr_s122", "etr_s301", "etr_s338", "etr_s201",
                     "etr_other"]
    assert t.select(pl.sum_horizontal(parts) - pl.col("etr")).to_series().abs().max() < 1e-12
    assert t["etr_ieepa"][1] == 0.0 and t["etr_s122"][1] == 0.0


def test_etr_timeline_contributions_sum_to_changes():
    tl = etr_timeline("latest", "2026-02-19", "2026-02-24")
    assert [str(d) for d in tl.path["date"]] == ["2026-02-19", "2026-02-20", "2026-02-24"]
    sums = tl.events.group_by("date").agg(pl.col("contribution_pp").sum()).join(tl.path, on="date")
    assert (sums["contribution_pp"] - sums["change_pp"]).abs().max() < 1e-9
    ev = tl.events.filter(pl.col("date") == pl.date(2026, 2, 24))
    assert ev["measure"].to_list() == ["s122"] and ev["status"][0] == "in_force"
    assert (tl.events.filter(pl.col("date") == pl.date(2026, 2, 20))["status"] == "struck_down").all()


def test_budgetlab_mfn_is_ad_valorem_rate_times_non_preference_share():
    # tracker base_rate (06_calculate_rates.R steps 6c/7): column-1 2.5% x (1 - Japan's ch. 87 FTA/GSP share of
    # conventions/mfn_exemption_shares.csv, 0.0013115118266499026)
    got = float(builtin_schedule("latest").lookup(CAR, "JPN", "2025-04-02")["mfn_rate"][0])
    assert got == pytest.approx(0.025 * (1 - 0.0013115118266499026), rel=1e-6)


def test_metals_annex_usmca_relief_outside_steel_chapters():
    # tracker step 7: annex I-B duty on a USMCA-eligible Mexican server scaled by 1 - claim share; ch. 72 steel of
    # Mexico gets no relief; with annex_usmca="none" the server pays the full 25% (U.S. note 16)
    from tariffsim.data import read_table
    server, d = "8471500150", "2026-05-01"
    t = read_table("us_tariff_actions_2026", "usmca_shares").filter(
        (pl.col("hs10") == server) & (pl.col("partner") == "MEX"))
    share = float(t["share_since_2025_07"][0])
    assert 0.0 < share < 1.0
    s232 = lambda conv, h: float(builtin_schedule("latest", convention=conv).lookup(h, "MEX", d)["s232_rate"][0])
    assert s232("budgetlab", server) == pytest.approx(0.25 * (1 - share), rel=1e-6)
    assert s232("annex-no-usmca", server) == pytest.approx(0.25, abs=1e-12)
    assert s232("budgetlab", STEEL) == s232("annex-no-usmca", STEEL) == pytest.approx(0.50, abs=1e-12)


def test_computers_are_not_auto_parts_unless_literal_note_33g():
    # HTS 8471.30.01 laptops: listed as a note 33(g) provision, but 9903.94.05 covers articles that are auto parts
    # (tracker applicability share 0); the literal reading charges the 25% auto-parts duty from 2025-05-03
    laptop = "8471300100"
    s232 = lambda conv: float(builtin_schedule("latest", convention=conv).lookup(laptop, "CHN", "2025-09-16")
                              ["s232_rate"][0])
    assert s232("budgetlab") == 0.0
    assert s232("auto-parts-literal") == pytest.approx(0.25, abs=1e-12)


#: The Budget Lab at Yale, "State of U.S. Tariffs" daily statutory ETR (vintage 2026-08-24), percent (issue 14)
PUBLISHED_ETR_PCT = {"2025-01-01": 2.68, "2025-04-10": 22.93, "2025-08-07": 16.05, "2025-09-16": 16.32,
                     "2026-02-20": 7.25, "2026-02-24": 10.64, "2026-07-24": 10.99, "2026-12-01": 11.73}


def test_headline_path_within_half_a_point_of_the_published_series():
    # default convention (the tracker's definitions), schedule latest, 2024 import weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScheduledDateWarning)
        t = etr("latest", list(PUBLISHED_ETR_PCT))
    got = dict(zip((str(d) for d in t["date"]), t["etr"].to_list()))
    gaps = {d: 100 * got[d] - p for d, p in PUBLISHED_ETR_PCT.items()}
    assert all(abs(g) <= 0.5 for g in gaps.values()), gaps


def test_canadian_energy_pays_the_10_percent_fentanyl_rate_on_non_usmca_entries():
    # EO 14193 s.2 / HTS 9903.01.13: energy 10% (not the 35% of EO 14325), on the share not entered under USMCA
    from tariffsim.data import read_table
    crude = "2709002090"
    t = read_table("us_tariff_actions_2026", "usmca_shares").filter(
        (pl.col("hs10") == crude) & (pl.col("partner") == "CAN"))
    share = float(t["share_since_2025_07"][0]) if t.height else 0.0
    got = float(builtin_schedule("latest").lookup(crude, "CAN", "2025-08-07")["fentanyl_rate"][0])
    assert got == pytest.approx(0.10 * (1 - share), rel=1e-6)
