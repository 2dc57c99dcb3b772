"""GE balancing tariff (issue 6): closed-form non-existence, root checks by re-solving, USTR formula."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tariffsim.errors import ScenarioError
from tariffsim.models.ge import solve
from tariffsim.strategy.balancing import balancing_tariff, fill_fairness_table
from tariffsim.world import World


def three_country_world(us_imports_scale: float = 1.6) -> World:
    """USA buys more from JPN than it sells to it; two taxed goods and one untaxed service."""
    rng = np.random.default_rng(3)
    f = rng.uniform(5.0, 15.0, size=(3, 3, 3))
    for i in range(3):
        f[i, i] *= 10.0
    f[1, 0, :2] *= us_imports_scale          # JPN -> USA goods
    t = np.full((3, 3, 3), 0.03)
    t[..., 2] = 0.0
    for i in range(3):
        t[i, i] = 0.0
    return World.from_arrays(regions=("USA", "JPN", "ROW"), sectors=("1", "2", "3"), flows=f, tariffs=t,
                             theta=np.array([5.0, 6.0, 4.0]), name="three-bal")


def test_two_countries_fixed_deficits_have_no_balancing_tariff():
    """Closed form: with two countries the bilateral balance is the overall balance, fixed by the closure."""
    f = np.array([[[70.0, 30.0], [10.0, 5.0]], [[25.0, 12.0], [60.0, 40.0]]])
    t = np.zeros((2, 2, 2))
    t[1, 0] = 0.05
    t[0, 1] = 0.02
    w = World.from_arrays(regions=("USA", "JPN"), sectors=("1", "2"), flows=f, tariffs=t, theta=4.0)
    r = balancing_tariff(w, balance="all", closure="fixed", n_grid=8)
    assert not r.exists and r.tariff_rate is None
    assert "pinned by the closure" in r.reason
    assert r.grid_deficits_usd == pytest.approx(np.full(len(r.grid_rates), w.deficit_usd[0]), rel=1e-9)


def test_balancing_tariff_zeroes_the_bilateral_deficit_when_resolved():
    w = three_country_world()
    r = balancing_tariff(w, closure="fixed", balance="goods", n_grid=12)
    assert r.exists and r.baseline_deficit_usd > 0 and r.tariff_rate > 0
    t = np.array(w.tariffs)
    t[1, 0, [0, 1]] += r.tariff_rate                      # goods sectors 1 and 2 carry tariffs
    fl = solve(w, tariffs=t, closure="fixed").flows
    assert fl[1, 0, :2].sum() - fl[0, 1, :2].sum() == pytest.approx(0.0, abs=1e-7)
    # brute force: the deficit changes sign across the reported rate
    for dr, sign in ((-1e-4, 1), (1e-4, -1)):
        t2 = np.array(w.tariffs)
        t2[1, 0, [0, 1]] += r.tariff_rate + dr
        f2 = solve(w, tariffs=t2, closure="fixed").flows
        assert np.sign(f2[1, 0, :2].sum() - f2[0, 1, :2].sum()) == sign


def test_ustr_formula_rate_on_the_same_flows():
    w = three_country_world()
    r = balancing_tariff(w, n_grid=6)
    m, x = w.flows[1, 0, :2].sum(), w.flows[0, 1, :2].sum()
    assert r.ustr_formula_rate == pytest.approx((m - x) / (4 * 0.25 * m))


def test_surplus_means_no_balancing_tariff_in_range():
    w = three_country_world(us_imports_scale=0.3)
    r = balancing_tariff(w, n_grid=8)
    assert r.baseline_deficit_usd < 0 and not r.exists
    assert "surplus" in r.reason


def test_fill_fairness_table_both_layouts():
    w = three_country_world()
    res = balancing_tariff(w, n_grid=8)
    wide = fill_fairness_table(pl.DataFrame({"pair": ["USA-JPN"], "ge_balancing_tariff": [None]},
                                            schema={"pair": pl.Utf8, "ge_balancing_tariff": pl.Float64}), w, result=res)
    assert wide["ge_balancing_tariff"][0] == pytest.approx(res.tariff_rate)
    long = pl.DataFrame({"measure": ["trade_weighted", "ge_balancing_tariff"], "usa_on_jpn_pct": [1.5, None],
                         "source": ["x", None]})
    out = fill_fairness_table(long, w, result=res)
    assert out.filter(pl.col("measure") == "ge_balancing_tariff")["usa_on_jpn_pct"][0] == pytest.approx(100 * res.tariff_rate)
    appended = fill_fairness_table(long.filter(pl.col("measure") != "ge_balancing_tariff"), w, result=res)
    assert appended.height == 2


def test_invalid_options():
    w = three_country_world()
    with pytest.raises(ScenarioError):
        balancing_tariff(w, closure="floating")
    with pytest.raises(ScenarioError):
        balancing_tariff(w, importer="USA", exporter="USA")
