"""GE engine benchmarks: tariffsim vs a plain scipy.optimize.root solver, in one process.

Usage::

    python bench/bench_ge.py            # full
    python bench/bench_ge.py --quick    # CI: small sizes, few repeats

Reports per case: compile time (first call), median solve time after
compilation, and for the no-IO random economy the ratio against a baseline
that solves the same equations with numpy + scipy.optimize.root (hybr). Prints
a markdown table and the JAX device. Ratios, never timed assertions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy.optimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import jax  # noqa: E402

import tariffsim as ts  # noqa: E402
from tariffsim.data import read_table  # noqa: E402
from tariffsim.models.synthetic import synthetic_world  # noqa: E402
from tariffsim.models import ge  # noqa: E402


# ----------------------------------------------------------------------------- scipy baseline
def scipy_solve_noio(world, t1: np.ndarray) -> np.ndarray:
    """Same no-IO multi-sector model, numpy + scipy.optimize.root on wages; returns welfare_hat."""
    pi0, t0, theta = world.trade_share, np.asarray(world.tariffs), np.asarray(world.theta)
    alpha, va0, d1, i0 = world.final_demand_share, world.value_added_usd, world.deficit_usd, world.income_usd
    tau_hat = (1 + t1) / (1 + t0)

    def parts(w):
        c = w[:, None, None] * tau_hat                                     # (i, n, s)
        p = np.einsum("ins,ins->ns", pi0, c ** (-theta)) ** (-1.0 / theta)
        pi1 = pi0 * (c / p[None]) ** (-theta)
        r = (pi1 * t1 / (1 + t1)).sum(axis=0)
        income = (w * va0 + d1) / (1 - (alpha * r).sum(axis=1))
        X = alpha * income[:, None]
        return p, pi1, X, income

    def F(w):
        _, pi1, X, _ = parts(w)
        labour = np.einsum("ins,ns->i", pi1 / (1 + t1), X)
        ex = (labour - w * va0) / va0
        ex[-1] = (w * va0).sum() / va0.sum() - 1
        return ex

    sol = scipy.optimize.root(F, np.ones(world.n_regions), method="hybr", tol=1e-12)
    p, _, _, income = parts(sol.x)
    return (income / i0) / np.exp((alpha * np.log(p)).sum(axis=1))


def _time(fn, repeats: int) -> tuple[float, float]:
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times)


def _kernel_call(world, t1):
    """Time the compiled kernel alone (what batched/strategy code pays per solve)."""
    p = ge.make_params(world, t1)
    x0 = jax.numpy.zeros(world.n_regions)

    def run():
        if world.has_io:   # what solve() runs first for IO worlds (certified fast path)
            jax.block_until_ready(ge._fast_solve_jit(p, x0, has_io=True))
        else:
            jax.block_until_ready(ge._equilibrium_jit(p, x0, has_io=False, method="newton"))

    return run


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few repeats (CI)")
    ap.add_argument("--json", type=Path, default=None, help="also write results as JSON")
    args = ap.parse_args(argv)
    reps = 2 if args.quick else 7
    rows: list[dict] = []

    # 1. random no-IO economy vs scipy
    n, s = (12, 6) if args.quick else (40, 20)
    w = synthetic_world(n, s, seed=11, tariff_max=0.3)
    t1 = w.tariffs * 2.0
    first, med = _time(_kernel_call(w, t1), reps)
    s_first, s_med = _time(lambda: scipy_solve_noio(w, t1), max(1, reps // 2))
    gap = float(np.abs(scipy_solve_noio(w, t1) - ts.solve(w, tariffs=t1).welfare_hat).max())
    rows.append({"case": f"random {n}x{s} no IO", "compile_s": first - med, "solve_ms": 1e3 * med,
                 "baseline": "scipy.optimize.root (hybr)", "baseline_ms": 1e3 * s_med, "speedup": s_med / med,
                 "max_welfare_gap": gap})

    # 2. world_io_7x44_2017 with IO, 24% US tariff on Japan
    w = ts.load_world("world_io_7x44_2017")
    t1 = w.tariffs_with(importer="USA", exporter="JPN", add=0.24)
    first, med = _time(_kernel_call(w, t1), reps)
    _, api_med = _time(lambda: ts.solve(w, tariffs=t1), reps)
    rows.append({"case": "world_io_7x44_2017 (IO), US +24% on JPN", "compile_s": first - med, "solve_ms": 1e3 * med,
                 "api_solve_ms": 1e3 * api_med})

    # 3. world_2023_aggregate: 194 countries, Liberation Day tariffs
    w = ts.load_world("world_2023_aggregate")
    rates = read_table("world_2023_aggregate", "us_tariffs_2025")
    t1 = np.array(w.tariffs)
    usa = w.index("USA")
    for partner, rate in zip(rates["partner"], rates["rate_used_in_model"]):
        if partner != "USA":
            t1[w.index(partner), usa, 0] = rate
    first, med = _time(_kernel_call(w, t1), reps)
    s_first, s_med = _time(lambda: scipy_solve_noio(w, t1), 1)
    rows.append({"case": "world_2023_aggregate 194x1, Liberation Day", "compile_s": first - med, "solve_ms": 1e3 * med,
                 "baseline": "scipy.optimize.root (hybr)", "baseline_ms": 1e3 * s_med, "speedup": s_med / med})

    # 4. Caliendo-Parro 31x40 with IO (full only)
    if not args.quick:
        w = ts.load_world("caliendo_parro_1993")
        base = ts.solve(w, closure="balanced").world
        tt = read_table("caliendo_parro_1993", "tariffs")
        from tariffsim.data.worlds import _dense

        t_cf = _dense(tt, "tariffs", ("exporter", "importer", "sector"), "tariff_rate_nafta_cf",
                      (base.regions, base.regions, base.sectors), (31, 31, 40))
        first, med = _time(_kernel_call(base, t_cf), reps)
        rows.append({"case": "caliendo_parro_1993 31x40 (IO), NAFTA", "compile_s": first - med, "solve_ms": 1e3 * med})

    dev = jax.devices()[0]
    print(f"device: {dev.platform} ({dev.device_kind}); jax {jax.__version__}")
    print("| case | compile (s) | solve (ms) | baseline (ms) | speedup |")
    print("|---|---|---|---|---|")
    for r in rows:
        b = f"{r['baseline_ms']:.1f}" if "baseline_ms" in r else "-"
        sp = f"{r['speedup']:.1f}x" if "speedup" in r else "-"
        print(f"| {r['case']} | {r['compile_s']:.2f} | {r['solve_ms']:.2f} | {b} | {sp} |")
    if args.json:
        args.json.write_text(json.dumps({"device": str(dev), "rows": rows}, indent=1))
    return rows


if __name__ == "__main__":
    main()
