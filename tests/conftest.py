"""Session fixtures shared by test files: the default report is rendered once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest


#: a sitecustomize that blocks every network connection and DNS lookup (Unix sockets stay allowed)
NO_NETWORK = '''
import socket
_connect = socket.socket.connect
def _blocked(self, *args, **kwargs):
    if self.family == getattr(socket, "AF_UNIX", None):
        return _connect(self, *args, **kwargs)
    raise OSError(101, "network access blocked by the tariffsim reliability test")
def _no_dns(*args, **kwargs):
    raise socket.gaierror("network access blocked by the tariffsim reliability test")
socket.socket.connect = _blocked
socket.socket.connect_ex = _blocked
socket.getaddrinfo = _no_dns
'''

#: run the CLI after checking that the guard is active
DRIVER = """
import socket, sys
try:
    socket.create_connection(("127.0.0.1", 9), timeout=1)
    sys.exit("the socket guard is not active")
except OSError as exc:
    assert "blocked" in str(exc), exc
from tariffsim import cli
sys.argv = ["tariffsim", "run", "--out", sys.argv[1]]
cli.main()
"""


@pytest.fixture(scope="session")
def default_run(tmp_path_factory):
    """``tariffsim run`` of the built-in scenario in a subprocess, once: (output folder, process, wall seconds).

    The process runs with every network socket blocked (no network at run time, docs/design.md §10).
    Used by ``test_report.py``, ``test_report_browser.py`` and ``test_reliability.py`` so the suite
    renders the default report once.
    """
    root = tmp_path_factory.mktemp("run")
    out = root / "out"
    (root / "nonet").mkdir()
    (root / "nonet" / "sitecustomize.py").write_text(NO_NETWORK)
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    env["PYTHONPATH"] = os.pathsep.join([str(root / "nonet"), *filter(None, [env.get("PYTHONPATH")])])
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(out)], capture_output=True,
                          text=True, timeout=900, cwd=root, env=env)
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


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run ``tariffsim ARGV`` through the real entry point in-process; (exit code, stdout, stderr)."""
    import warnings

    from tariffsim import cli

    capsys.readouterr()
    old = sys.argv
    sys.argv = ["tariffsim", *argv]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = old
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def home(tmp_path, monkeypatch):
    """A fresh user data folder (``TARIFFSIM_HOME``) with no Census key; the catalog re-read before and after."""
    from tariffsim.data import refresh as refresh_catalog

    monkeypatch.setenv("TARIFFSIM_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CENSUS_API_KEY", raising=False)
    refresh_catalog()
    yield tmp_path / "home"
    refresh_catalog()
