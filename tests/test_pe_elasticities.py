"""Elasticity lookup with fallback (data/elasticities.py) and its bundled tables."""

from __future__ import annotations

import warnings

import polars as pl
import pytest

from tariffsim.data import read_table
from tariffsim.data.elasticities import default_value, lookup, product_elasticities
from tariffsim.errors import DataError, ElasticityFallbackWarning


def quiet(*a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ElasticityFallbackWarning)
        return lookup(*a, **k)


def test_exact_hts10_value_is_the_published_broda_weinstein_value():
    # first data row of ElasticitiesBrodaWeinstein90-01_HTS.xls: 0101110010 -> 108.18641
    t = quiet(["0101110010"], "sigma")
    assert t.row(0) == ("0101110010", pytest.approx(108.18641), "hs10")


def test_fallback_chain_goes_hs6_hs4_hs2_then_default():
    tab = read_table("elasticities", "sigma_lookup")
    hs10 = tab.filter(pl.col("level") == "hs10")["code"]
    # an HS10 code not in BW but whose HS6 is
    some6 = hs10[0][:6]
    fake10 = some6 + "9999"
    assert fake10 not in set(hs10.to_list())
    t = quiet([fake10, "8703999999", "0100999999", "9999999999"], "sigma")
    levels = dict(zip(t["code"], t["level"]))
    assert levels[fake10] == "hs6"
    assert levels["9999999999"] == "default"
    assert t.filter(pl.col("code") == "9999999999")["sigma"][0] == pytest.approx(default_value("sigma"))
    # the hs6 median equals the median of the BW HTS10 codes under that prefix
    m = tab.filter(pl.col("level") == "hs10", pl.col("code").str.starts_with(some6))["sigma"].median()
    assert t.filter(pl.col("code") == fake10)["sigma"][0] == pytest.approx(m)


def test_epsilon_has_no_hs10_level_and_uses_only_significant_positive_hauk():
    hk = read_table("elasticities", "epsilon_hs6_hauk")
    bad = hk.filter(~pl.col("significant_5pct") | (pl.col("epsilon") <= 0))["hs6"][0]
    good = hk.filter(pl.col("significant_5pct"), pl.col("epsilon") > 0).row(0, named=True)
    t = quiet([good["hs6"] + "0000", bad + "0000"], "epsilon")
    assert t.row(0) == (good["hs6"] + "0000", pytest.approx(good["epsilon"]), "hs6")
    assert t["level"][1] in ("hs4", "hs2", "default")


def test_overrides_take_precedence_longest_prefix_first():
    t = quiet(["8703230190", "8708999999", "0101110010"], "sigma", overrides={"87": 5.0, "8703": 7.0})
    assert t["sigma"].to_list()[:2] == [7.0, 5.0]
    assert t["level"].to_list()[:2] == ["override:8703", "override:87"]
    assert t["level"][2] == "hs10"


def test_no_fallback_raises_naming_the_code():
    with pytest.raises(DataError, match="no sigma for HS code '9999999999'"):
        quiet(["9999999999"], "sigma", default=None)


def test_fallback_warning_is_emitted_and_filterable():
    with pytest.warns(ElasticityFallbackWarning, match="sigma: 1 of 2 codes"):
        lookup(["0101110010", "9999999999"], "sigma")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ElasticityFallbackWarning)
        lookup(["0101110010"], "sigma")      # exact hit: no warning


@pytest.mark.parametrize("codes, msg", [([8703], "zero-padded strings"), (["87A3"], "not an HS code")])
def test_bad_codes_are_errors(codes, msg):
    s = pl.Series("code", codes)
    with pytest.raises(DataError, match=msg):
        lookup(s, "sigma")


def test_bad_override_value_is_an_error():
    with pytest.raises(DataError, match="override for code '87'"):
        lookup(["8703"], "sigma", overrides={"87": -1.0})


def test_product_elasticities_scalar_and_table():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ElasticityFallbackWarning)
        t = product_elasticities(["8703230190", "8703230190", "0101110010"], sigma=2.5)
    assert t.height == 2
    assert t["sigma"].to_list() == [2.5, 2.5]
    assert t["sigma_level"].to_list() == ["user", "user"]
    assert (t["epsilon"] > 0).all()


def test_bundle_is_small_and_documented():
    from tariffsim.data import info

    rec = info("elasticities")
    for tname, tinfo in rec["tables"].items():
        assert all(tinfo["columns"].values()), tname
    d = read_table("elasticities", "defaults")
    assert set(d["parameter"]) == {"sigma", "epsilon"}
    assert 1.0 < default_value("sigma") < 10 and 0.2 < default_value("epsilon") < 5
