"""Fuzzing (issue 9): any input either validates or raises the project's own error, never another exception.

Targets: the scenario parser (arbitrary text, arbitrary YAML documents built
from the scenario's own field names, and random corruptions of the bundled
US-Japan scenario), the World constructor (arrays with NaN, inf, negative and
huge values, wrong shapes, bad codes) and the tidy-file loader (random CSV text).
A World that validates must also satisfy the invariants the models rely on.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import tempfile
import warnings
from pathlib import Path

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tariffsim import api
from tariffsim.errors import DataError, ScenarioError, TariffsimError
from tariffsim.scenario import Scenario, parse_scenario
from tariffsim.world import World

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ----------------------------------------------------------------------------- scenario parser
FIELDS = sorted({
    "version", "name", "title", "description", "world", "dataset", "files", "rebase", "sector_groups", "model", "ge", "pe",
    "closure", "theta_scale", "theta", "enabled", "schedule", "date", "partner", "top", "policy", "baseline",
    "baseline_date", "timeline", "label", "counterfactuals", "base", "measures", "importer", "exporter", "sectors", "add",
    "set", "transfers", "from", "to", "usd_bn", "pledge_usd_bn", "grant_share", "years", "strategy", "optimal", "nash",
    "bargain", "balancing", "country", "structure", "exporters", "against", "upper", "players", "start", "beta",
    "disagreement", "deal", "security_value_usd_bn", "frontier_points", "options", "monte_carlo", "draws", "seed",
    "fairness", "pair", "outputs", "report", "json", "tables", "dir",
})
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["24%", "-100%", "-150%", "1e300", "USA", "JPN", "XXX", "1-22", "fixed",
                                           "balanced", "latest", "nash", "2025-09-16", ".nan", ""]),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), children, max_size=5)),
    max_leaves=25,
)


def _parse_or_scenario_error(text: str) -> Scenario | None:
    try:
        scn = parse_scenario(text)
    except ScenarioError as exc:
        assert "\n" not in str(exc) and str(exc).strip(), repr(str(exc))
        return None
    assert isinstance(scn, Scenario)
    return scn


@FUZZ
@given(st.text(max_size=300))
def test_fuzz_scenario_parser_with_arbitrary_text(text):
    _parse_or_scenario_error(text)


LINES = ["name: x", "name: y", "version: 1", "world:", "  dataset: world_io_7x44_2017", "  files: nowhere", "\tdataset: y",
         "counterfactuals:", "  - name: a", "  - name: a", "    date: 2025-13-45", "    date: 2025-02-30", "    date: 2025-09-16",
         "    schedule: latest", "    measures:", "      - {importer: USA, add: 24%}", "      - {importer: USA, set: -1}",
         "      - {importer: USA, set: .inf}", "model: {ge: {closure: fixed, closure: balanced}}", "model: {ge: {theta_scale: .nan}}",
         "monte_carlo: {draws: 8, seed: -1}", "a: " + "[" * 300, "]" * 300, "? [a, b]", ": 1", "x: !!python/name:os.system",
         "policy: {baseline_date: 2025-01-32}", "&a a: *a", "- 1", "'unterminated", "fairness: {pair: [USA]}", "---", "...",
         "outputs: {dir: /dev/null}", "strategy: {nash: [{name: w, players: [USA]}]}", "   ", "#"]


@FUZZ
@given(st.lists(st.sampled_from(LINES), max_size=10))
def test_fuzz_scenario_parser_with_lines_of_plausible_yaml(lines):
    _parse_or_scenario_error("\n".join(lines) + "\n")


@FUZZ
@given(st.dictionaries(st.sampled_from(FIELDS), documents, max_size=6))
def test_fuzz_scenario_parser_with_yaml_documents_made_of_its_own_fields(doc):
    text = yaml.safe_dump(doc, allow_unicode=True)
    scn = _parse_or_scenario_error(text)
    if scn is not None:                                # a valid scenario also checks codes without crashing
        try:
            scn.check_world(("USA", "JPN", "ROW"), tuple(str(k) for k in range(1, 23)))
        except ScenarioError:
            pass


_BUNDLE = yaml.safe_load(api.builtin_scenario_path().read_text(encoding="utf-8"))


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for k, v in enumerate(node):
            yield from _paths(v, (*prefix, k))


_BUNDLE_PATHS = [p for p in _paths(_BUNDLE) if p]


@FUZZ
@given(st.sampled_from(_BUNDLE_PATHS), documents, st.booleans())
def test_fuzz_corrupting_one_value_of_the_bundled_scenario(path, junk, delete):
    doc = copy.deepcopy(_BUNDLE)
    node = doc
    for part in path[:-1]:
        node = node[part]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = junk
    _parse_or_scenario_error(yaml.safe_dump(doc, allow_unicode=True))


def test_the_bundled_scenario_itself_parses():
    assert _parse_or_scenario_error(yaml.safe_dump(_BUNDLE)) is not None


# ----------------------------------------------------------------------------- World constructor
values = st.one_of(
    st.floats(0.0, 1e3),
    st.sampled_from([0.0, -1.0, -1e-9, math.nan, math.inf, -math.inf, 1e300, 1e16, 5e-324]),
)
codes = st.one_of(st.sampled_from(["A", "B", "C", "USA", "", " ", "A"]), st.none(), st.integers(0, 3))


@st.composite
def world_inputs(draw):
    n = draw(st.integers(1, 3))
    s = draw(st.integers(1, 2))
    def arr(shape, elems=values):
        size = int(np.prod(shape))
        return np.array(draw(st.lists(elems, min_size=size, max_size=size)), dtype=float).reshape(shape)
    # mostly sane diagonal-heavy flows, with random corruptions
    flows = np.full((n, n, s), 10.0) + 90.0 * np.eye(n)[:, :, None]
    if draw(st.booleans()):
        flows = arr((n, n, s))
    kw = dict(flows=flows)
    regions = ["A", "B", "C"][:n]
    sectors = [str(k) for k in range(s)]
    if draw(st.integers(0, 4)) == 0:
        regions = draw(st.lists(codes, min_size=0, max_size=4))
    if draw(st.integers(0, 4)) == 0:
        sectors = draw(st.one_of(st.lists(codes, min_size=0, max_size=3), st.none(), st.just("12"), st.integers()))
    if draw(st.booleans()):
        t = arr((n, n, s), st.one_of(st.floats(-0.5, 2.0), st.sampled_from([-1.0, -2.0, math.nan, 1e308, 50.0])))
        if draw(st.booleans()):
            t[np.arange(n), np.arange(n), :] = 0.0
        kw["tariffs"] = t
    if draw(st.booleans()):
        kw["theta"] = draw(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3),
                                     st.lists(st.floats(-1, 30), max_size=3)))
    if draw(st.integers(0, 3)) == 0:
        kw["value_added_share"] = arr((n, s), st.floats(-0.5, 1.5))
    if draw(st.integers(0, 3)) == 0:
        kw["io_share"] = arr((n, s, s), st.floats(-0.1, 0.6)) if draw(st.booleans()) else draw(st.lists(st.floats(), max_size=3))
    if draw(st.integers(0, 3)) == 0:
        kw["final_demand_share"] = arr((n, s), st.floats(-0.2, 1.2))
    if draw(st.integers(0, 5)) == 0:
        kw["meta"] = draw(st.one_of(st.none(), st.integers(), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
    if draw(st.integers(0, 5)) == 0:
        kw["sector_names"] = draw(st.one_of(st.none(), st.integers(), st.lists(st.text(max_size=3), max_size=3)))
    return dict(regions=regions, sectors=sectors, **kw)


def assert_world_invariants(w: World) -> None:
    n, s = w.n_regions, w.n_sectors
    assert w.flows.shape == (n, n, s) and w.tariffs.shape == (n, n, s) and w.theta.shape == (s,)
    for a in (w.flows, w.tariffs, w.theta, w.value_added_share, w.io_share, w.final_demand_share):
        assert not a.flags.writeable and np.isfinite(a).all()
    assert (w.flows >= 0).all() and (w.tariffs > -1).all() and (w.theta > 0).all()
    assert np.all(w.tariffs[np.arange(n), np.arange(n), :] == 0)
    np.testing.assert_allclose(w.value_added_share + w.io_share.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(w.final_demand_share.sum(axis=1), 1.0, atol=1e-9)
    assert (w.income_usd > 0).all() and np.isfinite(w.income_usd).all()
    assert abs(float(w.deficit_usd.sum())) <= 1e-9 * float(w.flows.sum())
    assert len(set(w.regions)) == n and all(r.strip() for r in w.regions)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world_inputs())
def test_fuzz_world_constructor_validates_or_raises_data_error(kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            w = World.from_arrays(**kw)
        except DataError as exc:
            assert "\n" not in str(exc)
            return
    assert_world_invariants(w)


# ----------------------------------------------------------------------------- tidy files
cells = st.one_of(st.sampled_from(["A", "B", "C", "1", "2", "", " ", "nan", "inf", "-5", "1e300", "24%", "0.1", "-1", "\"",
                                   "x,y", "NULL", "true"]),
                  st.floats(-10, 1e3).map(repr), st.text(alphabet="AB12,.\"- \n", max_size=5))


code_cells = st.sampled_from(["A", "B", "C", "A", "B", "", " ", "a", "NULL"])
sector_cells = st.sampled_from(["1", "1", "2", "01", "", "x"])
value_cells = st.one_of(st.floats(0, 1e3).map(repr), st.sampled_from(["", "nan", "inf", "-5", "1e300", "24%", "0", "-1", "true"]))
ROW_SHAPES = {"exporter,importer,sector,value_usd_mn": (code_cells, code_cells, sector_cells, value_cells),
              "exporter,importer,sector,tariff_rate": (code_cells, code_cells, sector_cells, value_cells),
              "sector,theta": (sector_cells, value_cells), "code,name": (code_cells, cells), "code": (sector_cells,)}


@st.composite
def csv_tables(draw):
    def row(header: str, width: int) -> str:
        if draw(st.integers(0, 7)) == 0:              # a malformed row
            return ",".join(draw(st.lists(cells, min_size=width - 1, max_size=width + 1)))
        return ",".join(draw(c) for c in ROW_SHAPES[header])

    def table(header: str, width: int):
        rows = [row(header, width) for _ in range(draw(st.integers(0, 8)))]
        hdr = header if draw(st.integers(0, 6)) else draw(st.text(alphabet="abc_,", max_size=12))
        return "\n".join([hdr, *rows]) + ("\n" if draw(st.booleans()) else "")
    out = {"flows.csv": table("exporter,importer,sector,value_usd_mn", 4)}
    if draw(st.booleans()):
        out["tariffs.csv"] = table("exporter,importer,sector,tariff_rate", 4)
    if draw(st.booleans()):
        out["theta.csv"] = table("sector,theta", 2)
    if draw(st.integers(0, 3)) == 0:
        out["regions.csv"] = table("code,name", 2)
    if draw(st.integers(0, 3)) == 0:
        out["sectors.csv"] = table("code", 1)
    return out


# a valid core the random rows are added to, so that some examples get deep into validation
CORE = "A,A,1,100\nA,B,1,10\nB,A,1,10\nB,B,1,100\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_tables(), st.booleans())
def test_fuzz_tidy_files_load_or_raise_data_error(files, with_core):
    with tempfile.TemporaryDirectory() as d:
        for name, text in files.items():
            if name == "flows.csv" and with_core:
                head, _, rest = text.partition("\n")
                text = head + "\n" + CORE + rest
            (Path(d) / name).write_text(text, encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                w = api.read_world_files(d)
            except DataError as exc:
                assert "\n" not in str(exc)
                return
            except TariffsimError as exc:  # pragma: no cover - the loader raises DataError only
                raise AssertionError(f"expected DataError, got {type(exc).__name__}: {exc}")
    assert_world_invariants(w)


def test_fuzzers_can_fail():
    """The invariant checks bite: a World whose arrays were tampered with is caught."""
    w = World.from_arrays(regions=["A", "B"], sectors=["1"], flows=np.array([[[9.0], [1.0]], [[1.0], [9.0]]]))
    assert_world_invariants(w)
    bad = object.__new__(World)
    object.__setattr__(bad, "__dict__", dict(w.__dict__))
    f = np.array(w.flows)
    f[0, 1, 0] = -1.0
    f.flags.writeable = False
    object.__setattr__(bad, "flows", f)
    try:
        assert_world_invariants(bad)
    except AssertionError:
        return
    raise AssertionError("invariants missed a negative flow")
