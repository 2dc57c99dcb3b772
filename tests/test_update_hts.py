"""`tariffsim data update hts` and `tariffsim schedule diff`: parsing the USITC JSON export,
Chapter 99 diffs (new / changed / removed), partner filter, atomic loads, offline by default.

Fixture rows follow the USITC HTS REST/JSON export (``htsno, indent,
description, superior, units, general, special, other, footnotes``); the
Chapter 99 texts are those of the real Japan headings (9903.02.72-73,
9903.94.40) shortened.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest

from tariffsim.data import read_table
from tariffsim.data import hts as H
from tariffsim.data import refresh as refresh_catalog
from tariffsim.data import update as U
from tariffsim.data import update_hts as UH
from tariffsim.data.catalog import bundled_manifest
from tariffsim.errors import DataError

FAST = U.RetryPolicy(attempts=2, backoff=0.0, max_wait=0.0, timeout=5.0)
NOSLEEP = lambda s: None  # noqa: E731


def row(htsno, indent, description, general="", special="", other="", units=(), footnotes=(), superior=None):
    return {"htsno": htsno, "indent": str(indent), "description": description, "superior": superior,
            "units": list(units), "general": general, "special": special, "other": other,
            "footnotes": list(footnotes), "quotaQuantity": "", "additionalDuties": ""}


JP_SUB = "articles the product of Japan, as provided for in subdivision (v) of U.S. note 2 to this subchapter"
BASE_ROWS = [
    row("0201", 0, "Meat of bovine animals, fresh or chilled:"),
    row("0201.20", 1, "Other cuts with bone in:"),
    row("0201.20.02", 2, "Described in general note 15 of the tariff schedule", "4.4¢/kg", "Free (A+,AU,CL,JP,KR)", "37.5%"),
    row("0201.20.10.00", 2, "Processed", "10%", "Free (AU,JP)", "20%", units=["kg"]),
    row("8703", 0, "Motor cars and other motor vehicles principally designed for the transport of persons:"),
    row("8703.23", 1, "Other vehicles, with only spark-ignition internal combustion reciprocating piston engine:"),
    row("8703.23.01", 2, "Of a cylinder capacity exceeding 1,500 cc but not exceeding 3,000 cc", "2.5%",
        "Free (AU,BH,CL,CO,IL,JO,KR,MA,OM,P,PA,PE,S,SG)", "10%",
        footnotes=[{"columns": ["general"], "marker": "1", "value": "See 9903.94.01.", "type": "endnote"}]),
    row("8703.23.01.90", 3, "Other", units=["No."]),
]
CH99_A = [
    row("9903.01.25", 0, "Except as provided in headings 9903.01.26-9903.01.33, articles the product of any country, as provided for in subdivision (v) of U.S. note 2",
        "The duty provided in the applicable subheading + 10%"),
    row("", 0, "Articles the product of Japan:", superior="true"),
    row("9903.02.72", 1, "Except for goods in transit, " + JP_SUB + ", with a column 1 rate equal to or greater than 15 percent",
        "The duty provided in the applicable subheading"),
    row("9903.02.73", 1, "Except for goods in transit, " + JP_SUB + ", with a column 1 rate less than 15 percent", "15%"),
    row("9903.88.15", 0, "Except as provided in headings 9903.88.39, articles the product of China, as provided for in U.S. note 20(r)",
        "The duty provided in the applicable subheading + 7.5%"),
]
CH99_B = [
    CH99_A[1], CH99_A[2],
    row("9903.02.73", 1, "Except for goods in transit, " + JP_SUB + ", with a column 1 rate less than 15 percent",
        "The duty provided in the applicable subheading + 15%"),
    row("9903.88.15", 0, "Except as provided in headings 9903.88.39 and 9903.88.40, articles the product of China, as provided for in U.S. note 20(r)",
        "The duty provided in the applicable subheading + 7.5%"),
    row("9903.94.40", 0, "Passenger vehicles and light trucks that are products of Japan as provided for in subdivision (k) of U.S. note 33, "
        "with a column 1 rate less than 15 percent", "15%"),
]
RELEASE_A = BASE_ROWS + CH99_A
RELEASE_B = BASE_ROWS + CH99_B


def _heading(rows, i):
    """Four-digit heading a row belongs to (superior rows: the next coded row's)."""
    for r in rows[i:]:
        if r["htsno"]:
            return r["htsno"].replace(".", "")[:4]
    return "9999"


class FakeHTS:
    """The HTS REST service: /currentRelease and /exportList?from=&to=&format=JSON."""

    def __init__(self, rows, release="2025HTSRev19", fail_range=None, fail=None):
        self.rows, self.release, self.fail_range, self.fail = rows, release, fail_range, fail
        self.calls: list[str] = []

    def answer(self, url):
        self.calls.append(url)
        parts = urllib.parse.urlsplit(url)
        if parts.path.endswith("/currentRelease"):
            return U.Response(200, json.dumps({"name": self.release, "description": "Revision 19", "status": "current"}).encode())
        q = dict(urllib.parse.parse_qsl(parts.query))
        if self.fail_range and q["from"] == self.fail_range:
            return self.fail
        sel = [r for i, r in enumerate(self.rows) if q["from"] <= _heading(self.rows, i) <= q["to"]]
        return U.Response(200, json.dumps(sel).encode())

    def __call__(self, url, timeout):
        return self.answer(url)


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("TARIFFSIM_HOME", str(tmp_path / "home"))
    refresh_catalog()
    yield tmp_path / "home"
    refresh_catalog()


@pytest.fixture()
def no_bundled_ch99(monkeypatch):
    monkeypatch.setattr(UH, "_bundled_chapter99", lambda: None)


def _snapshot(home: Path) -> dict[str, str]:
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(home.rglob("*")) if p.is_file() and "cache" not in p.parts}


def update_current(rows=RELEASE_A, **kw):
    return U.update_hts("current", base_url="https://hts.usitc.gov/reststop", transport=FakeHTS(rows, **kw),
                        retry=FAST, sleep=NOSLEEP)


def update_from_file(tmp_path, rows, release):
    path = tmp_path / f"{release}.json.gz"
    path.write_bytes(gzip.compress(json.dumps(rows).encode()))
    return U.update_hts(release, source=str(path))


# ------------------------------------------------------------------ parsing

def test_parse_rate_forms():
    assert H.parse_rate("Free") == H.ParsedRate("free", 0.0, "")
    assert H.parse_rate("2.5%") == H.ParsedRate("ad_valorem", 0.025, "")
    assert H.parse_rate("4.4¢/kg") == H.ParsedRate("specific", 0.0, "0.044 USD/kg")
    assert H.parse_rate("4.4¢/kg + 8.5%") == H.ParsedRate("compound", 0.085, "0.044 USD/kg")
    assert H.parse_rate("The duty provided in the applicable subheading").rate_type == "other_text"
    assert H.parse_rate("").rate_type == "missing"


def test_export_to_tidy_tables_inherits_rates_and_paths():
    t = H.tables_from_export(H.parse_export(json.dumps(RELEASE_A)))
    mfn = {r["hs8"]: r for r in t["mfn_hs8"].to_dicts()}
    assert t["mfn_hs8"].columns[:5] == ["hs8", "rate_type", "adval_rate", "has_specific", "general_rate_text"]
    assert mfn["02012002"]["rate_type"] == "specific" and mfn["02012002"]["has_specific"]
    assert mfn["02012002"]["specific_components"] == "0.044 USD/kg"
    assert mfn["02012010"]["adval_rate"] == pytest.approx(0.10)  # 8-digit line printed only as a 10-digit line
    assert mfn["87032301"]["adval_rate"] == pytest.approx(0.025) and "KR" in mfn["87032301"]["special_rate_text"]
    assert mfn["87032301"]["general_footnote"] == "See 9903.94.01."
    l10 = {r["hs10"]: r for r in t["lines_hs10"].to_dicts()}
    assert l10["8703230190"]["general_rate_text"] == "2.5%"
    assert l10["8703230190"]["description_path"].startswith("Motor cars") and l10["8703230190"]["description_path"].endswith(": Other")
    ch = {r["heading"]: r for r in t["chapter99"].to_dicts()}
    assert set(ch) == {"9903.01.25", "9903.02.72", "9903.02.73", "9903.88.15"}
    assert ch["9903.02.73"]["description_path"].startswith("Articles the product of Japan: : Except")
    assert ch["9903.01.25"]["description_path"] == ch["9903.01.25"]["description"]  # superior row does not leak


def test_unexpected_shapes_are_one_line_errors():
    with pytest.raises(DataError, match="expected a JSON list of rows, got dict"):
        H.parse_export(b'{"error": "Not Found"}')
    bad = [dict(r) for r in RELEASE_A]
    del bad[3]["indent"]
    with pytest.raises(DataError, match=r"row 4 lacks field\(s\) indent \(schema changed\?\)"):
        H.parse_export(json.dumps(bad))
    with pytest.raises(DataError, match="not valid JSON"):
        H.parse_export(b'[{"htsno": "0201", "ind')


def test_chapter99_diff_new_changed_removed():
    a = H.tables_from_export(RELEASE_A)["chapter99"]
    b = H.tables_from_export(RELEASE_B)["chapter99"]
    d = {r["heading"]: r for r in H.chapter99_diff(a, b).to_dicts()}
    assert d["9903.01.25"]["status"] == "removed"
    assert d["9903.94.40"]["status"] == "new"
    assert d["9903.02.73"]["status"] == "changed" and d["9903.02.73"]["changed_fields"] == "general"
    assert d["9903.02.73"]["general_old"] == "15%"
    assert d["9903.88.15"]["changed_fields"] == "description"
    assert "9903.02.72" not in d  # unchanged


def test_rates_only_baseline_compares_rates_only():
    base = H.chapter99_from_table(pl.DataFrame({"hs8": ["99030273", "99030125", "87032301"],
                                                "general_rate_text": ["15%", "The duty provided in the applicable subheading + 10%", "2.5%"]}))
    assert base["heading"].to_list() == ["9903.01.25", "9903.02.73"]
    assert H.known_fields(base) == ("general",)
    d = {r["heading"]: r["status"] for r in H.chapter99_diff(base, H.tables_from_export(RELEASE_A)["chapter99"]).to_dicts()}
    assert d == {"9903.02.72": "new", "9903.88.15": "new"}  # same rates, text not compared


def test_partner_filter_matches_names_and_program_codes_only_as_such():
    df = pl.DataFrame({"heading": ["a", "b", "c", "d"], "description_path": [
        "articles the product of Japan", "articles the product of China", "images in JPEG format", "other"],
        "special": ["", "", "", "Free (AU,JP,KR)"]})
    assert H.filter_partner(df, "JPN", "Japan")["heading"].to_list() == ["a", "d"]


# ------------------------------------------------------------------ update + diff

def test_update_current_release_loads_mfn_and_chapter99_with_provenance(home, no_bundled_ch99):
    fake = FakeHTS(RELEASE_A)
    res = U.update_hts(base_url="https://hts.usitc.gov/reststop", transport=fake, retry=FAST, sleep=NOSLEEP)
    assert res.dataset == "hts_2025htsrev19"
    assert fake.calls[0].endswith("/currentRelease") and len(fake.calls) == 1 + len(UH.HTS_RANGES)
    assert all("format=JSON" in u for u in fake.calls[1:])
    mfn = read_table("hts_2025htsrev19", "mfn_hs8")
    assert mfn.filter(pl.col("hs8") == "87032301")["adval_rate"].item() == pytest.approx(0.025)
    rec = json.loads((home / "manifest.json").read_text())["hts_2025htsrev19"]
    assert rec["kind"] == "hts_release" and rec["release"] == "2025HTSRev19" and rec["baseline"] == "none"
    for t in ("mfn_hs8", "lines_hs10", "chapter99", "chapter99_diff"):
        info = rec["tables"][t]
        assert info["sha256"] == hashlib.sha256((home / info["file"]).read_bytes()).hexdigest()
        assert info["retrieved_at"] and info["endpoint"]
    assert rec["tables"]["mfn_hs8"]["endpoint"] == "https://hts.usitc.gov/reststop/exportList"
    assert "every heading is listed as new" in res.notes[0]
    assert set(res.chapter99_diff["status"]) == {"new"}
    assert U.latest_hts_dataset() == "hts_2025htsrev19"


def test_second_release_is_diffed_against_the_first(home, tmp_path, no_bundled_ch99):
    update_current()
    res = update_from_file(tmp_path, RELEASE_B, "2026HTSBasic")
    assert res.record["baseline"] == "hts_2025htsrev19"
    assert "1 new" in res.summary() and "1 removed" in res.summary() and "2 changed" in res.summary()
    d = U.schedule_diff()
    assert d.release == "2026HTSBasic" and d.table.height == 4
    jp = U.schedule_diff(partner="JPN")
    assert sorted(jp.table["heading"].to_list()) == ["9903.02.73", "9903.94.40"]
    assert "for JPN: 1 new, 1 changed, 0 removed" in jp.summary()
    again = U.schedule_diff("2026HTSBasic", against="2025HTSRev19", partner="JPN")
    assert again.table.sort("heading").equals(jp.table.sort("heading"))
    assert U.schedule_diff(partner="CHN").table["heading"].to_list() == ["9903.88.15"]
    with pytest.raises(DataError, match="unknown ISO3"):
        U.schedule_diff(partner="XYZ")


def test_rates_only_bundled_baseline_is_used_and_said(home, monkeypatch):
    base = H.chapter99_from_table(pl.DataFrame({"hs8": ["99030273"], "general_rate_text": ["10%"]}))
    monkeypatch.setattr(UH, "_bundled_chapter99", lambda: ("hts_2025_mfn.mfn_hs8 (bundled)", base))
    res = update_current()
    assert res.record["baseline"] == "hts_2025_mfn.mfn_hs8 (bundled)"
    assert "no description" in res.notes[0] and "compared general only" in res.notes[0]
    d = {r["heading"]: r for r in res.chapter99_diff.to_dicts()}
    assert d["9903.02.73"]["status"] == "changed" and d["9903.02.73"]["general_old"] == "10%"


def test_real_bundled_schedule_is_found_as_baseline_when_present(home):
    found = UH._bundled_chapter99()
    if found is None:
        pytest.skip("bundled data carries no Chapter 99 lines")
    label, ch = found
    assert label.endswith("(bundled)") and ch["heading"].str.starts_with("99").all() and ch.height > 100


def test_update_matches_bundled_mfn_columns(home, no_bundled_ch99):
    update_current()
    try:
        bundled = bundled_manifest()["hts_2025_mfn"]["tables"]["mfn_hs8"]["columns"]
    except KeyError:
        pytest.skip("no bundled hts_2025_mfn.mfn_hs8")
    assert set(bundled) <= set(read_table("hts_2025htsrev19", "mfn_hs8").columns)


@pytest.mark.parametrize("failure, message", [
    (U.Response(500, b"Internal Server Error"), "server error HTTP 500"),
    (U.Response(200, b'[{"htsno": "8703", "indent": "0", "descr'), "truncated"),
    (U.Response(200, json.dumps([{"code": "8703", "text": "Motor cars"}]).encode()), "lacks field"),
    (U.Response(404, b"<html><h1>Not Found</h1></html>"), "HTTP 404.*Not Found"),
])
def test_failed_release_download_leaves_catalog_exactly_as_before(home, failure, message, no_bundled_ch99):
    update_current()
    before = _snapshot(home)
    with pytest.raises(DataError, match=message):
        update_current(RELEASE_B, release="2026HTSRev1", fail_range="7500", fail=failure)
    assert _snapshot(home) == before
    assert U.latest_hts_dataset() == "hts_2025htsrev19"
    assert not (home / ".staging").exists()


def test_named_release_is_checked_before_any_network_use(home):
    def no_network(url, timeout):
        raise AssertionError("network used")

    with pytest.raises(DataError, match="expected a name like 2026HTSBasic"):
        U.update_hts("latest-and-greatest", transport=no_network)
    assert U.archive_json_url("2026HTSBasic").endswith("/hts_2026_basic_json.json")
    assert U.archive_json_url("2025HTSRev19").endswith("/hts_2025_revision_19_json.json")


def test_archive_refusal_points_to_source_option(home):
    def forbidden(url, timeout):
        assert url.endswith("/hts_2026_basic_json.json")
        return U.Response(403, b"<html><body>Access Denied</body></html>")

    with pytest.raises(DataError, match="HTTP 403.*Access Denied; download the release's JSON .* --source FILE"):
        U.update_hts("2026HTSBasic", transport=forbidden, retry=FAST, sleep=NOSLEEP)


def test_schedule_diff_without_updates_says_what_to_run(home):
    with pytest.raises(DataError, match="run: tariffsim data update hts"):
        U.schedule_diff()


def test_offline_by_default_status_and_diff_never_open_a_socket(home, tmp_path, monkeypatch, no_bundled_ch99):
    update_current()

    def refuse(*a, **k):
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    refresh_catalog()
    assert "hts_2025htsrev19" in U.data_status()["name"].to_list()
    assert U.schedule_diff(partner="JPN").table.height == 2
    assert read_table("hts_2025htsrev19", "chapter99").height == 4


# ------------------------------------------------------------------ CLI against a local server (real urllib)

class _HTSHandler(BaseHTTPRequestHandler):
    fake: FakeHTS

    def log_message(self, *a):
        pass

    def do_GET(self):  # noqa: N802
        r = self.fake.answer("http://x" + self.path)
        self.send_response(r.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(r.body)))
        self.end_headers()
        self.wfile.write(r.body)


def _cli(argv, monkeypatch, capsys):
    from tariffsim import cli

    monkeypatch.setattr(sys, "argv", ["tariffsim", *argv])
    monkeypatch.setenv("COLUMNS", "200")
    code = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_update_hts_and_schedule_diff_for_japan(home, tmp_path, monkeypatch, capsys, no_bundled_ch99):
    _HTSHandler.fake = FakeHTS(RELEASE_A)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _HTSHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("TARIFFSIM_HTS_URL", f"http://127.0.0.1:{srv.server_address[1]}/reststop")
        code, out, err = _cli(["data", "update", "hts"], monkeypatch, capsys)
        assert code == 0, err
        assert "updated hts_2025htsrev19" in out and "chapter 99 vs none: 4 new" in out
    finally:
        srv.shutdown()
        srv.server_close()
    path = tmp_path / "b.json"
    path.write_text(json.dumps(RELEASE_B))
    code, out, err = _cli(["data", "update", "hts", "--release", "2026HTSBasic", "--source", str(path)], monkeypatch, capsys)
    assert code == 0, err
    code, out, err = _cli(["schedule", "diff", "--partner", "JPN", "--json"], monkeypatch, capsys)
    assert code == 0, err
    got = json.loads(out)
    assert got["release"] == "2026HTSBasic" and got["baseline"] == "hts_2025htsrev19"
    assert {c["heading"]: c["status"] for c in got["changes"]} == {"9903.02.73": "changed", "9903.94.40": "new"}
    code, out, err = _cli(["schedule", "diff", "--partner", "JPN"], monkeypatch, capsys)
    assert code == 0 and "9903.94.40" in out and "1 new, 1 changed, 0 removed" in out
    code, out, err = _cli(["data", "update", "hts", "--release", "2026HTSBasic", "--source", str(tmp_path / "missing.json")], monkeypatch, capsys)
    assert code == 2 and err.startswith("error: --source") and "no such file" in err
