"""Strategy-layer benchmarks (issue 16): every row of the issue's table, each with its baselines in the same process.

Usage::

    python bench/bench_strategy.py            # all rows but the slow ones (frontier, talks)
    python bench/bench_strategy.py --slow     # also the bargaining frontier and the Ossa talks
    python bench/bench_strategy.py --rows us,ossa --json out.json

Each row times the work after compilation (a warm-up call on another World of the
same shapes compiles the kernels) next to its baselines, run in the same process:

- ``scipy``: a scipy search over the plain scipy.optimize.root solver of the same
  equations (``bench_ge.scipy_solve_noio``) where one exists (no-IO worlds);
- ``kernel``: today's previous path, the differentiable Broyden kernel
  (``bind_model(..., kernel="broyden")``) with a single start (``starts="current"``).

Prints ratios and the checks that make the numbers meaningful (the subset invariant
on Ossa's optimal tariffs, the deviation gains of the Nash wars). Numbers, never
timed assertions. On a shared machine the absolute times are upper bounds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import jax  # noqa: E402
import scipy.optimize  # noqa: E402

import tariffsim as ts  # noqa: E402
from bench_ge import scipy_solve_noio  # noqa: E402
from tariffsim.errors import CornerSolutionWarning  # noqa: E402
from tariffsim.models.base import bind_model  # noqa: E402

warnings.simplefilter("ignore", CornerSolutionWarning)
ROWS = ("grad", "us", "jpn", "nash2", "nash7", "mc", "ossa", "frontier", "talks")
SLOW = ("frontier", "talks")


def _compile(fn) -> None:
    """Run ``fn`` once to compile its kernels (a capped optimiser may stop unconverged: expected)."""
    try:
        fn()
    except ts.ConvergenceError:
        pass


def _t(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def _min_time(fn, repeats: int = 7) -> float:
    fn()
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t)
    return best


def row_grad(out: list) -> None:
    """One value and gradient of the strategy objective, fast-kernel path vs the Broyden kernel (min of 7:
    the minimum filters out the scheduling noise of a shared machine)."""
    from tariffsim.strategy import _core

    for name, country in (("world_2023_aggregate", "USA"), ("world_io_7x44_2017", "JPN")):
        w = ts.load_world(name)
        times = {}
        for kernel in ("fast", "broyden"):
            m = bind_model(w, "caliendo_parro", closure="balanced", kernel=kernel)
            j = w.index(country)
            ctl = _core.make_control(m.regions, m.sectors, [j], "by_sector")
            t0 = np.asarray(m.world.tariffs)
            q = ctl.initial(t0) + 0.1
            vg = _core.player_objective(m)
            times[kernel] = _min_time(lambda: vg(q, np.ones(ctl.n_params), ctl.index, t0, j, m.init_state))
        out.append({"work": f"one value + gradient of {country}'s objective, {name}", "seconds": times["fast"],
                    "baseline_kernel_s": times["broyden"], "note": "min of 7, cold start"})


def row_us(out: list) -> None:
    """US optimal uniform tariff, 194 countries, balanced: new path, second call, scipy and Broyden baselines."""
    warm = ts.load_world("world_2023_aggregate")
    _, compile_s = _t(lambda: ts.optimal_tariff(warm, "USA"))        # compiles (and fills the persistent cache)
    w = ts.load_world("world_2023_aggregate")                         # a new World object: binding + rebase, no compilation
    r1, s1 = _t(lambda: ts.optimal_tariff(w, "USA"))
    r2, s2 = _t(lambda: ts.optimal_tariff(w, "USA"))                  # same World: bound model cached
    m = bind_model(w, "caliendo_parro", closure="balanced")
    j = w.index("USA")
    wb = m.world

    def scipy_neg(r):
        return -math.log(scipy_solve_noio(wb, wb.tariffs_with(importer="USA", set=float(r)))[j])

    sc, s_sc = _t(lambda: scipy.optimize.minimize_scalar(scipy_neg, bounds=(0.0, 10.0), method="bounded",
                                                         options={"xatol": 1e-8}))
    old = bind_model(w, "caliendo_parro", closure="balanced", kernel="broyden")
    ts.optimal_tariff(old, "USA", starts="current")                   # compile the old path
    old2 = bind_model(ts.load_world("world_2023_aggregate"), "caliendo_parro", closure="balanced", kernel="broyden")
    ro, s_old = _t(lambda: ts.optimal_tariff(old2, "USA", starts="current"))
    out.append({"work": "US optimal uniform tariff, 194 countries, balanced", "seconds": s1, "compile_s": compile_s,
                "baseline_scipy_s": s_sc, "baseline_kernel_s": s_old, "rate": float(r1.parameters[0]),
                "rate_scipy": float(sc.x), "rate_kernel": float(ro.parameters[0]),
                "note": f"{r1.evaluations} evaluations"})
    out.append({"work": "second call of the same in the same process", "seconds": s2,
                "baseline_kernel_s": s_old, "note": "bound model and compiled objective reused"})


def row_jpn(out: list) -> None:
    """Japan's optimal by-sector tariffs on the 7x44 IO world."""
    ts.optimal_tariff(ts.load_world("world_io_7x44_2017"), "JPN", structure="by_sector")   # compile
    w = ts.load_world("world_io_7x44_2017")
    r, s = _t(lambda: ts.optimal_tariff(w, "JPN", structure="by_sector"))
    old = bind_model(w, "caliendo_parro", closure="balanced", kernel="broyden")
    _compile(lambda: ts.optimal_tariff(old, "JPN", structure="by_sector", starts="current", max_iter=2))  # compile
    ro, s_old = _t(lambda: ts.optimal_tariff(old, "JPN", structure="by_sector", starts="current"))
    j = w.index("JPN")
    out.append({"work": "Japan optimal by-sector tariffs, 7x44 IO", "seconds": s, "baseline_kernel_s": s_old,
                "G_hat": float(r.government_welfare_hat[j]), "G_hat_kernel": float(ro.government_welfare_hat[j]),
                "note": f"start won: {r.start}; starts {r.start_welfare}"})


def _nash(out: list, label: str, players, structure: str) -> None:
    w = ts.load_world("world_io_7x44_2017")
    m = bind_model(w, "caliendo_parro", closure="balanced")
    _compile(lambda: ts.optimal_tariff(m, players[0], structure=structure, max_iter=2, starts="current"))     # compile
    r, s = _t(lambda: ts.nash_tariffs(m, players, structure=structure))
    out.append({"work": label, "seconds": s, "rounds": r.rounds, "max_deviation_gain": float(np.max(r.deviation_gain)),
                "median_tariff_pct": [round(100 * float(v), 2) for v in r.median_tariff],
                "note": f"{r.rounds} rounds, largest unilateral deviation gain {float(np.max(r.deviation_gain)):.1e}"})


def row_nash2(out: list) -> None:
    _nash(out, "by-sector Nash war USA-JPN, 7x44 IO", ["USA", "JPN"], "by_sector")


def row_nash7(out: list) -> None:
    w = ts.load_world("world_io_7x44_2017")
    _nash(out, "7-region uniform Nash war, 7x44 IO", list(w.regions), "uniform")


def row_mc(out: list, draws: int = 10_000) -> None:
    w = ts.load_world("world_io_7x44_2017")
    t = w.tariffs_with(importer="USA", exporter="JPN", add=0.24)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts.monte_carlo(w, tariffs=t, draws=64, seed=1)                 # compile
        r, s = _t(lambda: ts.monte_carlo(w, tariffs=t, draws=draws, seed=0))
    th = r.theta[:50]
    _, s_serial = _t(lambda: [ts.solve(w, tariffs=t, theta=x) for x in th])
    s_vmap, n_vmap = _vmap_one_device(w, t, r, min(draws, 2048))
    out.append({"work": f"{draws:,} MC draws, 7x44 IO, US +24 pp on Japan", "seconds": s,
                "baseline_serial_solve_s": s_serial * draws / len(th),
                "baseline_vmap_one_device_s": s_vmap * draws / n_vmap, "failed": r.failed,
                "threads": _kernel_threads(), "chunk_size": r.chunk_size,
                "mean_steps": float(np.mean(r.iterations)),
                "note": "baselines: serial ts.solve loop (50 draws timed and scaled); the previous batch path, "
                        "jit(vmap(equilibrium_fast)) in chunks of 64 on one device (2,048 draws, scaled)"})


def _kernel_threads() -> int:
    from tariffsim.scale import _kernel

    return _kernel.worker_count()


def _vmap_one_device(w, t, r, n: int) -> tuple[float, int]:
    """The previous Monte Carlo batch path: a jit of ``vmap(equilibrium_fast)`` per chunk of 64 on one device."""
    import jax.numpy as jnp
    from tariffsim.models import ge
    from tariffsim.scale import _kernel

    p = ge.make_params(w, t)
    x0 = jnp.log(jnp.asarray(r.point.wage_hat))
    lp0, X0 = jnp.log(jnp.asarray(r.point.price_hat)), jnp.asarray(r.point.expenditure)
    H0 = jnp.linalg.inv(_kernel.reference_jacobian(p, x0, has_io=True))
    f = jax.jit(jax.vmap(lambda th: ge.equilibrium_fast(p._replace(theta=th), x0, H0, True, tol=1e-10, memory=5,
                                                        log_p0=lp0, expenditure0=X0).welfare_hat))
    th = np.asarray(r.theta[:n])
    n = (n // 64) * 64
    jax.block_until_ready(f(jnp.asarray(th[:64])))
    _, s = _t(lambda: [jax.block_until_ready(f(jnp.asarray(th[k:k + 64]))) for k in range(0, n, 64)])
    return s, n


def row_ossa(out: list) -> None:
    """All 7 optimal-tariff problems of Ossa (2014), political economy, bilateral; the subset invariant per region."""
    world = ts.load_world("ossa2014_7x33_2007")
    m = bind_model(world, "ossa2014", weights="political_economy")
    _compile(lambda: ts.optimal_tariff(m, "BRA", structure="bilateral", max_iter=2, starts="current"))          # compile
    _compile(lambda: ts.optimal_tariff(m, "BRA", structure="by_sector", max_iter=2, starts="current"))
    _compile(lambda: ts.optimal_tariff(m, "BRA", structure="uniform", max_iter=2, starts="current"))
    res, s = _t(lambda: [ts.optimal_tariff(m, c, structure="bilateral") for c in m.regions])
    one, s_one = _t(lambda: [ts.optimal_tariff(m, c, structure="bilateral", starts="current") for c in m.regions])
    mfn = [ts.optimal_tariff(m, c, structure="by_sector") for c in m.regions]
    by = {}
    ok = True
    for i, c in enumerate(m.regions):
        g, g1, gm = (float(x.government_welfare_hat[i]) for x in (res[i], one[i], mfn[i]))
        ok &= g >= gm - 1e-10
        by[c] = {"bilateral_G_hat": g, "single_start_G_hat": g1, "mfn_G_hat": gm, "start": res[i].start,
                 "median_pct": 100 * res[i].median_tariff, "welfare_pct": 100 * (float(res[i].welfare_hat[i]) - 1),
                 "n_at_upper": res[i].n_at_upper}
    out.append({"work": "Ossa: all 7 optimal-tariff problems (political economy, bilateral)", "seconds": s,
                "baseline_single_start_s": s_one, "subset_invariant": bool(ok),
                "avg_median_pct": float(np.mean([100 * r.median_tariff for r in res])), "by_region": by,
                "note": "multi-start; baseline: one start (today's behaviour)"})


def _previous_bargain(w):
    """``ts.bargain(w)`` by the previous method, in this process: SLSQP (ftol 1e-12) for every frontier point, the
    NBS started from the best traced point, the war by Gauss-Seidel best responses alone (no Newton anywhere)."""
    from unittest import mock

    from tariffsim.strategy import bargain as bargain_mod
    from tariffsim.strategy import frontier, war

    def slsqp_point(game, sc, x0, target, who, *, what):
        x, e = frontier._slsqp_point(game, sc, x0, target, who, what=what)
        return frontier.KktPoint(x, e, float("nan"), float("nan"), -1)

    with mock.patch.object(bargain_mod, "_frontier_point", slsqp_point), \
            mock.patch.object(frontier, "_frontier_point", slsqp_point), \
            mock.patch.object(war, "_nash_newton", lambda *a, **k: None), \
            mock.patch.object(war, "FIRST_ROUND_GTOL", 1e-10):
        return ts.bargain(w)


def row_frontier(out: list) -> None:
    w = ts.load_world("world_io_7x44_2017")
    ts.bargain(w)                                               # compiles; the target is the second call
    r, s = _t(lambda: ts.bargain(w))
    r0, s0 = _t(lambda: _previous_bargain(w))
    diff = max(float(np.max(np.abs(r.frontier_ev_usd - r0.frontier_ev_usd))),
               float(np.max(np.abs(r.nbs.ev_usd - r0.nbs.ev_usd))))
    out.append({"work": "bargaining frontier, 50 points, default game (second call)", "seconds": s,
                "baseline_previous_s": s0, "evaluations": r.evaluations, "evaluations_previous": r0.evaluations,
                "max_ev_difference_usd_mn": diff, "nbs_frontier_gap_usd": r.nbs_frontier_gap_usd,
                "note": f"ts.bargain(world) defaults; {r.evaluations} vs {r0.evaluations} kernel evaluations; "
                        f"frontier and NBS EVs differ by <= {diff:.1e} USD mn"})


def row_talks(out: list) -> None:
    world = ts.load_world("ossa2014_7x33_2007")
    m = bind_model(world, "ossa2014", weights="political_economy")
    r, s = _t(lambda: ts.cooperative_tariffs(m))
    out.append({"work": "Ossa talks, political economy, from factual", "seconds": s,
                "gain_pct": 100 * float(r.government_welfare_hat.mean() - 1)})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default=None, help=f"comma-separated subset of {','.join(ROWS)}")
    ap.add_argument("--slow", action="store_true", help="also the slow rows (frontier, talks)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    rows = args.rows.split(",") if args.rows else [r for r in ROWS if args.slow or r not in SLOW]
    out: list[dict] = []
    head = {"device": str(jax.devices()[0]), "cpus": os.cpu_count(), "load_avg_start": os.getloadavg()}
    for name in rows:
        globals()[f"row_{name}"](out)
        print(json.dumps(out[-1] if out else {}, default=float), flush=True)
    head["load_avg_end"] = os.getloadavg()
    print(f"\ndevice {head['device']}, {head['cpus']} cpus, load average {head['load_avg_start'][0]:.1f} -> "
          f"{head['load_avg_end'][0]:.1f}")
    print("| work | seconds | baseline (same process) | ratio | note |")
    print("|---|---:|---|---:|---|")
    for r in out:
        base = [(k, v) for k, v in r.items() if k.startswith("baseline_")]
        b = "; ".join(f"{k[9:-2]} {v:.3g} s" for k, v in base) or "–"
        ratio = "; ".join(f"{v / r['seconds']:.1f}x" for _, v in base) or "–"
        print(f"| {r['work']} | {r['seconds']:.3g} | {b} | {ratio} | {r.get('note', '')} |")
    if args.json:
        args.json.write_text(json.dumps({"head": head, "rows": out}, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
