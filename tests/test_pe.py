"""Product-level PE model (models/pe.py): closed forms, SMART first order, identities, limits, errors."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tariffsim.errors import DataError
from tariffsim.models import pe


def one(value=100.0, t0=0.0, t1=0.25, product="8703", source="JPN"):
    return pl.DataFrame({"product": [product], "source": [source], "value_usd": [value],
                         "tariff_old": [t0], "tariff_new": [t1]})


def three(t_jpn=0.15, t_kor=0.025, t_deu=0.025, t0=0.025, values=(100.0, 50.0, 30.0)):
    return pl.DataFrame({"product": ["8703"] * 3, "source": ["JPN", "KOR", "DEU"], "value_usd": list(values),
                         "tariff_old": [t0] * 3, "tariff_new": [t_jpn, t_kor, t_deu]})


# ---------------------------------------------------------------- closed forms


@pytest.mark.parametrize("eps", [0.5, 1.0, 2.0, 3.7])
def test_one_source_quantity_is_tau_hat_to_minus_epsilon(eps):
    t0, t1 = 0.025, 0.275
    r = pe.simulate(one(t0=t0, t1=t1), sigma=5.0, epsilon=eps)
    tau = (1 + t1) / (1 + t0)
    row = r.table.row(0, named=True)
    assert row["quantity_hat"] == pytest.approx(tau ** -eps, rel=1e-13)
    assert row["value_usd_new"] == pytest.approx(100 * tau ** -eps, rel=1e-13)
    assert row["tariff_revenue_new"] == pytest.approx(t1 * 100 * tau ** -eps, rel=1e-13)
    assert row["consumer_price_hat"] == pytest.approx(tau, rel=1e-14)
    assert row["pass_through"] == pytest.approx(1.0)
    assert r.products["price_index_hat"][0] == pytest.approx(tau, rel=1e-14)


def test_hand_computed_welfare_one_source_from_free_trade():
    # v = 100, t: 0 -> 25%, eps = 2: Q_hat = 0.64, imports 64, revenue 16,
    # CS = -100 * int_1^1.25 x^-2 dx = -100 * (1 - 0.8) = -20, DWL = 20 - 16 = 4.
    r = pe.simulate(one(), sigma=3.0, epsilon=2.0)
    row = r.table.row(0, named=True)
    assert row["value_usd_new"] == pytest.approx(64.0)
    assert row["tariff_revenue_new"] == pytest.approx(16.0)
    assert row["cs_change_usd"] == pytest.approx(-20.0)
    assert row["deadweight_loss_usd"] == pytest.approx(4.0)
    assert r.totals()["net_welfare_usd"] == pytest.approx(-4.0)
    assert row["creation_usd"] == pytest.approx(-36.0)
    assert row["diversion_usd"] == pytest.approx(0.0, abs=1e-12)


def test_unit_epsilon_consumer_surplus_is_minus_expenditure_times_log_price():
    r = pe.simulate(one(t0=0.1, t1=0.3), sigma=2.0, epsilon=1.0)
    assert r.table["cs_change_usd"][0] == pytest.approx(-110.0 * math.log(1.3 / 1.1), rel=1e-12)


@pytest.mark.parametrize("eta", [0.5, 2.0, 10.0])
def test_one_source_finite_supply_closed_form(eta):
    # ln P_hat = ln tau * eta / (eta + eps); ln p*_hat = -eps ln tau / (eta + eps)
    eps, t1 = 1.5, 0.25
    r = pe.simulate(one(t1=t1), sigma=4.0, epsilon=eps, supply_elasticity=eta)
    lt = math.log1p(t1)
    row = r.table.row(0, named=True)
    assert math.log(row["consumer_price_hat"]) == pytest.approx(lt * eta / (eta + eps), rel=1e-12)
    assert math.log(row["world_price_hat"]) == pytest.approx(-eps * lt / (eta + eps), rel=1e-12)
    assert math.log(row["quantity_hat"]) == pytest.approx(-eps * eta * lt / (eta + eps), rel=1e-12)
    assert row["pass_through"] == pytest.approx((1.25 ** (eta / (eta + eps)) - 1) / 0.25, rel=1e-12)
    # exporters' surplus: v * (p*_hat^(1+eta) - 1) / (1 + eta)
    ph = row["world_price_hat"]
    assert row["exporter_surplus_change_usd"] == pytest.approx(100 * (ph ** (1 + eta) - 1) / (1 + eta), rel=1e-12)


def test_common_supply_elasticity_closed_form_many_sources():
    # y = CESmean(ln tau * eta / (eta + sigma)) * (eta + sigma) / (eta + eps)
    sig, eps, eta = 3.0, 1.2, 4.0
    d = three(t_jpn=0.25, t_kor=0.10, t_deu=0.0, t0=0.0)
    r = pe.simulate(d, sigma=sig, epsilon=eps, supply_elasticity=eta)
    s = np.array([100, 50, 30]) / 180
    a = np.log1p([0.25, 0.10, 0.0]) * eta / (eta + sig)
    A = np.log(np.sum(s * np.exp((1 - sig) * a))) / (1 - sig)
    assert math.log(r.products["price_index_hat"][0]) == pytest.approx(A * (eta + sig) / (eta + eps), rel=1e-12)


def test_heterogeneous_supply_satisfies_model_equations():
    sig, eps = 2.5, 0.8
    d = three(t_jpn=0.30, t_kor=0.05, t_deu=-0.02)
    eta = pl.DataFrame({"source": ["JPN", "KOR", "DEU"], "supply_elasticity": [0.7, 3.0, math.inf]})
    r = pe.simulate(d, sigma=sig, epsilon=eps, supply_elasticity=eta)
    t = r.table
    P = r.products["price_index_hat"][0]
    s = (t["value_usd"] * (1 + t["tariff_old"])).to_numpy()
    s = s / s.sum()
    p = t["consumer_price_hat"].to_numpy()
    q = t["quantity_hat"].to_numpy()
    ps = t["world_price_hat"].to_numpy()
    tau = ((1 + t["tariff_new"]) / (1 + t["tariff_old"])).to_numpy()
    etas = np.array([0.7, 3.0, np.inf])
    assert P == pytest.approx(np.sum(s * p ** (1 - sig)) ** (1 / (1 - sig)), rel=1e-12)     # (1)
    np.testing.assert_allclose(q, (p / P) ** -sig * P ** -eps, rtol=1e-12)                  # (2)-(3)
    np.testing.assert_allclose(p, tau * ps, rtol=1e-13)                                      # (4)
    np.testing.assert_allclose(ps[:2], q[:2] ** (1 / etas[:2]), rtol=1e-12)                 # (5)
    assert ps[2] == 1.0


def test_cobb_douglas_sigma_one_is_geometric_mean_and_continuous():
    d = three(t_jpn=0.3, t_kor=0.1, t_deu=0.0, t0=0.0)
    s = np.array([100, 50, 30]) / 180
    r1 = pe.simulate(d, sigma=1.0, epsilon=2.0)
    assert r1.products["price_index_hat"][0] == pytest.approx(np.exp(np.sum(s * np.log1p([0.3, 0.1, 0.0]))), rel=1e-13)
    for sg in (1 - 1e-7, 1 + 1e-7):
        r = pe.simulate(d, sigma=sg, epsilon=2.0)
        np.testing.assert_allclose(r.table["value_usd_new"], r1.table["value_usd_new"], rtol=1e-6)


# ---------------------------------------------------------------- SMART first order


def test_small_change_matches_smart_creation_and_diversion_to_first_order():
    dt, t0, sig, eps = 1e-4, 0.025, 4.0, 1.5
    d = three(t_jpn=t0 + dt, t0=t0)
    r = pe.simulate(d, sigma=sig, epsilon=eps)
    m = np.array([100.0, 50.0, 30.0])
    dlp = np.array([dt / (1 + t0), 0.0, 0.0])
    w = m / m.sum()
    smart_td = -sig * m * (dlp - np.sum(w * dlp))          # Jammes & Olarreaga (2005), first order
    smart_tc_total = np.sum(-eps * m * dlp)                # Laird & Yeats (1986), eta = inf
    div = r.table["diversion_usd"].to_numpy()
    np.testing.assert_allclose(div, smart_td, rtol=1e-3)
    assert r.table["creation_usd"].sum() == pytest.approx(smart_tc_total, rel=1e-3)
    # and the error is second order: halving dt quarters the absolute error
    err = np.abs(div - smart_td).max()
    r2 = pe.simulate(three(t_jpn=t0 + dt / 2, t0=t0), sigma=sig, epsilon=eps)
    err2 = np.abs(r2.table["diversion_usd"].to_numpy() - smart_td / 2).max()
    assert err2 == pytest.approx(err / 4, rel=0.05)


def test_small_change_finite_supply_matches_laird_yeats_creation():
    dt, eps, eta = 1e-5, 2.0, 3.0
    r = pe.simulate(one(t0=0.0, t1=dt), sigma=4.0, epsilon=eps, supply_elasticity=eta)
    volume_change = 100.0 * (r.table["quantity_hat"][0] - 1)
    assert volume_change == pytest.approx(-eps * 100.0 * dt / (1 + eps / eta), rel=1e-4)


def test_smart_linear_reproduces_the_formulas():
    d = three(t_jpn=0.2, t_kor=0.05, t0=0.025)
    s = pe.smart_linear(d, sigma=3.0, epsilon=1.2, supply_elasticity=4.0)
    m = np.array([100.0, 50.0, 30.0])
    dlp = (np.array([0.2, 0.05, 0.025]) - 0.025) / 1.025
    np.testing.assert_allclose(s["smart_creation_usd"], -1.2 * m * dlp / (1 + 1.2 / 4.0))
    np.testing.assert_allclose(s["smart_diversion_usd"], -3.0 * m * (dlp - np.sum(m / 180 * dlp)))


# ---------------------------------------------------------------- limits and invariants


def test_sigma_to_zero_gives_no_diversion():
    r = pe.simulate(three(t_jpn=0.5), sigma=1e-10, epsilon=1.5)
    assert np.abs(r.table["diversion_usd"].to_numpy()).max() < 1e-7
    q = r.table["quantity_hat"].to_numpy()
    np.testing.assert_allclose(q, q[0], rtol=1e-8)       # Leontief: all sources move together


def test_infinite_supply_is_the_limit_of_finite_supply():
    d = three(t_jpn=0.25, t_kor=0.1)
    r_inf = pe.simulate(d, sigma=3.0, epsilon=1.5)
    r_big = pe.simulate(d, sigma=3.0, epsilon=1.5, supply_elasticity=1e10)
    np.testing.assert_allclose(r_big.table["value_usd_new"], r_inf.table["value_usd_new"], rtol=1e-8)
    assert (r_inf.table["world_price_hat"] == 1.0).all()
    assert (r_inf.table["tot_gain_usd"] == 0.0).all()


def test_inelastic_supply_limit_world_price_absorbs_uniform_tariff():
    # eta -> 0 with one source: p*_hat -> 1/tau_hat, quantity unchanged, consumer price unchanged
    r = pe.simulate(one(t1=0.25), sigma=3.0, epsilon=1.5, supply_elasticity=1e-9)
    row = r.table.row(0, named=True)
    assert row["world_price_hat"] == pytest.approx(1 / 1.25, rel=1e-8)
    assert row["quantity_hat"] == pytest.approx(1.0, abs=1e-8)
    assert row["deadweight_loss_usd"] == pytest.approx(0.0, abs=1e-6)


def test_symmetric_sources_get_identical_results_and_no_diversion():
    d = three(t_jpn=0.2, t_kor=0.2, t_deu=0.2, values=(40.0, 40.0, 40.0))
    r = pe.simulate(d, sigma=5.0, epsilon=1.5, supply_elasticity=2.0)
    for c in ("value_usd_new", "cs_change_usd", "deadweight_loss_usd"):
        np.testing.assert_allclose(r.table[c], r.table[c][0], rtol=1e-13)
    np.testing.assert_allclose(r.table["diversion_usd"], 0.0, atol=1e-12)


def test_large_broda_weinstein_sigma_is_stable():
    r = pe.simulate(three(t_jpn=0.25), sigma=4000.0, epsilon=1.5)
    t = r.table
    assert np.isfinite(t.select(pl.col(pl.Float64).exclude("supply_elasticity", "pass_through")).to_numpy()).all()
    assert t["value_usd_new"][0] < 1e-100             # JPN priced out
    assert t["diversion_usd"].sum() == pytest.approx(0.0, abs=1e-9)


rows = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["JPN", "KOR", "DEU", "MEX"]),
              st.floats(0.0, 1e6), st.floats(0.0, 1.0), st.floats(0.0, 1.0)),
    min_size=1, max_size=12, unique_by=lambda r: (r[0], r[1]))


def frame(rs, new=True):
    return pl.DataFrame({"product": [r[0] for r in rs], "source": [r[1] for r in rs], "value_usd": [r[2] for r in rs],
                         "tariff_old": [r[3] for r in rs], "tariff_new": [r[4] if new else r[3] for r in rs]},
                        schema={"product": pl.Utf8, "source": pl.Utf8, "value_usd": pl.Float64,
                                "tariff_old": pl.Float64, "tariff_new": pl.Float64})


@settings(max_examples=40, deadline=None)
@given(rows, st.floats(0.1, 20), st.floats(0.1, 5), st.sampled_from([math.inf, 0.5, 3.0]))
def test_zero_tariff_change_changes_nothing(rs, sig, eps, eta):
    r = pe.simulate(frame(rs, new=False), sigma=sig, epsilon=eps, supply_elasticity=eta)
    t = r.table
    np.testing.assert_allclose(t["value_usd_new"], t["value_usd"], rtol=1e-12)
    for c in ("quantity_hat", "consumer_price_hat", "world_price_hat"):
        np.testing.assert_allclose(t[c], 1.0, rtol=1e-12)
    scale = 1.0 + float(t["value_usd"].sum())
    for c in ("creation_usd", "diversion_usd", "cs_change_usd", "deadweight_loss_usd", "tot_gain_usd"):
        np.testing.assert_allclose(t[c], 0.0, atol=1e-12 * scale)


@settings(max_examples=40, deadline=None)
@given(rows, st.floats(0.1, 20), st.floats(0.1, 5), st.sampled_from([math.inf, 0.5, 3.0]))
def test_adding_up_and_accounting_identities(rs, sig, eps, eta):
    r = pe.simulate(frame(rs), sigma=sig, epsilon=eps, supply_elasticity=eta)
    t = r.table
    scale = 1.0 + float(t["value_usd"].sum())
    # creation + diversion = value change; diversion sums to zero within each product
    np.testing.assert_allclose(t["creation_usd"] + t["diversion_usd"], t["value_usd_new"] - t["value_usd"],
                               atol=1e-9 * scale)
    by = t.group_by("product").agg(pl.col("diversion_usd").sum())
    np.testing.assert_allclose(by["diversion_usd"], 0.0, atol=1e-9 * scale)
    # expenditure = value * (1 + t); revenue = t * value
    np.testing.assert_allclose(t["expenditure_usd_new"], t["value_usd_new"] * (1 + t["tariff_new"]), rtol=1e-12)
    np.testing.assert_allclose(t["tariff_revenue_new"], t["value_usd_new"] * t["tariff_new"], rtol=1e-12)
    # CES: total expenditure = E0 * P_hat^(1 - eps); consumer surplus allocation adds up
    p = r.products.join(t.group_by("product").agg(pl.col("expenditure_usd_new", "cs_change_usd").sum()
                                                 .name.suffix("_rows")), on="product")
    np.testing.assert_allclose(p["expenditure_usd_new_rows"],
                               p["expenditure_usd_old"] * p["price_index_hat"] ** (1 - eps), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(p["cs_change_usd_rows"], p["cs_change_usd"], rtol=1e-9, atol=1e-9 * scale)
    # welfare identity: CS + revenue change = ToT gain - DWL
    tot = r.totals()
    assert tot["net_welfare_usd"] == pytest.approx(tot["tot_gain_usd"] - tot["deadweight_loss_usd"],
                                                   abs=1e-9 * scale)


@settings(max_examples=25, deadline=None)
@given(rows, st.floats(0.01, 1000.0))
def test_homogeneity_and_row_order(rs, lam):
    d = frame(rs)
    r = pe.simulate(d, sigma=3.0, epsilon=1.3, supply_elasticity=2.0)
    r2 = pe.simulate(d.with_columns(pl.col("value_usd") * lam), sigma=3.0, epsilon=1.3, supply_elasticity=2.0)
    np.testing.assert_allclose(r2.table["value_usd_new"], lam * r.table["value_usd_new"], rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(r2.table["quantity_hat"], r.table["quantity_hat"], rtol=1e-10)
    rev = pe.simulate(d.reverse(), sigma=3.0, epsilon=1.3, supply_elasticity=2.0)
    np.testing.assert_allclose(rev.table["value_usd_new"].reverse(), r.table["value_usd_new"], rtol=1e-12)


# ---------------------------------------------------------------- interfaces and errors


def test_elasticity_tables_by_product_and_pandas_input():
    d = pl.concat([three(), one(product="8708", t0=0.025, t1=0.15)])
    sig = pl.DataFrame({"product": ["8703", "8708"], "sigma": [4.0, 2.0]})
    r = pe.simulate(d.to_pandas(), sigma=sig, epsilon={"8703": 1.5, "8708": 0.7})
    assert r.products["sigma"].to_list() == [4.0, 2.0]
    q = r.table.filter(pl.col("product") == "8708")["quantity_hat"][0]
    assert q == pytest.approx((1.15 / 1.025) ** -0.7, rel=1e-12)


def test_summary_and_diversion_views():
    r = pe.simulate(three(t_jpn=0.25), sigma=4.0, epsilon=1.5)
    s = r.summary("source")
    assert s["source"].to_list() == ["JPN", "KOR", "DEU"]
    dv = r.diversion("87", away_from="JPN")
    gainers = dv.filter(pl.col("source") != "JPN")
    assert gainers["diversion_share"].sum() == pytest.approx(1.0)
    assert (gainers["diversion_usd"] > 0).all()
    assert "PEResult(3 rows" in repr(r)
    hs2 = r.summary(["product", "source"], hs_digits=2)
    assert hs2["product"].unique().to_list() == ["87"]


def test_negative_import_value_is_rejected_with_row():
    d = three().with_columns(pl.when(pl.col("source") == "KOR").then(-1.0).otherwise(pl.col("value_usd"))
                             .alias("value_usd"))
    with pytest.raises(DataError, match=r"value_usd is negative .* row 1 .*'KOR'"):
        pe.simulate(d, sigma=3.0, epsilon=1.0)


def test_missing_elasticity_for_a_product_is_an_error():
    d = pl.concat([three(), one(product="8708")])
    with pytest.raises(DataError, match=r"no sigma for product '8708'"):
        pe.simulate(d, sigma={"8703": 3.0}, epsilon=1.0)


def test_mismatched_key_dtype_is_an_error():
    d = three().with_columns(pl.lit(8703).alias("product"))
    with pytest.raises(DataError, match="product key dtype"):
        pe.simulate(d, sigma=pl.DataFrame({"product": ["8703"], "sigma": [3.0]}), epsilon=1.0)


@pytest.mark.parametrize("kw, msg", [
    (dict(sigma=0.0, epsilon=1.0), "sigma must be positive"),
    (dict(sigma=2.0, epsilon=-1.0), "epsilon must be positive"),
    (dict(sigma=2.0, epsilon=1.0, supply_elasticity=0.0), "supply_elasticity must be positive"),
    (dict(sigma=2.0, epsilon=1.0, supply_elasticity=pl.DataFrame({"source": ["JPN"], "supply_elasticity": [1.0]})),
     "no supply_elasticity for source 'KOR'"),
])
def test_bad_elasticities_are_errors(kw, msg):
    with pytest.raises(DataError, match=msg):
        pe.simulate(three(), **kw)


def test_missing_columns_duplicates_and_bad_tariffs_are_errors():
    with pytest.raises(DataError, match="missing column"):
        pe.simulate(three().drop("tariff_new"), sigma=2.0, epsilon=1.0)
    with pytest.raises(DataError, match="duplicate"):
        pe.simulate(pl.concat([three(), three()]), sigma=2.0, epsilon=1.0)
    with pytest.raises(DataError, match="tariff_new is <= -1"):
        pe.simulate(three(t_jpn=-1.0), sigma=2.0, epsilon=1.0)
    with pytest.raises(DataError, match="not finite"):
        pe.simulate(three(t_jpn=float("nan")), sigma=2.0, epsilon=1.0)
