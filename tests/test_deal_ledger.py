"""The US-Japan deal after the IEEPA ruling (issue 15): ledger, threat points, participation margins, exchange rates.

Checks against the legal rates (the autos clause moves the sector rate by about 27.5% - 15%), against
independent public ``solve`` runs (transfers, finite differences of GE welfare), and against fresh
recomputations (the margin's sign on both sides of the computed break-even threat).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tariffsim.errors import ScenarioError
from tariffsim.models.ge import solve
from tariffsim.strategy.deal_holds import break_even, deal_holds
from tariffsim.strategy.deal_ledger import CLAUSES, DealTerms, deal_ledger
from tariffsim.strategy.exchange_rates import exchange_rates
from tariffsim.strategy.game import _Game
from tariffsim.strategy.investment import investment_transfer
from tariffsim.strategy.threat import threat_point

pytestmark = pytest.mark.filterwarnings("ignore::tariffsim.errors.ScheduledDateWarning")


@pytest.fixture(scope="module")
def world():
    from tariffsim.data import load_world

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_world("world_io_7x44_2017")


@pytest.fixture(scope="module")
def ledger_2025(world):
    return deal_ledger(world, "2025-09-16")


@pytest.fixture(scope="module")
def ledger_2026(world):
    return deal_ledger(world, "2026-12-01", pe=False)


def _row(ledger, clause):
    return ledger.table.filter(ledger.table["clause"] == clause).to_dicts()[0]


def test_ledger_2025_09_16_has_every_clause_with_its_status(ledger_2025):
    tab = ledger_2025.table
    assert tab["clause"].to_list() == list(CLAUSES)          # nothing silently skipped
    st = dict(zip(tab["clause"], tab["status"]))
    assert st["reciprocal_floor"] == "in force" and st["autos_232"] == "in force"
    assert st["floor_replacement"] == "pending" and st["s232_caps"] == "pending"   # wood cap from 2025-10-14
    assert st["boeing_aircraft"] == "not valued" and _row(ledger_2025, "boeing_aircraft")["reason"]
    # the floor and the autos deal lower US tariffs on Japan: Japan gains from each alone
    assert _row(ledger_2025, "reciprocal_floor")["ev_jpn_usd_bn"] > 0
    assert _row(ledger_2025, "autos_232")["ev_jpn_usd_bn"] > 0
    # purchases: the US gains, Japan pays
    for c in ("ag_purchases", "defense_procurement", "rice_minimum_access"):
        r = _row(ledger_2025, c)
        assert r["ev_usa_usd_bn"] > 0 > r["ev_jpn_usd_bn"], c


def test_ledger_2026_12_01_floor_struck_down_and_replaced(ledger_2026):
    r = _row(ledger_2026, "reciprocal_floor")
    assert r["status"] == "struck down"
    assert "Section 301" in r["replaced_by"] and "2026-02-20" in r["replaced_by"]
    assert r["ev_usa_usd_bn"] == 0.0 and r["ev_jpn_usd_bn"] == 0.0
    rep = _row(ledger_2026, "floor_replacement")
    assert rep["status"] == "in force" and rep["ev_jpn_usd_bn"] > 0        # 12.5% tier vs the threatened 25%
    assert _row(ledger_2026, "s232_caps")["status"] == "in force"        # wood and pharma caps by then
    assert _row(ledger_2026, "autos_232")["status"] == "in force"        # a 232 instrument: survives


def test_autos_clause_moves_the_sector_rate_by_the_legal_gap(world, ledger_2026):
    # threat: MFN + 25% (Proclamation 10908); deal: 15% all-in (EO 14345): 10-12.5 pp on the autos sector
    j, u, k = world.index("JPN"), world.index("USA"), world.sectors.index("20")
    gap = ledger_2026.no_deal.tariff_rate[j, u, k] - ledger_2026.deal_tariffs[j, u, k]
    assert 0.09 < gap <= 0.125 + 1e-9


def test_investment_clause_is_the_transfer_equivalent_through_public_solve(world, ledger_2025):
    # independent: public solve with deficits shifted by the MOU transfer equivalent at the threat tariffs
    T = investment_transfer(550.0, 0.05, 0.05, 20).transfer_equivalent_usd_bn * 1e3
    g = _Game(world, ("USA", "JPN"), None, "fixed")
    d0 = np.asarray(g.base.d1, dtype=float)
    d1 = d0.copy()
    d1[g.a] += T
    d1[g.b] -= T
    t = ledger_2025.no_deal.tariff_rate
    e0 = np.asarray(solve(g.world, tariffs=t, deficits=d0, closure="fixed").ev_usd)[[g.a, g.b]]
    e1 = np.asarray(solve(g.world, tariffs=t, deficits=d1, closure="fixed").ev_usd)[[g.a, g.b]]
    r = _row(ledger_2025, "investment_vehicle")
    np.testing.assert_allclose([r["ev_usa_usd_bn"], r["ev_jpn_usd_bn"]], (e1 - e0) / 1e3, rtol=1e-6)


def test_whole_deal_differs_from_the_sum_of_clauses_by_a_small_ge_interaction(ledger_2025, ledger_2026):
    for L in (ledger_2025, ledger_2026):
        assert np.all(np.abs(L.gap_usd_bn) < 0.05 * np.abs(L.whole_ev_usd_bn))
        np.testing.assert_allclose(L.whole_ev_usd_bn - L.sum_ev_usd_bn, L.gap_usd_bn)


def test_autos_clause_in_product_level_pe_has_the_ge_sign_for_japan(ledger_2025):
    r = _row(ledger_2025, "autos_232")
    assert r["pe_jpn_usd_bn"] > 0 and r["ev_jpn_usd_bn"] > 0


def test_threat_point_instruments_follow_the_legal_calendar(world):
    before = {r["parameter"]: r["available"] for r in threat_point(world, "2025-09-16").instruments}
    after = {r["parameter"]: r["available"] for r in threat_point(world, "2026-12-01").instruments}
    assert before["ieepa_rate"] and not after["ieepa_rate"]
    assert after["s301_tier_rate"] and not before["s301_tier_rate"]
    assert not after["s122_rate"]                                   # Section 122 expired 2026-07-23


def test_exchange_rates_match_finite_differences_of_ge_welfare(world, ledger_2026):
    X = exchange_rates(world, ledger_2026)
    g = _Game(world, ("USA", "JPN"), None, "fixed")
    a, b = g.a, g.b
    autos = world.sectors.index("20")
    rice = world.sectors.index("1")
    t0, T0 = ledger_2026.deal_tariffs, ledger_2026.deal_transfer_usd

    def ev(t=t0, T=T0):
        eq = g.solve(t, T)
        return np.asarray(eq.ev_usd)[[a, b]] / 1e3, float(np.asarray(eq.flows)[a, b, rice]) / 1e3

    h = 1e-4
    up, dn = t0.copy(), t0.copy()
    up[b, a, autos] -= 0.01 * h
    dn[b, a, autos] += 0.01 * h
    d_auto = (ev(up)[0] - ev(dn)[0]) / (2 * h)                  # per 1 pp cut
    dT = 10.0
    g_T = (ev(T=T0 + dT)[0] - ev(T=T0 - dT)[0]) / (2 * dT / 1e3)   # per USD bn/yr
    s = 1e-5

    def sub(x):
        t = t0.copy()
        t[a, b, rice] = (1 + t0[a, b, rice]) * (1 - x) - 1
        return ev(t)

    (e_p, m_p), (e_m, m_m) = sub(s), sub(-s)
    g_rice = (e_p - e_m) / (m_p - m_m)                            # per USD bn of rice imports
    tab = X.table
    for pay, gp in (("host_nation_support", g_T), ("rice_purchases", g_rice)):
        row = tab.filter((tab["give"] == "us_auto_tariff_cut_1pp") & (tab["pay"] == pay)).to_dicts()[0]
        np.testing.assert_allclose([row["equivalent_usa"], row["equivalent_jpn"]], d_auto / gp, rtol=2e-3)
        assert row["mutually_beneficial"] == bool(-d_auto[0] / gp[0] < -d_auto[1] / gp[1])


#: a deal without the pledge: Japan's margin (no security value) is near zero and rises with the US threat
SMALL_DEAL = ("floor_replacement", "autos_232", "ag_purchases", "defense_procurement")


@pytest.fixture(scope="module")
def holds_no_pledge(world):
    return deal_holds(world, "2026-12-01", clauses=SMALL_DEAL, security_value_usd_bn={"JPN": 0.0})


def test_deal_holds_margin_changes_sign_at_the_computed_break_even_threat(world, holds_no_pledge):
    x = break_even(holds_no_pledge, world, "s301_tier_rate", "JPN", (0.0, 0.25), xtol=1e-3)
    assert 0.0 < x < 0.25
    # fresh ledgers and threat points on both sides of x (not the break-even's own path)
    kw = dict(clauses=SMALL_DEAL, security_value_usd_bn={"JPN": 0.0})
    lo = deal_holds(world, "2026-12-01", s301_tier_rate=x - 0.03, **kw)
    hi = deal_holds(world, "2026-12-01", s301_tier_rate=x + 0.03, **kw)
    assert lo.margin_usd_bn[1] < 0 < hi.margin_usd_bn[1]
    assert not lo.holds[1] and hi.holds[1]


def test_deal_holds_with_the_pledge_names_the_binding_clause(world, ledger_2026):
    h = deal_holds(world, "2026-12-01", ledger=ledger_2026)
    np.testing.assert_allclose(h.margin_usd_bn, ledger_2026.whole_ev_usd_bn + h.security_value_usd_bn)
    assert h.binding_clause[1] == "investment_vehicle"
    assert "2026-12-01" in h.line()


@pytest.mark.parametrize("call, match", [
    (lambda w: deal_ledger(w, "2026-12-01", clauses=["rice", "autos_232"]), "unknown clause"),
    (lambda w: deal_ledger(w, "2027-06-01"), "outside"),
    (lambda w: deal_ledger(w, "2026-12-01", deal={"pledge_usd_bn": -1.0}), "pledge_usd_bn"),
    (lambda w: deal_ledger(w, "2026-12-01", deal={"discount_rate": -0.02}), "discount_rate"),
    (lambda w: deal_ledger(w, "2026-12-01", deal={"rice_increase_share": 1.5}), r"\[0, 1\]"),
    (lambda w: threat_point(w, "2026-12-01", s122_rate=0.2), "statutory cap"),
    (lambda w: threat_point(w, "2026-12-01", tier=0.3), "unknown instrument"),
])
def test_bad_input_is_a_one_line_scenario_error(world, call, match):
    with pytest.raises(ScenarioError, match=match) as e:
        call(world)
    assert "\n" not in str(e.value)


def test_deal_terms_grant_share_option_gives_pledge_times_share():
    t = DealTerms(transfer_method="grant_share", grant_share=0.045)
    assert t.transfer_usd_bn()[0] == pytest.approx(550.0 * 0.045)
