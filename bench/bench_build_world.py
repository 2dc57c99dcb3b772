"""Benchmark: build a world from a 77-economy x 45-industry OECD ICIO csv (issue 20 target: < 60 s, < 4 GB, 2 cores).

Usage::

    python bench/bench_build_world.py [--regions 77] [--sectors 45] [--keep DIR]

Writes a synthetic file of that size with ``tests/fixtures/make_mrio_fixtures.py`` (not timed), then, in a child
process pinned to 2 CPU cores with 2 BLAS threads, builds (a) the full 77 x 45 world and (b) the 7-region x 44-sector
world of today's default layout (``--regions default7 --sectors icio44 --tariffs schedule``), and prints the wall
time of each build (parse + inventory rule + aggregation + calibration + provenance hashing) and the child's peak
resident memory (``ru_maxrss``: includes the interpreter, pandas, pymrio and polars).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import os, resource, sys, time, warnings
os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:2]))
t0 = time.perf_counter()
from tariffsim.policy.world_builder import build_world
t1 = time.perf_counter()
f = sys.argv[1]
w = build_world("oecd-icio", f, name="bench_full")
t2 = time.perf_counter()
w7 = build_world("oecd-icio", f, name="bench_7x44", regions="default7", sectors="icio44", tariffs="schedule")
t3 = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"import {t1 - t0:.1f} s | full {w.n_regions}x{w.n_sectors} world {t2 - t1:.1f} s | "
      f"{w7.n_regions}x{w7.n_sectors} default layout with schedule tariffs {t3 - t2:.1f} s | peak RSS {rss:,.0f} MiB")
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regions", type=int, default=77)
    ap.add_argument("--sectors", type=int, default=45)
    ap.add_argument("--keep", type=Path, default=None, help="write the synthetic file here (default: a temp dir)")
    a = ap.parse_args(argv)
    tmp = a.keep or Path(tempfile.mkdtemp(prefix="bench_icio_"))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "tests" / "fixtures" / "make_mrio_fixtures.py"), "--regions",
                    str(a.regions), "--sectors", str(a.sectors), "--out", str(tmp)], check=True, stdout=subprocess.DEVNULL)
    f = next(tmp.glob("ICIO2023_*.csv"))
    print(f"synthetic ICIO csv {a.regions} x {a.sectors}: {f.stat().st_size / 2**20:,.0f} MiB, written in "
          f"{time.perf_counter() - t0:.1f} s (not part of the build)")
    env = {**os.environ, "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}
    t1 = time.perf_counter()
    subprocess.run([sys.executable, "-c", CHILD, str(f)], check=True, env=env)
    print(f"child wall time {time.perf_counter() - t1:.1f} s (target: each build < 60 s, peak < 4096 MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
