"""The policy layer (docs/design.md §6): measures, stacking, dated schedules, effective tariff rates, the USTR formula,
Japan's schedule and quotas, the fairness table, and product schedules aggregated to GE sectors.

    >>> from tariffsim import policy
    >>> policy.list_schedules()[:2]
    ['baseline-2024', 'liberation-day-2025-04-02']
"""

from __future__ import annotations

from .measures import Measure
from .schedules import Schedule, builtin_schedule, list_schedules, schedule_to_world
from .imports import us_imports_2024
from .etr import etr
from .etr_timeline import EtrTimeline, etr_timeline
from .ustr import ustr_reciprocal_rate, ustr_table
from .japan import fairness_table, japan_line_aves, japan_tariffs_to_world, ntb_aves
from .to_world import hs_sector_crosswalk
from .conventions import Convention, list_conventions

__all__ = [
    "Measure", "Schedule", "builtin_schedule", "list_schedules", "us_imports_2024", "etr",
    "ustr_reciprocal_rate", "ustr_table", "fairness_table", "japan_line_aves", "japan_tariffs_to_world", "ntb_aves",
    "hs_sector_crosswalk", "schedule_to_world", "Convention", "list_conventions", "etr_timeline", "EtrTimeline",
]
