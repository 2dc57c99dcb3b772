"""Section: best responses (optimal tariffs, retaliation on named partners) and Nash tariff wars."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl

from ... import api
from ...errors import CornerSolutionWarning
from ..context import RunContext, Solved
from ..result import FigureSpec, SectionResult, TableView
from .common import bilateral_rate, goods_mask


def war_section(ctx: RunContext) -> SectionResult:
    """Each optimal-tariff and Nash task through the strategy layer; outcomes re-solved in the scenario's GE.

    The strategy layer gets the baseline World (Caliendo-Parro, bound there with ``closure``) or the
    scenario's bound model (another family; ``closure`` is then the binding's)."""
    st = ctx.scenario.strategy
    if not st.optimal and not st.nash:
        return SectionResult.skipped("war", "", "The scenario has no optimal-tariff or Nash tasks.")
    closure = ctx.scenario.model.ge.closure
    base = ctx.baseline
    flows0, goods = np.asarray(base.flows), goods_mask(base)
    rows, notes = [], []
    for task in st.optimal:
        others = ctx.counterfactual(task.against).tariffs if task.against else np.asarray(base.tariffs)
        warm = ctx.solved[task.against].eq if task.against else None
        j = base.index(task.country)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CornerSolutionWarning)
            res = api.optimal_tariff(ctx.strategy_model(), task.country, structure=task.structure, others=others, closure=closure,
                                     bounds=(0.0, float(task.upper)),
                                     exporters=list(task.exporters) if task.exporters else None)
        t_opt = np.asarray(res.tariff_rate)
        info = {"corner": bool(res.corner), "iterations": int(res.iterations)}
        eq = ctx.solve(t_opt, warm=warm)
        s = Solved(task.name, task.label or f"{task.country} optimal tariff", "optimal", t_opt, None, eq, meta=info)
        ctx.add_solved(s)
        for i, e in enumerate(base.regions):
            if i == j or (task.exporters and e not in task.exporters):
                continue
            rows.append({"task": task.name, "importer": task.country, "exporter": e,
                         "tariff_pct": 100 * bilateral_rate(t_opt, flows0, i, j, goods),
                         "welfare_change_pct": 100 * (float(eq.welfare_hat[j]) - 1)})
        notes.append(f"{s.label}: {task.country}'s welfare {100 * (eq.welfare_hat[j] - 1):+.3f}%"
                     + (" (corner solution)" if info["corner"] else ""))
    for task in st.nash:
        start = ctx.counterfactual(task.start).tariffs if task.start else np.asarray(base.tariffs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CornerSolutionWarning)
            res = api.nash_tariffs(ctx.strategy_model(), list(task.players), structure=task.structure, start=start, closure=closure,
                                   bounds=(0.0, float(task.upper)))
        t_n = np.asarray(res.tariff_rate)
        warm = ctx.solved[task.start].eq if task.start else None
        eq = ctx.solve(t_n, warm=warm)
        s = Solved(task.name, task.label or "Nash tariff war", "nash", t_n, None, eq, meta={"rounds": int(res.rounds)})
        ctx.add_solved(s)
        for p in task.players:
            j = base.index(p)
            for q in task.players:
                if q == p:
                    continue
                rows.append({"task": task.name, "importer": p, "exporter": q,
                             "tariff_pct": 100 * bilateral_rate(t_n, flows0, base.index(q), j, goods),
                             "welfare_change_pct": 100 * (float(eq.welfare_hat[j]) - 1)})
    df = pl.DataFrame(rows)
    groups = _groups(ctx)
    by_group = pl.DataFrame([
        {"task": r["task"], "player": f"{ctx.solved[r['task']].label}: {r['importer']} on {r['exporter']}",
         "sector_group": g, "tariff_pct": 100 * bilateral_rate(ctx.solved[r["task"]].tariffs, flows0, base.index(r["exporter"]),
                                                               base.index(r["importer"]), mask)}
        for r in rows for g, mask in groups.items()])
    note = " ".join(n + "." for n in notes)
    shown = df.with_columns(pl.col("task").replace_strict({k: v.label for k, v in ctx.solved.items()}, default=pl.col("task"))).rename(
        {"task": "task", "importer": "importer", "exporter": "exporter", "tariff_pct": "tariff, trade-weighted (%)",
         "welfare_change_pct": "importer's welfare change (%)"})
    return SectionResult("war", "", note=note.strip(), tables={"war_tariffs": df, "war_tariffs_by_group": by_group},
                         figures=[FigureSpec("fig-war", "Trade war tariffs by sector group", "war_tariffs", by_group, {},
                                             "Tariffs chosen in each task by sector group (trade-weighted at baseline "
                                             "flows, percent).")],
                         views=[TableView(shown, digits=2)], data={"tasks": df.to_dicts()})


def _groups(ctx: RunContext) -> dict[str, np.ndarray]:
    """Sector groups of the scenario as masks over the world's sectors (default: all goods sectors)."""
    base = ctx.baseline
    out = {}
    for name in ctx.scenario.sector_groups:
        secs = ctx.scenario.expand_sectors([name], base.sectors, ("sector_groups", name)) or []
        m = np.isin(np.asarray(base.sectors), secs)
        if m.any():
            out[f"{name} ({int(m.sum())} sector{'s' if m.sum() > 1 else ''})"] = m
    return out or {"goods": goods_mask(base)}
