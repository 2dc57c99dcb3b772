"""`tariffsim run`: the default US-Japan bundle end to end (subprocess), report contents, atomic outputs."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from tariffsim import api

ROOT = Path(__file__).resolve().parents[1]
#: each report figure and the section that makes it
FIGURES = {"fig-etr-timeline": "etr", "fig-welfare": "welfare", "fig-top-products": "products",
           "fig-frontier": "bargain", "fig-fairness": "fairness"}


class _Parse(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, str] = {}
        self.sections: dict[str, str] = {}
        self.scripts = 0
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in ("meta", "br", "img", "link", "input"):
            self.stack.append(tag)
        if "id" in a:
            self.ids[a["id"]] = tag
        if tag == "section":
            self.sections[a["id"]] = a.get("data-status", "")
        if tag == "script":
            self.scripts += 1
            assert "src" not in a, "the report must be self-contained (no external scripts)"

    def handle_endtag(self, tag):
        if tag in ("meta", "br", "img", "link", "input"):
            return
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> (open: {self.stack[-3:]})"
        self.stack.pop()


# ``default_run`` (the built-in scenario rendered once per session) is in conftest.py


def test_default_run_writes_report_results_and_tables(default_run):
    out, proc, seconds = default_run
    assert (out / "report.html").is_file() and (out / "results.json").is_file()
    res = json.loads((out / "results.json").read_text())
    assert res["scenario"] == "us_japan_2025_2026"
    tables = sorted(p.stem for p in (out / "tables").glob("*.parquet"))
    assert tables == sorted(p.stem for p in (out / "tables").glob("*.csv"))
    for name in ("welfare", "ge_counterfactuals", "summary", "fairness", "sources"):
        assert name in tables, tables
    w = pl.read_parquet(out / "tables" / "welfare.parquet")
    assert {"liberation_day", "japan_deal", "war_reciprocal", "negotiated"} <= set(w["counterfactual"].to_list())
    jpn = {r["counterfactual"]: r["welfare_change_pct"] for r in w.filter(pl.col("region") == "JPN").to_dicts()}
    assert jpn["liberation_day"] < 0 and jpn["liberation_day"] < jpn["japan_deal"] < 0   # 24% hurts Japan more than 15%
    assert "US-Japan 2025" in proc.stdout                                               # the one-screen summary
    etr = res["sections"]["etr"]                        # issue 14: the timeline runs to today and marks the ruling
    assert "Learning Resources" in etr["note"] and etr["data"]["ieepa_refunds"]["ieepa_duties_paid_usd_bn"]["value"] == "166"
    assert str(etr["data"]["latest"]["date"]) == res["settings"]["policy"]["as_of"]          # the run's as-of date
    cpu = res["load_seconds"] + sum(s["cpu_seconds"] for s in res["sections"].values())
    # timings are reported, not asserted (bench/bench_run.py measures them against a baseline)
    print(f"default run: {seconds:.1f} s wall (subprocess, with start-up), {res['seconds']:.1f} s in run, {cpu:.1f} s CPU")


def test_report_parses_and_contains_each_figure(default_run):
    out, _, _ = default_run
    html = (out / "report.html").read_text()
    p = _Parse()
    p.feed(html)
    p.close()
    res = json.loads((out / "results.json").read_text())
    for fig, section in FIGURES.items():
        assert res["sections"][section]["status"] == "ok", section
        assert p.ids.get(fig) == "figure", f"{fig} missing from the report"
        assert f'{fig}-plot' in p.ids, f"{fig} has no plotly div"
    assert "not available in this version" not in html
    assert p.sections["methods"] == "ok" and "Caliendo" in html
    assert p.scripts >= 1 and "Plotly" in html          # plotly.js embedded once
    assert res["sections"]["welfare"]["status"] == "ok" and res["sections"]["counterfactuals"]["status"] == "ok"


def test_failed_run_leaves_no_partial_output(tmp_path, monkeypatch):
    from tariffsim.report import html as report_html

    scn = ROOT / "examples" / "user_world.yaml"
    out = tmp_path / "out"
    res = api.run_scenario(scn, out)             # a good run first
    first = (out / "results.json").read_text()
    assert res.out == out.resolve() and (out / "report.html").exists()

    def boom(run):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report_html, "render_report", boom)
    with pytest.raises(RuntimeError):
        api.run_scenario(scn, out)
    assert (out / "results.json").read_text() == first        # the previous output is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folder left
    with pytest.raises(RuntimeError):
        api.run_scenario(scn, tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_rerun_replaces_the_previous_outputs_and_keeps_user_files(tmp_path):
    scn = ROOT / "examples" / "user_world.yaml"
    out = tmp_path / "out"
    api.run_scenario(scn, out)
    first = {p.relative_to(out) for p in out.rglob("*") if p.is_file()}
    (out / "tables" / "mine.csv").write_text("a user's file")
    res = api.run_scenario(scn, out)
    assert (out / "tables" / "mine.csv").read_text() == "a user's file"     # not listed in the run's manifest: kept
    assert first <= {p.relative_to(out) for p in out.rglob("*") if p.is_file()}
    assert {s.key for s in res.sections} >= {"summary", "counterfactuals", "war", "welfare", "methods"}
    assert res.section("war").tables["war_tariffs"]["tariff_pct"][0] > 0      # FOR's best reply is a positive tariff


def test_sections_a_scenario_does_not_ask_for_are_skipped_with_a_reason(tmp_path):
    scn = tmp_path / "s.yaml"
    scn.write_text(
        f"name: t\nworld: {{files: {ROOT / 'examples' / 'two_country_world'}}}\n"
        "policy: {baseline: null, timeline: []}\nmodel: {pe: {enabled: false}}\n"
        "counterfactuals: [{name: a, measures: [{importer: HOM, exporter: FOR, set: 0.2}]}]\n"
        "strategy: {balancing: null}\nfairness: null\n")
    res = api.run_scenario(scn, tmp_path / "out")
    assert res.section("etr").status == "skipped" and "timeline" in res.section("etr").note
    assert res.section("products").status == "skipped"
    assert res.section("welfare").status == "ok"
    html = (tmp_path / "out" / "report.html").read_text()
    p = _Parse()
    p.feed(html)
    assert p.sections["etr"] == "skipped" and p.sections["welfare"] == "ok" and "fig-welfare" in p.ids
    assert "not available in this version" not in html
