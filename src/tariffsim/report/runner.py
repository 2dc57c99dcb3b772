"""Run a scenario: compute each report section, then write the outputs atomically.

Each section of the report is produced by one function in
:mod:`tariffsim.report.sections` (``section(ctx) -> SectionResult``). A section
whose API is not in this version of tariffsim is labelled "not available in this
version" (status ``"unavailable"``); any other failure stops the run, and
nothing is written (outputs go to a temporary folder renamed into place at the
end). Only :mod:`tariffsim.api` and :mod:`tariffsim.scenario` are imported.

Speed: the world is loaded and re-based once per run, every GE counterfactual is
solved once and cached (warm-started from its base), and JAX's persistent
compilation cache is switched on so repeated runs skip compilation.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .. import api
from ..errors import ConvergenceError, TariffsimError
from ..scenario import Scenario, load_scenario

UNAVAILABLE = "not available in this version"


# --------------------------------------------------------------------------- results
@dataclass
class Figure:
    """A plotly figure with its HTML id (``fig-...``) and caption."""

    id: str
    title: str
    figure: Any
    caption: str = ""


@dataclass
class SectionResult:
    """What one report section computed.

    ``status``: ``"ok"``, ``"unavailable"`` (its API is absent in this version: see
    ``note``) or ``"skipped"`` (the scenario does not ask for it).
    """

    key: str
    title: str
    status: str = "ok"
    note: str = ""
    figures: list[Figure] = field(default_factory=list)
    tables: dict[str, Any] = field(default_factory=dict)      # name -> polars.DataFrame
    data: dict[str, Any] = field(default_factory=dict)        # JSON-able key numbers
    html: str = ""                                            # extra (trusted, generated) HTML
    seconds: float = 0.0
    cpu_seconds: float = 0.0                                  # process CPU time (all threads): robust to a busy machine
    warnings: list[str] = field(default_factory=list)         # warnings raised while computing (deduplicated)

    @classmethod
    def unavailable(cls, key: str, title: str, what: str) -> "SectionResult":
        return cls(key, title, status="unavailable", note=f"{what}: {UNAVAILABLE}.")

    @classmethod
    def skipped(cls, key: str, title: str, why: str) -> "SectionResult":
        return cls(key, title, status="skipped", note=why)


@dataclass
class RunResult:
    """The outcome of :func:`run_scenario`: sections in report order, timings, output folder."""

    scenario: Scenario
    sections: list[SectionResult]
    seconds: float
    out: Path | None = None
    created: str = ""
    load_seconds: float = 0.0

    def section(self, key: str) -> SectionResult:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    @property
    def tables(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for s in self.sections:
            out.update(s.tables)
        return out

    def to_json(self) -> dict[str, Any]:
        """Machine-readable results (what ``results.json`` holds)."""
        return {
            "tariffsim_version": _version(),
            "scenario": self.scenario.name,
            "title": self.scenario.title,
            "scenario_file": str(self.scenario.path) if self.scenario.path else None,
            "created": self.created,
            "seconds": round(self.seconds, 3),
            "load_seconds": round(self.load_seconds, 3),
            "sections": {
                s.key: {"title": s.title, "status": s.status, "note": s.note, "seconds": round(s.seconds, 3),
                        "cpu_seconds": round(s.cpu_seconds, 3), "warnings": s.warnings,
                        "figures": [f.id for f in s.figures], "tables": sorted(s.tables), "data": _jsonable(s.data)}
                for s in self.sections
            },
            "settings": self.scenario.model_dump(mode="json", by_alias=True),
        }

    def headline(self) -> list[dict[str, Any]]:
        """One-screen summary rows (label, value) for the terminal."""
        return list(self.section("summary").data.get("rows", [])) if any(s.key == "summary" for s in self.sections) else []


def _version() -> str:
    import tariffsim

    return getattr(tariffsim, "__version__", "?")


def _jsonable(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if np.isfinite(v) else None
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, (_dt.date, _dt.datetime)):
        return x.isoformat()
    if isinstance(x, Path):
        return str(x)
    return x


# --------------------------------------------------------------------------- API presence
def feature(name: str) -> Any | None:
    """``tariffsim.api.<name>`` (dotted names allowed) or None when this version lacks it."""
    obj: Any = api
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


# --------------------------------------------------------------------------- context
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


class RunContext:
    """Shared state of one run: the scenario, the baseline world, solved counterfactuals."""

    def __init__(self, scenario: Scenario, progress: Callable[[str], None] | None = None) -> None:
        self.scenario = scenario
        self.progress = progress or (lambda msg: None)
        self.results: dict[str, SectionResult] = {}
        self.solved: dict[str, Solved] = {}
        self.world = None
        self.baseline = None
        self.baseline_note = ""
        self.datasets_used: list[str] = []
        self._schedules: dict[str, Any] = {}

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
        if feature("builtin_schedule") is None:
            self.baseline_note = (f"Baseline: the world's own tariffs ({w.name}); the schedule {pol.baseline!r} "
                                  f"is {UNAVAILABLE}.")
            return w
        t = self.schedule_tariffs(pol.baseline, pol.baseline_date, w, ("policy", "baseline"))
        eq = self._solve_at(("policy", "baseline"), w, tariffs=t, closure=self.scenario.model.ge.closure)
        base = eq.world
        self.baseline_note = (f"Baseline: {w.name} re-solved at the US tariffs of schedule {pol.baseline!r} on "
                              f"{pol.baseline_date.isoformat()}; every change below is relative to it.")
        return base

    # ---- policy
    def schedule(self, name: str, loc: tuple) -> Any:
        if name not in self._schedules:
            fn = feature("builtin_schedule")
            if fn is None:
                raise _Unavailable(f"named tariff schedules ({name})")
            try:
                self._schedules[name] = fn(name)
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


class _Unavailable(Exception):
    """Raised inside a section when an API it needs is absent in this version."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


# --------------------------------------------------------------------------- entry points
from .._jaxcache import enable_compilation_cache  # noqa: E402,F401  (re-exported)


def as_scenario(scenario: Scenario | str | os.PathLike | None) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    return load_scenario(scenario)


def scenario_baseline(scenario: Scenario | str | os.PathLike | None = None):
    """The scenario's GE baseline World (loaded, elasticities applied, re-solved at the baseline schedule)."""
    ctx = RunContext(as_scenario(scenario))
    ctx.load()
    return ctx.baseline


def run_scenario(
    scenario: Scenario | str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    sections: list[str] | None = None,
    cache: bool = True,
) -> "RunResult":
    """Compute every section of the report for ``scenario``; write outputs to ``out`` if given.

    Parameters
    ----------
    scenario : a :class:`~tariffsim.scenario.Scenario`, a YAML path, a built-in name, or
        None for the built-in US-Japan 2025 bundle.
    out : output folder; written atomically (a temporary folder renamed into place).
        Refuses a folder that holds an input or that exists and was not written by tariffsim.
    progress : ``callback(message)`` called as each step starts.
    sections : compute only these section keys (default: all).
    cache : switch on JAX's persistent compilation cache.

    Returns
    -------
    RunResult with the sections (figures, tables, key numbers) and timings.
    """
    from . import sections as S
    from .write import check_out, write_outputs

    scn = as_scenario(scenario)
    out_path = None
    if out is not None or scn.outputs.dir is not None:
        out_path = Path(out).expanduser().resolve() if out is not None else scn.resolve(scn.outputs.dir)
        check_out(out_path, scn.input_paths())
    if cache:
        enable_compilation_cache()
    t0 = time.perf_counter()
    ctx = RunContext(scn, progress)
    ctx.progress("loading world and baseline")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.load()
    load_seconds = time.perf_counter() - t0
    results: list[SectionResult] = []
    for key, title, fn in S.SECTIONS:
        if sections is not None and key not in sections and key != "summary":
            continue
        ctx.progress(title)
        ts, cs = time.perf_counter(), time.process_time()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                res = fn(ctx)
            except _Unavailable as exc:
                res = SectionResult.unavailable(key, title, exc.what)
        res.warnings = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught
                                          if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning))))
        res.key, res.title = key, title
        res.seconds = time.perf_counter() - ts
        res.cpu_seconds = time.process_time() - cs
        ctx.results[key] = res
        results.append(res)
    # the summary goes first in the report but is computed last
    summary = S.summary_section(ctx)
    summary.key, summary.title = "summary", "Summary"
    results.insert(0, summary)
    run = RunResult(scn, results, time.perf_counter() - t0, None,
                    _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(), load_seconds)
    if out_path is not None:
        ctx.progress("writing outputs")
        write_outputs(run, out_path)
        run.out = out_path
    return run
