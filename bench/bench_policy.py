"""Benchmark: stack every HS10 x partner of the 2024 US imports on 6 dates (issue 4 target: < 10 s, < 2 GB).

Usage::

    python bench/bench_policy.py [--schedule latest]

Prints the time to build the base tables (first call, cached afterwards), the time for the six ``Schedule.at``
calls (tidy frames with all layers) and the peak resident memory of the process (``ru_maxrss``, which includes the
Python interpreter and imported libraries). Anchor: the Budget Lab R tracker reports ~58 min and 32 GB for its
full build (issue 4).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

DATES = ["2024-12-31", "2025-04-05", "2025-04-10", "2025-08-07", "2025-09-16", "2025-11-14"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schedule", default="latest")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    from tariffsim.policy import builtin_schedule
    from tariffsim.policy._data import base

    t1 = time.perf_counter()
    b = base()
    s = builtin_schedule(args.schedule)
    t2 = time.perf_counter()
    frames = [s.at(d) for d in DATES]
    t3 = time.perf_counter()
    rows = sum(f.height for f in frames)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(f"schedule {args.schedule}: {len(b.hs10_codes):,} HS10 x {len(b.partners)} partners = {b.value_usd.size:,} "
          f"rows; {len(DATES)} dates -> {rows:,} rows")
    print(f"import {t1 - t0:.2f} s | base tables {t2 - t1:.2f} s | 6 dates stacked {t3 - t2:.2f} s | "
          f"total {t3 - t0:.2f} s | peak RSS {rss:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
