"""Benchmark: stack every HS10 x partner of the 2024 US imports on every change date of 2025-2026 (issue 14
target: < 10 s, < 2 GB on 2 cores).

Usage::

    python bench/bench_policy.py [--schedule latest]

Prints the time to build the base tables (first call, cached afterwards), the time for the ``Schedule.arrays``
calls on all change dates (``Schedule.change_dates``, about 40; layer arrays, the ETR fast path), the CPU time
of those calls (``time.process_time``; robust to other load on the machine) and the peak resident memory of the
process (``ru_maxrss``, which includes the Python interpreter and imported libraries). Anchor: the Budget Lab R
tracker reports ~58 min and 32 GB for its full build (issue 4).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings


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
    c2 = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dates after today are scheduled law: expected here
        dates = s.change_dates("2025-01-01", "2026-12-31")
        arrays = [s.arrays(d)["tariff"] for d in dates]
    t3 = time.perf_counter()
    c3 = time.process_time()
    rows = sum(a.size for a in arrays)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(f"schedule {args.schedule}: {len(b.hs10_codes):,} HS10 x {len(b.partners)} partners = {b.value_usd.size:,} "
          f"rows; {len(dates)} dates -> {rows:,} rows")
    print(f"import {t1 - t0:.2f} s | base tables {t2 - t1:.2f} s | {len(dates)} dates stacked {t3 - t2:.2f} s | "
          f"total {t3 - t0:.2f} s | peak RSS {rss:,.0f} MiB")
    print(f"CPU time of the {len(dates)} dates: {c3 - c2:.2f} s (wall time above is inflated when other processes "
          f"share the cores; CPU time is not)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
