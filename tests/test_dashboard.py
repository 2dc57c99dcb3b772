"""Dashboard: the model behind the sliders, and the streamlit app in real Chromium (playwright, headless)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def model():
    from tariffsim.dashboard.model import DashboardModel

    return DashboardModel()


def test_sliders_move_welfare_trade_revenue_and_etr(model):
    from tariffsim.dashboard.model import Settings

    base = model.solve(Settings())
    hi = model.solve(Settings(us_autos_pct=30.0, us_other_pct=30.0))
    assert hi.welfare_pct["JPN"] < base.welfare_pct["JPN"]                  # a higher US tariff hurts Japan
    assert hi.us_imports_from_jpn_change_pct < base.us_imports_from_jpn_change_pct
    assert hi.etr_us_on_jpn_pct == pytest.approx(30.0, abs=1e-9)            # every goods sector set to 30%
    assert hi.us_tariff_revenue_usd_bn > base.us_tariff_revenue_usd_bn
    tr = model.solve(Settings(transfer_usd_bn=10.0))
    assert tr.ev_usd_bn["USA"] > base.ev_usd_bn["USA"] and tr.ev_usd_bn["JPN"] < base.ev_usd_bn["JPN"]
    ret = model.solve(Settings(retaliation_pct=20.0))
    assert ret.us_exports_to_jpn_change_pct < base.us_exports_to_jpn_change_pct
    assert model.solve(Settings(elasticity_scale=2.0)).welfare_pct["JPN"] != base.welfare_pct["JPN"]
    curve = model.tariff_curve(Settings(), points=3)
    assert [round(p["us_tariff_pct"]) for p in curve] == [0, 25, 50]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float, proc: subprocess.Popen) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"dashboard exited with {proc.returncode}: {proc.stdout.read()[-2000:] if proc.stdout else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


@pytest.mark.browser
def test_dashboard_slider_changes_welfare_in_chromium(tmp_path_factory):
    pw = pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")
    if CHROMIUM is None:
        pytest.skip("Debian chromium missing: `make test` installs it (apt-get install chromium)")
    pytest.importorskip("streamlit")
    port = _free_port()
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", PYTHONWARNINGS="ignore")
    proc = subprocess.Popen([sys.executable, "-m", "tariffsim.cli", "dashboard", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    artifacts = Path(os.environ.get("TARIFFSIM_TEST_ARTIFACTS") or tmp_path_factory.mktemp("artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    try:
        _wait_http(f"http://127.0.0.1:{port}/_stcore/health", 90, proc)
        with pw.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            value = page.locator('[data-testid="stMetric"]', has_text="Japan welfare").locator('[data-testid="stMetricValue"]')
            value.wait_for(timeout=120_000)
            before = value.inner_text()
            assert before.endswith("%")
            slider = page.get_by_role("slider").first           # US tariff on Japanese autos
            slider.focus()
            for _ in range(20):                                  # +10 percentage points in 0.5 steps
                slider.press("ArrowRight")
            page.wait_for_function(
                """(before) => { const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
                     .find(e => e.innerText.includes('Japan welfare'));
                     const v = m && m.querySelector('[data-testid="stMetricValue"]');
                     return v && v.innerText !== before; }""", arg=before, timeout=60_000)
            after = value.inner_text()
            try:  # let the rerun finish so the screenshot is not greyed out
                page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000)
            except pw.Error:
                pass
            page.wait_for_timeout(800)
            page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
            browser.close()
        assert after != before
        assert float(after.rstrip("%")) < float(before.rstrip("%"))   # a higher US tariff on autos hurts Japan
        assert (artifacts / "dashboard.png").stat().st_size > 10_000
        print(f"dashboard screenshot: {artifacts / 'dashboard.png'}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_dashboard_binds_localhost_by_default():
    from typer.testing import CliRunner

    from tariffsim.cli import app

    res = CliRunner().invoke(app, ["dashboard", "--help"])
    assert "127.0.0.1" in res.output
