"""Worlds built from official MRIO layouts (issue 20): parsing, aggregation, shares, baseline, provenance, refusals.

The files are made at test time by ``tests/fixtures/make_mrio_fixtures.py`` (3 countries x 4 sectors, exactly
balanced); expected values come from the generator's own arrays, never from the code under test.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from tariffsim.errors import DataError, FinalDemandClippedWarning

_spec = importlib.util.spec_from_file_location("make_mrio_fixtures", Path(__file__).parent / "fixtures" / "make_mrio_fixtures.py")
fx = importlib.util.module_from_spec(_spec)
sys.modules["make_mrio_fixtures"] = fx
_spec.loader.exec_module(fx)

from tariffsim.data.mrio.calibrate import world_to_mrio  # noqa: E402  (pymrio: the [mrio] extra, in [dev])
from tariffsim.data.mrio.parse import read_mrio  # noqa: E402
from tariffsim.data.mrio.theta import cp_sectors_of  # noqa: E402
from tariffsim.policy.world_builder import build_world  # noqa: E402

YEAR_ICIO, YEAR_WIOD = 2020, 2014


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("mrio")
    t = fx.make_table(seed=0)
    tw = fx.make_table(sectors=fx.WIOD_INDUSTRIES, categories=fx.WIOD_FD, seed=1)
    tn = fx.make_table(seed=2, negative_inventory=True)
    out = {
        "table": t, "wtable": tw, "ntable": tn, "root": root,
        "icio": fx.write_icio_csv(t, root / "icio", YEAR_ICIO),
        "icio_neg": fx.write_icio_csv(tn, root / "icio_neg", YEAR_ICIO),
        "wiot_xlsx": fx.write_wiot_xlsx(tw, root / "wiod", YEAR_WIOD),
        "wiot_csv": fx.write_wiot_csv(tw, root / "wiodcsv", YEAR_WIOD),
        "pymrio": fx.write_pymrio_folder(t, root / "pymrio"),
    }
    return out


def _by_label(table, parsed):
    """The generator's arrays reordered to the parsed table's (region, sector) order."""
    n, s = len(table.regions), len(table.sectors)
    ri = [table.regions.index(r) for r in parsed.regions]
    si = [table.sectors.index(k) for k in parsed.sectors]
    rows = np.array([r * s + k for r in ri for k in si])
    ci = [table.categories.index(c) for c in parsed.categories]
    Y = table.Y.reshape(n * s, n, -1)[rows][:, ri][:, :, ci]
    return table.Z[np.ix_(rows, rows)], Y, (table.tls + table.va)[rows]


def _gen_totals(table):
    """Totals by region straight from the generator's arrays (the fixture's totals)."""
    n, s = len(table.regions), len(table.sectors)
    Z4 = table.Z.reshape(n, s, n, s)
    Yr = table.Y.sum(axis=2).reshape(n, s, n)
    ship = Z4.sum(axis=3) + Yr
    off = 1 - np.eye(n)
    return {r: {"output": table.x.reshape(n, s)[k].sum(), "primary": (table.tls + table.va).reshape(n, s)[k].sum(),
                "final_demand": Yr[:, :, k].sum(), "intermediate_use": Z4[:, :, k, :].sum(),
                "exports": (ship[k] * off[k][None, :]).sum(), "imports": (ship[:, :, k] * off[:, k][:, None]).sum()}
            for k, r in enumerate(table.regions)}


# --------------------------------------------------------------------------- parsing
def test_parse_oecd_icio_csv_gives_the_fixture_arrays(files):
    p = read_mrio("oecd-icio", files["icio"].parent, year=YEAR_ICIO)
    Z, Y, v = _by_label(files["table"], p)
    assert set(p.regions) == set(files["table"].regions) and p.categories == fx.ICIO_FD
    np.testing.assert_allclose(p.Z, Z, rtol=0, atol=1e-9)
    np.testing.assert_allclose(p.Y, Y, rtol=0, atol=1e-9)
    np.testing.assert_allclose(p.primary, v, rtol=1e-12, atol=1e-7)
    assert p.inventory == ("INVNT",) and p.meta["year"] == YEAR_ICIO


@pytest.mark.parametrize("kind", ["wiot_xlsx", "wiot_csv"])
def test_parse_wiod_2016_sheet_gives_the_fixture_arrays(files, kind):
    p = read_mrio("wiod2016", files[kind], year=YEAR_WIOD)
    t = files["wtable"]
    assert p.regions == t.regions and p.sectors == fx.WIOD_INDUSTRIES and p.categories == fx.WIOD_FD
    np.testing.assert_allclose(p.Z, t.Z, rtol=0, atol=1e-9)
    np.testing.assert_allclose(p.Y, t.Y, rtol=0, atol=1e-9)
    np.testing.assert_allclose(p.primary, t.tls + t.va, rtol=1e-12, atol=1e-7)
    assert p.inventory == ("INVEN",)


def test_parse_wiod_bottom_rows_found_by_description(files, tmp_path):
    import csv

    t = files["wtable"]
    grid = fx.wiot_grid(t, YEAR_WIOD)
    first_bottom = 6 + len(t.regions) * len(t.sectors)
    for row in grid[first_bottom:]:
        row[0] = ""  # codes gone: only the descriptions in column B name the rows
    f = tmp_path / f"WIOT{YEAR_WIOD}_Nov16_ROW.csv"
    with open(f, "w", newline="") as fh:
        csv.writer(fh).writerows([[repr(v) if isinstance(v, float) else v for v in row] for row in grid])
    p = read_mrio("wiod2016", f)
    np.testing.assert_allclose(p.primary, t.tls + t.va, rtol=1e-12, atol=1e-7)


def test_parse_pymrio_folder_and_pymrio_test_system(files, tmp_path):
    import pymrio

    p = read_mrio("pymrio", files["pymrio"], year=YEAR_ICIO)
    Z, Y, _ = _by_label(files["table"], p)
    np.testing.assert_allclose(p.Z, Z, atol=1e-9)
    np.testing.assert_allclose(p.Y, Y, atol=1e-9)
    pymrio.load_test().save_all(tmp_path / "test_system")
    q = read_mrio("pymrio", tmp_path / "test_system", year=2012)
    assert (q.n_regions, q.n_sectors) == (6, 8) and "Changes in inventories" in q.inventory


# --------------------------------------------------------------------------- building
def test_round_trip_built_world_back_to_mrio_gives_fixture_totals(files):
    w = build_world("oecd-icio", files["icio"], year=YEAR_ICIO, name="rt", inventories="keep")
    back = world_to_mrio(w).totals()
    want = _gen_totals(files["table"])
    for k, r in enumerate(w.regions):
        for key, val in want[r].items():
            assert back[key][k] == pytest.approx(val, rel=1e-12), (r, key)


def test_aggregation_adds_up_to_the_totals(files, tmp_path):
    m = tmp_path / "regions.yaml"
    m.write_text("AM: [USA]\nAS: [JPN, ROW]\n")
    s = tmp_path / "sectors.csv"
    s.write_text("from,to\nA01_02,AGR\nA03,AGR\nB05_06,MIN\nB07_08,MIN\n")
    fine = build_world("oecd-icio", files["icio"], year=YEAR_ICIO, name="f", inventories="keep")
    agg = build_world("oecd-icio", files["icio"], year=YEAR_ICIO, name="a", regions=m, sectors=s, inventories="keep")
    assert agg.regions == ("AM", "AS") and agg.sectors == ("AGR", "MIN")
    R = {"USA": "AM", "JPN": "AS", "ROW": "AS"}
    S = {"A01_02": "AGR", "A03": "AGR", "B05_06": "MIN", "B07_08": "MIN"}
    want = np.zeros((2, 2, 2))
    for i, a in enumerate(fine.regions):
        for j, b in enumerate(fine.regions):
            for k, c in enumerate(fine.sectors):
                want[agg.regions.index(R[a]), agg.regions.index(R[b]), agg.sectors.index(S[c])] += fine.flows[i, j, k]
    np.testing.assert_allclose(agg.flows, want, rtol=1e-13)
    np.testing.assert_allclose(agg.value_added_usd.sum(), fine.value_added_usd.sum(), rtol=1e-13)
    fa = fine.value_added_usd
    np.testing.assert_allclose(agg.value_added_usd[agg.regions.index("AS")], fa[fine.index("JPN")] + fa[fine.index("ROW")], rtol=1e-13)
    np.testing.assert_allclose(agg.deficit_usd[agg.regions.index("AM")], fine.deficit_usd[fine.index("USA")], rtol=1e-10)


def test_shares_sum_to_one(files):
    w = build_world("oecd-icio", files["icio"], year=YEAR_ICIO, name="s")
    np.testing.assert_allclose(w.value_added_share + w.io_share.sum(axis=1), 1.0, atol=1e-14)
    np.testing.assert_allclose(w.final_demand_share.sum(axis=1), 1.0, atol=1e-14)
    np.testing.assert_allclose(w.trade_share.sum(axis=0), 1.0, atol=1e-14)
    assert (w.final_demand_share >= 0).all() and (w.value_added_share > 0).all()
    # without tariffs and inventory rule, value-added share = primary inputs / output of the generator's columns
    k = build_world("oecd-icio", files["icio"], year=YEAR_ICIO, name="k", inventories="keep")
    Z, _, v = _by_label(files["table"], read_mrio("oecd-icio", files["icio"]))
    np.testing.assert_allclose(k.value_added_share.ravel(), v / (Z.sum(axis=0) + v), rtol=1e-12)


def test_inventory_rule_zero_keeps_technology_and_removes_negative_final_demand(files):
    with pytest.raises(DataError, match="inventories='zero'"):
        build_world("oecd-icio", files["icio_neg"], year=YEAR_ICIO, name="n", inventories="keep")
    with warnings.catch_warnings():
        warnings.simplefilter("error", FinalDemandClippedWarning)
        w = build_world("oecd-icio", files["icio_neg"], year=YEAR_ICIO, name="n")
    t = files["ntable"]
    # Leontief check from the generator's arrays: x' = A x' + y' with A = Z / x and y' = final demand without
    # inventories (no other negative cells in this fixture)
    p = read_mrio("oecd-icio", files["icio_neg"])
    Z, Y, v = _by_label(t, p)
    x = Z.sum(axis=1) + Y.sum(axis=(1, 2))
    A = Z / x[None, :]
    y = Y.copy()
    y[:, :, fx.ICIO_FD.index("INVNT")] = 0
    assert (y >= 0).all()
    x_new = np.linalg.solve(np.eye(len(x)) - A, y.sum(axis=(1, 2)))
    np.testing.assert_allclose(w.gross_output.ravel(), x_new, rtol=1e-11)
    np.testing.assert_allclose(w.value_added_share.ravel(), (v / x), rtol=1e-11)  # cost shares unchanged
    rec = w.meta["provenance"]["inventories"]
    assert rec["rule"] == "zero" and rec["inventory_removed_usd_mn"] == pytest.approx(Y[:, :, fx.ICIO_FD.index("INVNT")].sum(), rel=1e-12)


def test_built_baseline_solves_to_all_hats_one(files, tmp_path):
    import tariffsim as ts

    w = build_world("oecd-icio", files["icio_neg"], year=YEAR_ICIO, name="b")
    csv = tmp_path / "t.csv"
    csv.write_text("exporter,importer,sector,tariff_rate\nJPN,USA,A01_02,0.05\nUSA,JPN,B05_06,0.12\nROW,USA,A03,0.02\n")
    wt = build_world("oecd-icio", files["icio_neg"], year=YEAR_ICIO, name="bt", tariffs=csv)
    assert wt.tariffs[wt.index("JPN"), wt.index("USA"), wt.sector_index("A01_02")[0]] == 0.05
    assert wt.meta["provenance"]["tariffs"]["sectors_without_tariff_data"] == ["B07_08"]
    from tariffsim.world import derive_final_demand_share

    for world in (w, wt):
        # shipped final-demand shares are the ones the CP identities imply (spending - intermediate use)
        alpha, n_neg = derive_final_demand_share(world.flows, world.tariffs, world.value_added_share, world.io_share)
        np.testing.assert_allclose(world.final_demand_share, alpha, rtol=1e-9, atol=1e-13)
        eq = ts.solve(world, tariffs=world.tariffs)
        for h in ("welfare_hat", "wage_hat", "price_hat"):
            np.testing.assert_allclose(np.asarray(getattr(eq, h)), 1.0, atol=1e-10)


def test_catalog_and_in_memory_worlds_give_identical_ge_results(files, tmp_path, monkeypatch):
    import tariffsim as ts
    from tariffsim.data import refresh

    monkeypatch.setenv("TARIFFSIM_HOME", str(tmp_path / "home"))
    refresh()
    try:
        assert ts.build_world is build_world  # the public name
        mem = ts.build_world("oecd-icio", files["icio"], year=YEAR_ICIO, name="fx_icio_2020", save=True)
        cat = ts.load_world("fx_icio_2020")
        for a in ("flows", "tariffs", "theta", "value_added_share", "io_share", "final_demand_share"):
            assert np.array_equal(getattr(mem, a), getattr(cat, a)), a
        assert cat.meta["provenance"] == mem.meta["provenance"] and cat.meta["license"] == mem.meta["license"]
        shock = dict(importer="USA", exporter="JPN", add=0.24)
        e1 = ts.solve(mem, tariffs=mem.tariffs_with(**shock))
        e2 = ts.solve(cat, tariffs=cat.tariffs_with(**shock))
        assert np.array_equal(np.asarray(e1.welfare_hat), np.asarray(e2.welfare_hat))
        assert float(np.asarray(e1.welfare_hat)[mem.index("USA")]) != 1.0
    finally:
        refresh()


def test_provenance_recorded_and_shown_by_data_list_and_info(files, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tariffsim.cli import app
    from tariffsim.data import info, refresh

    monkeypatch.setenv("TARIFFSIM_HOME", str(tmp_path / "home"))
    refresh()
    try:
        r = CliRunner().invoke(app, ["data", "build-world", "wiod2016", str(files["wiot_xlsx"].parent), "--year",
                                     str(YEAR_WIOD), "--name", "fx_wiod_2014"])
        assert r.exit_code == 0, r.output
        rec = info("fx_wiod_2014")
        p = rec["provenance"]
        assert p["files"][0]["sha256"] == hashlib.sha256(files["wiot_xlsx"].read_bytes()).hexdigest()
        assert p["year"] == YEAR_WIOD and "CC BY 4.0" in rec["license"]
        assert p["build_command"].startswith("tariffsim data build-world wiod2016 ") and "--name fx_wiod_2014" in p["build_command"]
        assert p["inventories"]["rule"] == "zero" and p["versions"]["pymrio"]
        listed = json.loads(CliRunner().invoke(app, ["data", "list", "--json"]).output)
        row = next(d for d in listed if d["name"] == "fx_wiod_2014")
        assert row["kind"] == "world" and "CC BY 4.0" in row["license"] and "WIOT2014_Nov16_ROW.xlsx" in row["source"]
        out = CliRunner().invoke(app, ["data", "info", "fx_wiod_2014"]).output
        assert "built by: tariffsim data build-world" in out and p["files"][0]["sha256"] in out
    finally:
        refresh()


def test_schedule_tariffs_on_icio44_default7_layout(tmp_path):
    t = fx.make_table(sectors=fx.ICIO_INDUSTRIES, seed=3)
    f = fx.write_icio_csv(t, tmp_path, YEAR_ICIO)
    w = build_world("oecd-icio", f, year=YEAR_ICIO, name="s44", regions="default7", sectors="icio44", tariffs="schedule")
    assert w.regions == ("JPN", "ROW", "USA") and w.sectors == tuple(str(k) for k in range(1, 45))
    us, jp, row = w.index("USA"), w.index("JPN"), w.index("ROW")
    goods, services = np.arange(22), np.arange(22, 44)
    assert w.tariffs[jp, us, goods].max() > 0 and w.tariffs[us, jp, goods].max() > 0
    assert (w.tariffs[:, :, services[2:]] == 0).all() and (w.tariffs[:, row, :] == 0).all()
    rec = w.meta["provenance"]["tariffs"]
    assert rec["importers_without_tariff_data"] == ["ROW"] and "44" in rec["sectors_without_tariff_data"]
    # theta: sector 20 (motor vehicles, ISIC4 29) is CP18 Auto; 17 (ISIC4 26) the mean of CP14, CP16, CP17
    from tariffsim.data import read_table

    cp = dict(zip(*read_table("elasticities", "theta_cp").select("sector", "theta").to_dict(as_series=False).values()))
    assert w.theta[19] == pytest.approx(cp["CP18"]) and w.theta[16] == pytest.approx((cp["CP14"] + cp["CP16"] + cp["CP17"]) / 3)


@pytest.mark.parametrize("code, cp", [("C10T12", ("CP03",)), ("C10-C12", ("CP03",)), ("D01T02", ("CP01",)),
                                      ("A01_02", ("CP01",)), ("C26", ("CP14", "CP16", "CP17")), ("D35", ("CP_SERVICES",)),
                                      ("D", ("CP_SERVICES",)), ("B", ("CP02",)), ("G46", ("CP_SERVICES",)), ("D97T98", ("CP_SERVICES",)),
                                      ("food", None), ("S01", None)])
def test_theta_mapping_from_isic_rev4_codes(code, cp):
    assert cp_sectors_of(code) == cp


# --------------------------------------------------------------------------- refusals
def _icio_with(files, tmp_path, edit) -> Path:
    lines = files["icio"].read_text().splitlines()
    lines = edit(lines)
    out = tmp_path / f"ICIO2023_{YEAR_ICIO}.csv"
    out.write_text("\n".join(lines) + "\n")
    return out


def _negative_output(lines):
    head = lines[0].split(",")
    row = lines[1].split(",")
    row[1:] = [("-" + v) if k < len(head) - 2 else v for k, v in enumerate(row[1:])]
    row[-1] = repr(-abs(float(row[-1])))
    return [lines[0], ",".join(row), *lines[2:]]


@pytest.mark.parametrize("case, match", [
    ("wiot_as_icio", "not an OECD ICIO"),
    ("icio_as_wiot", "not a WIOD 2016"),
    ("year_not_in_folder", "no file for year 2019"),
    ("folder_without_year", "give the year"),
    ("file_without_year", "cannot tell the year"),
    ("negative_output", "negative gross output"),
    ("map_misses_country", "misses ROW"),
    ("unbalanced", "does not balance"),
    ("bundled_name", "is a bundled dataset"),
    ("wiot_non_numeric", "non-numeric cell"),
])
def test_bad_files_are_refused_with_one_line_errors(files, tmp_path, case, match):
    f = files["icio"]
    kw: dict = {"year": YEAR_ICIO}
    source = "oecd-icio"
    if case == "wiot_as_icio":
        f = tmp_path / f"ICIO2023_{YEAR_ICIO}.csv"
        f.write_bytes(files["wiot_csv"].read_bytes())
    elif case == "icio_as_wiot":
        source, kw = "wiod2016", {"year": YEAR_WIOD}
        f = tmp_path / f"WIOT{YEAR_WIOD}_Nov16_ROW.csv"
        f.write_bytes(files["icio"].read_bytes())
    elif case == "year_not_in_folder":
        f, kw = f.parent, {"year": 2019}
    elif case == "folder_without_year":
        f, kw = f.parent, {"year": None}
    elif case == "file_without_year":
        f = tmp_path / "icio_download.csv"
        f.write_bytes(files["icio"].read_bytes())
        kw = {"year": None}
    elif case == "negative_output":
        f = _icio_with(files, tmp_path, _negative_output)
    elif case == "map_misses_country":
        m = tmp_path / "r.yaml"
        m.write_text("USA: USA\nJPN: JPN\n")
        kw["regions"] = m
    elif case == "unbalanced":
        f = _icio_with(files, tmp_path, lambda ls: [*ls[:-2], ",".join([ls[-2].split(",")[0]] + [repr(float(v) * 1.5) if k < 12 else v for k, v in enumerate(ls[-2].split(",")[1:])]), ls[-1]])
    elif case == "wiot_non_numeric":
        source, kw = "wiod2016", {"year": YEAR_WIOD}
        lines = files["wiot_csv"].read_text().splitlines()
        cells = lines[8].split(",")
        cells[6] = "n/a"
        lines[8] = ",".join(cells)
        f = tmp_path / files["wiot_csv"].name
        f.write_text("\n".join(lines) + "\n")
    elif case == "bundled_name":
        kw.update(save=True)
    name = "world_io_7x44_2017" if case == "bundled_name" else "bad"
    with pytest.raises(DataError, match=match) as err:
        build_world(source, f, name=name, **kw)
    assert "\n" not in str(err.value)


def test_cli_refusal_is_one_line_and_exit_2(files, tmp_path):
    from typer.testing import CliRunner

    from tariffsim.cli import app

    r = CliRunner().invoke(app, ["data", "build-world", "oecd-icio", str(files["icio"].parent), "--year", "1999",
                                 "--name", "x"])
    assert r.exit_code == 2
    assert r.output.strip().count("\n") == 0 and "no file for year 1999" in r.output


def test_without_pymrio_the_build_says_how_to_install_it(files, monkeypatch):
    monkeypatch.setitem(sys.modules, "pymrio", None)  # import pymrio -> ImportError
    with pytest.raises(DataError, match=r"pip install 'tariffsim\[mrio\]'"):
        build_world("oecd-icio", files["icio"], year=YEAR_ICIO, name="x")
