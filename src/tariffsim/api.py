"""The public API facade: one table of every public name and the module that defines it.

``import tariffsim`` (and ``import tariffsim.api``) is instant: nothing here imports
JAX, NumPy-heavy models or data until a name is first used (PEP 562 module
``__getattr__``). ``tariffsim.solve`` imports :mod:`tariffsim.models.dispatch` (and with
it :mod:`tariffsim.models.ge`) on first access; ``tariffsim.ustr_reciprocal_rate`` imports
only the policy layer. ``solve`` and ``monte_carlo`` take ``model=`` (default
``"caliendo_parro"``; ``"ilms2025"``), as ``bind_model``, ``optimal_tariff`` and
``nash_tariffs`` take a family or a bound model. The CLI,
the dashboard and the report reach the library through this table.

To add a public name, add one line to :data:`EXPORTS` (name -> ``"module"`` or
``"module:attribute"``); the name is then in ``tariffsim.__all__`` too.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> "module" (the module itself) or "module:attribute"
EXPORTS: dict[str, str] = {
    # --- data & world (foundation)
    "World": "tariffsim.world:World",
    "catalog": "tariffsim.data.catalog",
    "dataset_info": "tariffsim.data:info",
    "list_datasets": "tariffsim.data:list_datasets",
    "load_world": "tariffsim.models.baseline:load_world",
    "load_world_as_shipped": "tariffsim.data:load_world",   # no re-solve (no JAX): for checks of labels
    "read_world_files": "tariffsim.data:read_world_files",
    "read_table": "tariffsim.data:read_table",
    "user_data_dir": "tariffsim.data.catalog:user_data_dir",
    "build_world": "tariffsim.policy.world_builder:build_world",  # MRIO files -> world (issue 20)
    # --- data updates
    "ScheduleDiff": "tariffsim.data.update:ScheduleDiff",
    "UpdateResult": "tariffsim.data.update:UpdateResult",
    "data_status": "tariffsim.data.update:data_status",
    "latest_hts_dataset": "tariffsim.data.update:latest_hts_dataset",
    "schedule_diff": "tariffsim.data.update:schedule_diff",
    "update_census": "tariffsim.data.update:update_census",
    "update_hts": "tariffsim.data.update:update_hts",
    # --- policy
    "Measure": "tariffsim.policy:Measure",
    "Schedule": "tariffsim.policy:Schedule",
    "builtin_schedule": "tariffsim.policy:builtin_schedule",
    "list_schedules": "tariffsim.policy:list_schedules",
    "etr": "tariffsim.policy:etr",
    "etr_timeline": "tariffsim.policy:etr_timeline",
    "EtrTimeline": "tariffsim.policy:EtrTimeline",
    "list_conventions": "tariffsim.policy:list_conventions",
    "us_imports_2024": "tariffsim.policy:us_imports_2024",
    "ustr_reciprocal_rate": "tariffsim.policy:ustr_reciprocal_rate",
    "ustr_table": "tariffsim.policy:ustr_table",
    "fairness_table": "tariffsim.models.baseline:fairness_table",
    "ntb_aves": "tariffsim.policy:ntb_aves",
    "japan_tariffs_to_world": "tariffsim.policy:japan_tariffs_to_world",
    # --- models
    "Equilibrium": "tariffsim.models.ge:Equilibrium",
    "rebase_world": "tariffsim.models.ge:rebase_world",
    "solve": "tariffsim.models.dispatch:solve",   # model= picks the family (caliendo_parro default)
    "pe": "tariffsim.models.pe",
    "BoundModel": "tariffsim.models.base:BoundModel",
    "bind_model": "tariffsim.models.base:bind_model",
    "register_model": "tariffsim.models.base:register_model",
    "OssaEquilibrium": "tariffsim.models.ossa:OssaEquilibrium",
    "ossa_balance_world": "tariffsim.models.ossa:balance_world",
    # --- strategy
    "optimal_tariff": "tariffsim.strategy:optimal_tariff",
    "nash_tariffs": "tariffsim.strategy:nash_tariffs",
    "cooperative_tariffs": "tariffsim.strategy:cooperative_tariffs",
    "OptimalTariffResult": "tariffsim.strategy:OptimalTariffResult",
    "NashResult": "tariffsim.strategy:NashResult",
    "CooperativeResult": "tariffsim.strategy:CooperativeResult",
    "balancing_tariff": "tariffsim.strategy.balancing:balancing_tariff",
    "BalancingTariffResult": "tariffsim.strategy.balancing:BalancingTariffResult",
    "fill_fairness_table": "tariffsim.strategy.balancing:fill_fairness_table",
    "bargain": "tariffsim.strategy.bargain:bargain",
    "BargainResult": "tariffsim.strategy.bargain:BargainResult",
    "Deal": "tariffsim.strategy.bargain:Deal",
    "deal_2025": "tariffsim.strategy.bargain:deal_2025",
    "threat_2025": "tariffsim.strategy.bargain:threat_2025",
    "bargain_defaults": "tariffsim.strategy.bargain:policy_defaults",
    "deal_ledger": "tariffsim.strategy.deal_ledger:deal_ledger",
    "DealLedger": "tariffsim.strategy.deal_ledger:DealLedger",
    "DealTerms": "tariffsim.strategy.deal_ledger:DealTerms",
    "investment_transfer": "tariffsim.strategy.investment:investment_transfer",
    "InvestmentTransfer": "tariffsim.strategy.investment:InvestmentTransfer",
    "threat_point": "tariffsim.strategy.threat:threat_point",
    "ThreatPoint": "tariffsim.strategy.threat:ThreatPoint",
    "deal_holds": "tariffsim.strategy.deal_holds:deal_holds",
    "DealHolds": "tariffsim.strategy.deal_holds:DealHolds",
    "exchange_rates": "tariffsim.strategy.exchange_rates:exchange_rates",
    "ExchangeRates": "tariffsim.strategy.exchange_rates:ExchangeRates",
    "deal_section": "tariffsim.strategy.deal_section:deal_section",
    "DealSection": "tariffsim.strategy.deal_section:DealSection",
    # --- scale
    "monte_carlo": "tariffsim.scale:monte_carlo",   # model= "caliendo_parro" (default) or "ilms2025"
    "MonteCarloResult": "tariffsim.scale:MonteCarloResult",
    "FailedDrawsWarning": "tariffsim.scale:FailedDrawsWarning",
    "run_sweep": "tariffsim.scale:run_sweep",
    "read_sweep": "tariffsim.scale:read_sweep",
    "SweepGrid": "tariffsim.scale:SweepGrid",
    "SweepRun": "tariffsim.scale:SweepRun",
    # --- scenarios and runs (application layer)
    "Scenario": "tariffsim.scenario:Scenario",
    "builtin_scenario_path": "tariffsim.scenario:builtin_scenario_path",
    "list_builtin_scenarios": "tariffsim.scenario:list_builtin_scenarios",
    "load_scenario": "tariffsim.scenario:load_scenario",
    "parse_scenario": "tariffsim.scenario:parse_scenario",
    "scenario_schema": "tariffsim.scenario:scenario_schema",
    "run_scenario": "tariffsim.app:run_scenario",
    "scenario_baseline": "tariffsim.run:scenario_baseline",
    "enable_compilation_cache": "tariffsim._jaxcache:enable_compilation_cache",
    # --- errors
    "TariffsimError": "tariffsim.errors:TariffsimError",
    "DataError": "tariffsim.errors:DataError",
    "ScenarioError": "tariffsim.errors:ScenarioError",
    "ConvergenceError": "tariffsim.errors:ConvergenceError",
}

__all__ = sorted(EXPORTS)


def resolve(name: str) -> Any:
    """The object behind public name ``name`` (imports its module on first use)."""
    try:
        target = EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'tariffsim' has no attribute {name!r}") from None
    module, _, attr = target.partition(":")
    mod = importlib.import_module(module)
    return getattr(mod, attr) if attr else mod


def __getattr__(name: str) -> Any:
    obj = resolve(name)
    globals()[name] = obj
    return obj


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(EXPORTS))
