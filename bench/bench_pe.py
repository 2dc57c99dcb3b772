"""Benchmark: product-level PE on all US 2024 HS10 × partner rows under one schedule (issue 5: < 2 s).

    python bench/bench_pe.py [--schedule NAME] [--date 2025-10-01] [--eta 2.0]

Uses the policy layer (``tariffsim.policy.us_imports_2024`` and ``builtin_schedule``) when it
is available; otherwise the bundled HS10 × top-50-partner imports with a synthetic schedule
(MFN 2.5% -> 15% on JPN and EU members, 25% elsewhere). Reports the time of the elasticity
lookup and of the exact CES solve separately, each the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import time
import warnings

import polars as pl

from tariffsim.data import read_table
from tariffsim.data.elasticities import product_elasticities
from tariffsim.errors import ElasticityFallbackWarning
from tariffsim.models import pe


def _policy():
    """The policy layer's contract functions, from the package or (while it is being built) its modules."""
    from tariffsim import policy

    if hasattr(policy, "builtin_schedule") and hasattr(policy, "us_imports_2024"):
        return policy.builtin_schedule, policy.list_schedules, policy.us_imports_2024
    from tariffsim.policy.imports import us_imports_2024
    from tariffsim.policy.schedules import builtin_schedule, list_schedules

    return builtin_schedule, list_schedules, us_imports_2024


def _rates(schedule: str | None, date: str) -> tuple[pl.DataFrame, str]:
    try:
        builtin_schedule, list_schedules, us_imports_2024 = _policy()
    except ImportError:
        imp = read_table("us_imports_japan_2024_hs10", "hs10_top_partners").select("hs10", "partner", "value_usd")
        low = {"JPN", "DEU", "FRA", "ITA", "IRL", "NLD", "BEL", "ESP", "AUT", "SWE"}
        r = imp.with_columns(tariff_rate_old=pl.lit(0.025),
                             tariff_rate_new=pl.when(pl.col("partner").is_in(list(low))).then(0.15).otherwise(0.25))
        return r, "synthetic schedule on bundled HS10 x top-50 partners (policy layer not available)"
    imports = us_imports_2024().select("hs10", "partner", "value_usd")
    name = schedule or "japan-deal-2025-09"
    if name not in list_schedules():
        name = next(n for n in list_schedules() if n != "baseline-2024")
    new = builtin_schedule(name).at(date)
    old = builtin_schedule("baseline-2024").at("2024-07-01")
    return pe.schedule_rates(new, old, imports), f"policy schedule {name!r} at {date} vs baseline-2024"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--schedule", default=None)
    ap.add_argument("--date", default="2025-09-16")
    ap.add_argument("--eta", type=float, default=float("inf"), help="export supply elasticity (inf = fixed prices)")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    rates, what = _rates(a.schedule, a.date)
    print(f"{what}: {rates.height:,} rows, {rates['hs10'].n_unique():,} HS10 products")

    best_lookup = best_solve = best_cpu = float("inf")
    for _ in range(a.repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ElasticityFallbackWarning)
            el = product_elasticities(rates["hs10"].unique(maintain_order=True))
        t1 = time.perf_counter()
        imp = rates.rename({"hs10": "product", "partner": "source", "tariff_rate_old": "tariff_old",
                            "tariff_rate_new": "tariff_new"})
        res = pe.simulate(imp, sigma=el.select("product", "sigma"), epsilon=el.select("product", "epsilon"),
                          supply_elasticity=a.eta)
        t2 = time.perf_counter()
        best_lookup, best_solve = min(best_lookup, t1 - t0), min(best_solve, t2 - t1)
        best_cpu = min(best_cpu, time.process_time() - c0)
    total = best_lookup + best_solve
    print(f"elasticity lookup {best_lookup:.3f} s, exact CES solve {best_solve:.3f} s "
          f"({res.iterations} Newton iterations, residual {res.residual:.1e}); total {total:.3f} s wall, "
          f"{best_cpu:.3f} s CPU "
          f"[{'OK' if total < 2 else 'SLOW'}: target < 2 s]")
    print(res)


if __name__ == "__main__":
    main()
