"""Ossa (2014) replication benchmark: optimal tariffs, Nash war and trade talks on the 7x33 data.

Usage::

    python bench/bench_ossa.py            # full: all of the paper's headline numbers
    python bench/bench_ossa.py --quick    # CI: optimal tariffs (political economy) only
    python bench/bench_ossa.py --json out.json

Reports wall time (compilation included, and separately), iterations and
gradient norms for: the 7 optimal-tariff problems (political economy and
without), the Nash war from the factual tariffs, and the trade talks
(cooperative tariffs, restricted) from the factual tariffs; optionally
(--talks-from-nash) also from the Nash baseline. Prints a markdown table
of each headline number next to the paper's. For scale: Ossa's MATLAB code run
under GNU Octave takes 6-144 s per country's optimal tariffs and 227 s per Nash
round (issue 11). Numbers, never timed assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import jax  # noqa: E402

import tariffsim as ts  # noqa: E402
from tariffsim.errors import CornerSolutionWarning  # noqa: E402

PAPER = {  # Ossa (2014), abstract and section IV; "average" = mean over regions of each region's median tariff
    "optimal_pol_avg_pct": 62.4, "optimal_bas_avg_pct": 58.9, "nash_avg_pct": 63.4,
    "nash_gov_welfare_pct": -2.9, "talks_gain_pct": 0.5,
}


def _compile(model) -> None:
    """Trigger compilation (one optimiser iteration; its 'not converged' error is expected)."""
    try:
        ts.optimal_tariff(model, "BRA", structure="bilateral", max_iter=1, warn=False)
    except ts.ConvergenceError:
        pass


def _optimal_all(model) -> tuple[list, float]:
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CornerSolutionWarning)
        res = [ts.optimal_tariff(model, c, structure="bilateral") for c in model.regions]
    return res, time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--talks-from-nash", action="store_true", help="also run talks from the Nash baseline (slow)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    world = ts.load_world("ossa2014_7x33_2007")
    out: dict = {"device": str(jax.devices()[0]), "cpus": os.cpu_count(), "paper": PAPER}
    rows = []

    # compilation, measured once on a fresh model
    pol = ts.bind_model(world, "ossa2014", weights="political_economy")
    t = time.perf_counter()
    _compile(pol)
    out["compile_s"] = time.perf_counter() - t

    res, sec = _optimal_all(pol)
    avg = 100 * float(np.mean([r.median_tariff for r in res]))
    out["optimal_pol"] = {"avg_median_pct": avg, "seconds": sec,
                          "by_region": {r.country: {"median_pct": 100 * r.median_tariff, "iterations": r.iterations,
                                                    "projected_grad": r.projected_gradient_norm, "seconds": r.seconds,
                                                    "gov_welfare_pct": 100 * (r.government_welfare_hat[i] - 1),
                                                    "corner": r.corner}
                                        for i, r in enumerate(res)}}
    rows.append(("optimal tariffs, political economy (avg %)", avg, PAPER["optimal_pol_avg_pct"], sec))

    if not args.quick:
        bas = ts.bind_model(world, "ossa2014", weights="none")
        _compile(bas)  # compile outside the timing
        res_b, sec_b = _optimal_all(bas)
        avg_b = 100 * float(np.mean([r.median_tariff for r in res_b]))
        out["optimal_bas"] = {"avg_median_pct": avg_b, "seconds": sec_b,
                              "by_region": {r.country: {"median_pct": 100 * r.median_tariff, "iterations": r.iterations,
                                                        "welfare_pct": 100 * (r.welfare_hat[i] - 1)}
                                            for i, r in enumerate(res_b)}}
        rows.append(("optimal tariffs, no political economy (avg %)", avg_b, PAPER["optimal_bas_avg_pct"], sec_b))

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CornerSolutionWarning)
            nash = ts.nash_tariffs(pol, structure="bilateral")
        nash_avg = 100 * float(nash.median_tariff.mean())
        nash_g = 100 * float((nash.government_welfare_hat - 1).mean())
        out["nash"] = {"avg_median_pct": nash_avg, "avg_gov_welfare_pct": nash_g, "seconds": nash.seconds,
                       "rounds": nash.rounds, "iterations": nash.iterations, "history": nash.history,
                       "max_deviation_gain": float(nash.deviation_gain.max()),
                       "by_region": {c: {"median_pct": 100 * float(nash.median_tariff[i]),
                                         "welfare_pct": 100 * float(nash.welfare_hat[i] - 1),
                                         "gov_welfare_pct": 100 * float(nash.government_welfare_hat[i] - 1)}
                                     for i, c in enumerate(nash.regions)}}
        rows.append(("Nash tariffs (avg %)", nash_avg, PAPER["nash_avg_pct"], nash.seconds))
        rows.append(("Nash: government welfare (avg %)", nash_g, PAPER["nash_gov_welfare_pct"], float("nan")))

        talks = ts.cooperative_tariffs(pol)
        gain = 100 * float(talks.government_welfare_hat.mean() - 1)
        out["talks_factual"] = {"gain_pct": gain, "seconds": talks.seconds, "outer": talks.outer_iterations,
                                "iterations": talks.iterations, "violation": talks.constraint_violation,
                                "common_improvement": talks.common_improvement,
                                "by_region": {c: {"median_pct": 100 * float(talks.median_tariff[i]),
                                                  "welfare_pct": 100 * float(talks.welfare_hat[i] - 1)}
                                              for i, c in enumerate(talks.regions)}}
        rows.append(("talks from factual: government welfare (%)", gain, PAPER["talks_gain_pct"], talks.seconds))
        if args.talks_from_nash:
            tn = ts.cooperative_tariffs(pol, baseline=nash.tariff_rate)
            g2 = 100 * float(tn.government_welfare_hat.mean() - 1)
            out["talks_nash"] = {"gain_pct": g2, "seconds": tn.seconds, "iterations": tn.iterations,
                                 "by_region": {c: {"median_pct": 100 * float(tn.median_tariff[i]),
                                                   "welfare_pct": 100 * float(tn.welfare_hat[i] - 1)}
                                               for i, c in enumerate(tn.regions)}}
            rows.append(("talks from Nash: government welfare (%)", g2, float("nan"), tn.seconds))

    print(f"device: {out['device']}, cpus: {out['cpus']}, compile: {out['compile_s']:.1f} s")
    print("| quantity | tariffsim | Ossa (2014) | seconds |")
    print("|---|---:|---:|---:|")
    for name, ours, paper, sec in rows:
        print(f"| {name} | {ours:.2f} | {paper:.1f} | {sec:.1f} |")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
