"""One exception hierarchy and the named warnings of tariffsim.

Every error a user can cause is a :class:`TariffsimError` subclass whose
message is one line naming the offending field, row, code or measure. The CLI
maps these to exit code 2; any other exception is a bug (exit 1).

Warnings follow linearmodels' pattern: each recoverable data problem has its
own class so users can filter or escalate it (``warnings.simplefilter("error",
FinalDemandClippedWarning)``).
"""

from __future__ import annotations

import re

#: Every line boundary ``str.splitlines`` knows, with the blanks around it.
_LINE_BREAKS = re.compile(r"\s*(?:\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029])\s*")


_PLAIN_CODE = re.compile(r"[A-Za-z0-9_.\-]+")


def show_code(code: object) -> str:
    """A code as it should appear in a message: plain when unambiguous (``HOM``,
    ``C10-12``), else its ``repr`` (``'HOM '``, ``''``, ``'HOM, FOR'``), so blanks,
    separators and invisible characters in a code are never lost."""
    text = str(code)
    return text if _PLAIN_CODE.fullmatch(text) else repr(text)


class TariffsimError(Exception):
    """Base class of every error tariffsim raises on purpose."""

    def __init__(self, message: str) -> None:
        # Keep messages one line (the CLI prints str(err) as is): line breaks and the
        # blanks around them become one space. Other whitespace is kept, so a code
        # shown with repr (``'HOM  '``) reads as it is.
        super().__init__(_LINE_BREAKS.sub(" ", str(message)).strip())


class DataError(TariffsimError, ValueError):
    """Input data is missing, malformed or violates an accounting identity."""


class ScenarioError(TariffsimError, ValueError):
    """A scenario file or option is invalid."""


class ConvergenceError(TariffsimError, RuntimeError):
    """A solver did not reach its tolerance; carries the residual reached."""

    def __init__(self, message: str, *, residual: float | None = None, iterations: int | None = None) -> None:
        super().__init__(message)
        self.residual = residual
        self.iterations = iterations


class TariffsimWarning(UserWarning):
    """Base class of tariffsim's warnings."""


class FinalDemandClippedWarning(TariffsimWarning):
    """Derived final demand (spending minus intermediate use) was negative and was clipped to 0."""


class ZeroFlowWarning(TariffsimWarning):
    """A country-sector has no flows at all; its prices are undefined and held fixed."""


class ElasticityFallbackWarning(TariffsimWarning):
    """An elasticity was not found at the requested level and a coarser or default value was used."""


class CornerSolutionWarning(TariffsimWarning):
    """An optimiser stopped at a bound: the 'optimum' is a corner, not an interior solution."""


class ImplausibleResultWarning(TariffsimWarning):
    """Model cells failed a plausibility check (e.g. PE imports growing more than tenfold) and are listed, not charted."""


class ScheduledDateWarning(TariffsimWarning):
    """A tariff schedule was asked for a date after today: its measures then are scheduled, not yet in force."""


__all__ = [
    "show_code",
    "TariffsimError",
    "DataError",
    "ScenarioError",
    "ConvergenceError",
    "TariffsimWarning",
    "FinalDemandClippedWarning",
    "ZeroFlowWarning",
    "ElasticityFallbackWarning",
    "CornerSolutionWarning",
    "ImplausibleResultWarning",
    "ScheduledDateWarning",
]
