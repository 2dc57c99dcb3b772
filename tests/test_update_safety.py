"""Updates never commit bad data, never need manual cleanup, and never run SQL from a manifest (issue 22).

- A local Census look-alike (127.0.0.1, real urllib) answers with negative values,
  or with totals ten times the release already in the catalog: refused, catalog unchanged.
- An update killed (SIGKILL) mid-commit leaves the old catalog readable and a lock
  naming a dead PID; the next update takes the stale lock over and cleans up.
- A user ``manifest.json`` whose dataset and table names are crafted SQL creates
  no file and runs nothing: names are only ever quoted identifiers.
- Codes with blanks are shown with ``repr`` in messages.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tariffsim.data import catalog as catalog_cursor, query, read_table
from tariffsim.data import refresh as refresh_catalog
from tariffsim.data import update as U
from tariffsim.data.catalog import quote_identifier
from tariffsim.errors import DataError
from tariffsim.world import World

FAST = U.RetryPolicy(attempts=2, backoff=0.0, max_wait=0.0, timeout=5.0)
HEADER = ["CTY_CODE", "CTY_NAME", "I_COMMODITY", "GEN_VAL_MO", "CON_VAL_MO", "CAL_DUT_MO"]
ROWS = [  # one month of imports, the size of real 2024 US imports from Japan by HS10
    ["5880", "JAPAN", "8703230190", "2412345678", "2398765432", "59969135"],
    ["5880", "JAPAN", "8708995800", "160332211", "158221100", "3955527"],
    ["5700", "CHINA", "8517130000", "3510222000", "3509000111", "0"],
]


# the `home` fixture (a fresh TARIFFSIM_HOME) is in conftest.py


def _snapshot(home: Path, *, cache: bool = True) -> dict[str, str]:
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(home.rglob("*")) if p.is_file() and (cache or "cache" not in p.parts)}


def _answer(url: str, rows: list[list[str]]) -> tuple[int, bytes]:
    """The Census API's answer to one page: header + the rows under the asked prefix, 204 if none."""
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    sel = [r for r in rows if r[2].startswith(q["I_COMMODITY"].rstrip("*"))]
    if not sel or "exports" in url:
        return 204, b""
    return 200, json.dumps([q["get"].split(",") + ["time"]] + [r + [q["time"]] for r in sel]).encode()


class _Server:
    """A Census look-alike on 127.0.0.1 serving ``rows`` (swap them between updates)."""

    def __init__(self, rows):
        self.rows = rows
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):  # noqa: N802
                status, body = _answer(self.path, outer.rows)
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.srv.server_address[1]}/data/timeseries/intltrade"

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture()
def server():
    s = _Server(ROWS)
    yield s
    s.close()


def _update(server, **kw):
    return U.update_census(2024, months="1", exports=False, base_url=server.base, retry=FAST, sleep=lambda s: None,
                           refresh=True, **kw)


# ------------------------------------------------------------------ values are validated before commit
def test_negative_values_from_the_server_are_refused_and_catalog_unchanged(home, server):
    _update(server)
    before = _snapshot(home)
    server.rows = [r[:3] + ["-2412345678"] + r[4:] if r[0] == "5880" else r for r in ROWS]
    with pytest.raises(DataError, match=r"GEN_VAL_MO value '-2412345678' is negative \(country '5880'"):
        _update(server)
    assert _snapshot(home) == before
    refresh_catalog()
    assert read_table("us_trade_census_2024", "imports_hs10")["general_value_usd"].min() > 0


def test_totals_far_from_the_previous_release_are_refused_and_not_cached(home, server):
    _update(server)
    before = _snapshot(home, cache=False)
    server.rows = [r[:3] + [str(int(v) * 10) for v in r[3:]] for r in ROWS]
    with pytest.raises(DataError, match=r"month 1 general_value_usd totals .*\(more than a factor 2\).*catalog unchanged"):
        _update(server)
    assert _snapshot(home, cache=False) == before
    cached = "".join(p.read_text() for p in (home / "cache").rglob("*.json"))
    assert "24123456780" not in cached                     # no answer of the refused run is kept for replay
    server.rows = [r[:3] + [str(int(v) * 101 // 100) for v in r[3:]] for r in ROWS]   # a 1% revision is fine
    _update(server)
    assert read_table("us_trade_census_2024", "imports_hs10")["general_value_usd"].sum() \
        == sum(int(r[3]) * 101 // 100 for r in ROWS)


# ------------------------------------------------------------------ killed updates need no cleanup
_KILLED = textwrap.dedent("""
    import json, os, signal, sys, urllib.parse
    from tariffsim.data import update as U, update_commit
    rows, point = json.loads(sys.argv[1]), sys.argv[2]
    def transport(url, timeout):
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        sel = [r for r in rows if r[2].startswith(q["I_COMMODITY"].rstrip("*"))]
        if not sel:
            return U.Response(204, b"")
        return U.Response(200, json.dumps([q["get"].split(",")] + sel).encode())
    write = update_commit._write_manifest
    def killed(home, manifest):
        if point == "after":
            write(home, manifest)
        os.kill(os.getpid(), signal.SIGKILL)
    update_commit._write_manifest = killed
    U.update_census(2024, months="1", exports=False, transport=transport, refresh=True)
""")


@pytest.mark.parametrize("point", ["before", "after"], ids=["killed_before_commit", "killed_after_commit"])
def test_update_killed_mid_commit_then_next_update_runs_without_cleanup(home, server, point):
    _update(server)
    old_total = read_table("us_trade_census_2024", "imports_hs10")["general_value_usd"].sum()
    new_rows = [r[:3] + [str(int(v) + 1000) for v in r[3:]] for r in ROWS]
    proc = subprocess.run([sys.executable, "-c", _KILLED, json.dumps(new_rows), point], env={**os.environ},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    lock = json.loads((home / ".update.lock").read_text())
    assert lock["pid"] > 0 and lock["pid"] != os.getpid()   # the dead update's PID is on record
    refresh_catalog()
    total = read_table("us_trade_census_2024", "imports_hs10")["general_value_usd"].sum()
    assert total == (old_total if point == "before" else old_total + 1000 * len(ROWS))   # intact either way
    assert U.data_status().filter(pl.col("name") == "us_trade_census_2024")["integrity"].item() == "ok"

    _update(server)                                          # no manual step in between
    assert not (home / ".update.lock").exists()
    rec = json.loads((home / "manifest.json").read_text())["us_trade_census_2024"]
    versions = [p.name for p in (home / "us_trade_census_2024").iterdir()]
    assert versions == [Path(rec["tables"]["imports_hs10"]["file"]).parent.name]   # garbage collected
    assert sorted(p.name for p in home.iterdir()) == ["cache", "manifest.json", "us_trade_census_2024"]
    assert U.data_status().filter(pl.col("name") == "us_trade_census_2024")["integrity"].item() == "ok"


def test_lock_of_a_live_update_is_respected_and_an_old_style_dead_one_is_taken_over(home, server):
    home.mkdir(parents=True)
    (home / ".update.lock").write_text(json.dumps({"pid": os.getpid()}))
    with pytest.raises(DataError, match=f"another update is running \\(pid {os.getpid()} "):
        _update(server)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (home / ".update.lock").write_text(dead.stdout.strip())  # the old format: a bare PID, process gone
    _update(server)
    assert not (home / ".update.lock").exists()


# ------------------------------------------------------------------ no SQL from a manifest
HOSTILE = ['x"; COPY (SELECT 42 AS pwned) TO \'{out}\'; --',
           "y'; COPY (SELECT 1) TO '{out}'; --"]


@pytest.mark.parametrize("template", HOSTILE, ids=["double_quote", "single_quote"])
def test_hostile_dataset_and_table_names_in_the_manifest_run_no_sql(home, tmp_path, template):
    out = tmp_path / "pwned.csv"
    name = template.format(out=out)
    folder = home / "data'dir"                                # a quote in the path too
    folder.mkdir(parents=True)
    pl.DataFrame({"v": [1, 2, 3]}).write_parquet(folder / "t.parquet")
    table = 'flows"; COPY (SELECT 7) TO \'' + str(out) + "'; --"
    manifest = {name: {"kind": "table", "tables": {table: {"file": "data'dir/t.parquet"}}}}
    (home / "manifest.json").write_text(json.dumps(manifest))
    refresh_catalog()
    cur = catalog_cursor()
    cur.close()
    assert not out.exists()
    assert query(f"select sum(v) as s from {quote_identifier(name)}.{quote_identifier(table)}")["s"][0] == 6
    assert name in U.data_status()["name"].to_list()
    assert not out.exists()


def test_manifest_file_outside_the_catalog_folder_is_refused(home):
    home.mkdir(parents=True)
    (home / "manifest.json").write_text(json.dumps({"x": {"tables": {"t": {"file": "../../etc/passwd"}}}}))
    refresh_catalog()
    with pytest.raises(DataError, match=r"file '\.\./\.\./etc/passwd' must lie inside the catalog folder"):
        U.data_status()


# ------------------------------------------------------------------ codes shown with repr
def test_codes_with_blanks_are_shown_with_repr_in_messages():
    f = np.ones((2, 2, 1))
    f[:, 1, :] = 0.0                                          # 'HOM ' buys nothing
    with pytest.raises(DataError, match=r"^flows: country 'HOM ' buys nothing"):
        World.from_arrays(regions=["FOR", "HOM "], sectors=["1"], flows=f)
    f = np.ones((2, 2, 1))
    f[0, 1, 0] = -1.0
    with pytest.raises(DataError, match=r"at \(exporter, importer, sector\) \('HOM  ', FOR, 1\)"):
        World.from_arrays(regions=["HOM  ", "FOR"], sectors=["1"], flows=f)
