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


def small_ossa_world():
    """3 regions x 3 sectors, balanced by Ossa's re-basing, with political-economy weights (strategy tests)."""
    import numpy as np

    import tariffsim as ts
    from tariffsim.models import ossa

    rng = np.random.default_rng(7)
    n, s = 3, 3
    flows = rng.uniform(5, 30, size=(n, n, s))
    flows[np.arange(n), np.arange(n), :] += 150.0
    tariffs = rng.uniform(0.0, 0.1, size=(n, n, s))
    tariffs[np.arange(n), np.arange(n), :] = 0.0
    lam = rng.uniform(0.5, 1.5, size=(n, s))
    lam /= lam.mean(axis=1, keepdims=True)
    sigma = np.array([3.0, 5.0, 8.0])
    w = ts.World.from_arrays(regions=["A", "B", "C"], sectors=["x", "y", "z"], flows=flows, tariffs=tariffs,
                             theta=sigma - 1, meta={"sigma": sigma, "lambda_pol": lam})
    return ossa.balance_world(w)
