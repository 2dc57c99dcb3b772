"""The Liberation Day model (Ignatenko, Macedoni, Lashkaripour & Simonovska 2025): published
numbers, the reduction to Caliendo-Parro, invariants and gradients (docs/design.md §8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tariffsim as ts
from tariffsim.errors import DataError, ScenarioError
from tariffsim.models import ilms
from tariffsim.models.ilms_data import calc_income, ilms_world, solve_nu, ustr_tariffs


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def world194():
    return ilms_world()


@pytest.fixture(scope="module")
def ustr194(world194):
    return ustr_tariffs(world194)


def small_world(n: int = 5, seed: int = 0) -> ts.World:
    """A random one-sector world with deficits and country-specific nu (the authors' data form)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(1.0, 10.0, (n, n))
    X[np.diag_indices(n)] += rng.uniform(20.0, 60.0, n)
    nu = rng.uniform(0.05, 0.3, n)
    return ts.World.from_arrays(regions=[f"C{i}" for i in range(n)], sectors=["ALL"], flows=X[:, :, None], theta=4.0,
                                meta={"ilms_nu": nu})


def small_tariffs(n: int = 5, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.0, 0.4, (n, n, 1))
    t[np.arange(n), np.arange(n), 0] = 0.0
    return t


# ----------------------------------------------------------------------------- data construction
def test_nu_calibration_hits_the_two_region_targets(world194):
    """solveNu: nu = 0.1143 (non-US) and 0.2705 (US), as ../shared/data/world_2023_aggregate/SOURCES.md."""
    nu = world194.meta["ilms_nu"]
    us = world194.index("USA")
    assert nu[us] == pytest.approx(0.2705, abs=5e-5)
    assert np.delete(nu, us) == pytest.approx(0.1143, abs=5e-5)
    # domestic absorption X_ii = Y_i + T_i - imports with T_i = (1-nu_i)(M_i - sum_j (1-nu_j) X_ij)
    X = world194.flows[:, :, 0]
    off = X * (1 - np.eye(len(nu)))
    gdp = world194.meta["gdp_usd"] / 1e6
    T = (1 - nu) * (off.sum(axis=0) - ((1 - nu)[None, :] * off).sum(axis=1))
    pos = np.diag(X) > 0
    assert np.allclose(np.diag(X)[pos], (gdp + T - off.sum(axis=0))[pos], rtol=1e-12)
    assert [world194.regions[i] for i in np.nonzero(~pos)[0]] == ["GMB", "MHL"]  # floored at 0, as the authors
    # model income and deficits add up: sum_i (E_i - Y_i) = 0
    assert abs((X.sum(axis=0) - calc_income(X, nu)).sum()) < 1e-9 * X.sum()


def test_solve_nu_rejects_unreachable_targets():
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(DataError, match="nu"):
        solve_nu(X, np.array([10.0, 10.0]), 1, targets=(5.0, -5.0))


# ----------------------------------------------------------------------------- published numbers
def test_table1_ustr_tariffs_income_tax_relief(world194, ustr194):
    """Table 1 case 1: US welfare +1.13%, deficit -18.1%, exports/GDP -52.7%, imports/GDP -43.6%,
    employment +0.32%, prices +12.8%; non-US average welfare -0.58%."""
    eq = ts.bind_model(world194, "ilms2025", closure="fixed").solve(ustr194)
    us = world194.index("USA")
    t = {k: v[us] for k, v in eq.table().items()}
    assert t["welfare"] == pytest.approx(1.13, abs=0.02)
    assert t["deficit"] == pytest.approx(-18.1, abs=0.05)
    assert t["exports_to_gdp"] == pytest.approx(-52.7, abs=0.05)
    assert t["imports_to_gdp"] == pytest.approx(-43.6, abs=0.05)
    assert t["employment"] == pytest.approx(0.32, abs=0.005)
    assert t["prices"] == pytest.approx(12.8, abs=0.05)
    avg = eq.average()
    assert avg["welfare"] == pytest.approx(-0.58, abs=0.005)
    assert avg["prices"] == pytest.approx(-4.7, abs=0.05)
    assert eq.revenue_share_of_gdp[us] == pytest.approx(0.0114, abs=5e-5)       # Table 3: 1.14% of GDP
    assert eq.global_trade_to_gdp_change_pct == pytest.approx(-9.4, abs=0.05)   # Table 11, main
    assert eq.global_employment_change_pct == pytest.approx(-0.02, abs=0.005)


def test_table1_lump_sum_rebate(world194, ustr194):
    """Table 1 case 2: with a lump-sum rebate US welfare is -0.01% and employment -0.41%."""
    eq = ts.bind_model(world194, "ilms2025", closure="fixed", revenue="lump_sum").solve(ustr194)
    us = world194.index("USA")
    assert 100 * (eq.welfare_hat[us] - 1) == pytest.approx(-0.01, abs=0.02)
    assert 100 * (eq.employment_hat[us] - 1) == pytest.approx(-0.41, abs=0.005)


def test_table1_optimal_us_tariff_closed_form(world194):
    """Table 1 case 3: t* = 1/((1 + delta eps) phi - 1) = 21.8%, US welfare +1.79%."""
    m = ts.bind_model(world194, "ilms2025", closure="fixed")
    t_star = ilms.closed_form_optimal_tariff(m, "USA")
    assert t_star == pytest.approx(0.218, abs=5e-4)
    us = world194.index("USA")
    t = np.zeros(world194.flows.shape)
    t[:, us, 0] = t_star
    t[us, us, 0] = 0.0
    eq = m.solve(t)
    assert 100 * (eq.welfare_hat[us] - 1) == pytest.approx(1.79, abs=0.02)
    assert eq.revenue_share_of_gdp[us] == pytest.approx(0.0135, abs=5e-5)       # Table 3: 1.35%


def test_tables_2_3_10_published_cells():
    """Table 2 (retaliation), Table 3 (tariff revenue, % of GDP) and Table 10 (deficit closures), US rows,
    to the printed precision (replication package output/Table_{2,3,10}.tex)."""
    from tariffsim.models import ilms_paper

    rec = ilms_paper.scenario("reciprocal_retaliation").equilibrium
    ret = ilms_paper.scenario("optimal_retaliation").equilibrium
    us = rec.regions.index("USA")
    assert 100 * (rec.welfare_hat[us] - 1) == pytest.approx(-0.36, abs=0.005)
    assert 100 * (rec.welfare_hat[rec.regions.index("CHN")] - 1) == pytest.approx(-0.82, abs=0.005)
    assert 100 * (ret.welfare_hat[us] - 1) == pytest.approx(-0.75, abs=0.005)
    assert rec.deficit_change_pct[us] == pytest.approx(-26.7, abs=0.05)
    assert 100 * rec.revenue_share_of_gdp[us] == pytest.approx(0.82, abs=0.005)
    assert 100 * ret.revenue_share_of_gdp[us] == pytest.approx(0.74, abs=0.005)
    t10 = ilms_paper.table10()
    for panel, published in (("fixed_pre", 1.24), ("balanced_pre", 0.92), ("fixed_post", 0.05), ("balanced_post", -0.84)):
        assert t10[panel]["USA"]["welfare"] == pytest.approx(published, abs=0.006), panel
    assert t10["fixed_pre"]["non-US"]["welfare"] == pytest.approx(-0.35, abs=0.005)


# ----------------------------------------------------------------------------- reductions
def test_reduced_model_equals_caliendo_parro(world194, ustr194):
    """kappa = 0, nu = 0, phi = 1: the one-sector CP model with fixed deficits, to 1e-9."""
    m = ts.bind_model(world194, "ilms2025", closure="fixed", kappa=0.0, nu=0.0, pass_through=1.0)
    eq = m.solve(ustr194)
    cp = ts.solve(world194, tariffs=ustr194, closure="fixed")
    assert np.abs(eq.welfare_hat - cp.welfare_hat).max() < 1e-9
    # nominal levels differ by the numeraire (CP: world value added; ILMS: world price index)
    a, b = eq.flows / eq.flows.sum(), cp.flows[:, :, 0] / cp.flows.sum()
    assert np.abs(a - b).max() / b.max() < 1e-9
    assert np.allclose(eq.employment_hat, 1.0, atol=1e-12)
    us = world194.index("USA")
    assert 100 * (cp.welfare_hat[us] - 1) == pytest.approx(0.354, abs=0.0005)


def test_zero_shock_gives_all_hats_one():
    w = small_world()
    for rev in ("income_tax", "lump_sum"):
        eq = ts.bind_model(w, "ilms2025", closure="fixed", revenue=rev).solve(np.zeros(w.flows.shape))
        assert eq.iterations <= 1
        for a in (eq.welfare_hat, eq.wage_hat, eq.employment_hat, eq.price_hat, eq.expenditure_hat):
            assert np.abs(a - 1).max() < 1e-10


def test_balanced_closure_rebases_to_zero_deficits():
    """closure="balanced": the zero-deficit equilibrium becomes the baseline (its flows balance
    country by country in model income), and a zero shock then leaves every hat at 1."""
    from tariffsim.models.ilms_data import calc_income

    w = small_world()
    m = ts.bind_model(w, "ilms2025", closure="balanced")
    X = np.asarray(m.world.flows[:, :, 0])
    E, Y = X.sum(axis=0), calc_income(X, np.asarray(w.meta["ilms_nu"]))
    assert np.abs(E - Y).max() < 1e-9 * E.max()
    assert np.abs(np.asarray(w.flows[:, :, 0]).sum(axis=0) - calc_income(np.asarray(w.flows[:, :, 0]),
                                                                            np.asarray(w.meta["ilms_nu"]))).max() > 1e-2
    eq = m.solve(np.zeros(w.flows.shape))
    assert np.abs(eq.welfare_hat - 1).max() < 1e-10


def test_homogeneity_numeraire_and_units():
    """Real outcomes do not depend on the numeraire (price index vs wages) or on the money unit;
    nominal prices and wages move by one common factor."""
    w, t = small_world(), small_tariffs()
    a = ts.bind_model(w, "ilms2025", closure="fixed").solve(t)
    b = ts.bind_model(w, "ilms2025", closure="fixed", numeraire="wage").solve(t)
    assert np.abs(a.welfare_hat - b.welfare_hat).max() < 1e-10
    assert np.abs(a.employment_hat - b.employment_hat).max() < 1e-10
    ratio = a.wage_hat / b.wage_hat
    assert np.ptp(ratio) < 1e-10 and np.ptp(a.price_hat / b.price_hat) < 1e-10
    assert abs(ratio[0] - 1) > 1e-4  # the numeraires really differ
    w2 = ts.World.from_arrays(regions=w.regions, sectors=w.sectors, flows=np.asarray(w.flows) * 1000.0, theta=4.0,
                              meta=dict(w.meta))
    c = ts.bind_model(w2, "ilms2025", closure="fixed").solve(t)
    assert np.abs(a.welfare_hat - c.welfare_hat).max() < 1e-10


def test_relabelling_countries_permutes_results():
    w, t = small_world(), small_tariffs()
    perm = np.array([3, 0, 4, 1, 2])
    wp = ts.World.from_arrays(regions=[w.regions[i] for i in perm], sectors=w.sectors,
                              flows=np.asarray(w.flows)[np.ix_(perm, perm)], theta=4.0,
                              meta={"ilms_nu": np.asarray(w.meta["ilms_nu"])[perm]})
    a = ts.bind_model(w, "ilms2025", closure="fixed").solve(t)
    b = ts.bind_model(wp, "ilms2025", closure="fixed").solve(t[np.ix_(perm, perm)])
    assert np.abs(a.welfare_hat[perm] - b.welfare_hat).max() < 1e-10
    assert np.abs(a.employment_hat[perm] - b.employment_hat).max() < 1e-10


def test_gradient_matches_finite_differences():
    """d log W_hat / d t through the implicit-function step equals central differences of solves."""
    import jax
    import jax.numpy as jnp

    w, t = small_world(), small_tariffs()
    m = ts.bind_model(w, "ilms2025", closure="fixed")

    def f(x):
        tt = jnp.asarray(t).at[1, 0, 0].set(x[0]).at[2, 0, 0].set(x[1])
        return jnp.log(m.evaluate(tt, m.init_state)[0][0])

    x0 = np.array([0.15, 0.3])
    g = np.asarray(jax.jit(jax.grad(f))(jnp.asarray(x0)))

    def solved(x):
        tt = t.copy()
        tt[1, 0, 0], tt[2, 0, 0] = x
        return np.log(m.solve(tt).welfare_hat[0])

    h = 1e-6
    fd = np.array([(solved(x0 + h * e) - solved(x0 - h * e)) / (2 * h) for e in np.eye(2)])
    assert np.allclose(g, fd, rtol=1e-6, atol=1e-10)


def test_roundabout_production_tends_to_the_one_sector_model():
    """The IO variant (4N unknowns, main_io.m) solves a zero shock to all hats 1 and, as the
    value-added share beta -> 1, gives the baseline model's welfare (same numeraire)."""
    w, t = small_world(4), small_tariffs(4)
    io = ts.bind_model(w, "ilms2025", closure="fixed", value_added_share=1.0 - 1e-7)
    assert np.abs(io.solve(np.zeros(w.flows.shape)).welfare_hat - 1).max() < 1e-10
    a = io.solve(t)
    b = ts.bind_model(w, "ilms2025", closure="fixed", numeraire="wage").solve(t)
    assert np.abs(a.welfare_hat - b.welfare_hat).max() < 1e-5
    assert np.abs(a.welfare_hat - 1).max() > 1e-3
    half = ts.bind_model(w, "ilms2025", closure="fixed", value_added_share=0.49).solve(t)
    assert np.abs(half.welfare_hat - b.welfare_hat).max() > 1e-3   # IO links matter


# ----------------------------------------------------------------------------- strategy
def test_numerical_optimal_tariff_beats_the_closed_form(world194):
    """ts.optimal_tariff drives the model unchanged (no model-specific code in strategy/). The closed
    form (21.8%) is the first-order approximation; the exact optimum lies above it and is better."""
    m = ts.bind_model(world194, "ilms2025", closure="fixed")
    r = ts.optimal_tariff(m, "USA", structure="uniform", bounds=(0.0, 1.0))
    us = world194.index("USA")
    closed = ilms.closed_form_optimal_tariff(m, "USA")
    assert r.parameters[0] > closed
    assert r.welfare_hat[us] >= 1.0179
    assert r.projected_gradient_norm < 1e-6


def test_bad_options_raise_one_line_errors():
    w = small_world()
    with pytest.raises(ScenarioError, match="revenue"):
        ts.bind_model(w, "ilms2025", revenue="helicopter")
    with pytest.raises(ScenarioError, match="closure"):
        ts.bind_model(w, "ilms2025", closure="floating")
    with pytest.raises(ScenarioError, match="zero tariffs"):
        ts.bind_model(w.with_tariffs(small_tariffs()), "ilms2025")
    with pytest.raises(DataError, match="shape"):
        ts.bind_model(w, "ilms2025").solve(np.zeros((3, 3, 1)))
    with pytest.raises(ScenarioError, match="unknown model"):
        ts.bind_model(w, "ilms2026")


# ----------------------------------------------------------------------------- example scenarios
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "ilms2025"


def _measure_tariffs(scn, world, name):
    """Tariffs of counterfactual ``name`` of a parsed scenario (its base chain, then its measures)."""
    cf = next(c for c in scn.counterfactuals if c.name == name)
    t = np.zeros(world.flows.shape) if cf.base is None else _measure_tariffs(scn, world, cf.base)
    for m in cf.measures:
        t = world.tariffs_with(importer=m.importer, exporter=m.exporter, set=m.set, add=m.add, base=t)
    return t


@pytest.mark.parametrize("fname, cf, scenario_name, variant", [
    ("ustr.yaml", "ustr", "ustr", "baseline"),
    ("lump_sum.yaml", "ustr", "ustr", "lump_sum"),
    ("optimal_us_tariff.yaml", "optimal_closed_form", "optimal", "baseline"),
    ("reciprocal_retaliation.yaml", "reciprocal_retaliation", "reciprocal_retaliation", "baseline"),
    ("optimal_retaliation.yaml", "optimal_retaliation", "optimal_retaliation", "baseline"),
    ("optimal_retaliation.yaml", "optimal_and_retaliation", "optimal_and_retaliation", "baseline"),
])
def test_example_yaml_matches_the_one_call_scenario(world194, fname, cf, scenario_name, variant):
    """Each examples/ilms2025 file parses, names model family ilms2025 with the variant's options,
    and its measures give exactly the tariffs of ilms_paper.scenario_tariffs."""
    from tariffsim.models import ilms_paper

    scn = ts.load_scenario(EXAMPLES / fname)
    assert scn.model.family == "ilms2025" and scn.model.ge.closure == "fixed"
    assert scn.model.options == {"revenue": "lump_sum" if variant == "lump_sum" else "income_tax"}
    m = ilms_paper.paper_model(variant)
    expected = ilms_paper.scenario_tariffs(m, scenario_name)
    assert np.abs(_measure_tariffs(scn, world194, cf) - expected).max() < 1e-12


def test_example_strategy_yamls_parse():
    opt = ts.load_scenario(EXAMPLES / "optimal_us_tariff.yaml").strategy.optimal[0]
    assert (opt.country, opt.structure) == ("USA", "uniform")
    nash = ts.load_scenario(EXAMPLES / "nash_war.yaml").strategy.nash[0]
    assert nash.players == ["USA", "CHN", "CAN", "MEX", "JPN"] and nash.structure == "uniform"
