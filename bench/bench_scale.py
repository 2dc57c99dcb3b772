"""Benchmark: Monte Carlo draws per second over trade elasticities (issue 8).

Times :func:`tariffsim.monte_carlo` (vmapped, chunked JAX kernel) at several chunk
sizes against a serial loop of :func:`tariffsim.solve` (one draw at a time, same
process, same draws), on ``world_io_7x44_2017`` with IO and the 24% US tariff on
Japan. Prints the device (``jax.devices()``), a markdown table and the welfare
bands. Compile time is reported apart (first chunk of each size).

    python bench/bench_scale.py                 # full: 2,000 draws, chunk sizes 1..256
    python bench/bench_scale.py --quick         # CI: 32 draws, 2 chunk sizes
    python bench/bench_scale.py --draws 10000 --chunks 16,4096   # e.g. on a GPU
    python bench/bench_scale.py --curve         # cost vs size on synthetic IO worlds

On a GPU install jax with CUDA (``pip install 'tariffsim[gpu]'``); the code is the same.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings

import numpy as np


def device_info() -> str:
    import jax

    cpu = f"{os.cpu_count()} logical CPUs ({platform.processor() or platform.machine()})"
    try:
        load = "load avg %.1f/%.1f/%.1f" % os.getloadavg()
    except OSError:
        load = ""
    return (f"jax {jax.__version__}, backend {jax.default_backend()}, devices {jax.devices()}; {cpu}; {load}; "
            f"python {platform.python_version()}")


def serial_rate(world, tariffs, thetas) -> float:
    import tariffsim as ts

    ts.solve(world, tariffs=tariffs, theta=thetas[0])                # compile
    t0 = time.perf_counter()
    for th in thetas:
        ts.solve(world, tariffs=tariffs, theta=th)
    return len(thetas) / (time.perf_counter() - t0)


def mc_rate(world, tariffs, draws, chunk, seed=0):
    import tariffsim as ts

    t0 = time.perf_counter()
    ts.monte_carlo(world, tariffs=tariffs, draws=chunk, seed=seed + 1, chunk_size=chunk)     # compile this size
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = ts.monte_carlo(world, tariffs=tariffs, draws=draws, seed=seed, chunk_size=chunk)
    dt = time.perf_counter() - t0
    return draws / dt, dt, compile_s, r


def synthetic_world(n: int, s: int, seed: int = 0):
    """Random IO economy (home bias, value-added share 0.5), rebased to an exact equilibrium."""
    import tariffsim as ts
    from tariffsim.errors import FinalDemandClippedWarning

    rng = np.random.default_rng(seed)
    flows = rng.lognormal(0.0, 1.0, (n, n, s)) * 100
    flows[np.arange(n), np.arange(n), :] *= 20 + 5 * n
    io = rng.dirichlet(np.ones(s), size=(n, s)).transpose(0, 2, 1) * 0.5   # io[n, k, j]: column j sums to 0.5
    tariffs = rng.uniform(0.0, 0.1, (n, n, s))
    tariffs[np.arange(n), np.arange(n), :] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FinalDemandClippedWarning)
        w = ts.World.from_arrays(regions=[f"R{i:03d}" for i in range(n)], sectors=[f"S{j:02d}" for j in range(s)],
                                 flows=flows, tariffs=tariffs, theta=rng.uniform(2, 8, s),
                                 value_added_share=np.full((n, s), 0.5), io_share=io, name=f"synthetic{n}x{s}")
    return ts.rebase_world(w)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", default="world_io_7x44_2017")
    ap.add_argument("--draws", type=int, default=2000)
    ap.add_argument("--chunks", default="1,4,16,64,256", help="comma-separated chunk sizes")
    ap.add_argument("--serial", type=int, default=20, help="draws in the serial solve() loop")
    ap.add_argument("--quick", action="store_true", help="CI mode: 32 draws, chunk sizes 4 and 16, 4 serial solves")
    ap.add_argument("--curve", action="store_true", help="also time cost vs size on synthetic IO worlds")
    ap.add_argument("--curve-sizes", default="20x1,20x11,20x44,50x44,100x44,194x44")
    ap.add_argument("--curve-draws", type=int, default=64)
    args = ap.parse_args(argv)
    if args.quick:
        args.draws, args.chunks, args.serial = 32, "4,16", 4

    import tariffsim as ts
    from tariffsim.errors import ElasticityFallbackWarning
    from tariffsim.scale import DEFAULT_THETA_CV, draw_theta

    warnings.simplefilter("ignore", ElasticityFallbackWarning)
    print(f"device: {device_info()}\n")
    world = ts.load_world(args.world)
    tariffs = world.tariffs_with(importer="USA", exporter="JPN", add=0.24)
    thetas = draw_theta(world.theta, DEFAULT_THETA_CV * world.theta, args.serial, seed=0)
    base = serial_rate(world, tariffs, thetas)
    print(f"## Monte Carlo on {args.world} (IO: {world.has_io}), 24% US tariff on Japan, {args.draws} draws\n")
    print("| method | chunk size | draws/s | vs serial solve | wall s | compile s | failed |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(f"| serial `solve` loop | 1 | {base:.1f} | 1.00x | {args.serial / base:.2f} | - | - |")
    best = None
    for c in [int(x) for x in args.chunks.split(",")]:
        rate, dt, comp, r = mc_rate(world, tariffs, args.draws, c)
        print(f"| vmapped `monte_carlo` | {c} | {rate:.1f} | {rate / base:.2f}x | {dt:.2f} | {comp:.1f} | {r.failed} |")
        sys.stdout.flush()
        if best is None or rate > best[0]:
            best = (rate, c, r)
    r = best[2]
    print(f"\n## Welfare bands (percent), {r.draws} draws, theta log-normal, CV {DEFAULT_THETA_CV:.0%}, seed 0\n")
    b = r.summary()
    print("| region | q05 | q50 | q95 | point |")
    print("|---|---:|---:|---:|---:|")
    for row in b.iter_rows(named=True):
        print(f"| {row['region']} | {row['welfare_change_pct_q05']:+.4f} | {row['welfare_change_pct_q50']:+.4f} | "
              f"{row['welfare_change_pct_q95']:+.4f} | {row['welfare_change_pct_point']:+.4f} |")
    print(f"\nfailed draws: {r.failed} of {r.draws}")

    if args.curve:
        print(f"\n## Cost vs size (synthetic IO worlds, {args.curve_draws} draws, best of chunk sizes 16 / 64)\n")
        print("| N x S | serial solve draws/s | monte_carlo draws/s | ms per draw |")
        print("|---|---:|---:|---:|")
        for size in args.curve_sizes.split(","):
            n, s = (int(x) for x in size.split("x"))
            w = synthetic_world(n, s)
            t = w.tariffs_with(importer="R000", exporter="R001", add=0.24)
            th = draw_theta(w.theta, DEFAULT_THETA_CV * w.theta, 4, seed=0)
            sr = serial_rate(w, t, th)
            rate = max(mc_rate(w, t, args.curve_draws, c)[0] for c in (16, 64) if c <= args.curve_draws)
            print(f"| {n} x {s} | {sr:.1f} | {rate:.1f} | {1e3 / rate:.1f} |")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
