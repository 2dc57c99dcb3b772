"""GE engine validation (docs/design.md §8): closed forms, invariants, reductions, gradients,
published Caliendo-Parro (2015) NAFTA numbers, hard cases, failure modes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tariffsim as ts
from tariffsim.data import read_table
from tariffsim.models.synthetic import synthetic_world
from tariffsim.data.worlds import _dense
from tariffsim.errors import ConvergenceError, DataError, ScenarioError
from tariffsim.models import ge
from tariffsim.world import World


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def w7x44():
    return ts.load_world("world_io_7x44_2017")


@pytest.fixture(scope="module")
def small_io():
    return synthetic_world(4, 3, io=True, seed=3)


@pytest.fixture(scope="module")
def small_noio():
    return synthetic_world(4, 3, io=False, seed=4)


def _acr_world(theta: float = 5.0, n_sectors: int = 1, seed: int = 0) -> World:
    """3 countries, no IO, balanced trade; C levies no tariffs, A and B trade with tariffs."""
    rng = np.random.default_rng(seed)
    flows = rng.uniform(50, 150, (3, 3, n_sectors))
    flows[np.arange(3), np.arange(3), :] = 1000.0
    t = np.zeros((3, 3, n_sectors))
    w = World.from_arrays(regions=["A", "B", "C"], sectors=[str(k) for k in range(n_sectors)], flows=flows,
                          tariffs=t, theta=np.full(n_sectors, theta) * np.linspace(1, 1.5, n_sectors),
                          final_demand_share=np.full((3, n_sectors), 1.0 / n_sectors))
    return ge.rebase_world(w, closure="balanced")


# ----------------------------------------------------------------------------- zero shock
@pytest.mark.parametrize("name", ["w7x44", "small_io", "small_noio"])
def test_zero_shock_gives_all_hats_one(name, request):
    w = request.getfixturevalue(name)
    eq = ts.solve(w)
    for arr in (eq.welfare_hat, eq.wage_hat, eq.price_hat, eq.cost_hat):
        np.testing.assert_allclose(arr, 1.0, atol=1e-10)
    np.testing.assert_allclose(eq.flows, w.flows, rtol=1e-9, atol=1e-9 * w.flows.max())
    assert eq.converged and eq.residual < 1e-9


def test_loaded_7x44_is_an_exact_equilibrium_after_rebase(w7x44):
    raw = ts.load_world("world_io_7x44_2017", rebase=False)
    eq_raw = ts.solve(raw)
    # shipped final-demand shares do not match the flows exactly: the raw zero shock moves prices
    assert np.abs(eq_raw.wage_hat - 1).max() > 1e-4
    assert w7x44.meta.get("rebased") == "fixed"
    np.testing.assert_allclose(w7x44.deficit_usd, raw.deficit_usd, rtol=1e-9, atol=1e-3)


# ----------------------------------------------------------------------------- closed forms
def test_acr_formula_one_sector_for_country_without_tariffs():
    """W_hat = lambda_hat_CC^(-1/theta) for C (no tariffs of its own, balanced trade, one sector)."""
    w = _acr_world(theta=5.0)
    t1 = w.tariffs_with(importer="A", exporter="B", set=0.4)
    t1 = w.tariffs_with(importer="B", exporter="A", set=0.3, base=t1)
    eq = ts.solve(w, tariffs=t1, closure="balanced")
    c = w.index("C")
    lam_hat = eq.trade_share[c, c, 0] / w.trade_share[c, c, 0]
    assert abs(eq.welfare_hat[c] - 1) > 1e-5  # the shock matters for C
    np.testing.assert_allclose(eq.welfare_hat[c], lam_hat ** (-1.0 / 5.0), rtol=1e-10)


def test_acr_formula_multi_sector_no_io():
    """W_hat_n = prod_s lambda_hat_nn,s^(-alpha_s/theta_s) (Costinot & Rodriguez-Clare 2014)."""
    w = _acr_world(theta=4.0, n_sectors=3, seed=1)
    t1 = w.tariffs_with(importer="A", exporter="B", set=0.25)
    eq = ts.solve(w, tariffs=t1, closure="balanced")
    c = w.index("C")
    lam_hat = eq.trade_share[c, c, :] / w.trade_share[c, c, :]
    expected = np.prod(lam_hat ** (-w.final_demand_share[c] / w.theta))
    np.testing.assert_allclose(eq.welfare_hat[c], expected, rtol=1e-10)


def test_general_welfare_identity_with_tariff_revenue(small_noio):
    """Without IO: P_hat_n,s = w_hat_n lambda_hat_nn,s^(1/theta_s), so W_hat = (I1/I0) / prod P_hat^alpha."""
    w = small_noio
    eq = ts.solve(w, tariffs=w.tariffs * 2.0)
    lam_hat = np.einsum("nns->ns", eq.trade_share) / np.einsum("nns->ns", w.trade_share)
    p_hat = eq.wage_hat[:, None] * lam_hat ** (1.0 / w.theta)[None, :]
    np.testing.assert_allclose(eq.price_hat, p_hat, rtol=1e-10)


# ----------------------------------------------------------------------------- invariants
def _check_accounting(eq):
    """Adding up, Walras' law (every labour market incl. the numeraire country), deficits."""
    b = eq.baseline
    np.testing.assert_allclose(eq.trade_share.sum(axis=0), 1.0, atol=1e-12)
    out = eq.flows.sum(axis=1)
    labour = (b.value_added_share * out).sum(axis=1)
    np.testing.assert_allclose(labour, eq.wage_hat * b.value_added_usd, rtol=1e-9)
    np.testing.assert_allclose(eq.trade_balance, -eq.deficits, atol=1e-8 * b.flows.sum())
    np.testing.assert_allclose((eq.wage_hat * b.value_added_usd).sum(), b.value_added_usd.sum(), rtol=1e-12)
    np.testing.assert_allclose(eq.income, eq.wage_hat * b.value_added_usd + eq.tariff_revenue + eq.deficits, rtol=1e-12)


@settings(max_examples=8, deadline=None)
@given(scale=st.floats(0.0, 3.0), seed=st.integers(0, 1000))
def test_walras_and_adding_up_hold_for_random_shocks(small_io, scale, seed):
    rng = np.random.default_rng(seed)
    t1 = small_io.tariffs * scale + rng.uniform(0, 0.3, small_io.tariffs.shape)
    t1[np.arange(4), np.arange(4), :] = 0
    _check_accounting(ts.solve(small_io, tariffs=t1))


@settings(max_examples=5, deadline=None)
@given(k=st.floats(1e-3, 1e3))
def test_homogeneity_scaling_all_values_leaves_hats_unchanged(small_io, k):
    w = small_io
    w2 = World.from_arrays(regions=w.regions, sectors=w.sectors, flows=w.flows * k, tariffs=w.tariffs, theta=w.theta,
                           value_added_share=w.value_added_share, io_share=w.io_share,
                           final_demand_share=w.final_demand_share)
    t1 = w.tariffs + 0.1 * (1 - np.eye(4))[:, :, None]
    e1, e2 = ts.solve(w, tariffs=t1), ts.solve(w2, tariffs=t1)
    np.testing.assert_allclose(e1.welfare_hat, e2.welfare_hat, rtol=1e-9)
    np.testing.assert_allclose(e1.price_hat, e2.price_hat, rtol=1e-9)
    np.testing.assert_allclose(e2.ev_usd, k * e1.ev_usd, rtol=1e-6, atol=1e-9 * k)


def test_homogeneity_wage_warm_start_does_not_change_answer(small_io):
    t1 = small_io.tariffs * 1.5
    a = ts.solve(small_io, tariffs=t1)
    b = ts.solve(small_io, tariffs=t1, initial_wage_hat=np.array([1.3, 0.8, 1.1, 0.95]))
    np.testing.assert_allclose(a.welfare_hat, b.welfare_hat, rtol=1e-10)


@settings(max_examples=4, deadline=None)
@given(perm_seed=st.integers(0, 10_000))
def test_relabelling_countries_and_sectors_permutes_results(small_io, perm_seed):
    rng = np.random.default_rng(perm_seed)
    pr, ps = rng.permutation(4), rng.permutation(3)
    w = small_io
    wp = World.from_arrays(
        regions=[w.regions[i] for i in pr], sectors=[w.sectors[i] for i in ps],
        flows=w.flows[np.ix_(pr, pr, ps)], tariffs=w.tariffs[np.ix_(pr, pr, ps)], theta=w.theta[ps],
        value_added_share=w.value_added_share[np.ix_(pr, ps)], io_share=w.io_share[np.ix_(pr, ps, ps)],
        final_demand_share=w.final_demand_share[np.ix_(pr, ps)])
    t1 = w.tariffs * 2 + 0.05 * (1 - np.eye(4))[:, :, None]
    e, ep = ts.solve(w, tariffs=t1), ts.solve(wp, tariffs=t1[np.ix_(pr, pr, ps)])
    np.testing.assert_allclose(ep.welfare_hat, e.welfare_hat[pr], rtol=1e-9)
    np.testing.assert_allclose(ep.price_hat, e.price_hat[np.ix_(pr, ps)], rtol=1e-9)


# ----------------------------------------------------------------------------- reductions
def test_io_code_path_with_va_one_equals_no_io_model(small_noio):
    """GE with IO shares zero and va = 1 is the multi-sector Armington model (same numbers via both kernels)."""
    w = small_noio
    t1 = w.tariffs * 2.5
    p = ge.make_params(w, t1)
    x0 = jnp.zeros(4)
    a = ge._equilibrium_jit(p, x0, has_io=False)
    b = ge._equilibrium_jit(p, x0, has_io=True)
    np.testing.assert_allclose(a.welfare_hat, b.welfare_hat, rtol=1e-10)
    np.testing.assert_allclose(a.flows, b.flows, rtol=1e-9)


def test_symmetric_countries_give_symmetric_results():
    n, s = 3, 2
    flows = np.full((n, n, s), 100.0)
    flows[np.arange(n), np.arange(n), :] = 900.0
    io = np.full((n, s, s), 0.2)
    w = World.from_arrays(regions=["A", "B", "C"], sectors=["1", "2"], flows=flows, tariffs=np.zeros((n, n, s)),
                          theta=[4.0, 6.0], value_added_share=np.full((n, s), 0.6), io_share=io,
                          final_demand_share=np.full((n, s), 0.5))
    w = ge.rebase_world(w)
    t = np.full((n, n, s), 0.2)
    t[np.arange(n), np.arange(n), :] = 0
    eq = ts.solve(w, tariffs=t)
    np.testing.assert_allclose(eq.welfare_hat, eq.welfare_hat[0], rtol=1e-12)
    np.testing.assert_allclose(eq.wage_hat, 1.0, atol=1e-12)  # numeraire + symmetry
    assert eq.welfare_hat[0] < 1.0  # a symmetric tariff war hurts everyone


def test_chained_counterfactuals_compose(small_io):
    """Solving t0->t1 then (t1 world)->t2 gives the same t2 equilibrium as t0->t2; hats multiply."""
    w = small_io
    t1 = w.tariffs * 1.7
    t2 = w.tariffs * 0.4 + 0.02 * (1 - np.eye(4))[:, :, None]
    e1 = ts.solve(w, tariffs=t1)
    e12 = ts.solve(e1.world, tariffs=t2)
    e2 = ts.solve(w, tariffs=t2)
    np.testing.assert_allclose(e12.flows, e2.flows, rtol=1e-8)
    np.testing.assert_allclose(e1.welfare_hat * e12.welfare_hat, e2.welfare_hat, rtol=1e-9)


# ----------------------------------------------------------------------------- gradients
def test_gradient_of_welfare_matches_finite_differences(small_io):
    w = small_io
    p0 = ge.make_params(w, w.tariffs)
    x0 = jnp.zeros(4)

    def welfare_of(tau_01):
        t1 = p0.t1.at[0, 1, :].set(tau_01)
        return ge.equilibrium(p0._replace(t1=t1), x0, True).welfare_hat[1]

    tau = jnp.asarray(w.tariffs[0, 1, :]) + 0.05
    g = jax.grad(welfare_of)(tau)
    h = 1e-5
    fd = np.array([(welfare_of(tau.at[k].add(h)) - welfare_of(tau.at[k].add(-h))) / (2 * h) for k in range(3)])
    np.testing.assert_allclose(np.asarray(g), fd, rtol=1e-5, atol=1e-9)
    assert np.abs(fd).max() > 1e-4


def test_gradient_with_respect_to_theta_matches_finite_differences(small_noio):
    p0 = ge.make_params(small_noio, small_noio.tariffs * 2)

    def f(theta):
        return ge.equilibrium(p0._replace(theta=theta), jnp.zeros(4), False).welfare_hat.sum()

    th = p0.theta
    g = jax.grad(f)(th)
    h = 1e-5
    fd = np.array([(f(th.at[k].add(h)) - f(th.at[k].add(-h))) / (2 * h) for k in range(3)])
    np.testing.assert_allclose(np.asarray(g), fd, rtol=1e-5, atol=1e-10)


def test_vmap_over_tariffs_equals_loop(small_noio):
    w = small_noio
    p0 = ge.make_params(w)
    scales = jnp.array([0.5, 1.0, 2.0])
    batched = jax.vmap(lambda k: ge.equilibrium(p0._replace(t1=p0.t0 * k), jnp.zeros(4), False).welfare_hat)(scales)
    for i, k in enumerate([0.5, 1.0, 2.0]):
        np.testing.assert_allclose(batched[i], ts.solve(w, tariffs=w.tariffs * k).welfare_hat, rtol=1e-10)


# ----------------------------------------------------------------------------- published: Caliendo-Parro
@pytest.fixture(scope="module")
def nafta():
    w = ts.load_world("caliendo_parro_1993")
    base = ts.solve(w, closure="balanced").world          # 1993 re-solved with zero deficits
    tt = read_table("caliendo_parro_1993", "tariffs")
    R, S = base.regions, base.sectors
    t_cf = _dense(tt, "tariffs", ("exporter", "importer", "sector"), "tariff_rate_nafta_cf", (R, R, S), (31, 31, 40))
    return ts.solve(base, tariffs=t_cf, closure="balanced")


@pytest.mark.parametrize("region,tot,vot,total", [("MEX", -0.41, 1.72, 1.31), ("CAN", None, None, -0.06), ("USA", None, None, 0.08)])
def test_caliendo_parro_nafta_welfare_decomposition(nafta, region, tot, vot, total):
    """CP (2015) section 5.1 / abstract: Mexico +1.31% (ToT -0.41, VoT +1.72), Canada -0.06%, US +0.08%."""
    d = nafta.decomposition()
    i = nafta.regions.index(region)
    assert abs(d.total_pct[i] - total) <= 0.01 + 1e-9
    if tot is not None:
        assert abs(d.terms_of_trade_pct[i] - tot) <= 0.01 + 1e-9
        assert abs(d.volume_of_trade_pct[i] - vot) <= 0.01 + 1e-9


@pytest.mark.parametrize("region,real_wage", [("MEX", 1.72), ("CAN", 0.32), ("USA", 0.11)])
def test_caliendo_parro_nafta_real_wages(nafta, region, real_wage):
    i = nafta.regions.index(region)
    assert abs(100 * (nafta.real_wage_hat[i] - 1) - real_wage) <= 0.01 + 1e-9


# ----------------------------------------------------------------------------- US-Japan signs
def test_us_tariff_on_japan_signs(w7x44):
    t = w7x44.tariffs_with(importer="USA", exporter="JPN", add=0.24)
    eq = ts.solve(w7x44, tariffs=t)
    jpn, usa = w7x44.index("JPN"), w7x44.index("USA")
    assert eq.welfare_hat[jpn] < 1.0
    f0, f1 = w7x44.flows[jpn, usa].sum(), eq.flows[jpn, usa].sum()
    assert f1 < 0.8 * f0  # Japan's exports to the US fall a lot
    assert eq.tariff_revenue[usa] > w7x44.tariff_revenue_usd[usa]
    # Japanese retaliation hurts the US relative to no retaliation
    t2 = w7x44.tariffs_with(importer="JPN", exporter="USA", add=0.24, base=t)
    eq2 = ts.solve(w7x44, tariffs=t2)
    assert eq2.welfare_hat[usa] < eq.welfare_hat[usa]


# ----------------------------------------------------------------------------- hard cases & failure
def test_hard_case_random_40x20_with_large_tariffs_converges():
    w = synthetic_world(40, 20, seed=7, tariff_max=0.5)
    eq = ts.solve(w, tariffs=w.tariffs * 4.0)
    _check_accounting(eq)


def test_hard_case_194_countries_liberation_day():
    w = ts.load_world("world_2023_aggregate")
    rates = read_table("world_2023_aggregate", "us_tariffs_2025")
    usa = w.index("USA")
    t = np.array(w.tariffs)
    for partner, rate in zip(rates["partner"], rates["rate_used_in_model"]):
        if partner != "USA":
            t[w.index(partner), usa, 0] = rate
    eq = ts.solve(w, tariffs=t)
    _check_accounting(eq)
    assert eq.welfare_hat[w.index("CHN")] < 1.0


def test_unconverged_solve_raises_convergence_error(small_io):
    with pytest.raises(ConvergenceError, match="residual"):
        ts.solve(small_io, tariffs=small_io.tariffs * 5, max_iter=1)
    eq = ts.solve(small_io, tariffs=small_io.tariffs * 5, max_iter=1, throw=False)
    assert not eq.converged


def test_bad_scenario_inputs_raise_one_line_errors(small_io):
    t = np.array(small_io.tariffs)
    t[0, 1, 0] = -1.5
    with pytest.raises(DataError, match="-100%"):
        ts.solve(small_io, tariffs=t)
    with pytest.raises(ScenarioError, match="closure"):
        ts.solve(small_io, closure="floating")
    with pytest.raises(DataError, match="sum to zero"):
        ts.solve(small_io, deficits=np.ones(4))
    t = np.array(small_io.tariffs)
    t[1, 1, 1] = np.nan
    with pytest.raises(DataError):
        ts.solve(small_io, tariffs=t)


def test_transfer_deficits_shift_welfare(small_io):
    """A transfer from C01 to C00 (D1[C00] += T) raises C00's welfare and lowers C01's."""
    d = np.array(small_io.deficit_usd)
    T = 0.01 * small_io.income_usd[1]
    d2 = d.copy()
    d2[0] += T
    d2[1] -= T
    eq = ts.solve(small_io, deficits=d2)
    assert eq.welfare_hat[0] > 1 and eq.welfare_hat[1] < 1
    np.testing.assert_allclose(eq.trade_balance, -d2, atol=1e-6)


def test_equilibrium_summary_and_parquet(tmp_path, small_io):
    eq = ts.solve(small_io, tariffs=small_io.tariffs * 2)
    df = eq.summary()
    assert df.columns[0] == "region" and df.height == 4
    np.testing.assert_allclose(df["welfare_change_pct"].to_numpy(), 100 * (eq.welfare_hat - 1))
    p = eq.to_parquet(tmp_path / "eq.parquet")
    assert p.exists() and not list(tmp_path.glob("*.tmp"))


def test_negative_income_root_is_rejected_not_returned():
    """With deficits fixed in levels, a surplus country whose exports collapse would need
    negative income: the equations have a root, the economy has no equilibrium."""
    f = np.array([[[100.0], [80.0]], [[5.0], [200.0]]])        # A runs a surplus of 75
    w = World.from_arrays(regions=["A", "B"], sectors=["1"], flows=f, theta=4.0)
    t = w.tariffs_with(importer="B", exporter="A", set=50.0)
    with pytest.raises(ConvergenceError, match="income of A"):
        ts.solve(w, tariffs=t)
    assert not ts.solve(w, tariffs=t, throw=False).converged
    eq = ts.solve(w, tariffs=t, closure="balanced")              # valid once deficits are purged
    assert (eq.income > 0).all() and eq.welfare_hat[1] < 1
