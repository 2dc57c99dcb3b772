"""Application service: run a scenario and write its report (what ``tariffsim run`` and ``ts.run_scenario`` do).

Composes the two top layers: :func:`tariffsim.run.compute_run` (compute every
section into a RunResult) and :func:`tariffsim.report.write_outputs` (render and
write atomically). The output folder is checked before anything is computed.
"""

from __future__ import annotations

import os
from typing import Callable

from .report import check_out, write_outputs
from .run import RunResult, as_scenario, compute_run
from .scenario import Scenario


def run_scenario(
    scenario: Scenario | str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    sections: list[str] | None = None,
    cache: bool = True,
) -> RunResult:
    """Compute every section of the report for ``scenario``; write outputs to ``out`` if given.

    Parameters
    ----------
    scenario : a :class:`~tariffsim.scenario.Scenario`, a YAML path, a built-in name, or
        None for the built-in US-Japan bundle.
    out : output folder (default: the scenario's ``outputs.dir``, if any); written
        atomically. Refuses a folder that holds an input or that exists and was not
        written by tariffsim.
    progress : ``callback(message)`` called as each step starts.
    sections : compute only these section keys (default: all).
    cache : switch on JAX's persistent compilation cache.

    Returns
    -------
    RunResult with the sections (figure specs, tables, key numbers) and timings;
    ``.out`` is the folder written, if any.
    """
    scn = as_scenario(scenario)
    out_path = scn.output_dir(out)      # outputs.dir must stay inside the scenario's folder; out may go anywhere
    if out_path is not None:
        check_out(out_path, scn.input_paths())
    run = compute_run(scn, progress=progress, sections=sections, cache=cache)
    if out_path is not None:
        if progress is not None:
            progress("writing outputs")
        write_outputs(run, out_path)
        run.out = out_path
    return run
