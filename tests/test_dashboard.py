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


def test_dashboard_states_its_baseline_and_matches_the_report_on_the_same_scenario(model):
    """Issue 18: the dashboard said US -0.21bn for the 15% deal, the report -18.7bn (different starting points)."""
    from tariffsim.dashboard.model import Settings
    from tariffsim.run import RunContext, as_scenario
    from tariffsim.run.sections.counterfactuals import counterfactuals_section

    ctx = RunContext(as_scenario(None))                     # a fresh run, as `tariffsim run` does it
    start = ctx.scenario.counterfactual(model.start)        # the last counterfactual built from a schedule alone
    assert start.schedule is not None and start.base is None and not start.measures and not start.transfers
    text = model.baseline_statement()
    assert "baseline-2024" in text and start.schedule in text and "USD bn per year" in text
    ctx.load()
    table = counterfactuals_section(ctx).tables["ge_counterfactuals"]
    bil = counterfactuals_section(ctx).tables["ge_bilateral"]
    o = model.solve(Settings())
    for region in ("USA", "JPN"):
        ev = table.filter((table["counterfactual"] == model.start) & (table["region"] == region))["ev_usd_bn"][0]
        assert o.ev_usd_bn[region] == pytest.approx(ev, rel=1e-9)
    deal = bil.filter(bil["counterfactual"] == model.start).row(0, named=True)
    assert o.us_imports_from_jpn_change_pct == pytest.approx(deal["USA_imports_from_JPN_change_pct"], rel=1e-9)
    assert o.us_exports_to_jpn_change_pct == pytest.approx(deal["USA_exports_to_JPN_change_pct"], rel=1e-9)


def test_metric_deltas_carry_their_own_sign_so_no_up_arrow_sits_next_to_a_fall(model):
    import re

    from tariffsim.dashboard.model import Settings, metric_cards

    for s in (Settings(), Settings(retaliation_pct=20.0), Settings(us_autos_pct=0.0, us_other_pct=0.0)):
        cards = metric_cards(model.solve(s))
        for c in cards:
            for txt in (c["value"], c["delta"]):
                if txt is None or not re.match(r"^[+-]", txt):
                    continue
                assert re.match(r"^[+-][0-9]", txt), c          # ASCII sign first: streamlit's arrow follows it
        exports = next(c for c in cards if c["label"].startswith("US exports to Japan"))
        assert exports["delta"] is None                          # a fall is a value, not a text delta with an arrow
    o = model.solve(Settings(retaliation_pct=20.0))
    assert o.us_exports_to_jpn_change_pct < 0
    assert next(c for c in metric_cards(o) if c["label"].startswith("US exports"))["value"].startswith("-")


def test_pareto_frontier_keeps_exactly_the_undominated_points():
    import numpy as np

    from tariffsim.dashboard.model import pareto_frontier

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=60), rng.normal(size=60)
    keep = set(pareto_frontier(x, y).tolist())
    for k in range(60):
        dominated = any((x[m] >= x[k]) and (y[m] >= y[k]) and (x[m] > x[k] or y[m] > y[k]) for m in range(60))
        assert (k in keep) == (not dominated)
    f = pareto_frontier(x, y)
    assert (np.diff(x[f]) > 0).all() and (np.diff(y[f]) < 0).all()   # a frontier slopes down


def test_frontier_points_flag_the_pareto_set_of_the_grid(model):
    from tariffsim.dashboard.model import Settings

    pts = model.frontier_points(Settings(), points=3)
    assert len(pts) == 9
    front = [p for p in pts if p["pareto"]]
    assert front
    for p in pts:
        better = [q for q in pts if q["ev_USA_usd_bn"] >= p["ev_USA_usd_bn"] and q["ev_JPN_usd_bn"] >= p["ev_JPN_usd_bn"]
                  and q is not p]
        assert p["pareto"] == (not better)


def test_launcher_forwards_sigterm_and_sigint_to_its_child_and_waits(tmp_path):
    """run_child in its own process; a signal to it reaches the child, which exits; the launcher returns its code."""
    import signal

    child = ("import signal, sys, time, pathlib\n"
             "p = pathlib.Path(sys.argv[1])\n"
             "def h(s, f):\n    p.write_text(str(s)); sys.exit(3)\n"
             "signal.signal(signal.SIGTERM, h); signal.signal(signal.SIGINT, h)\n"
             "p.with_suffix('.ready').write_text('1')\n"
             "time.sleep(60)\n")
    for sig in (signal.SIGTERM, signal.SIGINT):
        marker = tmp_path / f"got{int(sig)}.txt"
        launcher = ("import sys\nfrom tariffsim.dashboard.launch import run_child\n"
                    f"sys.exit(run_child([sys.executable, '-c', {child!r}, {str(marker)!r}], grace_s=5))\n")
        proc = subprocess.Popen([sys.executable, "-c", launcher])
        try:
            t0 = time.time()
            while not marker.with_suffix(".ready").exists():
                assert time.time() - t0 < 30 and proc.poll() is None, "child did not start"
                time.sleep(0.05)
            proc.send_signal(sig)
            assert proc.wait(timeout=15) == 3                       # the child's own exit status
            assert marker.read_text() == str(int(sig))              # the child got the same signal
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


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


def _start_dashboard(port: int, log: Path) -> tuple[subprocess.Popen, int]:
    """``tariffsim dashboard`` as a user runs it; returns the CLI process and its streamlit child's pid."""
    import re

    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", PYTHONWARNINGS="ignore")
    out = log.open("w")
    proc = subprocess.Popen([sys.executable, "-m", "tariffsim.cli", "dashboard", "--port", str(port)],
                            stdout=out, stderr=subprocess.STDOUT, text=True, env=env)
    out.close()
    t0 = time.time()
    while time.time() - t0 < 60:
        m = re.search(r"streamlit pid (\d+)", log.read_text())
        if m:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            raise RuntimeError(f"dashboard exited with {proc.returncode}: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    proc.kill()
    raise TimeoutError("no streamlit pid announced")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop_and_verify(proc: subprocess.Popen, pid: int, port: int, sig) -> None:
    """Signal the CLI like a user or a supervisor would; it must exit and take streamlit and the port with it."""
    try:
        proc.send_signal(sig)
        proc.wait(timeout=30)
        t0 = time.time()
        while (_alive(pid) or _port_open(port)) and time.time() - t0 < 5:
            time.sleep(0.1)
        assert not _alive(pid), f"streamlit (pid {pid}) outlived tariffsim dashboard"
        assert not _port_open(port), f"port {port} still served after tariffsim dashboard exited"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if _alive(pid):
            os.kill(pid, 9)


def test_sigterm_to_tariffsim_dashboard_stops_streamlit_and_frees_the_port(tmp_path):
    """Issue 18: SIGTERM to `tariffsim dashboard` left its streamlit child serving the port."""
    import signal

    pytest.importorskip("streamlit")
    port = _free_port()
    proc, pid = _start_dashboard(port, tmp_path / "dashboard.log")
    try:
        _wait_http(f"http://127.0.0.1:{port}/_stcore/health", 90, proc)
        assert _alive(pid) and _port_open(port)
    finally:
        _stop_and_verify(proc, pid, port, signal.SIGTERM)


@pytest.mark.browser
def test_dashboard_slider_changes_welfare_in_chromium(tmp_path_factory):
    import signal

    pw = pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")
    if CHROMIUM is None:
        pytest.skip("Debian chromium missing: `make test` installs it (apt-get install chromium)")
    pytest.importorskip("streamlit")
    port = _free_port()
    artifacts = Path(os.environ.get("TARIFFSIM_TEST_ARTIFACTS") or tmp_path_factory.mktemp("artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    proc, pid = _start_dashboard(port, artifacts / "dashboard.log")
    try:
        _wait_http(f"http://127.0.0.1:{port}/_stcore/health", 90, proc)
        with pw.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            value = page.locator('[data-testid="stMetric"]', has_text="Japan welfare").locator('[data-testid="stMetricValue"]')
            value.wait_for(timeout=120_000)
            before = value.inner_text()
            page.get_by_text("Sliders start at the report's counterfactual").first.wait_for(timeout=30_000)
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
        assert float(after.replace(",", "")) < float(before.replace(",", ""))   # a higher US tariff on autos hurts Japan
        assert (artifacts / "dashboard.png").stat().st_size > 10_000
        print(f"dashboard screenshot: {artifacts / 'dashboard.png'}")
    finally:
        _stop_and_verify(proc, pid, port, signal.SIGINT)


def test_dashboard_binds_localhost_by_default():
    from typer.testing import CliRunner

    from tariffsim.cli import app

    res = CliRunner().invoke(app, ["dashboard", "--help"])
    assert "127.0.0.1" in res.output
