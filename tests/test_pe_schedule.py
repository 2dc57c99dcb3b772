"""PE model applied to US imports under schedules; the post-substitution ETR callable.

Uses a small synthetic schedule (the contract of tariffsim.policy: ``builtin_schedule(name).at(date)``
returning ``hs10, partner, tariff_rate``); one test runs on the real policy layer when present.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import polars as pl
import pytest

from tariffsim.errors import DataError, ElasticityFallbackWarning
from tariffsim.models import pe

IMPORTS = pl.DataFrame({
    "hs10": ["8703230190", "8703230190", "8703230190", "8708999999", "8708999999", "8471300100"],
    "partner": ["JPN", "KOR", "DEU", "JPN", "MEX", "JPN"],
    "value_usd": [40e9, 20e9, 10e9, 6e9, 30e9, 1e9],
})


class Schedule:
    def __init__(self, rates: dict[str, float], mfn: float = 0.025):
        self.rates, self.mfn = rates, mfn

    def at(self, date):
        return IMPORTS.select("hs10", "partner").with_columns(
            tariff_rate=pl.col("partner").replace_strict(self.rates, default=self.mfn, return_dtype=pl.Float64))


SCHEDULES = {"baseline-2024": Schedule({}), "liberation-day": Schedule({"JPN": 0.25, "KOR": 0.25, "DEU": 0.25, "MEX": 0.25}),
             "japan-deal": Schedule({"JPN": 0.15, "KOR": 0.25, "DEU": 0.15, "MEX": 0.25})}
ELAS = {"sigma": 4.0, "epsilon": 1.2, "supply_elasticity": math.inf}  # closed forms below need fixed world prices


def run(name, **kw):
    return pe.simulate_schedule(name, "2025-10-01", imports=IMPORTS, schedule_loader=SCHEDULES.__getitem__,
                                elasticities=ELAS, **kw)


def test_schedule_run_equals_direct_simulate():
    r = run("liberation-day")
    direct = pe.simulate(IMPORTS.rename({"hs10": "product", "partner": "source"}).with_columns(
        tariff_old=pl.lit(0.025), tariff_new=pl.lit(0.25)), sigma=4.0, epsilon=1.2)
    np.testing.assert_allclose(r.table["value_usd_new"], direct.table["value_usd_new"], rtol=1e-14)
    # uniform tariff on every source: no diversion, Q_hat = tau_hat^-eps
    np.testing.assert_allclose(r.table["diversion_usd"], 0.0, atol=1e-3)
    np.testing.assert_allclose(r.table["quantity_hat"], (1.25 / 1.025) ** -1.2, rtol=1e-12)
    assert r.options["schedule"] == "liberation-day" and r.options["base"] == "baseline-2024"


def test_japan_deal_vs_liberation_day_cars_divert_from_korea():
    lib, deal = run("liberation-day"), run("japan-deal")
    cars = lambda r, s: r.table.filter(pl.col("product") == "8703230190", pl.col("source") == s)["value_usd_new"][0]
    assert cars(deal, "JPN") > cars(lib, "JPN")
    dv = deal.diversion("8703", away_from="KOR")
    assert dv.filter(pl.col("source") == "KOR")["diversion_usd"][0] < 0
    assert dv.filter(pl.col("source") != "KOR")["diversion_share"].sum() == pytest.approx(1.0)


def test_post_substitution_imports_contract():
    rates = IMPORTS.with_columns(tariff_rate_old=pl.lit(0.025),
                                 tariff_rate_new=pl.when(pl.col("partner") == "JPN").then(0.15).otherwise(0.025))
    out = pe.post_substitution_imports(rates, elasticities=ELAS)
    assert out.columns == ["hs10", "partner", "value_usd_new"]
    assert out.select("hs10", "partner").equals(IMPORTS.select("hs10", "partner"))
    # single-source product (8471300100, JPN only): value_new = v * tau_hat^-eps
    v = out.filter(pl.col("hs10") == "8471300100")["value_usd_new"][0]
    assert v == pytest.approx(1e9 * (1.15 / 1.025) ** -1.2, rel=1e-12)
    # post-substitution ETR is below the pre-substitution one when only JPN rises
    pre = (rates["tariff_rate_new"] * rates["value_usd"]).sum() / rates["value_usd"].sum()
    post = (rates["tariff_rate_new"] * out["value_usd_new"]).sum() / out["value_usd_new"].sum()
    assert post < pre


def test_post_substitution_imports_default_elasticities_warn_on_fallback():
    rates = IMPORTS.with_columns(tariff_rate_old=pl.lit(0.0), tariff_rate_new=pl.lit(0.1))
    with pytest.warns(ElasticityFallbackWarning):
        out = pe.post_substitution_imports(rates)
    assert (out["value_usd_new"] < IMPORTS["value_usd"]).all()


def test_missing_rate_for_an_import_row_is_a_key_mismatch_error():
    class Partial(Schedule):
        def at(self, date):
            return super().at(date).filter(pl.col("partner") != "MEX")

    loader = {"baseline-2024": Schedule({}), "partial": Partial({})}.__getitem__
    with pytest.raises(DataError, match=r"new schedule: no tariff_rate for hs10 '8708999999', partner 'MEX'"):
        pe.simulate_schedule("partial", "2025-10-01", imports=IMPORTS, schedule_loader=loader, elasticities=ELAS)


def test_rates_table_errors():
    with pytest.raises(DataError, match="missing column"):
        pe.post_substitution_imports(IMPORTS)
    bad = IMPORTS.with_columns(pl.lit(1).alias("hs10"), tariff_rate_old=pl.lit(0.0), tariff_rate_new=pl.lit(0.1))
    with pytest.raises(DataError, match="hs10 must be zero-padded strings"):
        pe.post_substitution_imports(bad, elasticities=ELAS)
    with pytest.raises(Exception, match="unknown key"):
        pe.post_substitution_imports(IMPORTS.with_columns(tariff_rate_old=pl.lit(0.0), tariff_rate_new=pl.lit(0.1)),
                                     elasticities={"sigmaa": 2})


def test_real_policy_layer_when_available():
    policy = pytest.importorskip("tariffsim.policy")
    if not hasattr(policy, "builtin_schedule") or not hasattr(policy, "list_schedules"):
        pytest.skip("policy layer not ready")
    names = [n for n in policy.list_schedules() if n != "baseline-2024"]
    if not names:
        pytest.skip("no built-in schedules")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ElasticityFallbackWarning)
        r = pe.simulate_schedule(names[0], "2025-10-01")
    t = r.totals()
    assert t["value_usd"] > 1e12
    assert math.isfinite(t["value_usd_new"]) and abs(t["diversion_usd"]) < 1e-6 * t["value_usd"]
