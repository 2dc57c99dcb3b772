"""The default report as a reader sees it: one render, checked in headless Chromium and in results.json.

Checks (issue 18): no PE cell shown breaks the plausibility rule; every quantity that appears
in two sections of ``results.json`` has one value; the summary's balancing tariff, USTR rate
and deficit equal those in their sections, on the rendered page too; each ETR timeline label
names the measures that start or end on that step; screenshots at 1400 px and 420 px are
written to ``out/test-artifacts/`` (gitignored; ``TARIFFSIM_TEST_ARTIFACTS`` overrides).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def default_report(default_run):
    """The session's one render of the built-in scenario (conftest.py): (output folder, results.json)."""
    out, _, _ = default_run
    return out, json.loads((out / "results.json").read_text())


def _quantities(res: dict) -> dict[str, list[tuple[str, dict]]]:
    seen: dict[str, list[tuple[str, dict]]] = {}
    for key, sec in res["sections"].items():
        for qk, q in (sec.get("data") or {}).get("quantities", {}).items():
            seen.setdefault(qk, []).append((key, q))
    return seen


def test_every_quantity_appearing_twice_in_results_json_has_one_value(default_report):
    _, res = default_report
    seen = _quantities(res)
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    # the figures issue 18 found with several values: deficit, USTR rate, balancing tariff, US welfare of the deal
    for must in ("deficit_USA_JPN_census_2024", "ustr_rate_USA_on_JPN", "balancing_tariff_USA_on_JPN",
                 "deficit_USA_JPN_ge_baseline", "ev_USA_japan_deal"):
        assert must in twice, f"{must} should appear in the summary and in its section: {sorted(seen)}"
    for k, places in twice.items():
        first = places[0][1]
        for sec, q in places[1:]:
            assert q == first, f"{k}: {places[0][0]} says {first}, {sec} says {q}"
    for k, places in seen.items():
        q = places[0][1]
        assert q["basis"] and q["unit"] in ("USD bn per year", "percent", "percentage points"), q
        assert ("2024" in q["label"]) or ("2017" in q["label"]), f"{k}: the label must say its data basis: {q['label']}"


def test_no_pe_cell_shown_breaks_the_plausibility_rule(default_report):
    out, res = default_report
    prod = res["sections"]["products"]
    assert prod["status"] == "ok"
    top = pl.read_parquet(out / "tables" / "pe_top_products.parquet")
    growth_limit = prod["data"]["growth_limit"]
    assert (top["change_pct"] <= 100 * (growth_limit - 1)).all()
    flagged = pl.read_parquet(out / "tables" / "pe_flagged.parquet")
    shown = set(top["hs10"].to_list())
    partner = prod["data"]["partner"]
    assert not shown & set(flagged.filter(pl.col("source") == partner)["product"].to_list())
    # the issue-18 repro is not among them: HS 8704210100 from Japan
    assert "8704210100" not in shown or top.filter(pl.col("hs10") == "8704210100")["change_pct"][0] < 900
    assert prod["data"]["partner_imports_change_pct"] * prod["data"]["ge_partner_imports_change_pct"] > 0 \
        or "signs differ" in prod["data"]["pe_vs_ge"]


def test_timeline_labels_name_the_measures_that_change_on_each_step(default_report):
    _, res = default_report
    steps = res["sections"]["etr"]["data"]["steps"]
    assert len(steps) >= 5
    for st in steps[1:]:
        changed = st.get("start_labels", []) + st.get("end_labels", [])
        named = [c for c in changed if c in st["label"]]
        assert named or not changed, st
        assert len(named) >= min(len(changed), 5), st            # the first five changes are named, then "and N more"
        assert "pp by authority" in st["label"]
    # the example: the step labelled by hand "Steel and aluminium 50%" (2025-06-04) is mostly IEEPA ending
    june = next(st for st in steps if st["date"] == "2025-06-04")
    assert "ends: IEEPA reciprocal China 125%" in june["label"]
    assert june["pp_all"]["ieepa"] < 0 < june["pp_all"]["s232"]


@pytest.mark.browser
def test_report_in_chromium_summary_equals_sections_and_screenshots(default_report):
    pw = pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")
    if CHROMIUM is None:
        pytest.skip("Debian chromium missing: `make test` installs it (apt-get install chromium)")
    out, res = default_report
    artifacts = Path(os.environ.get("TARIFFSIM_TEST_ARTIFACTS") or ROOT / "out" / "test-artifacts")
    artifacts.mkdir(parents=True, exist_ok=True)
    seen = _quantities(res)
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto((out / "report.html").as_uri(), wait_until="load")
            page.wait_for_selector("#fig-etr-timeline-plot .main-svg", timeout=60_000)
            summary = page.locator("section#summary table").first.inner_text()
            fairness = page.locator("section#fairness").inner_text()
            etr_text = page.locator("section#etr").inner_text()
            for key in ("balancing_tariff_USA_on_JPN", "ustr_rate_USA_on_JPN", "deficit_USA_JPN_census_2024"):
                q = seen[key][0][1]
                rows = [ln for ln in summary.splitlines() if q["label"] in ln]
                assert rows, f"summary has no row {q['label']!r}"
                value = re.findall(r"[-+]?[0-9][0-9,]*\.[0-9]", rows[0].split(q["label"])[-1])[0]
                assert float(value.replace(",", "")) == pytest.approx(q["value"], abs=0.051)
                assert value.lstrip("+") in fairness, f"{key}: summary {value} not in the fairness section"
            for st in res["sections"]["etr"]["data"]["steps"][1:]:
                assert st["label"].split(" | ")[0][:40] in etr_text
            page.screenshot(path=str(artifacts / "report-1400.png"), full_page=False)
            page.set_viewport_size({"width": 420, "height": 900})
            page.wait_for_timeout(500)
            width = page.evaluate("() => document.documentElement.scrollWidth")
            page.screenshot(path=str(artifacts / "report-420.png"), full_page=False)
        finally:
            browser.close()
    assert width <= 440, f"the report scrolls sideways at 420 px ({width} px wide)"
    for name in ("report-1400.png", "report-420.png"):
        assert (artifacts / name).stat().st_size > 10_000
