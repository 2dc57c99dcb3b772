"""`tariffsim data update census`: paging, 204 months, provenance, cache, and never a half-written catalog.

A fake Census International Trade API replays answers in the official format
(JSON array of arrays, header row first, every value a string; 204 for no
data). Values are of the size of real 2024 US imports from Japan by HS10.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest

from tariffsim.data import catalog as catalog_fn, read_table
from tariffsim.data import census as C
from tariffsim.data import update as U
from tariffsim.data import update_commit
from tariffsim.data.update_http import Offline
from tariffsim.errors import DataError

FAST = U.RetryPolicy(attempts=3, backoff=0.0, max_wait=0.0, timeout=5.0)
NOSLEEP = lambda s: None  # noqa: E731

# (CTY_CODE, CTY_NAME, I_COMMODITY, GEN_VAL_MO, CON_VAL_MO, CAL_DUT_MO) for one month
IMPORT_ROWS = [
    ("5880", "JAPAN", "8703230190", "2412345678", "2398765432", "59969135"),
    ("5880", "JAPAN", "8708995800", "160332211", "158221100", "3955527"),
    ("5880", "JAPAN", "0304870000", "1204500", "1204500", "0"),
    ("5700", "CHINA", "8517130000", "3510222000", "3509000111", "0"),
    ("0003", "EUROPEAN UNION", "8703230190", "1811000222", "1800100200", "45002505"),
    ("1220", "CANADA", "2709002090", "7500000000", "7499000000", "3100000"),
]
EXPORT_ROWS = [  # (CTY_CODE, CTY_NAME, E_COMMODITY, ALL_VAL_MO)
    ("5880", "JAPAN", "8802400050", "512000000"),
    ("5880", "JAPAN", "1005902030", "233100000"),
]


class FakeCensus:
    """Routes a Census URL to an answer; months outside ``published`` answer 204."""

    def __init__(self, published=range(1, 13), fail_at=None, fail=None, header_drop=None, api_key=None):
        self.published, self.fail_at, self.fail, self.header_drop = set(published), fail_at, fail, header_drop
        self.calls: list[str] = []

    def answer(self, url: str) -> U.Response:
        self.calls.append(url)
        if self.fail_at is not None and len(self.calls) >= self.fail_at:
            return self.fail
        parts = urllib.parse.urlsplit(url)
        q = dict(urllib.parse.parse_qsl(parts.query))
        flow = parts.path.rstrip("/").split("/")[-2]
        comm = "I_COMMODITY" if flow == "imports" else "E_COMMODITY"
        prefix, time_ = q[comm].rstrip("*"), q["time"]
        if int(time_[5:]) not in self.published:
            return U.Response(204, b"")
        rows = IMPORT_ROWS if flow == "imports" else EXPORT_ROWS
        rows = [r for r in rows if r[2].startswith(prefix)]
        if not rows:
            return U.Response(204, b"")
        header = q["get"].split(",")
        if self.header_drop:
            header = [h for h in header if h != self.header_drop]
        # the API echoes predicate variables after the requested ones
        out = [header + ["COMM_LVL", "time", comm]]
        for r in rows:
            rec = dict(zip(["CTY_CODE", "CTY_NAME", comm, *(v for v, _ in C.FLOWS[flow].values)], r))
            out.append([rec[h] for h in header] + ["HS10", time_, rec[comm]])
        return U.Response(200, json.dumps(out).encode())

    def __call__(self, url, timeout):
        return self.answer(url)


# the `home` fixture (a fresh TARIFFSIM_HOME) is in conftest.py


def _snapshot(home: Path) -> dict[str, str]:
    """Every file under the user data dir (except the cache) -> its SHA-256."""
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(home.rglob("*")) if p.is_file() and "cache" not in p.parts}


def run(fake, **kw):
    kw.setdefault("months", "1")
    return U.update_census(2024, transport=fake, retry=FAST, sleep=NOSLEEP, **kw)


# ------------------------------------------------------------------ parsing

def test_parse_months_ranges_and_lists():
    assert C.parse_months("1-3,12") == (1, 2, 3, 12)
    assert C.parse_months(None) == tuple(range(1, 13))
    with pytest.raises(DataError, match="1..12"):
        C.parse_months("0-3")
    with pytest.raises(DataError, match="cannot read 'x'"):
        C.parse_months("x")


def test_parse_page_rejects_non_integer_values_and_short_codes():
    page = C.Page(C.IMPORTS, 2024, 1, "8")
    head = ["CTY_CODE", "CTY_NAME", "I_COMMODITY", "GEN_VAL_MO", "CON_VAL_MO", "CAL_DUT_MO"]
    with pytest.raises(DataError, match="GEN_VAL_MO value 'n/a' is not an integer"):
        C.parse_page([head, ["5880", "JAPAN", "8703230190", "n/a", "1", "0"]], page)
    with pytest.raises(DataError, match="'870323019' is not 10 digits"):
        C.parse_page([head, ["5880", "JAPAN", "870323019", "1", "1", "0"]], page)
    with pytest.raises(DataError, match="row 2 has 5 fields, header has 6"):
        C.parse_page([head, ["5880", "JAPAN", "8703230190", "1", "1"]], page)
    with pytest.raises(DataError, match="array of arrays"):
        C.parse_page({"error": "x"}, page)


def test_page_url_asks_hs10_by_month_and_code_prefix():
    url = C.Page(C.IMPORTS, 2024, 3, "8").url("https://api.census.gov/data/timeseries/intltrade", "KEY")
    assert url.startswith("https://api.census.gov/data/timeseries/intltrade/imports/hs?get=CTY_CODE,CTY_NAME,I_COMMODITY,")
    assert "COMM_LVL=HS10" in url and "time=2024-03" in url and "I_COMMODITY=8*" in url and url.endswith("key=KEY")


# ------------------------------------------------------------------ loads

def test_update_loads_imports_and_exports_into_catalog_with_provenance(home, monkeypatch):
    monkeypatch.setenv("CENSUS_API_KEY", "SECRETKEY123")
    fake = FakeCensus()
    res = run(fake, months="1-2")
    assert len(fake.calls) == 2 * 10 * 2  # months x code-prefix pages x flows
    assert all("key=SECRETKEY123" in u for u in fake.calls)
    imp = read_table("us_trade_census_2024", "imports_hs10")
    assert imp.height == 2 * len(IMPORT_ROWS)
    assert imp.filter((pl.col("cty_code") == "5880") & (pl.col("month") == 1))["customs_value_usd"].sum() == 2398765432 + 158221100 + 1204500
    assert imp.filter(pl.col("cty_code") == "0003")["is_aggregate"].all()
    assert not imp.filter(pl.col("cty_code") == "5880")["is_aggregate"].any()
    exp = read_table("us_trade_census_2024", "exports_hs10")
    assert exp.height == 2 * len(EXPORT_ROWS)
    n = catalog_fn().sql("select count(*) from us_trade_census_2024.imports_hs10 where hs10 = '8703230190'").fetchall()[0][0]
    assert n == 4
    rec = json.loads((home / "manifest.json").read_text())["us_trade_census_2024"]
    t = rec["tables"]["imports_hs10"]
    assert t["endpoint"].endswith("/intltrade/imports/hs") and "COMM_LVL=HS10" in t["query"]
    assert t["retrieved_at"] and t["rows"] == imp.height and t["months"] == [1, 2]
    assert t["sha256"] == hashlib.sha256((home / t["file"]).read_bytes()).hexdigest()
    assert re.fullmatch(r"us_trade_census_2024/v\d{8}T\d{6}Z-[0-9a-f]{8}/imports_hs10\.parquet", t["file"])
    everything = (home / "manifest.json").read_text() + "".join(p.read_text() for p in (home / "cache").rglob("*.json"))
    assert "SECRETKEY123" not in everything  # the key never reaches disk
    assert res.rows == {"imports_hs10": 12, "exports_hs10": 4}
    assert "us_trade_census_2024" in res.summary()
    status = U.data_status().filter(pl.col("name") == "us_trade_census_2024").row(0, named=True)
    assert status["origin"] == "updated" and status["integrity"] == "ok"


def test_unpublished_months_are_skipped_and_said(home):
    res = run(FakeCensus(published={1, 2, 3}), months=None, exports=False)
    assert sorted(read_table("us_trade_census_2024", "imports_hs10")["month"].unique().to_list()) == [1, 2, 3]
    assert any("4-12" in n and "not published" in n for n in res.notes)


def test_asking_for_unpublished_months_is_an_error(home):
    with pytest.raises(DataError, match=r"not published 2024 month\(s\) 4 yet; rerun with --months 3"):
        run(FakeCensus(published={1, 2, 3}), months="3-4", exports=False)
    with pytest.raises(DataError, match="published no 2024 data"):
        run(FakeCensus(published=set()), months="5", exports=False)
    assert not (home / "manifest.json").exists()


def test_rate_limit_mid_update_is_retried_and_loads(home):
    fake = FakeCensus()
    real = fake.answer
    state = {"n": 0}

    def flaky(url, timeout):
        state["n"] += 1
        if state["n"] == 5:
            return U.Response(429, b"", {"retry-after": "0"})
        return real(url)

    run(flaky, exports=False)
    assert read_table("us_trade_census_2024", "imports_hs10").height == len(IMPORT_ROWS)


def test_answers_are_cached_and_refresh_skips_the_cache(home):
    run(FakeCensus(), exports=False)

    def offline(url, timeout):
        raise Offline("[Errno -3] Temporary failure in name resolution")

    res = run(offline, exports=False)  # every page comes from the cache
    assert res.record["requests_from_network"] == 0
    with pytest.raises(DataError, match="offline"):
        run(offline, exports=False, refresh=True)


# ------------------------------------------------------------------ never half-written

@pytest.mark.parametrize("failure, message", [
    (U.Response(500, b"Internal Server Error"), "server error HTTP 500 after 3 tries"),
    (U.Response(429, b"", {"retry-after": "0"}), "rate limited"),
    (U.Response(200, b'[["CTY_CODE","CTY_NAME","I_COMMODITY"],["5880","JA'), "truncated"),
    (U.Response(200, b"<html>Invalid Key</html>"), "not JSON"),
])
def test_failed_download_leaves_catalog_exactly_as_before(home, failure, message):
    run(FakeCensus(), exports=False)
    before = _snapshot(home)
    assert before
    with pytest.raises(DataError, match=message):
        run(FakeCensus(fail_at=5, fail=failure), months="1-2", exports=False)  # month 1 cached
    assert _snapshot(home) == before
    assert read_table("us_trade_census_2024", "imports_hs10")["month"].unique().to_list() == [1]
    assert not (home / ".staging").exists() and not (home / ".update.lock").exists()


def test_schema_change_is_a_clear_error_and_writes_nothing(home):
    with pytest.raises(DataError, match="header lacks CON_VAL_MO"):
        run(FakeCensus(header_drop="CON_VAL_MO"), exports=False)
    assert _snapshot(home) == {}


def test_failure_while_committing_rolls_back(home, monkeypatch):
    run(FakeCensus(), exports=False)
    before = _snapshot(home)

    def broken(home_, manifest):
        raise OSError("disk full")

    monkeypatch.setattr(update_commit, "_write_manifest", broken)
    with pytest.raises(OSError, match="disk full"):
        run(FakeCensus(), months="1-2", exports=False)
    assert _snapshot(home) == before
    assert read_table("us_trade_census_2024", "imports_hs10").height == len(IMPORT_ROWS)


def test_concurrent_update_is_refused(home):
    home.mkdir(parents=True)
    (home / ".update.lock").write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
    with pytest.raises(DataError, match=f"another update is running \\(pid {os.getpid()} on "):
        run(FakeCensus(), exports=False)
    assert _snapshot(home) == {".update.lock": hashlib.sha256((home / ".update.lock").read_bytes()).hexdigest()}


def test_status_flags_a_modified_file(home):
    run(FakeCensus(), exports=False)
    rec = json.loads((home / "manifest.json").read_text())["us_trade_census_2024"]
    path = home / rec["tables"]["imports_hs10"]["file"]
    path.write_bytes(path.read_bytes() + b"x")
    row = U.data_status().filter(pl.col("name") == "us_trade_census_2024").row(0, named=True)
    assert row["integrity"] == "modified"


# ------------------------------------------------------------------ CLI, real urllib against a local server

class _CensusHandler(BaseHTTPRequestHandler):
    fake: FakeCensus

    def log_message(self, *a):
        pass

    def do_GET(self):  # noqa: N802
        r = self.fake.answer("http://x" + self.path)
        self.send_response(r.status)
        self.send_header("Content-Length", str(len(r.body)))
        self.end_headers()
        self.wfile.write(r.body)


def _cli(argv, monkeypatch, capsys):
    from tariffsim import cli

    monkeypatch.setattr(sys, "argv", ["tariffsim", *argv])
    code = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_update_census_then_status(home, monkeypatch, capsys):
    _CensusHandler.fake = FakeCensus()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _CensusHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("TARIFFSIM_CENSUS_URL", f"http://127.0.0.1:{srv.server_address[1]}/data/timeseries/intltrade")
        code, out, err = _cli(["data", "update", "census", "--year", "2024", "--months", "1", "--no-exports"], monkeypatch, capsys)
        assert code == 0, err
        assert "us_trade_census_2024" in out and "imports_hs10: 6 rows" in out
        code, out, _ = _cli(["data", "status", "--json"], monkeypatch, capsys)
        rows = {r["name"]: r for r in json.loads(out)}
        assert rows["us_trade_census_2024"]["integrity"] == "ok"
        assert rows["world_io_7x44_2017"]["origin"] == "bundled"
    finally:
        srv.shutdown()
        srv.server_close()


def test_cli_offline_is_exit_2_with_one_line(home, monkeypatch, capsys):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    monkeypatch.setenv("TARIFFSIM_CENSUS_URL", f"http://127.0.0.1:{port}/data/timeseries/intltrade")
    code, out, err = _cli(["data", "update", "census", "--year", "2024", "--months", "1"], monkeypatch, capsys)
    assert code == 2
    assert err.strip().startswith("error: cannot reach 127.0.0.1") and len(err.strip().splitlines()) == 1
