"""The ETR path of a schedule at every date it changes, with each measure's contribution (for timeline labels).

On each change date ``d`` (a measure starts, ends, or its product list changes; :meth:`Schedule.change_dates`) the
change in the overall ETR from the day before, ``ETR(d) - ETR(d - 1)``, is split over the events of ``d`` by
applying them one at a time, in schedule order, ends before starts:

    contribution_k = ETR(state_k) - ETR(state_{k-1}),   state_0 = measures of d - 1 evaluated on d

so the contributions of a date add up exactly to its change (a sequential decomposition: with interacting
measures, e.g. a floor replacing a surcharge, the split depends on that order). Product-list updates of measures
in force on both days (state_0 vs d - 1) are reported as ``scope`` events.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Iterable

import numpy as np
import polars as pl

from ..errors import ScenarioError
from ._data import base
from .etr import _partner_rows, authority_arrays
from .measures import AUTHORITIES, AUTHORITY
from .schedules import TODAY, Schedule, as_schedule
from .stacking import _list_signature, stack


@dataclass(frozen=True)
class EtrTimeline:
    """ETR path and per-measure contributions.

    Attributes
    ----------
    schedule : name of the schedule.
    path : ``date, etr, etr_<authority>..., change_pp`` (fractions; ``change_pp`` in percentage points), one row
        per change date.
    events : ``date, measure, event (start | end | scope), authority, status, contribution_pp, label`` where
        ``status`` is the measure's status on ``date`` (``in_force``/``scheduled`` for starts, ``ended``/
        ``struck_down`` for ends) and ``label`` a short text for charts.
    """

    schedule: str
    path: pl.DataFrame
    events: pl.DataFrame

    def summary(self) -> str:
        """One line per change date: date, ETR, change and the largest contributions."""
        lines = [f"ETR timeline of {self.schedule}: {self.path.height} change dates"]
        for row in self.path.iter_rows(named=True):
            ev = self.events.filter(pl.col("date") == row["date"]).sort(
                pl.col("contribution_pp").abs(), descending=True).head(3)
            top = "; ".join(f"{r['measure']} {r['contribution_pp']:+.2f}" for r in ev.iter_rows(named=True))
            lines.append(f"{row['date']}  {100 * row['etr']:6.2f}%  {row['change_pp']:+6.2f} pp  {top}")
        return "\n".join(lines)


def _etr(arr: dict[str, np.ndarray], w: np.ndarray) -> float:
    return float(arr["tariff"] @ w / w.sum())


def etr_timeline(schedule: Schedule | str = "latest", start: Any = "2025-01-01", end: Any = "2026-12-31", *,
                 partners: Iterable[str] | None = None) -> EtrTimeline:
    """ETR at every change date of ``schedule`` in [start, end] and the contribution of each starting/ending measure.

    Parameters
    ----------
    schedule : a :class:`Schedule` or built-in name.
    start, end : date range (within the schedule's range).
    partners : optional ISO3 codes (``"EU"`` = the 27 members): the ETR on their imports only.

    Returns
    -------
    :class:`EtrTimeline` (``path`` and ``events`` polars tables).

    Examples
    --------
    >>> tl = etr_timeline("latest", "2026-02-19", "2026-02-24")
    >>> [str(d) for d in tl.path["date"]]
    ['2026-02-19', '2026-02-20', '2026-02-24']
    """
    s = as_schedule(schedule)
    dates = s.change_dates(start, end)
    if not dates:
        raise ScenarioError(f"etr_timeline: no dates between {start} and {end}")
    b = base()
    keep = _partner_rows(b, partners)
    w = s.weights_usd if keep is None else np.where(keep, s.weights_usd, 0.0)
    cache = s._cache
    path, events = [], []
    prev_arr = None
    for d in dates:
        arr = s.arrays(d)
        auth = authority_arrays(arr)
        tot = _etr(arr, w)
        row = {"date": d, "etr": tot, **{f"etr_{a.lower()}": float(auth[a.lower()] @ w / w.sum()) for a in
                                           AUTHORITIES}}
        if prev_arr is None:
            row["change_pp"] = 0.0
        else:
            dm1 = d - timedelta(days=1)
            row["change_pp"] = 100 * (tot - _etr(prev_arr, w))
            ends = [m for m in s.measures if m.active(dm1) and not m.active(d)]
            starts = [m for m in s.measures if m.active(d) and not m.active(dm1)]
            scoped = [m for m in s.measures if m.active(d) and m.active(dm1)
                      and _list_signature(m, d) != _list_signature(m, dm1)]
            # state_0: the measures of d - 1, evaluated on d (ended ones kept open, new ones left out)
            pending_end = {m.name: replace(m, end=None) for m in ends}
            started: set[str] = set()

            def state() -> list:
                return [pending_end.get(m.name, m) for m in s.measures
                        if (m.active(d) and (m.name in started or m not in starts)) or m.name in pending_end]

            last = _etr(stack(state(), d, cache=cache), w) if (ends or starts) else tot
            if scoped:
                c = 100 * (last - _etr(prev_arr, w))
                for m in scoped:  # one list update per date in the built-in data; several share the residual
                    events.append(_event(d, m, "scope", c / len(scoped)))
            seq = [("end", m) for m in ends] + [("start", m) for m in starts]
            for k, (kind, m) in enumerate(seq):
                if kind == "end":
                    del pending_end[m.name]
                else:
                    started.add(m.name)
                cur = tot if k == len(seq) - 1 else _etr(stack(state(), d, cache=cache), w)
                events.append(_event(d, m, kind, 100 * (cur - last)))
                last = cur
        path.append(row)
        prev_arr = arr
    ev_schema = {"date": pl.Date, "measure": pl.Utf8, "event": pl.Utf8, "authority": pl.Utf8, "status": pl.Utf8,
                 "contribution_pp": pl.Float64, "label": pl.Utf8}
    return EtrTimeline(s.name, pl.DataFrame(path), pl.DataFrame(events, schema=ev_schema))


def _event(d: date, m: Any, kind: str, pp: float) -> dict:
    status = m.status(d, TODAY) if kind != "end" else ("struck_down" if m.end_reason == "struck_down" else "ended")
    verb = {"start": "+", "end": "ends:", "scope": "list update:"}[kind]
    if kind == "end" and status == "struck_down":
        verb = "struck down:"
    return {"date": d, "measure": m.name, "event": kind, "authority": AUTHORITY[m.layer], "status": status,
            "contribution_pp": pp, "label": f"{verb} {m.authority or m.name} ({pp:+.2f} pp)"}


__all__ = ["etr_timeline", "EtrTimeline"]
