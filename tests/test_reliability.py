"""Reliability (issue 9): every case of the bad-input corpus fails the same careful way.

``tests/bad_inputs/manifest.yaml`` lists each case: the file (or folder, or CLI
arguments, or Python call) that holds one mistake, the exact error class, and a
regular expression that the one-line message must match (it names the file,
field, row or entry at fault). For every case this module checks, through the
Python API and through the real CLI entry point (``tariffsim.cli.main`` with
``sys.argv`` patched, in-process):

- the exact error class (a :class:`~tariffsim.errors.TariffsimError` subclass),
- a message of one line that names the offending field/row/entry,
- exit code 2, ``error: ...`` on stderr, no traceback,
- nothing written: no output folder, no temporary folder, no stray file.

Also here: the dashboard binds 127.0.0.1 unless told otherwise, and the default
bundle runs with every network socket blocked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli
import yaml

import tariffsim.errors as errors
from tariffsim import api
from tariffsim.errors import ConvergenceError, TariffsimError
from tariffsim.world import World

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
ROOT = Path(__file__).resolve().parents[1]
MANIFEST = yaml.safe_load((CORPUS / "manifest.yaml").read_text(encoding="utf-8"))["cases"]
CASES = {c["id"]: c for c in MANIFEST}

# A small scenario on the user's own world (paths relative to the scenario file): runs in about a second.
SCENARIO_HEAD = ("version: 1\nname: rel\nworld: {{files: {world}}}\nmodel: {{pe: {{enabled: false}}}}\n"
                 "policy: {{baseline: null, timeline: []}}\nstrategy: {{balancing: null}}\nfairness: null\n")
GOOD_SCENARIO = SCENARIO_HEAD + "counterfactuals:\n  - name: a\n    measures:\n      - {{importer: HOM, exporter: FOR, set: '20%'}}\n"


def _ids(surface: str | tuple[str, ...]) -> list[str]:
    surfaces = (surface,) if isinstance(surface, str) else surface
    return [c["id"] for c in MANIFEST if c["surface"] in surfaces]


# ----------------------------------------------------------------------------- helpers
def _tree(root: Path) -> set[str]:
    """Every path under ``root`` (FIFOs and broken links included), relative."""
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            out.add(str((Path(dirpath) / n).relative_to(root)))
    return out


def _make(base: Path, spec: str | None) -> None:
    """Build what git cannot hold: ``dir:NAME``, ``fifo:NAME``, ``broken_symlink:NAME`` ('.' = base itself)."""
    if not spec:
        return
    kind, name = spec.split(":", 1)
    target = base if name == "." else base / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "dir":
        target.mkdir(exist_ok=True)
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "broken_symlink":
        os.symlink(base / "no_such_target.csv", target)
    else:  # pragma: no cover - a corpus typo
        raise AssertionError(f"unknown make {spec!r}")


def _materialise(case: dict, tmp: Path) -> Path:
    """Copy a case's input (and the worlds scenarios refer to) into ``tmp``; return the input path there."""
    src = CORPUS / case["input"]
    dst = tmp / case["input"]
    if case["surface"] == "scenario":
        for w in ("_good", "flows_negative"):
            shutil.copytree(CORPUS / "worlds" / w, tmp / "worlds" / w)
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst)
    elif src.exists():
        shutil.copy(src, dst)
    elif case.get("make") and not case["make"].endswith(":."):
        dst.mkdir(parents=True, exist_ok=True)      # an empty folder git did not keep
    _make(dst, case.get("make"))
    return dst


def _cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run ``tariffsim ARGV`` through the real entry point in-process; (exit code, stdout, stderr)."""
    return run_cli(argv, capsys)


def _assert_user_error(code: int, err: str, match: str, *, usage: bool = False) -> None:
    assert code == 2, f"exit {code}, stderr: {err!r}"
    assert "Traceback" not in err
    if usage:        # click's own usage errors (unparseable option values) print a boxed usage message
        assert re.search(match, err), err
        return
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {err!r}"
    assert lines[0].startswith("error: "), lines[0]
    assert re.search(match, lines[0]), f"{lines[0]!r} does not match {match!r}"


def _assert_error(exc: BaseException, case: dict) -> None:
    want = getattr(errors, case["error"])
    assert type(exc) is want, f"{case['id']}: expected {want.__name__}, got {type(exc).__name__}: {exc}"
    msg = str(exc)
    assert "\n" not in msg, msg
    assert re.search(case["match"], msg), f"{case['id']}: {msg!r} does not match {case['match']!r}"


# ----------------------------------------------------------------------------- the corpus itself
def test_corpus_has_at_least_50_cases_across_every_surface():
    assert len(MANIFEST) >= 50
    assert len(CASES) == len(MANIFEST), "duplicate case ids"
    surfaces = {c["surface"] for c in MANIFEST}
    assert {"world_files", "scenario", "schedule", "cli", "api", "catalog", "solver", "dashboard"} <= surfaces
    for c in MANIFEST:
        assert c.get("what") and c.get("match") and c.get("error"), c["id"]
        re.compile(c["match"])
        if "call" in c:
            assert c["call"] in API_CALLS, f"{c['id']}: no function {c['call']} in API_CALLS"
        elif "input" in c and not c.get("make") and "does_not_exist" not in c["input"]:
            assert (CORPUS / c["input"]).exists(), c["id"]
    called = {c["call"] for c in MANIFEST if "call" in c}
    assert called == set(API_CALLS), set(API_CALLS) ^ called
    # the categories issue 9 asks for
    words = " ".join(c["id"] + " " + c["what"] for c in MANIFEST).lower()
    for w in ("yaml", "csv", "nan", "inf", "negative", "-100%", "unknown", "io", "zero", "duplicate", "reversed",
              "missing", "fifo", "huge", "empty", "not_utf8", "type"):
        assert w in words, f"no corpus case about {w!r}"


# ----------------------------------------------------------------------------- user world files
@pytest.mark.parametrize("cid", _ids("world_files"))
def test_bad_world_files_raise_one_line_data_error_and_exit_2_writing_nothing(cid, tmp_path, monkeypatch, capsys):
    case = CASES[cid]
    monkeypatch.chdir(tmp_path)
    path = _materialise(case, tmp_path)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO_HEAD.format(world=path.relative_to(tmp_path)))
    before = _tree(tmp_path)

    with pytest.raises(TariffsimError) as exc:
        api.read_world_files(path)
    _assert_error(exc.value, case)

    code, out, err = _cli(["data", "check", str(path)], capsys)
    _assert_user_error(code, err, case["match"])
    assert out == ""

    code, out, err = _cli(["run", str(scenario), "--out", str(tmp_path / "out"), "-q"], capsys)
    _assert_user_error(code, err, case["match"])
    assert "world.files" in err                      # the scenario field that brought the file in
    assert _tree(tmp_path) == before, "a failed run left files behind"


# ----------------------------------------------------------------------------- scenario files
@pytest.mark.parametrize("cid", _ids("scenario"))
def test_bad_scenarios_raise_one_line_error_naming_file_line_field_and_exit_2_writing_nothing(cid, tmp_path, monkeypatch, capsys):
    case = CASES[cid]
    monkeypatch.chdir(tmp_path)
    path = _materialise(case, tmp_path)
    out = tmp_path / "out"
    before = _tree(tmp_path)

    if case.get("stage", "load") == "load":
        with pytest.raises(TariffsimError) as exc:
            api.load_scenario(path)
    else:
        scn = api.load_scenario(path)                 # valid on its own; fails against its world or solver
        with pytest.raises(TariffsimError) as exc:
            api.run_scenario(scn, out, cache=False)
    _assert_error(exc.value, case)
    assert _tree(tmp_path) == before

    code, _, err = _cli(["run", str(path), "--out", str(out), "-q"], capsys)
    _assert_user_error(code, err, case["match"])
    assert not out.exists()
    assert _tree(tmp_path) == before, "a failed run left files behind"


# ----------------------------------------------------------------------------- policy schedules
@pytest.mark.parametrize("cid", _ids("schedule"))
def test_bad_schedule_files_raise_scenario_error_naming_the_measure(cid, tmp_path):
    case = CASES[cid]
    path = _materialise(case, tmp_path)
    with pytest.raises(Exception) as exc:
        api.Schedule.from_yaml(path)
    _assert_error(exc.value, case)


# ----------------------------------------------------------------------------- CLI options
@pytest.mark.parametrize("cid", _ids("cli"))
def test_bad_cli_arguments_exit_2_with_one_line_and_write_nothing(cid, tmp_path, monkeypatch, capsys):
    case = CASES[cid]
    monkeypatch.chdir(tmp_path)
    for w, src in (("good", "_good"), ("bad_world", "flows_negative"), ("nan_world", "flows_nan")):
        shutil.copytree(CORPUS / "worlds" / src, tmp_path / w)
    (tmp_path / "s.yaml").write_text(GOOD_SCENARIO.format(world="good"))
    setup = case.get("setup")
    if setup:
        kind, name = setup.split(":", 1)
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("keep me\n")
    fill = {"{tmp}": str(tmp_path), "{good}": str(tmp_path / "good"), "{bad_world}": str(tmp_path / "bad_world"),
            "{nan_world}": str(tmp_path / "nan_world"), "{scenario}": str(tmp_path / "s.yaml")}
    argv = []
    for a in case["args"]:
        for k, v in fill.items():
            a = a.replace(k, v)
        argv.append(a)
    before = _tree(tmp_path)
    code, out, err = _cli(argv, capsys)
    _assert_user_error(code, err, case["match"], usage="usage error" in case["what"])
    assert _tree(tmp_path) == before, "a failed command left files behind"
    if setup:
        assert (tmp_path / setup.split(":", 1)[1]).read_text() == "keep me\n"


# ----------------------------------------------------------------------------- Python API, catalog, solver, dashboard
@pytest.fixture(scope="module")
def small_world() -> World:
    return api.read_world_files(CORPUS / "worlds" / "_good")


def _t(w: World, value: float, at=(0, 1, 0)) -> np.ndarray:
    t = np.array(w.tariffs, dtype=float)
    t[at] = value
    return t


def _catalog_module():
    import importlib

    return importlib.import_module("tariffsim.data.catalog")   # tariffsim.data.catalog is also a function


def _manifest_home(tmp: Path, monkeypatch, text: str) -> None:
    catalog = _catalog_module()

    (tmp / "manifest.json").write_text(text)
    monkeypatch.setenv("TARIFFSIM_HOME", str(tmp))
    catalog.refresh()


def _dashboard_scenario(tmp, world_yaml: str):
    from tariffsim.scenario import parse_scenario

    text = (f"name: d\nworld: {world_yaml}\npolicy: {{baseline: null, timeline: []}}\nmodel: {{pe: {{enabled: false}}}}\n"
            "counterfactuals: []\nstrategy: {balancing: null}\nfairness: null\n")
    return parse_scenario(text, path=tmp / "d.yaml")


def _world_without_usa(w, tmp, mp):
    from tariffsim.dashboard.model import DashboardModel

    DashboardModel(_dashboard_scenario(tmp, f"{{files: {ROOT / 'examples' / 'two_country_world'}}}"))


def _dashboard(settings: dict):
    def call(w, tmp, mp):
        from tariffsim.dashboard.model import DashboardModel, Settings

        DashboardModel(_dashboard_scenario(tmp, "{dataset: world_io_7x44_2017}")).solve(Settings(**settings))
    return call


def _all_5000(w):
    t = np.full(w.flows.shape, 50.0)
    t[np.arange(w.n_regions), np.arange(w.n_regions), :] = 0.0
    return t


API_CALLS = {
    "api_solve_tariffs_text": lambda w, tmp, mp: api.solve(w, tariffs="abc"),
    "api_solve_tariffs_ragged": lambda w, tmp, mp: api.solve(w, tariffs=[[1, 2], [3]]),
    "api_solve_tariffs_nan": lambda w, tmp, mp: api.solve(w, tariffs=_t(w, np.nan)),
    "api_solve_tariffs_minus_100": lambda w, tmp, mp: api.solve(w, tariffs=_t(w, -1.0, (w.index("HOM"), w.index("FOR"), 0))),
    "api_solve_tariffs_shape": lambda w, tmp, mp: api.solve(w, tariffs=np.zeros((2, 2, 2))),
    "api_solve_own_tariff": lambda w, tmp, mp: api.solve(w, tariffs=_t(w, 0.1, (0, 0, 0))),
    "api_solve_closure_unknown": lambda w, tmp, mp: api.solve(w, closure="open"),
    "api_solve_deficits_not_summing": lambda w, tmp, mp: api.solve(w, deficits=[1.0, 2.0, 3.0]),
    "api_solve_deficits_text": lambda w, tmp, mp: api.solve(w, deficits={"HOM": "x"}),
    "api_solve_deficits_unknown_region": lambda w, tmp, mp: api.solve(w, deficits={"XXX": 1.0}),
    "api_solve_theta_text": lambda w, tmp, mp: api.solve(w, theta="x"),
    "api_solve_theta_negative": lambda w, tmp, mp: api.solve(w, theta=-1.0),
    "api_solve_initial_wage_negative": lambda w, tmp, mp: api.solve(w, initial_wage_hat=[-1.0, 1.0, 1.0]),
    "api_solve_not_a_world": lambda w, tmp, mp: api.solve("world_io_7x44_2017"),
    "api_world_regions_not_a_list": lambda w, tmp, mp: World.from_arrays(regions=5, sectors=w.sectors, flows=w.flows),
    "api_world_region_missing_code": lambda w, tmp, mp: World.from_arrays(regions=["HOM", None, "ROW"], sectors=w.sectors, flows=w.flows),
    "api_world_theta_text": lambda w, tmp, mp: World.from_arrays(regions=w.regions, sectors=w.sectors, flows=w.flows, theta="x"),
    "api_world_flows_complex": lambda w, tmp, mp: World.from_arrays(regions=w.regions, sectors=w.sectors, flows=w.flows + 1j),
    "api_world_meta_not_mapping": lambda w, tmp, mp: World.from_arrays(regions=w.regions, sectors=w.sectors, flows=w.flows, meta=5),
    "api_tariffs_with_text": lambda w, tmp, mp: w.tariffs_with(importer="HOM", add="x"),
    "api_with_theta_shape": lambda w, tmp, mp: w.with_theta([4.0, 4.0, 4.0]),
    "api_load_world_unknown": lambda w, tmp, mp: api.load_world("no_such_dataset"),
    "api_load_world_not_a_world": lambda w, tmp, mp: api.load_world("ustr_reciprocal_2025"),
    "api_catalog_manifest_list": lambda w, tmp, mp: (_manifest_home(tmp, mp, "[1, 2]"), api.list_datasets()),
    "api_catalog_manifest_no_tables": lambda w, tmp, mp: (_manifest_home(tmp, mp, '{"x": {"kind": "world"}}'), api.load_world("x")),
    "api_catalog_manifest_bad_json": lambda w, tmp, mp: (_manifest_home(tmp, mp, "{not json"), api.list_datasets()),
    "api_montecarlo_seed_negative": lambda w, tmp, mp: api.monte_carlo(w, tariffs=None, draws=4, seed=-1),
    "solver_max_iter_1": lambda w, tmp, mp: api.solve(w, tariffs=w.tariffs_with(importer="HOM", add=0.5), max_iter=1),
    "solver_no_equilibrium_fixed_deficits": lambda w, tmp, mp: api.solve(w, tariffs=_all_5000(w), closure="fixed"),
    "dashboard_world_without_usa": _world_without_usa,
    "dashboard_nan_slider": _dashboard({"us_other_pct": float("nan")}),
    "dashboard_elasticity_scale_zero": _dashboard({"elasticity_scale": 0.0}),
}


@pytest.mark.parametrize("cid", _ids(("api", "catalog", "solver", "dashboard")))
def test_bad_python_calls_raise_the_projects_own_one_line_error(cid, small_world, tmp_path, monkeypatch):
    case = CASES[cid]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(Exception) as exc:
                API_CALLS[case["call"]](small_world, tmp_path, monkeypatch)
    finally:
        if case["surface"] == "catalog":
            monkeypatch.delenv("TARIFFSIM_HOME", raising=False)
            _catalog_module().refresh()
    _assert_error(exc.value, case)


# ----------------------------------------------------------------------------- beyond the corpus
def test_a_run_that_does_not_converge_names_the_counterfactual(tmp_path):
    """A ConvergenceError inside `tariffsim run` should say which counterfactual had no equilibrium."""
    case = CASES["no_equilibrium"]
    path = _materialise(case, tmp_path)
    with pytest.raises(ConvergenceError) as exc:
        api.run_scenario(path, tmp_path / "out", cache=False)
    assert re.search(r"counterfactuals\[0\]", str(exc.value)), str(exc.value)


def test_failed_run_in_a_real_process_has_no_traceback_and_exit_2(tmp_path):
    """One real process (the console script's path): a bad world behind a scenario and a bad scenario, in a row."""
    shutil.copytree(CORPUS / "worlds" / "flows_nan", tmp_path / "w")
    (tmp_path / "s.yaml").write_text(SCENARIO_HEAD.format(world="w"))
    shutil.copy(CORPUS / "scenarios" / "yaml_duplicate_key.yaml", tmp_path / "d.yaml")
    driver = textwrap.dedent("""
        import sys
        from tariffsim import cli
        for argv in (["run", "s.yaml", "--out", "out"], ["validate", "d.yaml"]):
            sys.argv = ["tariffsim", *argv]
            try:
                cli.main()
                print("rc=0", file=sys.stderr)
            except SystemExit as e:
                print(f"rc={e.code}", file=sys.stderr)
    """)
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", driver], capture_output=True, text=True, timeout=180,
                          cwd=tmp_path)
    err = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr + proc.stdout
    assert err[1] == "rc=2" and err[3] == "rc=2", proc.stderr
    assert re.search(r"s\.yaml:\d+: world\.files: flows: non-finite value_usd_mn \(nan\) at row 3", err[0])
    assert re.search(r"d\.yaml:2: duplicate key 'name'", err[2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.yaml", "s.yaml", "w"]


# ----------------------------------------------------------------------------- dashboard: local only
def _fake_streamlit(monkeypatch) -> list[list[str]]:
    """Record the streamlit command the CLI would run instead of starting a server (nothing to stop afterwards)."""
    import importlib.util

    from tariffsim.dashboard import launch

    calls: list[list[str]] = []

    def run_child(cmd, *, env=None, on_start=None, **kw):
        calls.append(list(cmd))
        if on_start is not None:
            on_start(0)
        return 0

    monkeypatch.setattr(launch, "run_child", run_child)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "streamlit" else real(name, *a))
    return calls


def test_dashboard_binds_localhost_unless_told_otherwise(monkeypatch, capsys):
    calls = _fake_streamlit(monkeypatch)
    code, out, err = _cli(["dashboard"], capsys)
    assert code == 0, err
    cmd = calls[-1]
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--server.headless") + 1] == "true"          # never opens a browser
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"  # no telemetry calls home
    assert "http://127.0.0.1:8501" in out
    code, out, err = _cli(["dashboard", "--host", "0.0.0.0", "--port", "9999"], capsys)
    assert code == 0
    cmd = calls[-1]
    assert cmd[cmd.index("--server.address") + 1] == "0.0.0.0" and cmd[cmd.index("--server.port") + 1] == "9999"


def test_dashboard_with_a_bad_scenario_exits_2_before_starting_streamlit(tmp_path, monkeypatch, capsys):
    calls = _fake_streamlit(monkeypatch)
    code, out, err = _cli(["dashboard", "--scenario", str(tmp_path / "nope.yaml")], capsys)
    assert calls == [], "streamlit was started with a scenario that does not exist"
    _assert_user_error(code, err, r"nope\.yaml: scenario file not found")


# ----------------------------------------------------------------------------- no network at run time
def test_default_bundle_runs_with_every_network_socket_blocked(default_run):
    """`tariffsim run --out DIR` (the US-Japan bundle) in a process whose sockets cannot connect anywhere.

    The session's default run (conftest.py) is that process: its sitecustomize blocks every
    non-Unix socket connection and DNS lookup, and the driver checks the guard is active.
    """
    out, proc, _ = default_run
    assert "the socket guard is not active" not in proc.stderr
    assert "blocked" not in proc.stderr, proc.stderr[-3000:]
    res = json.loads((out / "results.json").read_text())
    assert (out / "report.html").stat().st_size > 10_000
    assert all(s["status"] in ("ok", "skipped") for s in res["sections"].values()), \
        {k: (s["status"], s["note"]) for k, s in res["sections"].items() if s["status"] not in ("ok", "skipped")}


# ----------------------------------------------------------------------------- output folders never lose a user's file
def test_rerunning_into_an_output_folder_never_deletes_or_overwrites_a_users_file(tmp_path, monkeypatch, capsys):
    """Issue 21: a marker plus user files in the output folder: only the earlier run's listed files are replaced."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(CORPUS / "worlds" / "_good", tmp_path / "good")
    (tmp_path / "s.yaml").write_text(GOOD_SCENARIO.format(world="good"))
    out = tmp_path / "out"
    code, _, err = _cli(["run", "s.yaml", "--out", str(out), "-q"], capsys)
    assert code == 0, err
    listed = json.loads((out / ".tariffsim-output").read_text())["files"]
    assert "report.html" in listed and "results.json" in listed and any(f.startswith("tables/") for f in listed)
    user = {"notes.txt": "my notes\n", "tables/mine.csv": "a,b\n1,2\n", "sub/plot.png": "png"}
    for rel, text in user.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    stale = next(f for f in listed if f.startswith("tables/"))
    code, _, err = _cli(["run", "s.yaml", "--out", str(out), "-q"], capsys)
    assert code == 0, err
    assert {rel: (out / rel).read_text() for rel in user} == user, "a user file was deleted or changed"
    assert (out / stale).exists() and (out / "report.html").exists()
    # a file the manifest does not list, where the run would write: refused, nothing touched
    manifest = json.loads((out / ".tariffsim-output").read_text())
    manifest["files"].remove("results.json")
    (out / ".tariffsim-output").write_text(json.dumps(manifest))
    (out / "results.json").write_text("the user's own results\n")
    before = _tree(tmp_path)
    code, _, err = _cli(["run", "s.yaml", "--out", str(out), "-q"], capsys)
    _assert_user_error(code, err, r"results\.json was not written by tariffsim and this run would overwrite it")
    assert (out / "results.json").read_text() == "the user's own results\n"
    assert _tree(tmp_path) == before
    # an older tariffsim's plain-text marker: its report files (and the tables results.json lists) are replaced
    old = tmp_path / "old"
    assert _cli(["run", "s.yaml", "--out", str(old), "-q"], capsys)[0] == 0
    (old / ".tariffsim-output").write_text("written by tariffsim run\n")
    (old / "notes.txt").write_text("my notes\n")
    code, _, err = _cli(["run", "s.yaml", "--out", str(old), "-q"], capsys)
    assert code == 0, err
    assert (old / "notes.txt").read_text() == "my notes\n"
    assert json.loads((old / ".tariffsim-output").read_text())["files"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")], "a temporary folder was left behind"


def test_outputs_dir_may_not_leave_the_scenario_folder_unless_out_is_given(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "proj").mkdir()
    shutil.copytree(CORPUS / "worlds" / "_good", tmp_path / "proj" / "good")
    text = GOOD_SCENARIO.format(world="good") + "outputs: {dir: ../../elsewhere}\n"
    (tmp_path / "proj" / "s.yaml").write_text(text)
    for argv in (["run", "proj/s.yaml", "-q"], ["validate", "proj/s.yaml"]):
        code, _, err = _cli(argv, capsys)
        _assert_user_error(code, err, r"s\.yaml:\d+: outputs\.dir: '\.\./\.\./elsewhere' resolves to .*outside the "
                                      r"scenario's folder .*pass --out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]
    code, _, err = _cli(["run", "proj/s.yaml", "--out", str(tmp_path / "mine"), "-q"], capsys)
    assert code == 0, err
    assert (tmp_path / "mine" / "report.html").exists()
