"""A timeline entry: a measure with the dates its start and its end were announced (for dated snapshots)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .measures import Measure

D = date.fromisoformat


@dataclass(frozen=True)
class Entry:
    """``measure`` as announced on ``announced``; its ``end`` became known on ``end_announced``."""

    measure: Measure
    announced: date
    end_announced: date | None = None


def entry(name: str, layer: str, rate: Any, start: str, *, end: str | None = None, announced: str,
          end_announced: str | None = None, suspended_from: str | None = None, **kw: Any) -> Entry:
    """Shorthand for an :class:`Entry` with ISO date strings."""
    return Entry(Measure(name=name, layer=layer, rate=rate, start=D(start), end=D(end) if end else None,
                         suspended_from=D(suspended_from) if suspended_from else None, **kw),
                 D(announced), D(end_announced) if end_announced else None)


__all__ = ["Entry", "entry"]
