"""Investment-vehicle cash flows (issue 15 item 2): hand-computed cases for both disbursement conventions."""

from __future__ import annotations

import numpy as np
import pytest

from tariffsim.errors import ScenarioError
from tariffsim.strategy.investment import investment_transfer


def test_upfront_never_recoups_within_horizon_hand_computed():
    # P = 100 at t = 0, r = 10%: 10 a year, Japan gets 5 a year; 25 < 100 after 5 years.
    r = investment_transfer(100.0, 0.10, 0.0, 5)
    assert r.recoup_year is None
    assert r.pv_usa_usd_bn == pytest.approx(25.0, abs=1e-12)
    assert r.pv_jpn_net_usd_bn == pytest.approx(5 * 5.0 - 100.0, abs=1e-12)
    assert r.annual_usa_usd_bn == pytest.approx(5.0)
    assert r.annual_jpn_cost_usd_bn == pytest.approx(15.0)


def test_upfront_recoups_mid_year_hand_computed_with_discounting():
    # P = 100, r = 45%: CF = 45/yr, Japan 22.5/yr before recoup; after 4 years 90, year 5 needs 10 of 22.5:
    # f = 4/9, recoup year 4 + 4/9. Year 5: US 0.5*45*f + 0.9*45*(1-f) = 10 + 22.5 = 32.5, Japan 10 + 2.5 = 12.5.
    # Year 6: US 40.5, Japan 4.5.
    delta = 0.10
    r = investment_transfer(100.0, 0.45, delta, 6, us_share_before=0.5, us_share_after=0.9)
    assert r.recoup_year == pytest.approx(4 + 4 / 9, abs=1e-12)
    us = [22.5, 22.5, 22.5, 22.5, 32.5, 40.5]
    jp = [22.5, 22.5, 22.5, 22.5, 12.5, 4.5]
    disc = [1.1 ** -t for t in range(1, 7)]
    assert r.pv_usa_usd_bn == pytest.approx(sum(u * d for u, d in zip(us, disc)), rel=1e-12)
    assert r.pv_jpn_net_usd_bn == pytest.approx(sum(j * d for j, d in zip(jp, disc)) - 100.0, rel=1e-12)
    a = sum(disc)
    assert r.annual_usa_usd_bn == pytest.approx(r.pv_usa_usd_bn / a)


def test_even_disbursement_never_recoups_hand_computed():
    # window of 2.4 years from 2025-09-04: parts at t = 0, 1, 2 (2025-09-04, 2026-09-04, 2027-09-04) of 30.
    # K = 30, 60, 90, 90; r = 20%: CF 6, 12, 18, 18; Japan 3, 6, 9, 9 = 27 < 90.
    r = investment_transfer(90.0, 0.20, 0.0, 4, disbursement="even", start_date="2025-09-04", window_end="2028-01-19")
    assert r.n_parts == 3
    np.testing.assert_allclose(r.disbursed_usd_bn, [30, 30, 30, 0, 0])
    assert r.recoup_year is None
    assert r.pv_usa_usd_bn == pytest.approx(27.0)
    assert r.pv_jpn_net_usd_bn == pytest.approx(27.0 - 90.0)


def test_even_disbursement_recoups_mid_year_hand_computed():
    # P = 30 in parts of 10 at t = 0, 1, 2; r = 120%: CF 12, 24, 36, 36. Japan 6, 12 (cum 18), year 3 needs 12 of 18:
    # f = 2/3, recoup 2 + 2/3; year 3 US 0.5*36*2/3 + 0.9*36/3 = 22.8, Japan 12 + 1.2 = 13.2; year 4 US 32.4, Japan 3.6.
    # discount 5%: outlay PV = 10 + 10/1.05 + 10/1.05^2.
    r = investment_transfer(30.0, 1.20, 0.05, 4, disbursement="even", start_date="2025-09-04", window_end="2028-01-19")
    assert r.recoup_year == pytest.approx(2 + 2 / 3, abs=1e-12)
    disc = [1.05 ** -t for t in range(1, 5)]
    us, jp = [6, 12, 22.8, 32.4], [6, 12, 13.2, 3.6]
    assert r.pv_usa_usd_bn == pytest.approx(sum(u * d for u, d in zip(us, disc)), rel=1e-12)
    outlay = 10 + 10 / 1.05 + 10 / 1.05 ** 2
    assert r.pv_jpn_net_usd_bn == pytest.approx(sum(j * d for j, d in zip(jp, disc)) - outlay, rel=1e-12)


def test_default_window_gives_four_yearly_parts_and_cash_flows_add_up():
    r = investment_transfer(550.0, 0.05, 0.05, 20, disbursement="even")      # 2025-09-04 .. 2029-01-19
    assert r.n_parts == 4
    np.testing.assert_allclose(r.usa_usd_bn + r.jpn_usd_bn, r.cash_flow_usd_bn, rtol=0, atol=1e-12)
    assert r.disbursed_usd_bn.sum() == pytest.approx(550.0)


@pytest.mark.parametrize("kw, field", [
    (dict(pledge_usd_bn=-1.0), "pledge_usd_bn"), (dict(discount_rate=-0.01), "discount_rate"),
    (dict(us_share_before=1.2), "us_share_before"), (dict(us_share_after=-0.1), "us_share_after"),
    (dict(disbursement="monthly"), "disbursement"), (dict(horizon_years=0), "horizon_years"),
])
def test_bad_input_is_a_one_line_scenario_error(kw, field):
    args = dict(pledge_usd_bn=550.0, annual_return=0.05, discount_rate=0.05, horizon_years=20)
    args.update(kw)
    with pytest.raises(ScenarioError, match=field) as e:
        investment_transfer(**args)
    assert "\n" not in str(e.value)
