"""Product-level PE stays plausible by default: capped sigma, finite export supply, flagged cells.

Checks the closed-form growth bound of a finite export supply elasticity, the documented sigma
cap (90th percentile of the Broda-Weinstein HTS10 estimates), the plausibility rule on
hand-computed cells, the issue-18 repro (HS 8704210100 from Japan under the Japan deal) on the
real 2024 data restricted to HS 8704, the partner headline and the PE-vs-GE sentence.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import polars as pl
import pytest

from tariffsim.data.catalog import read_table
from tariffsim.data.elasticities import lookup, product_elasticities, sigma_cap
from tariffsim.errors import ElasticityFallbackWarning, ScenarioError
from tariffsim.models import pe


def two_sources(v_jpn=1.5e6, v_mex=7e9, t_mex_new=0.15):
    return pl.DataFrame({"product": ["8704", "8704"], "source": ["JPN", "MEX"], "value_usd": [v_jpn, v_mex],
                         "tariff_old": [0.25, 0.0], "tariff_new": [0.25, t_mex_new]})


@pytest.mark.parametrize("sigma", [25.0, 119.0, 1e4])
def test_finite_supply_elasticity_bounds_a_sources_growth_by_its_price_advantage_to_the_eta(sigma):
    # ln q_hat_k = eta * (sigma * (y - a_k) - eps * y) / (eta + sigma) <= eta * (y - a_k), and y <= ln 1.15 here
    eta, eps = pe.DEFAULT_SUPPLY_ELASTICITY, 1.26
    r = pe.simulate(two_sources(), sigma=sigma, epsilon=eps, supply_elasticity=eta)
    q_jpn = r.table.filter(pl.col("source") == "JPN")["quantity_hat"][0]
    assert 1.0 < q_jpn <= 1.15 ** eta
    # with fixed world prices the same cell explodes: the issue-18 mechanism
    r_inf = pe.simulate(two_sources(), sigma=sigma, epsilon=eps, supply_elasticity=math.inf)
    q_inf = r_inf.table.filter(pl.col("source") == "JPN")["quantity_hat"][0]
    assert q_inf > 1.15 ** min(sigma, 25.0) * 0.5


def test_default_sigma_cap_is_the_broda_weinstein_90th_percentile():
    hs10 = read_table("elasticities", "sigma_lookup").filter(pl.col("level") == "hs10")["sigma"].to_numpy()
    assert sigma_cap() == pytest.approx(np.quantile(hs10, 0.9))
    # many HTS10 lines share one estimate, so the quantile is a tied value: 90% lie at or below it
    assert (hs10 < sigma_cap()).mean() <= 0.9 <= (hs10 <= sigma_cap()).mean()


def test_sigma_cap_applies_to_bundled_values_not_to_overrides():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ElasticityFallbackWarning)
        raw = lookup(["0101110010"], "sigma")                       # published BW value 108.19
        capped = product_elasticities(["0101110010", "8704210100"])
        over = product_elasticities(["0101110010"], sigma={"0101": 300.0})
        uncapped = product_elasticities(["0101110010"], sigma_cap=None)
    assert raw["sigma"][0] == pytest.approx(108.18641)
    assert capped["sigma"].to_list() == [pytest.approx(sigma_cap())] * 2
    assert capped["sigma_level"][0] == "hs10+cap"
    assert over["sigma"][0] == 300.0 and over["sigma_level"][0] == "override:0101"
    assert uncapped["sigma"][0] == pytest.approx(108.18641)


def test_plausibility_rule_on_hand_computed_cells():
    t = pl.DataFrame({
        "product": ["A", "A", "B", "B", "C", "C"],
        "source": ["JPN", "MEX", "JPN", "MEX", "JPN", "MEX"],
        "value_usd": [1.0, 100.0, 30.0, 70.0, 95.0, 5.0],
        "value_usd_new": [12.0, 80.0, 45.0, 50.0, 90.0, 4.9],
    })
    f = pe.flag_implausible(t).sort("product", "source")
    # A/JPN: grows 12x (> 10x) and +11 against a market change of -9 that is > 10% of 101
    # A/MEX: -20 vs market -9: same sign, not flagged. B/JPN: +15 > |-5| and > 10% of 100
    # C: a dominant source losing with its market (-5 vs -5.1) is not flagged
    assert f.select("product", "source", "rule").rows() == [("A", "JPN", "growth+exceeds_market"),
                                                            ("B", "JPN", "exceeds_market")]
    assert f.filter(pl.col("product") == "A")["growth"][0] == pytest.approx(12.0)
    assert f.filter(pl.col("product") == "B")["market_change_usd"][0] == pytest.approx(-5.0)
    with pytest.raises(ScenarioError, match="growth_limit"):
        pe.flag_implausible(t, growth_limit=1.0)


@pytest.fixture(scope="module")
def trucks():
    """US 2024 imports of HS 8704 (all partners) under the Japan deal, default and pre-issue-18 settings."""
    policy = pytest.importorskip("tariffsim.policy")
    imp = policy.us_imports_2024().filter(pl.col("hs10").str.starts_with("8704"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ElasticityFallbackWarning)
        run = lambda el: pe.simulate_schedule("japan-deal-2025-09", "2025-09-16", imports=imp, elasticities=el)
        return run(None), run({"supply_elasticity": math.inf, "sigma_cap": None})


def cell(r, hs10, src="JPN"):
    return r.table.filter(pl.col("product") == hs10, pl.col("source") == src).row(0, named=True)


def test_issue18_repro_diesel_trucks_from_japan_is_plausible_by_default(trucks):
    default, old = trucks
    c_old, c = cell(old, "8704210100"), cell(default, "8704210100")
    assert c["value_usd"] == pytest.approx(1.545e6, rel=1e-3)
    assert c["tariff_old"] == pytest.approx(c["tariff_new"], abs=1e-12)          # unchanged, about 25%
    assert c["tariff_new"] == pytest.approx(0.25, abs=0.005)
    # the issue's numbers with uncapped BW sigma (119) and eta = inf: +$4,814mn (+311,563%)
    assert (c_old["value_usd_new"] - c_old["value_usd"]) / 1e6 == pytest.approx(4814, rel=0.05)
    assert c_old["value_usd_new"] > 1000 * c_old["value_usd"]
    assert c["value_usd_new"] < pe.GROWTH_LIMIT * c["value_usd"]
    assert c["sigma"] == pytest.approx(sigma_cap()) and c["supply_elasticity"] == pe.DEFAULT_SUPPLY_ELASTICITY
    assert default.plausibility().filter(pl.col("product") == "8704210100").height == 0
    flagged = old.plausibility().filter(pl.col("product") == "8704210100", pl.col("source") == "JPN")
    assert flagged["rule"][0].startswith("growth")


def test_partner_headline_is_the_sum_over_the_partners_cells(trucks):
    default, _ = trucks
    h = default.partner_imports_change("JPN")
    j = default.table.filter(pl.col("source") == "JPN")
    assert h.value_usd_old == pytest.approx(j["value_usd"].sum())
    assert h.change_usd == pytest.approx((j["value_usd_new"] - j["value_usd"]).sum())
    assert h.change_pct == pytest.approx(100 * (j["value_usd_new"].sum() / j["value_usd"].sum() - 1))
    assert "JPN" in h.summary()
    with pytest.raises(ScenarioError, match="no imports from 'XXX'"):
        default.partner_imports_change("XXX")


def test_pe_vs_ge_sentence_says_when_signs_differ():
    differ = pe.explain_pe_vs_ge(1.0, -9.9)
    same = pe.explain_pe_vs_ge(-9.4, -9.9)
    assert "+1.0%" in differ and "-9.9%" in differ and "signs differ" in differ
    assert "signs differ" not in same and "same direction" in same
    for s in (differ, same):
        assert "partial equilibrium" in s and "2024 HS10" in s and "2017" in s
    assert "signs differ" in pe.explain_pe_vs_ge(-2.0, 3.0)
    with pytest.raises(ScenarioError):
        pe.explain_pe_vs_ge(math.nan, 1.0)
