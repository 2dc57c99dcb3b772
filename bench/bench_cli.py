"""Bench: start-up time of the CLI verbs a user runs first (issue 18: under 1 s wall on 2 cores).

Each verb runs as a fresh process, as a user runs it; the baseline in the same
run is a bare ``python -c pass`` (interpreter start-up) and ``python -c "import
jax"`` (what every verb paid when the package imported JAX eagerly). Reported:
median wall seconds over repeats, the ratio to the bare interpreter, and
whether JAX was imported (it must not be for these verbs).

    .venv/bin/python bench/bench_cli.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "src" / "tariffsim" / "scenarios" / "us_japan_2025_2026.yaml"
PROBE = ("import sys, atexit; atexit.register(lambda: sys.stderr.write('JAX=%d\\n' % ('jax' in sys.modules))); "
         "sys.argv = ['tariffsim'] + sys.argv[1:]; from tariffsim.cli import main; main()")

VERBS = [
    ("tariffsim --help", ["--help"]),
    ("tariffsim validate <bundled scenario>", ["validate", str(SCENARIO)]),
    ("tariffsim schema", ["schema"]),
    ("tariffsim scenarios", ["scenarios"]),
    ("tariffsim formula --partner JPN", ["formula", "--partner", "JPN"]),
    ("tariffsim data list", ["data", "list"]),
    ("tariffsim data status", ["data", "status"]),
]


def _time(cmd: list[str], repeats: int) -> tuple[float, str]:
    walls, err = [], ""
    for _ in range(repeats):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        walls.append(time.perf_counter() - t0)
        err = p.stderr
    return statistics.median(walls), err


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    py = sys.executable
    bare, _ = _time([py, "-c", "pass"], args.repeats)
    jax_s, _ = _time([py, "-c", "import jax"], args.repeats)
    print(f"{'command':45s} {'wall s':>8s} {'x bare python':>14s}  jax imported")
    print(f"{'python -c pass (baseline)':45s} {bare:8.3f} {1.0:14.1f}")
    label = 'python -c "import jax" (old eager cost)'
    print(f"{label:45s} {jax_s:8.3f} {jax_s / bare:14.1f}")
    for label, argv in VERBS:
        wall, err = _time([py, "-c", PROBE, *argv], args.repeats)
        jax = "yes" if "JAX=1" in err else "no"
        print(f"{label:45s} {wall:8.3f} {wall / bare:14.1f}  {jax}")


if __name__ == "__main__":
    main()
