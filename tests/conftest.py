"""Session fixtures shared by test files: the default report is rendered once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest


@pytest.fixture(scope="session")
def default_run(tmp_path_factory):
    """``tariffsim run`` of the built-in scenario in a subprocess, once: (output folder, process, wall seconds).

    Used by ``test_report.py`` and ``test_report_browser.py`` so the suite renders the default report once.
    """
    out = tmp_path_factory.mktemp("run") / "out"
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tariffsim.cli", "run", "--out", str(out)], capture_output=True,
                          text=True, timeout=900, cwd=out.parent, env=env)
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc, seconds
