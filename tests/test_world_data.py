"""Foundation: World validation (each failure has its test), aggregation keeps totals,
bundled data against known totals, user files, CLI errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import tariffsim as ts
from tariffsim.data import list_datasets, query, read_table, read_world_files
from tariffsim.errors import DataError
from tariffsim.world import World

ROOT = Path(__file__).resolve().parents[1]


def _arrays(n=3, s=2):
    flows = np.full((n, n, s), 10.0)
    flows[np.arange(n), np.arange(n), :] = 100.0
    return dict(regions=["A", "B", "C"][:n], sectors=[str(k) for k in range(s)], flows=flows,
                tariffs=np.zeros((n, n, s)), theta=np.full(s, 4.0))


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize("mutate,match", [
    (lambda a: a["flows"].__setitem__((0, 1, 0), -1.0), r"negative flow .* \(A, B, 0\)"),
    (lambda a: a["flows"].__setitem__((0, 1, 1), np.nan), r"flows: non-finite value .* \(A, B, 1\)"),
    (lambda a: a["flows"].__setitem__((2, 0, 0), np.inf), r"flows: non-finite"),
    (lambda a: a["tariffs"].__setitem__((1, 0, 0), -1.5), r"<= -100% .* \(B, A, 0\)"),
    (lambda a: a["tariffs"].__setitem__((1, 1, 0), 0.1), r"own tariff of B"),
    (lambda a: a.__setitem__("theta", np.array([4.0, 0.0])), r"theta: .* > 0"),
    (lambda a: a.__setitem__("theta", np.array([4.0])), r"theta: expected shape"),
    (lambda a: a.__setitem__("regions", ["A", "A", "C"]), r"duplicate code 'A'"),
    (lambda a: a.__setitem__("regions", ["A", " ", "C"]), r"blank code"),
    (lambda a: a.__setitem__("flows", np.ones((3, 3))), r"flows: expected shape"),
    (lambda a: a.__setitem__("flows", [["x"]]), r"flows: not numeric"),
    (lambda a: a["flows"].__setitem__((slice(None), 2, slice(None)), 0.0), r"C buys nothing"),
    (lambda a: a["flows"].__setitem__((2, slice(None), slice(None)), 0.0), r"C sells nothing"),
    (lambda a: a.__setitem__("value_added_share", np.full((3, 2), 1.2)), r"value_added_share: must lie in"),
    (lambda a: a.__setitem__("value_added_share", np.full((3, 2), 0.5)), r"no io_share"),
    (lambda a: (a.__setitem__("value_added_share", np.full((3, 2), 0.5)), a.__setitem__("io_share", np.full((3, 2, 2), 0.3))),
     r"io_share \+ value_added_share: sum to 1.1"),
    (lambda a: (a.__setitem__("value_added_share", np.full((3, 2), 0.5)),
                a.__setitem__("io_share", np.array([[[0.7, 0.25], [-0.2, 0.25]]] * 3))), r"io_share: negative share -0.2 at .* \(A, 1, 0\)"),
    (lambda a: a.__setitem__("final_demand_share", np.full((3, 2), 0.6)), r"final_demand_share: sums to 1.2"),
    (lambda a: a.__setitem__("final_demand_share", np.array([[1.5, -0.5]] * 3)), r"final_demand_share: negative"),
])
def test_every_validation_failure_raises_data_error_naming_the_entry(mutate, match):
    a = _arrays()
    mutate(a)
    with pytest.raises(DataError, match=match) as exc:
        World.from_arrays(**a)
    assert "\n" not in str(exc.value)


def test_world_is_frozen_and_arrays_read_only():
    w = World.from_arrays(**_arrays())
    with pytest.raises(Exception):
        w.flows[0, 0, 0] = 1.0
    with pytest.raises(Exception):
        w.name = "x"  # type: ignore[misc]


def test_accounting_identities_of_a_world():
    a = _arrays()
    a["tariffs"][0, 1, :] = 0.1
    w = World.from_arrays(**a)
    np.testing.assert_allclose(w.deficit_usd.sum(), 0.0, atol=1e-12)
    np.testing.assert_allclose(w.tariff_revenue_usd[1], 0.1 * 10 * 2)
    np.testing.assert_allclose(w.income_usd, w.value_added_usd + w.tariff_revenue_usd + w.deficit_usd)
    np.testing.assert_allclose(w.final_demand_share.sum(axis=1), 1.0)
    np.testing.assert_allclose(w.trade_share.sum(axis=0), 1.0)


def test_tariffs_with_add_and_set():
    w = ts.load_world("world_io_7x44_2017")
    t = w.tariffs_with(importer="USA", exporter="JPN", add=0.24)
    jpn, usa = w.index("JPN"), w.index("USA")
    np.testing.assert_allclose(t[jpn, usa], w.tariffs[jpn, usa] + 0.24)
    mask = np.ones_like(t, dtype=bool)
    mask[jpn, usa] = False
    np.testing.assert_array_equal(t[mask], w.tariffs[mask])
    t2 = w.tariffs_with(importer="JPN", sectors=["1", "2"], set=0.5)
    assert (t2[np.arange(7) != jpn][:, jpn, :2] == 0.5).all() and t2[jpn, jpn].max() == 0
    with pytest.raises(DataError, match="unknown region 'XXX'"):
        w.tariffs_with(importer="XXX", add=0.1)
    with pytest.raises(DataError, match="unknown sector"):
        w.tariffs_with(importer="USA", sectors=["99"], add=0.1)
    with pytest.raises(DataError, match="-100%"):
        w.tariffs_with(importer="USA", exporter="JPN", set=-2.0)


# ----------------------------------------------------------------------------- aggregation
def test_aggregation_preserves_totals():
    w = ts.load_world("world_io_7x44_2017")
    g = w.aggregate(regions={"BRA": "ROW", "IND": "ROW", "CHN": "ROW"},
                    sectors={str(k): "goods" for k in range(1, 23)})
    assert g.regions == ("ROW", "EU", "JPN", "USA") or set(g.regions) == {"ROW", "EU", "JPN", "USA"}
    assert g.n_sectors == 44 - 22 + 1
    np.testing.assert_allclose(g.flows.sum(), w.flows.sum(), rtol=1e-12)
    np.testing.assert_allclose(g.value_added_usd.sum(), w.value_added_usd.sum(), rtol=1e-12)
    # bilateral JPN->USA flows and US tariff revenue on Japan are preserved
    jpn, usa = w.index("JPN"), w.index("USA")
    gj, gu = g.index("JPN"), g.index("USA")
    np.testing.assert_allclose(g.flows[gj, gu].sum(), w.flows[jpn, usa].sum(), rtol=1e-12)
    np.testing.assert_allclose((g.flows * g.tariffs)[gj, gu].sum(), (w.flows * w.tariffs)[jpn, usa].sum(), rtol=1e-12)
    # deficits of unmerged regions unchanged
    np.testing.assert_allclose(g.deficit_usd[gu], w.deficit_usd[usa], rtol=1e-9)
    np.testing.assert_allclose(g.value_added_share + g.io_share.sum(axis=1), 1.0, atol=1e-9)


def test_aggregating_to_one_sector_gives_trade_weighted_tariff():
    w = ts.load_world("world_io_7x44_2017")
    g = w.aggregate(sectors={s: "all" for s in w.sectors})
    jpn, usa = w.index("JPN"), w.index("USA")
    expected = (w.flows[jpn, usa] * w.tariffs[jpn, usa]).sum() / w.flows[jpn, usa].sum()
    np.testing.assert_allclose(g.tariffs[g.index("JPN"), g.index("USA"), 0], expected, rtol=1e-12)


# ----------------------------------------------------------------------------- bundled data
def test_load_world_7x44_has_7_regions_incl_japan_and_usa():
    w = ts.load_world("world_io_7x44_2017")
    assert len(w.regions) == 7 and {"JPN", "USA"} <= set(w.regions)
    assert w.flows.shape == (7, 7, 44) and w.has_io


def test_bundled_world_totals_match_sources():
    """SOURCES.md: world_2023 total $21.75tn, US imports from JPN $141bn (BACI 2023);
    CP 1993 derived value added USA $6.55tn, JPN $4.31tn."""
    w = ts.load_world("world_2023_aggregate")
    off = w.flows * (1 - np.eye(w.n_regions))[:, :, None]
    assert abs(off.sum() / 1e6 - 21.75) < 0.01
    assert abs(w.flows[w.index("JPN"), w.index("USA"), 0] / 1e3 - 141) < 1
    cp = ts.load_world("caliendo_parro_1993")
    assert abs(cp.value_added_usd[cp.index("USA")] / 1e6 - 6.55) < 0.01
    assert abs(cp.value_added_usd[cp.index("JPN")] / 1e6 - 4.31) < 0.01


def test_catalog_lists_datasets_with_source_and_license():
    df = list_datasets()
    for name in ("world_io_7x44_2017", "world_2023_aggregate", "caliendo_parro_1993"):
        row = df.filter(pl.col("name") == name)
        assert row.height == 1 and row["source"][0] and row["license"][0]
    assert query("select count(*) as n from world_io_7x44_2017.flows")["n"][0] == 7 * 7 * 44
    info = ts.dataset_info("world_io_7x44_2017")
    assert "value_usd_mn" in info["tables"]["flows"]["columns"] and info["citation"]


def test_bundle_is_small():
    bundled = ROOT / "src" / "tariffsim" / "data" / "bundled"
    size = sum(p.stat().st_size for p in bundled.rglob("*") if p.is_file())
    assert size < 30e6


def test_unknown_dataset_is_a_one_line_data_error():
    with pytest.raises(DataError, match="unknown dataset 'nope'"):
        ts.load_world("nope")


# ----------------------------------------------------------------------------- user files
def _write_world(folder: Path, rows=None):
    folder.mkdir(parents=True, exist_ok=True)
    rows = rows or [("A", "A", "1", 100.0), ("A", "B", "1", 10.0), ("B", "A", "1", 12.0), ("B", "B", "1", 90.0)]
    pl.DataFrame(rows, schema=["exporter", "importer", "sector", "value_usd_mn"], orient="row").write_csv(folder / "flows.csv")
    return folder


def test_user_world_from_csv_roundtrip(tmp_path):
    w = read_world_files(_write_world(tmp_path / "w"))
    assert w.regions == ("A", "B") and w.flows[0, 1, 0] == 10.0
    eq = ts.solve(w, tariffs=w.tariffs_with(importer="A", exporter="B", set=0.1))
    assert eq.welfare_hat[1] < 1


@pytest.mark.parametrize("rows,match", [
    ([("A", "A", "1", 100.0), ("A", "B", "1", -10.0), ("B", "A", "1", 1.0), ("B", "B", "1", 9.0)], r"negative value_usd_mn -10.0 at row 2"),
    ([("A", "A", "1", 100.0), ("A", "B", "1", float("nan")), ("B", "A", "1", 1.0), ("B", "B", "1", 9.0)], r"non-finite"),
    ([("A", "A", "1", 100.0), ("A", "B", "1", 10.0), ("A", "B", "1", 1.0), ("B", "B", "1", 9.0), ("B", "A", "1", 1.0)], r"duplicate key"),
])
def test_user_world_bad_rows(tmp_path, rows, match):
    with pytest.raises(DataError, match=match):
        read_world_files(_write_world(tmp_path / "w", rows))


def test_user_world_unknown_region_code_and_missing_file(tmp_path):
    f = _write_world(tmp_path / "w")
    pl.DataFrame({"code": ["A", "B"]}).write_csv(f / "regions.csv")
    pl.DataFrame({"exporter": ["A", "A", "B", "ZZZ"], "importer": ["A", "B", "A", "B"], "sector": ["1"] * 4,
                  "value_usd_mn": [1.0, 2.0, 3.0, 4.0]}).write_csv(f / "flows.csv")
    with pytest.raises(DataError, match="unknown code 'ZZZ' in column 'exporter' at row 4"):
        read_world_files(f)
    with pytest.raises(DataError, match="file not found"):
        read_world_files(tmp_path / "missing")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "tariffsim.cli", *args], capture_output=True, text=True, timeout=300)


def test_cli_bad_user_data_one_line_error_exit_2(tmp_path):
    f = _write_world(tmp_path / "w", [("A", "A", "1", 100.0), ("A", "B", "1", -1.0), ("B", "A", "1", 1.0), ("B", "B", "1", 9.0)])
    r = _cli("data", "check", str(f))
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "negative" in r.stderr and "Traceback" not in r.stderr
    r = _cli("data", "check", str(tmp_path / "nothere"))
    assert r.returncode == 2 and "file not found" in r.stderr and "Traceback" not in r.stderr
    r = _cli("data", "info", "nope")
    assert r.returncode == 2 and "unknown dataset" in r.stderr


def test_cli_data_list_json():
    import json

    r = _cli("data", "list", "--json")
    assert r.returncode == 0, r.stderr
    names = {d["name"] for d in json.loads(r.stdout)}
    assert {"world_io_7x44_2017", "caliendo_parro_1993"} <= names


def test_bundled_us_japan_trade_2024_matches_census_totals():
    """Census 2024: general imports from Japan $148.2bn, exports to Japan $79.7bn.
    The HS10 table holds imports *for consumption* ($151.3bn, +2.1%: warehouse/FTZ
    withdrawals vs entries), so it must lie within 3% above the general-imports total."""
    hs10 = read_table("us_imports_japan_2024_hs10", "hs10_top_partners").filter(pl.col("partner") == "JPN")
    total_bn = hs10["value_usd"].sum() / 1e9
    assert 148.2 <= total_bn <= 148.2 * 1.03
    duty_rate = hs10["duties_usd"].sum() / hs10["value_usd"].sum()
    assert 0.01 < duty_rate < 0.02  # ~1.5% average duty on Japanese goods in 2024
    ustr = read_table("ustr_reciprocal_2025", "formula")
    jpn = ustr.filter(pl.col("iso3") == "JPN")
    assert abs(jpn["imports_usd_m"][0] / 1e3 - 148.2) < 0.1
    assert abs(jpn["exports_usd_m"][0] / 1e3 - 79.7) < 0.1


def test_from_arrays_without_labels_numbers_regions_and_sectors():
    f = np.ones((3, 3, 2))
    f[0, 1, 1] = 5.0
    w = World.from_arrays(flows=f)
    assert w.regions == ("R0", "R1", "R2") and w.sectors == ("S0", "S1")
    assert w.flows[w.index("R0"), w.index("R1"), w.sector_index("S1")[0]] == 5.0
    assert World.from_arrays(regions=["USA", "JPN", "ROW"], flows=f).sectors == ("S0", "S1")
    with pytest.raises(DataError, match=r"flows: expected a 3-D array \(exporter, importer, sector\), got shape \(3, 3\)"):
        World.from_arrays(flows=np.ones((3, 3)))
    with pytest.raises(DataError, match="flows: not an array"):
        World.from_arrays(flows=[[[1.0]], [[1.0], [2.0]]])
