"""Shared state of one scenario run: the scenario, its GE baseline, solved counterfactuals, schedules.

Every counterfactual is solved once and cached (warm-started from its base); sections
read them from here. Calls go through the public facade :mod:`tariffsim.api`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .. import api
from ..errors import ConvergenceError, TariffsimError
from ..scenario import Scenario, load_scenario


@dataclass
class Solved:
    """A solved counterfactual: label, tariffs, deficits and the equilibrium."""

    name: str
    label: str
    kind: str                       # "counterfactual", "optimal", "nash", "bargain"
    tariffs: np.ndarray
    deficits: np.ndarray | None
    eq: Any
    transfer_usd_bn: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)


def as_scenario(scenario: Scenario | str | os.PathLike | None) -> Scenario:
    """A :class:`Scenario` ready to run (``as_of`` dates resolved: :meth:`Scenario.resolved`) from itself,
    a YAML path, a built-in name, or None (the built-in bundle)."""
    scn = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return scn.resolved()


class RunContext:
    """Shared state of one run: the scenario, the baseline world, solved counterfactuals."""

    def __init__(self, scenario: Scenario, progress: Callable[[str], None] | None = None) -> None:
        self.scenario = scenario
        self.progress = progress or (lambda msg: None)
        self.results: dict[str, Any] = {}
        self.solved: dict[str, Solved] = {}
        self.world = None
        self.baseline = None
        self.baseline_note = ""
        self.datasets_used: list[str] = []
        self._schedules: dict[str, Any] = {}
        self.quantities: dict[str, Any] = {}     # run/quantities.py: expensive quantities computed once per run

    # ---- world
    def load(self) -> None:
        scn = self.scenario
        if scn.world.files is not None:
            path = scn.resolve(scn.world.files)
            try:
                w = api.load_world(str(path), rebase=scn.world.rebase)
            except TariffsimError as exc:
                raise scn.error(("world", "files"), str(exc)) from None
        else:
            try:
                w = api.load_world(scn.world.dataset, rebase=scn.world.rebase)
            except TariffsimError as exc:
                raise scn.error(("world", "dataset"), str(exc)) from None
            self.datasets_used.append(scn.world.dataset)
        scn.check_world(w.regions, w.sectors)
        ge = scn.model.ge
        if ge.theta_scale != 1.0 or ge.theta:
            th = np.array(w.theta, dtype=float) * ge.theta_scale
            for s, v in ge.theta.items():
                th[w.sectors.index(s)] = v
            w = w.with_theta(th)
        self.world = w
        self.baseline = self._baseline(w)

    def _baseline(self, w):
        pol = self.scenario.policy
        if pol.baseline is None:
            self.baseline_note = f"Baseline: the world's own tariffs ({w.name})."
            return w
        t = self.schedule_tariffs(pol.baseline, pol.baseline_date, w, ("policy", "baseline"))
        eq = self._solve_at(("policy", "baseline"), w, tariffs=t, closure=self.scenario.model.ge.closure)
        self.baseline_note = (f"Baseline: {w.name} re-solved at the US tariffs of schedule {pol.baseline!r} on "
                              f"{pol.baseline_date.isoformat()}; every change below is relative to it.")
        return eq.world

    # ---- policy
    def schedule(self, name: str, loc: tuple) -> Any:
        if name not in self._schedules:
            try:
                self._schedules[name] = api.builtin_schedule(name)
            except TariffsimError as exc:
                raise self.scenario.error(loc, str(exc)) from None
        return self._schedules[name]

    def schedule_tariffs(self, name: str, date, world, loc: tuple) -> np.ndarray:
        sch = self.schedule(name, loc)
        return np.asarray(sch.to_world(world, date), dtype=float)

    # ---- GE counterfactuals
    def counterfactual(self, name: str) -> Solved:
        """Solve (once) a counterfactual of the scenario by name."""
        if name in self.solved:
            return self.solved[name]
        scn = self.scenario
        k = next(i for i, c in enumerate(scn.counterfactuals) if c.name == name)
        cf = scn.counterfactuals[k]
        loc = ("counterfactuals", k)
        start = self.counterfactual(cf.base) if cf.base else None
        t = np.array(start.tariffs if start else self.baseline.tariffs, dtype=float)
        if cf.schedule is not None:
            t = self.schedule_tariffs(cf.schedule, cf.date, self.baseline.with_tariffs(t), (*loc, "schedule"))
        for mi, m in enumerate(cf.measures):
            t = self.apply_measure(t, m, (*loc, "measures", mi))
        transfers = list(start.meta.get("transfers", [])) if start else []
        transfers += [(tr.from_, tr.to, tr.annual_usd_bn, tr.label) for tr in cf.transfers]
        closure = cf.closure or scn.model.ge.closure
        d = self.deficits(closure, transfers)
        x0 = start.eq.wage_hat if start is not None else None
        eq = self._solve_at(loc, self.baseline, tariffs=t, closure=closure, deficits=d, initial_wage_hat=x0)
        s = Solved(name, cf.label or name, "counterfactual", t, d, eq,
                   transfer_usd_bn=float(sum(x[2] for x in transfers)), meta={"transfers": transfers, "spec": cf})
        self.solved[name] = s
        return s

    def _solve_at(self, loc: tuple, world, **kwargs):
        """``api.solve``; a ConvergenceError names the scenario field whose equilibrium was not found."""
        try:
            return api.solve(world, **kwargs)
        except ConvergenceError as exc:
            msg = str(self.scenario.error(loc, f"no equilibrium found: {exc}"))
            raise ConvergenceError(msg, residual=exc.residual, iterations=exc.iterations) from None

    def deficits(self, closure: str, transfers) -> np.ndarray | None:
        if not transfers:
            return None
        b = self.baseline
        d = np.array(b.deficit_usd if closure == "fixed" else np.zeros(b.n_regions), dtype=float)
        for frm, to, usd_bn, _label in transfers:
            d[b.index(to)] += 1000.0 * usd_bn     # the recipient may spend more than it earns
            d[b.index(frm)] -= 1000.0 * usd_bn
        return d

    def apply_measure(self, t: np.ndarray, m, loc: tuple) -> np.ndarray:
        b = self.baseline
        sectors = self.scenario.expand_sectors(m.sectors, b.sectors, (*loc, "sectors"))
        try:
            return b.tariffs_with(importer=m.importer, exporter=m.exporter, sectors=sectors, add=m.add, set=m.set, base=t)
        except TariffsimError as exc:
            raise self.scenario.error(loc, str(exc)) from None

    def solve(self, tariffs, *, deficits=None, closure=None, warm=None):
        return api.solve(self.baseline, tariffs=tariffs, deficits=deficits,
                         closure=closure or self.scenario.model.ge.closure,
                         initial_wage_hat=None if warm is None else warm.wage_hat)

    def add_solved(self, s: Solved) -> None:
        self.solved[s.name] = s
