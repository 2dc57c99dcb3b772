"""Run a scenario: compute every section of the report into a :class:`RunResult` (no rendering, no files).

Each section is one function in :mod:`tariffsim.run.sections` (``section(ctx) ->
SectionResult``), computed in :data:`~tariffsim.run.sections.SECTIONS` order; the
summary is computed last and shown first. Writing the outputs is
:func:`tariffsim.report.write_outputs`; :func:`tariffsim.run_scenario` does both.

Speed: the world is loaded and re-based once per run, every GE counterfactual is
solved once and cached (warm-started from its base), and JAX's persistent
compilation cache is switched on so repeated runs skip compilation.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
import warnings
from typing import Callable

from ..scenario import Scenario
from .context import RunContext, as_scenario
from .result import RunResult, SectionResult


def scenario_baseline(scenario: Scenario | str | os.PathLike | None = None):
    """The scenario's GE baseline World (loaded, elasticities applied, re-solved at the baseline schedule)."""
    ctx = RunContext(as_scenario(scenario))
    ctx.load()
    return ctx.baseline


def compute_run(
    scenario: Scenario | str | os.PathLike | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    sections: list[str] | None = None,
    cache: bool = True,
) -> RunResult:
    """Compute every section of the report for ``scenario``.

    Parameters
    ----------
    scenario : a :class:`~tariffsim.scenario.Scenario`, a YAML path, a built-in name, or
        None for the built-in US-Japan bundle.
    progress : ``callback(message)`` called as each step starts.
    sections : compute only these section keys (default: all; the summary always).
    cache : switch on JAX's persistent compilation cache.
    """
    from . import sections as S

    scn = as_scenario(scenario)
    if cache:
        from .._jaxcache import enable_compilation_cache

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
        if sections is not None and key not in sections:
            continue
        why = ctx.skip_reason(key)      # a section the scenario's model family cannot compute
        results.append(_timed(ctx, key, title, fn if why is None else (lambda _ctx, k=key, w=why: SectionResult.skipped(k, "", w))))
    summary = _timed(ctx, "summary", "Summary", S.summary_section)
    results.insert(0, summary)
    return RunResult(scn, results, time.perf_counter() - t0, None,
                     _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(), load_seconds)


def _timed(ctx: RunContext, key: str, title: str, fn) -> SectionResult:
    """Run one section, recording its warnings (deduplicated) and wall/CPU seconds."""
    from . import sections as S

    title = S.section_title(title, ctx)
    ctx.progress(title)
    ts, cs = time.perf_counter(), time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fn(ctx)
    res.warnings = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught
                                      if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning))))
    res.key, res.title = key, title
    res.seconds = time.perf_counter() - ts
    res.cpu_seconds = time.process_time() - cs
    ctx.results[key] = res
    return res
