"""The public API facade. Interfaces (CLI, dashboard, report) import only this module.

Each section below is owned by one part of the package; keep imports here thin.
"""

from __future__ import annotations

# --- data & world (foundation) ---------------------------------------------
from .data import catalog, info as dataset_info, list_datasets, load_world, read_world_files  # noqa: F401

# --- GE engine ---------------------------------------------------------------
from .models.ge import Equilibrium, rebase_world, solve  # noqa: F401

__all__ = [
    "catalog", "dataset_info", "list_datasets", "load_world", "read_world_files",
    "Equilibrium", "rebase_world", "solve",
]

# --- data updates (issue 10) -------------------------------------------------
from .data.catalog import user_data_dir  # noqa: E402,F401
from .data.update import (  # noqa: E402,F401
    ScheduleDiff, UpdateResult, data_status, latest_hts_dataset, schedule_diff, update_census, update_hts,
)

__all__ += ["user_data_dir", "ScheduleDiff", "UpdateResult", "data_status", "latest_hts_dataset", "schedule_diff",
            "update_census", "update_hts"]

# --- product-level PE (issue 5) ----------------------------------------------
from .models import pe  # noqa: E402,F401  (tariffsim.pe.simulate, .simulate_schedule, .post_substitution_imports)

__all__ += ["pe"]

# --- interfaces (issue 7) ----------------------------------------------------
# Scenario files, the `tariffsim run` report and the dashboard's model. The report
# package imports this module, so its entry points are bound lazily here.
from .data import read_table  # noqa: E402,F401  (bundled tables, e.g. HS10 descriptions for the report)
from .scenario import (  # noqa: E402,F401
    Scenario, builtin_scenario_path, list_builtin_scenarios, load_scenario, parse_scenario, scenario_schema,
)


def run_scenario(scenario=None, out=None, **kwargs):
    """Run a scenario (a :class:`Scenario`, a file path, or ``None`` for the US-Japan 2025 bundle).

    Computes every report section, then (when ``out`` is given) writes ``out/report.html``,
    ``results.json`` and ``tables/*.parquet|csv`` atomically. Returns a ``RunResult``.
    See :func:`tariffsim.report.runner.run_scenario`.
    """
    from .report.runner import run_scenario as _run

    return _run(scenario, out, **kwargs)


def scenario_baseline(scenario=None):
    """The GE baseline of a scenario: its world, re-solved at the baseline schedule's tariffs."""
    from .report.runner import scenario_baseline as _base

    return _base(scenario)


def enable_compilation_cache(path=None) -> str | None:
    """Turn on JAX's persistent compilation cache (default ``~/.cache/tariffsim/jax``); returns the folder."""
    from .report.runner import enable_compilation_cache as _cache

    return _cache(path)


__all__ += ["read_table", "Scenario", "builtin_scenario_path", "list_builtin_scenarios", "load_scenario", "parse_scenario",
            "scenario_schema", "run_scenario", "scenario_baseline", "enable_compilation_cache"]

# --- bargaining & fairness (issue 6) -------------------------------------------
from .strategy.balancing import BalancingTariffResult, balancing_tariff, fill_fairness_table  # noqa: E402,F401
from .strategy.bargain import (  # noqa: E402,F401
    BargainResult, Deal, bargain, deal_2025, policy_defaults as bargain_defaults, threat_2025,
)

__all__ += ["bargain", "BargainResult", "Deal", "deal_2025", "threat_2025", "bargain_defaults",
            "balancing_tariff", "BalancingTariffResult", "fill_fairness_table"]

# --- scale (issue 8) -----------------------------------------------------------
from .scale import (  # noqa: E402,F401
    FailedDrawsWarning, MonteCarloResult, SweepGrid, SweepRun, monte_carlo, read_sweep, run_sweep,
)

__all__ += ["monte_carlo", "MonteCarloResult", "run_sweep", "read_sweep", "SweepGrid", "SweepRun",
            "FailedDrawsWarning"]

# --- policy (issue 4) ----------------------------------------------------------
from .policy import (  # noqa: E402,F401
    Measure, Schedule, builtin_schedule, etr, fairness_table, japan_tariffs_to_world, list_schedules, ntb_aves,
    us_imports_2024, ustr_reciprocal_rate, ustr_table,
)

__all__ += ["Measure", "Schedule", "builtin_schedule", "list_schedules", "etr", "us_imports_2024",
            "ustr_reciprocal_rate", "ustr_table", "fairness_table", "ntb_aves", "japan_tariffs_to_world"]

# --- strategy core + ossa (issues 6, 11) -----------------------------------------
from .models.base import BoundModel, bind_model, register_model  # noqa: E402,F401
from .models.ossa import OssaEquilibrium, balance_world as ossa_balance_world  # noqa: E402,F401
from .strategy import (  # noqa: E402,F401
    CooperativeResult, NashResult, OptimalTariffResult, cooperative_tariffs, nash_tariffs, optimal_tariff,
)

__all__ += ["optimal_tariff", "nash_tariffs", "cooperative_tariffs", "OptimalTariffResult", "NashResult",
            "CooperativeResult", "BoundModel", "bind_model", "register_model", "OssaEquilibrium", "ossa_balance_world"]
