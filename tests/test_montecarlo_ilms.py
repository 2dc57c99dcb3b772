"""ts.monte_carlo(..., model="ilms2025"): draws of eps (and kappa) around the ILMS (2025) model (issue 17).

Each draw is checked against the independent path, bind_model(world, "ilms2025", eps=..., ...).solve,
on the 194-country world of the ILMS examples; few draws, one compiled chunk size.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tariffsim as ts
from tariffsim.errors import ConvergenceError, DataError, ElasticityFallbackWarning, ScenarioError
from tariffsim.scale import FailedDrawsWarning, MonteCarloResult, montecarlo_ilms as mci
from tariffsim.models.ilms_data import ustr_tariffs

TOL = 1e-10


@pytest.fixture(scope="module")
def world():
    return ts.load_world("world_2023_aggregate")


@pytest.fixture(scope="module")
def tariffs(world):
    return ustr_tariffs(ts.bind_model(world, "ilms2025", closure="fixed").world)


def _direct(world, t, **options):
    return ts.bind_model(world, "ilms2025", closure=options.pop("closure", "fixed"), **options).solve(t)


def _close(a, b, tol=TOL):
    np.testing.assert_allclose(a, b, rtol=0, atol=tol)


def test_zero_spread_every_draw_is_the_point(world, tariffs):
    mc = ts.monte_carlo(world, tariffs=tariffs, model="ilms2025", draws=3, seed=0, theta_sd=0.0)
    assert isinstance(mc, MonteCarloResult) and mc.failed == 0
    assert (mc.theta == 4.0).all() and mc.theta0.tolist() == [4.0]
    ref = _direct(world, tariffs)
    for d in range(3):
        _close(mc.welfare_hat[d], ref.welfare_hat, 1e-12)
        _close(mc.wage_hat[d], ref.wage_hat, 1e-12)
        _close(mc.tariff_revenue[d] / ref.tariff_revenue.max(), ref.tariff_revenue / ref.tariff_revenue.max(), 1e-12)
        _close(mc.bilateral_trade[d] / ref.flows.max(), ref.flows / ref.flows.max(), 1e-12)
    b = mc.bands("welfare_hat")
    _close(b["q05"].to_numpy(), ref.welfare_hat, 1e-12)
    _close(b["q95"].to_numpy(), ref.welfare_hat, 1e-12)
    assert np.array_equal(b["point"].to_numpy(), ref.welfare_hat)
    _close(mc.ev_usd[0] / 1e3, ref.ev_usd / 1e3, 1e-9)
    for name in ("ev_usd", "wage_hat", "income", "tariff_revenue", "exports", "imports", "bilateral_trade"):
        assert mc.bands(name).height > 0


def test_draws_equal_the_direct_binding(world, tariffs):
    """eps = 8 (the paper's robustness value) and a kappa draw, each against bind_model(...).solve."""
    mc = ts.monte_carlo(world, tariffs=tariffs, model="ilms2025", eps_draws=[8.0, 3.0])
    for d, eps in enumerate((8.0, 3.0)):
        _close(mc.welfare_hat[d], _direct(world, tariffs, eps=eps).welfare_hat)
    us = world.index("USA")
    assert abs(mc.welfare_hat[0, us] - mc.point.welfare_hat[us]) > 1e-3        # eps matters
    # kappa drawn too: row d is bind(eps=eps_d, kappa=kappa_d)
    mk = ts.monte_carlo(world, tariffs=tariffs, model="ilms2025", draws=2, seed=3, eps_sd=1.0, kappa_sd=0.2)
    kap = mk.meta["kappa"]
    assert (kap != 0.5).all()
    for d in range(2):
        _close(mk.welfare_hat[d], _direct(world, tariffs, eps=mk.theta[d, 0], kappa=kap[d]).welfare_hat)
    # scale_with_eps: psi = 0.67/eps and the Frechet theta = eps/0.67 rebuilt per draw
    ms = ts.monte_carlo(world, tariffs=tariffs, model="ilms2025", eps_draws=[8.0], scale_with_eps=True)
    ref = _direct(world, tariffs, eps=8.0, psi=0.67 / 8.0, theta=8.0 / 0.67)
    _close(ms.welfare_hat[0], ref.welfare_hat)
    assert abs(ms.welfare_hat[0, us] - mc.welfare_hat[0, us]) > 1e-4


def test_serial_path_and_balanced_closure(world, tariffs):
    a = ts.monte_carlo(world, tariffs=tariffs, model="ilms2025", eps_draws=[5.0], method="serial",
                       revenue="lump_sum")
    _close(a.welfare_hat[0], _direct(world, tariffs, eps=5.0, revenue="lump_sum").welfare_hat)
    b = ts.monte_carlo(world, tariffs=tariffs, model="ilms2025", eps_draws=[6.0], closure="balanced")
    assert b.meta["method"] == "serial"          # every draw re-solves its own zero-deficit baseline
    _close(b.welfare_hat[0], _direct(world, tariffs, eps=6.0, closure="balanced").welfare_hat)


def test_default_spread_quantiles_and_seed(world, tariffs):
    with pytest.warns(ElasticityFallbackWarning):
        mc = ts.monte_carlo(world, tariffs=tariffs, model="ilms2025", draws=6, seed=11)
    assert mc.theta_sd_source[0].startswith("ilms_default_cv_")
    _close(mc.theta_sd, [mci.DEFAULT_EPS_CV * 4.0], 1e-12)
    b = mc.bands("welfare_hat", quantiles=(0.05, 0.5, 0.95))
    assert (b["q05"] <= b["q50"]).all() and (b["q50"] <= b["q95"]).all()
    assert (b["q05"] < b["q95"]).any()
    # US welfare falls as eps rises (+2.0% at eps 2, +1.13% at 4, +0.33% at 8: docs/uncertainty.md), so the
    # draws' US welfare is in the reverse order of their eps
    us = world.index("USA")
    assert np.array_equal(np.argsort(mc.welfare_hat[:, us]), np.argsort(-mc.theta[:, 0]))
    with pytest.warns(ElasticityFallbackWarning):
        again = ts.monte_carlo(world, tariffs=tariffs, model="ilms2025", draws=6, seed=11)
    assert np.array_equal(again.theta, mc.theta) and np.array_equal(again.welfare_hat, mc.welfare_hat)


def test_the_documented_distribution():
    """Mean eps0, 95th percentile 2 eps0 (the paper's eps = 8), SD 0 exact; fewer draws are a prefix; kappa
    drawn or not leaves eps's draws unchanged."""
    d = mci.draw_parameters(4.0, mci.DEFAULT_EPS_CV * 4.0, 0.5, 0.0, 200_000, seed=5)
    assert abs(d[:, 0].mean() / 4.0 - 1) < 0.01
    assert abs(np.quantile(d[:, 0], 0.95) / 8.0 - 1) < 0.01
    assert (d[:, 1] == 0.5).all()
    k = mci.draw_parameters(4.0, mci.DEFAULT_EPS_CV * 4.0, 0.5, 0.1, 10, seed=5)
    assert np.array_equal(k[:, 0], d[:10, 0]) and abs(k[:, 1] - 0.5).max() > 0
    assert (mci.draw_parameters(4.0, 0.0, 0.5, 0.0, 5, seed=1)[:, 0] == 4.0).all()
    assert not np.array_equal(mci.draw_parameters(4.0, 1.0, 0.5, 0.0, 5, seed=1),
                              mci.draw_parameters(4.0, 1.0, 0.5, 0.0, 5, seed=2))


def test_failed_draws_are_counted_nan_and_warned(world, tariffs):
    """eps = 1000 has no certified equilibrium (residual ~4e-2 after 60 Newton steps on either path)."""
    with pytest.warns(FailedDrawsWarning):
        mc = ts.monte_carlo(world, tariffs=tariffs, model="ilms2025", eps_draws=[4.0, 1000.0], max_failed_share=1.0)
    assert mc.failed == 1 and mc.failed_mask.tolist() == [False, True]
    assert np.isnan(mc.welfare_hat[1]).all() and np.isfinite(mc.welfare_hat[0]).all()
    assert mc.residual[1] > 1e-9 and mc.meta["retried_serially"] == 1
    b = mc.bands()
    assert (b["draws"] == 1).all() and (b["failed"] == 1).all()
    with pytest.raises(ConvergenceError, match="1 of 2 draws"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ts.monte_carlo(world, tariffs=tariffs, model="ilms2025", eps_draws=[4.0, 1000.0], max_failed_share=0.4)


@pytest.mark.parametrize("kw, err, needle", [
    ({"model": "ilms2025", "revenu": "lump_sum"}, ScenarioError, "its options: closure"),
    ({"model": "ossa2014"}, ScenarioError, "has no Monte Carlo"),
    ({"revenue": "lump_sum"}, ScenarioError, "model 'caliendo_parro' takes no option"),
    ({"model": "ilms2025", "eps_sd": 1.0, "theta_sd": 1.0}, ScenarioError, "not both"),
    ({"model": "ilms2025", "eps_sd": -1.0}, DataError, "eps_sd"),
    ({"model": "ilms2025", "method": "fast"}, ScenarioError, "method must be one of"),
    ({"model": "ilms2025", "closure": "balanced", "method": "batched"}, ScenarioError, "method='serial'"),
])
def test_bad_options_are_one_line(world, tariffs, kw, err, needle):
    with pytest.raises(err) as exc:
        ts.monte_carlo(world, tariffs=tariffs, draws=2, **kw)
    assert needle in str(exc.value) and "\n" not in str(exc.value)


def test_bilateral_not_kept_says_why(world, tariffs):
    mc = ts.monte_carlo(world, tariffs=tariffs, model="ilms2025", eps_draws=[4.0], keep_bilateral=False,
                        method="serial")
    assert mc.bilateral_trade.shape == (1, 0, 0)
    with pytest.raises(DataError, match="keep_bilateral=True"):
        mc.bands("bilateral_trade")


def test_report_welfare_section_gets_ilms_bands(tmp_path, tariffs):
    """An ILMS scenario with ``monte_carlo:`` gets bands equal to ts.monte_carlo(model="ilms2025") called directly."""
    from pathlib import Path

    from tariffsim.run.context import RunContext, as_scenario
    from tariffsim.run.sections.welfare import welfare_section

    src = Path(__file__).resolve().parents[1] / "examples" / "ilms2025" / "ustr.yaml"
    text = src.read_text(encoding="utf-8").replace("\nstrategy:", "\nmonte_carlo: {draws: 3, seed: 2, options: "
                                                   "{theta_sd: 1.0}}\nstrategy:")
    path = tmp_path / "ustr_mc.yaml"
    path.write_text(text, encoding="utf-8")
    ctx = RunContext(as_scenario(path))
    ctx.load()
    name = ctx.scenario.counterfactuals[0].name
    s = ctx.counterfactual(name)
    sec = welfare_section(ctx)
    bands = sec.tables["welfare_bands"]
    ref = ts.monte_carlo(ctx.world, tariffs=s.tariffs, model="ilms2025", draws=3, seed=2, theta_sd=1.0,
                         revenue="income_tax").bands("welfare_hat")
    got = bands.filter(bands["counterfactual"] == name).sort("region")
    ref = ref.sort("region")
    _close(got["q05_pct"].to_numpy(), 100 * (ref["q05"].to_numpy() - 1), 1e-9)
    _close(got["q95_pct"].to_numpy(), 100 * (ref["q95"].to_numpy() - 1), 1e-9)
    assert "Trade elasticity eps log-normal" in sec.note
