"""One guarded loader for every user file (issue 21): the same hostile set through every loader.

Each loader (scenario, sweep grid, tariff schedule, world table) is fed the same
hostile inputs: an alias bomb, deep nesting, a file twice the size limit, a FIFO, a
folder, a symlink loop, duplicate keys, invalid UTF-8, a UTF-16 BOM, a UTF-8 BOM and
CRLF line ends with a mistake on line 3 (the line must still be right), full-width
digits, an empty file and a comments-only file. Every case must give the project's
own one-line error (exit 2 through the CLI) in under 5 s and write nothing.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from conftest import run_cli

from tariffsim import safe_load
from tariffsim.errors import DataError, ScenarioError, TariffsimError

CORPUS = Path(__file__).resolve().parent / "bad_inputs"


def _bomb() -> str:
    text = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for i in range(1, 10):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n"
    return text


# A mistake on line 3 of each YAML format: a BOM or CRLF line ends must not move it.
LINE3 = {"scenario": "version: 1\nname: x\nbogus_field: 1\n",
         "grid": "home: HOM\npartner: FOR\nbogus_field: 1\n",
         "schedule": "name: s\nmeasures: []\nbogus_field: 1\n",
         "world": "exporter,importer,sector,value_usd_mn\nHOM,FOR,1,abc\nFOR,HOM,1,2\n"}
FULLWIDTH = {"scenario": "counterfactuals:\n  - name: a\n    measures:\n      - {importer: HOM, exporter: FOR, set: '２４%'}\n",
             "grid": "home: HOM\npartner: FOR\ntariff: [０.２]\n",
             "schedule": "name: s\nmeasures:\n  - {name: m, layer: ieepa_reciprocal, start: 2025-04-05, rate: '２４%'}\n",
             "world": "exporter,importer,sector,value_usd_mn\nHOM,FOR,1,１００\nFOR,HOM,1,2\n"}
DUPLICATE = {"scenario": "name: a\nname: b\n", "grid": "home: HOM\nhome: FOR\n", "schedule": "name: a\nname: b\n",
             "world": "exporter,exporter,sector,value_usd_mn\nHOM,FOR,1,1\n"}
LIMIT = {"scenario": safe_load.MAX_YAML_BYTES, "grid": safe_load.MAX_YAML_BYTES, "schedule": safe_load.MAX_YAML_BYTES,
         "world": safe_load.MAX_TABLE_BYTES}

CASES = ("alias_bomb", "deep_nesting", "twice_size_limit", "fifo", "directory", "symlink_loop", "duplicate_keys",
         "invalid_utf8", "utf16_bom", "utf8_bom_line3", "crlf_line3", "fullwidth_digits", "empty", "comments_only")
LOADERS = ("scenario", "grid", "schedule", "world")


def _plant(case: str, loader: str, path: Path) -> None:
    """Write hostile input ``case`` at ``path`` (the file the loader reads)."""
    if case == "fifo":
        os.mkfifo(path)
    elif case == "directory":
        path.mkdir()
    elif case == "symlink_loop":
        os.symlink(path.with_name("loop_b"), path)
        os.symlink(path, path.with_name("loop_b"))
    elif case == "twice_size_limit":       # a sparse file: its size is refused before a byte is read
        path.write_bytes(b"a: 1\n")
        os.truncate(path, 2 * LIMIT[loader])
    else:
        data = {"alias_bomb": _bomb().encode(),
                "deep_nesting": ("a: " + "[" * 200 + "]" * 200 + "\n").encode(),
                "duplicate_keys": DUPLICATE[loader].encode(),
                "invalid_utf8": b"name: caf\xe9\n",
                "utf16_bom": "name: x\n".encode("utf-16"),
                "utf8_bom_line3": b"\xef\xbb\xbf" + LINE3[loader].encode(),
                "crlf_line3": LINE3[loader].replace("\n", "\r\n").encode(),
                "fullwidth_digits": FULLWIDTH[loader].encode(),
                "empty": b"",
                "comments_only": b"# nothing here\n# at all\n"}[case]
        path.write_bytes(data)


def _tree(root: Path) -> set[str]:
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            out.add(str((Path(dirpath) / n).relative_to(root)))
    return out


@pytest.fixture(scope="module", autouse=True)
def _warm_imports():
    """Import what the commands use once, so the 5 s budget measures the loader, not Python's imports."""
    import tariffsim.cli  # noqa: F401
    import tariffsim.policy  # noqa: F401
    import tariffsim.scale  # noqa: F401
    from tariffsim import api

    api.read_world_files(CORPUS / "worlds" / "_good")


def _cli(argv: list[str], capsys) -> tuple[int, str]:
    code, _out, err = run_cli(argv, capsys)
    return code, err


def _target(loader: str, tmp: Path) -> Path:
    """The path the loader reads (a world's flows.csv lives in a folder next to a good theta.csv)."""
    if loader == "world":
        (tmp / "w").mkdir()
        return tmp / "w" / "flows.csv"
    return tmp / {"scenario": "s.yaml", "grid": "grid.yaml", "schedule": "sched.yaml"}[loader]


def _load(loader: str, path: Path, tmp: Path, capsys) -> tuple[int, str]:
    """Run one loader the way a user would: the CLI where one reads this file, else the Python API."""
    if loader == "scenario":
        return _cli(["run", str(path), "--out", str(tmp / "out"), "-q"], capsys)
    if loader == "grid":
        return _cli(["sweep", str(path), "--out", str(tmp / "out"), "--scheduler", "serial"], capsys)
    if loader == "world":
        return _cli(["data", "check", str(path.parent)], capsys)
    from tariffsim import api

    try:
        api.Schedule.from_yaml(path)
    except TariffsimError as exc:       # the CLI maps these to exit 2 and `error: <message>`
        return 2, f"error: {exc}\n"
    return 0, ""


@pytest.mark.timeout(60)   # a hang fails here; the 5 s budget is asserted below
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("loader", LOADERS)
def test_every_loader_refuses_the_hostile_set_in_one_line_fast_writing_nothing(loader, case, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    path = _target(loader, tmp_path)
    _plant(case, loader, path)
    before = _tree(tmp_path)
    t0 = time.perf_counter()
    code, err = _load(loader, path, tmp_path, capsys)
    seconds = time.perf_counter() - t0
    assert code == 2, f"exit {code}: {err!r}"
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    assert "internal error" not in err
    assert seconds < 5.0, f"{loader}/{case} took {seconds:.1f} s"
    assert _tree(tmp_path) == before, "a refused input left files behind"
    if case in ("utf8_bom_line3", "crlf_line3") and loader in ("scenario", "grid"):
        assert re.search(r":3: .*bogus_field", lines[0]), lines[0]        # the line survives a BOM and CRLF
    if case == "twice_size_limit":
        assert "the limit is" in lines[0]
    if case in ("fifo", "directory"):
        assert "not a regular file" in lines[0]
    if case == "symlink_loop":
        assert "symlink loop" in lines[0]


# --------------------------------------------------------------------------- the loader itself
def test_utf8_bom_and_crlf_are_read_as_plain_utf8(tmp_path):
    plain = tmp_path / "plain.yaml"
    plain.write_bytes(b"a: 1\nb: [x, y]\n")
    odd = tmp_path / "odd.yaml"
    odd.write_bytes(b"\xef\xbb\xbfa: 1\r\nb: [x, y]\r\n")
    assert safe_load.load_yaml(odd) == safe_load.load_yaml(plain) == {"a": 1, "b": ["x", "y"]}


def test_a_few_aliases_are_fine_and_a_bomb_is_refused_by_its_expanded_size():
    assert safe_load.parse_yaml("a: &x {b: 1}\nc: *x\n", where="f").data == {"a": {"b": 1}, "c": {"b": 1}}
    with pytest.raises(ScenarioError, match=r"^f:\d+: YAML has more than 200,000 nodes once aliases are expanded"):
        safe_load.parse_yaml(_bomb(), where="f")
    many = "a: &x 1\nb: [" + ", ".join(["*x"] * (safe_load.MAX_YAML_ALIASES + 1)) + "]\n"
    with pytest.raises(ScenarioError, match=r"more than 100 YAML aliases"):
        safe_load.parse_yaml(many, where="f")
    with pytest.raises(ScenarioError, match=r"^f:1: recursive YAML alias"):
        safe_load.parse_yaml("a: &x [*x]\n", where="f")


def test_depth_limit_is_exact():
    ok = "a: " + "[" * (safe_load.MAX_YAML_DEPTH - 1) + "]" * (safe_load.MAX_YAML_DEPTH - 1)
    safe_load.parse_yaml(ok, where="f")     # the top mapping is level 1
    with pytest.raises(ScenarioError, match=r"YAML nested deeper than 32 levels"):
        safe_load.parse_yaml("a: " + "[" * safe_load.MAX_YAML_DEPTH + "]" * safe_load.MAX_YAML_DEPTH, where="f")


def test_errors_name_the_line_of_a_bad_byte_a_duplicate_key_and_a_bad_date(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_bytes(b"a: 1\nb: 2\nc: caf\xe9\n")
    with pytest.raises(ScenarioError, match=r"x\.yaml:3: YAML file is not UTF-8 text \(byte 0xe9\)"):
        safe_load.load_yaml(p)
    with pytest.raises(ScenarioError, match=r"^f:4: duplicate key 'b' \(first at line 2\)"):
        safe_load.parse_yaml("a: 1\nb: 2\nc: 3\nb: 4\n", where="f")
    with pytest.raises(ScenarioError, match=r"^f:2: invalid value '2025-13-45'"):
        safe_load.parse_yaml("a: 1\nd: 2025-13-45\n", where="f")


def test_the_caller_picks_the_error_class_and_an_empty_file_can_be_allowed(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("")
    with pytest.raises(DataError, match=r"cannot parse \(empty CSV\)"):
        safe_load.read_table(p)
    q = tmp_path / "e.yaml"
    q.write_text("# only a comment\n")
    assert safe_load.load_yaml(q, allow_empty=True) is None
    with pytest.raises(ScenarioError, match="is empty"):
        safe_load.load_yaml(q)


def test_csv_with_bom_and_crlf_reads_like_plain_csv(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_bytes(b"x,y\n1,2\n")
    b.write_bytes(b"\xef\xbb\xbfx,y\r\n1,2\r\n")
    assert safe_load.read_table(a).equals(safe_load.read_table(b))
