"""CI runs the GE benchmark in quick mode: it must run and report sane ratios (no timed assertions)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_ge.py"


def test_bench_ge_quick_runs_and_matches_scipy_baseline(capsys):
    spec = importlib.util.spec_from_file_location("bench_ge", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = mod.main(["--quick"])
    out = capsys.readouterr().out
    assert "| case |" in out
    first = rows[0]
    assert first["max_welfare_gap"] < 1e-9          # same answer as the scipy implementation
    assert all(np.isfinite(r["solve_ms"]) and r["solve_ms"] > 0 for r in rows)
    assert first["speedup"] > 0
