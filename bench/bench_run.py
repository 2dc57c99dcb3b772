"""Bench: the default report and the deal ledger, against a baseline measured in the same process.

Baseline: one GE solve of the default world (US +24 pp on Japan), after compilation. Rows:
the deal ledger for one date (issue 15 target: < 30 s on 2 cores), the deal section for two
dates, and the whole default run (every section), each as seconds and as a multiple of the
baseline solve. Wall and CPU seconds are printed; CPU is robust to a busy machine.

    .venv/bin/python bench/bench_run.py
"""

from __future__ import annotations

import time

import tariffsim as ts
from tariffsim.run import compute_run


def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    world = ts.load_world("world_io_7x44_2017")
    t = world.tariffs_with(importer="USA", exporter="JPN", add=0.24)
    ts.solve(world, tariffs=t)                                   # compile
    reps = 20
    _, wall, cpu = _timed(lambda: [ts.solve(world, tariffs=t) for _ in range(reps)])
    base = wall / reps
    print(f"{'work':48s} {'wall s':>8s} {'cpu s':>8s} {'x one solve':>12s}")
    print(f"{'baseline: one GE solve (7x44 IO)':48s} {base:8.3f} {cpu / reps:8.3f} {1.0:12.0f}")
    ts.deal_ledger(world, "2026-12-01")                          # compile the ledger's kernels
    for label, fn in (("deal ledger, one date (2026-12-01)", lambda: ts.deal_ledger(world, "2026-12-01")),
                      ("deal section, 2025-09-16 and 2026-12-01", lambda: ts.deal_section(world, ["2025-09-16", "2026-12-01"])),
                      ("default report, every section (no files)", lambda: compute_run(None))):
        _, wall, cpu = _timed(fn)
        print(f"{label:48s} {wall:8.2f} {cpu:8.2f} {wall / base:12.0f}")


if __name__ == "__main__":
    main()
