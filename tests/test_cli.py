"""CLI: typer runner for every verb's --help and the scenario verbs; bad scenario files exit 2 with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tariffsim import api
from tariffsim.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

VERBS = ["run", "validate", "schema", "scenarios", "formula", "optimal", "nash", "bargain", "dashboard", "sweep", "data"]

BAD = {
    "yaml_syntax": ("name: x\nworld:\n  dataset: [a\n", r"s.yaml:4:1: YAML syntax error"),
    "unknown_field": ("name: x\ncounterfactuals:\n  - name: a\n    foo: 1\n", r"s.yaml:4: counterfactuals[0].foo: unknown field"),
    "unknown_country": ("name: x\npolicy: {baseline: null, timeline: []}\ncounterfactuals:\n  - name: a\n    measures:\n"
                        "      - {importer: USA, exporter: XXX, add: 0.1}\n",
                        r"s.yaml:6: counterfactuals[0].measures[0].exporter: unknown country 'XXX'"),
    "tariff_minus_150": ("name: x\ncounterfactuals:\n  - name: a\n    measures:\n      - importer: USA\n        set: -150%\n",
                         r"s.yaml:6: counterfactuals[0].measures[0].set: tariff -150% is not allowed"),
    "missing_world_file": ("name: x\nworld:\n  files: nowhere/flows.csv\n", r"s.yaml:3: world.files: file not found"),
}


def _stderr(res) -> str:
    return res.stderr if hasattr(res, "stderr") and res.stderr is not None else res.output


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help(verb):
    res = runner.invoke(app, [verb, "--help"])
    assert res.exit_code == 0, res.output
    assert "Usage" in res.output


def test_schema_prints_json_schema():
    res = runner.invoke(app, ["schema"])
    assert res.exit_code == 0
    sch = json.loads(res.output)
    assert "counterfactuals" in sch["properties"]


def test_scenarios_lists_and_prints_the_bundle():
    res = runner.invoke(app, ["scenarios", "--json"])
    assert res.exit_code == 0
    rows = json.loads(res.output)
    assert rows[0]["name"] == "us_japan_2025_2026" and "japan_deal" in rows[0]["counterfactuals"]
    res = runner.invoke(app, ["scenarios", "us_japan_2025_2026"])
    assert res.exit_code == 0 and "liberation-day-2025-04-02" in res.output
    res = runner.invoke(app, ["scenarios", "nope"])
    assert res.exit_code == 2 and "no built-in scenario 'nope'" in _stderr(res)


def test_validate_accepts_the_bundle_and_examples():
    res = runner.invoke(app, ["validate", str(api.builtin_scenario_path()), "--json"])
    assert res.exit_code == 0, _stderr(res)
    assert json.loads(res.output)["ok"] is True
    for p in sorted((ROOT / "examples").glob("*.yaml")):
        res = runner.invoke(app, ["validate", str(p)])
        assert res.exit_code == 0, (p, _stderr(res))


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_exits_2_with_one_line_and_writes_nothing(case, tmp_path):
    text, expected = BAD[case]
    (tmp_path / "s.yaml").write_text(text)
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(tmp_path / "s.yaml"), "--out", str(out), "--quiet"])
    err = _stderr(res).strip()
    assert res.exit_code == 2, (res.exit_code, err, res.exception)
    assert expected in err
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]   # no temp folder left behind


def test_bad_scenario_in_a_real_process_exits_2_without_traceback(tmp_path):
    (tmp_path / "s.yaml").write_text(BAD["unknown_field"][0])
    proc = subprocess.run([sys.executable, "-m", "tariffsim.cli", "validate", str(tmp_path / "s.yaml")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "counterfactuals[0].foo: unknown field" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_out_folder_holding_an_input_is_refused(tmp_path):
    s = tmp_path / "s.yaml"
    s.write_text("name: x\npolicy: {baseline: null, timeline: []}\n")
    res = runner.invoke(app, ["run", str(s), "--out", str(tmp_path), "--quiet"])
    assert res.exit_code == 2 and "outputs never overwrite inputs" in _stderr(res)
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    res = runner.invoke(app, ["run", str(s), "--out", str(other), "--quiet"])
    assert res.exit_code == 2 and "not written by tariffsim" in _stderr(res)
    assert (other / "notes.txt").read_text() == "keep me"


def test_formula_for_japan():
    res = runner.invoke(app, ["formula", "--imports", "148.2", "--exports", "79.7", "--json"])
    assert res.exit_code == 0, _stderr(res)
    row = json.loads(res.output)
    assert any(abs(v - 0.24) < 1e-9 for v in row.values() if isinstance(v, float)), row   # Japan: 46% -> 24%
    res = runner.invoke(app, ["formula", "--partner", "JPN", "--json"])
    assert res.exit_code == 0, _stderr(res)
    assert len(json.loads(res.output)) == 1
    res = runner.invoke(app, ["formula", "--imports", "1"])
    assert res.exit_code == 2


def test_formula_accepts_the_eu_aggregate_code_of_the_tables():
    res = runner.invoke(app, ["formula", "--partner", "EU", "--json"])
    assert res.exit_code == 0, _stderr(res)
    rows = json.loads(res.output)
    assert len(rows) == 1 and rows[0]["partner"] == "European Union"
    assert rows[0]["announced_rate"] == 0.2                      # USTR, 2 April 2025: EU 20%


def test_data_commands_still_work():
    res = runner.invoke(app, ["data", "list", "--json"])
    assert res.exit_code == 0
    assert any(r["name"] == "world_io_7x44_2017" for r in json.loads(res.output))


def test_optimal_and_nash_on_a_small_user_world():
    world = str(ROOT / "examples" / "two_country_world")
    res = runner.invoke(app, ["optimal", "FOR", "--world", world, "--structure", "uniform", "--json"])
    assert res.exit_code == 0, _stderr(res)
    out = json.loads(res.output)
    rate = out["tariffs"][0]["tariff_rate"]
    assert 0 < rate < 2                                                    # an interior optimal tariff
    w = {r["region"]: r["welfare_change_pct"] for r in out["welfare"]}
    assert w["FOR"] > 0 > w["HOM"]                                         # it helps FOR at the others' expense
    res = runner.invoke(app, ["nash", "FOR", "HOM", "--world", world, "--json"])
    assert res.exit_code == 0, _stderr(res)
    assert json.loads(res.output)["players"] == ["FOR", "HOM"]
    res = runner.invoke(app, ["optimal", "XXX", "--world", world])
    assert res.exit_code == 2 and "unknown region 'XXX'" in _stderr(res)


@pytest.mark.parametrize("argv", [["--help"], ["validate", "src/tariffsim/scenarios/us_japan_2025_2026.yaml"], ["schema"],
                                  ["scenarios"], ["formula", "--partner", "JPN"], ["data", "list"], ["data", "status"]])
def test_quick_verbs_do_not_import_jax(argv):
    """Issue 18: --help, validate, schema, formula, scenarios and data list|status start without JAX (bench_cli times them)."""
    import subprocess
    import sys
    from pathlib import Path

    probe = ("import sys, atexit; atexit.register(lambda: sys.stderr.write('JAX=%d' % ('jax' in sys.modules))); "
             "sys.argv = ['tariffsim'] + sys.argv[1:]; from tariffsim.cli import main; main()")
    p = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, timeout=120,
                       cwd=Path(__file__).resolve().parents[1])
    assert p.returncode == 0, p.stderr[-2000:]
    assert "JAX=0" in p.stderr, f"{argv} imported JAX"
