"""Shared state of one scenario run: the scenario, its GE baseline, solved counterfactuals, schedules.

Every counterfactual is solved once and cached (warm-started from its base); sections
read them from here. Calls go through the public facade :mod:`tariffsim.api`.

The model family is ``scenario.model.family``. For ``"caliendo_parro"`` (the default)
every solve is ``api.solve`` on the baseline World. For another family the world is
bound once (``api.bind_model(world, family, closure=..., **model.options)``), the
baseline is the bound model's world (its own data construction: for ``"ilms2025"``
the authors' absorption matrix), every counterfactual is the bound model's ``solve``,
and the strategy layer is handed the bound model. Sections that need the
Caliendo-Parro US-Japan world (:data:`CP_ONLY_SECTIONS`) are skipped for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .. import api
from ..errors import ConvergenceError, TariffsimError
from ..scenario import Scenario, load_scenario


CP = "caliendo_parro"
#: families whose results the sections can tabulate (``summary()`` with the columns of
#: ``Equilibrium.summary``: welfare, EV, real wage, trade, tariff revenue, trade balance)
RUN_FAMILIES = (CP, "ilms2025")

#: sections computed with Caliendo-Parro calls on the World (PE beside the GE counterfactual,
#: bargaining, the deal ledger, the fairness table's GE rows): skipped for other families.
CP_ONLY_SECTIONS: dict[str, str] = {
    "products": "the product-level PE section compares with a Caliendo-Parro GE counterfactual of the US-Japan world",
    "bargain": "tariffsim.bargain solves the Caliendo-Parro model on a World",
    "deal": "the deal ledger is computed in the Caliendo-Parro US-Japan world",
    "fairness": "the fairness table's GE rows (balancing tariff) are Caliendo-Parro solves",
}


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
        self.model = None                        # the BoundModel of a non-Caliendo-Parro family, else None
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
        if scn.model.family == CP:
            self.baseline = self._baseline(w)
        else:
            self.model = self.bind(w)
            self.baseline = self.model.world
            self.baseline_note = (f"Model: {scn.model.family} (tariffsim.bind_model options "
                                  f"{dict(scn.model.options) or 'default'}, closure {scn.model.ge.closure}); baseline: "
                                  f"{w.name} as the model constructs it; every change below is relative to it.")

    @property
    def family(self) -> str:
        """The scenario's model family (``scenario.model.family``)."""
        return self.scenario.model.family

    def skip_reason(self, key: str) -> str | None:
        """Why section ``key`` is not computed for the scenario's model family (None: it is)."""
        if self.family != CP and key in CP_ONLY_SECTIONS:
            return f"Not computed for model family {self.family!r}: {CP_ONLY_SECTIONS[key]}."
        return None

    def bind(self, w):
        """``api.bind_model`` of the scenario's family and options; its errors name the scenario field."""
        scn = self.scenario
        if scn.model.family not in RUN_FAMILIES:
            raise scn.error(("model", "family"), f"the scenario runner runs model families {', '.join(RUN_FAMILIES)}; "
                            f"use {scn.model.family!r} through tariffsim.bind_model")
        if scn.policy.baseline is not None:
            raise scn.error(("policy", "baseline"), f"model family {scn.model.family!r} binds to the world's own "
                            "tariffs; set policy.baseline: null")
        try:
            return api.bind_model(w, scn.model.family, closure=scn.model.ge.closure, **scn.model.options)
        except TypeError as exc:      # an option the family's binder does not take
            raise scn.error(("model", "options"), f"{scn.model.family}: {exc}") from None
        except TariffsimError as exc:
            raise scn.error(("model",), f"{scn.model.family}: {exc}") from None

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
        if self.model is not None and (transfers or closure != scn.model.ge.closure):
            raise scn.error(loc, f"model family {self.family!r}: counterfactual transfers and closures other than "
                            f"model.ge.closure ({scn.model.ge.closure}) are Caliendo-Parro options")
        d = self.deficits(closure, transfers)
        x0 = start.eq.wage_hat if start is not None and self.model is None else None
        eq = self._solve_at(loc, self.baseline, tariffs=t, closure=closure, deficits=d, initial_wage_hat=x0)
        s = Solved(name, cf.label or name, "counterfactual", t, d, eq,
                   transfer_usd_bn=float(sum(x[2] for x in transfers)), meta={"transfers": transfers, "spec": cf})
        self.solved[name] = s
        return s

    def _solve_at(self, loc: tuple, world, **kwargs):
        """``api.solve`` (the bound model's ``solve`` for another family); a ConvergenceError names the
        scenario field whose equilibrium was not found."""
        try:
            if self.model is not None:
                return self.model.solve(kwargs["tariffs"])
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
        """An equilibrium at ``tariffs`` from the baseline: ``api.solve``, or the bound model's ``solve``."""
        if self.model is not None:
            return self.model.solve(tariffs)
        return api.solve(self.baseline, tariffs=tariffs, deficits=deficits,
                         closure=closure or self.scenario.model.ge.closure,
                         initial_wage_hat=None if warm is None else warm.wage_hat)

    def strategy_model(self):
        """What the strategy layer is handed: the baseline World (Caliendo-Parro) or the bound model."""
        return self.baseline if self.model is None else self.model

    def add_solved(self, s: Solved) -> None:
        self.solved[s.name] = s
