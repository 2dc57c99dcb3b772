"""Scenario files: the YAML format that says what `tariffsim run` computes.

A scenario file names a world (a bundled dataset or the user's tidy files), a
policy timeline (named US tariff schedules by date), model choices (GE closure,
elasticity overrides, product-level PE), a list of GE counterfactuals (a
schedule at a date plus extra measures and transfers), strategy tasks (optimal
tariffs, Nash wars, bargaining), Monte Carlo settings and outputs. See
``docs/scenarios.md`` for the reference and ``examples/`` for commented files.

Safety (docs/design.md §10): the file is read by :mod:`tariffsim.safe_load` (regular
file, at most 1 MiB, UTF-8, a safe YAML loader with limits on depth, nodes and
aliases, no duplicate keys) and validated by pydantic v2 models that forbid
unknown fields; nothing a user writes is evaluated. Every problem raises
:class:`~tariffsim.errors.ScenarioError` with a one-line message
``FILE:LINE: FIELD: what is wrong``. Paths resolve relative to the scenario file;
``outputs.dir`` must stay inside the scenario's folder (``--out`` may go anywhere).

Rates are fractions (``0.24``) or percent strings (``"24%"``) in ASCII digits
(:data:`RATE_GRAMMAR`); they must be greater than -100%. Money is in USD billions
per year (``usd_bn``).
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Iterable, Literal, Mapping, Sequence

import yaml
from pydantic import (
    BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator,
)

from . import safe_load
from .errors import ScenarioError

__all__ = [
    "Scenario", "WorldSpec", "ModelSpec", "GESpec", "PESpec", "PolicySpec", "TimelineEntry", "Measure",
    "Transfer", "Counterfactual", "OptimalTask", "NashTask", "BargainTask", "BalancingSpec", "StrategySpec",
    "MonteCarloSpec", "FairnessSpec", "OutputSpec", "load_scenario", "parse_scenario", "scenario_schema",
    "builtin_scenario_path", "list_builtin_scenarios", "parse_rate", "DEFAULT_SCENARIO", "RATE_GRAMMAR",
    "MonteCarloOptions",
]

#: The built-in scenario that `tariffsim run` uses without a file.
DEFAULT_SCENARIO = "us_japan_2025_2026"
#: former names of built-in scenarios -> current name
SCENARIO_ALIASES = {"us_japan_2025": "us_japan_2025_2026"}
#: the dates a scenario's ``as_of`` may take: the built-in US schedule's range (tariffsim.policy ``latest``)
AS_OF_RANGE = (_dt.date(2025, 1, 1), _dt.date(2026, 12, 31))
AsOf = Literal["as_of"]


def _date_or_as_of(v: Any) -> Any:
    """A date (``YYYY-MM-DD``) or the word ``as_of`` (the scenario's as-of date); anything else is one clear error."""
    if v == "as_of" or isinstance(v, _dt.date):
        return v
    if isinstance(v, str):
        try:
            return _dt.date.fromisoformat(v.strip())
        except ValueError:
            pass
    raise ValueError(f"Input should be a valid date (YYYY-MM-DD) or 'as_of', got {v!r}")


#: a date, or ``as_of`` (resolved by :meth:`Scenario.resolved`)
DateOrAsOf = Annotated[_dt.date | AsOf, BeforeValidator(_date_or_as_of)]


# --------------------------------------------------------------------------- value types
#: The grammar of a rate written as text: ASCII digits, an optional sign, decimal point and
#: exponent, then an optional ``%`` (``"24%"``, ``"-0.5%"``, ``"0.24"``, ``"1e-3"``). Full-width
#: or other non-ASCII digits (``"２４%"``), which Python's ``float`` would accept, are refused.
RATE_GRAMMAR = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ ]*%?"
_RATE_RE = re.compile(r"[ ]*(" + RATE_GRAMMAR[:-len("[ ]*%?")] + r")[ ]*(%?)[ ]*", re.ASCII)


def parse_rate(v: Any) -> float:
    """A tariff rate from a fraction (``0.24``) or a percent string (``"24%"``); must be > -100%.

    Strings follow :data:`RATE_GRAMMAR` (ASCII digits only), plus ``nan``/``inf``
    which are refused as not finite.

    >>> parse_rate("24%"), parse_rate(0.15), parse_rate("0.24")
    (0.24, 0.15, 0.24)
    """
    if isinstance(v, bool):
        raise ValueError("a rate must be a number (0.24) or a percent string ('24%'), not a boolean")
    if isinstance(v, str):
        m = _RATE_RE.fullmatch(v)
        if m:
            x = float(m.group(1)) / (100.0 if m.group(2) else 1.0)
        elif v.strip().lower().lstrip("+-").rstrip("%").strip() in ("nan", "inf", "infinity"):
            x = float("nan")
        elif any(ch.isdigit() and not ch.isascii() for ch in v):
            raise ValueError(f"not a rate: {v!r} has non-ASCII digits (write 0.24 or '24%' in ASCII)")
        else:
            raise ValueError(f"not a rate: {v!r} (write 0.24 or '24%')")
    elif isinstance(v, (int, float)):
        x = float(v)
    else:
        raise ValueError(f"not a rate: {v!r} (write 0.24 or '24%')")
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError("rate must be finite")
    if x <= -1.0:
        raise ValueError(f"tariff {100 * x:g}% is not allowed: a rate must be greater than -100%")
    if x > 100.0:
        raise ValueError(f"tariff {100 * x:g}% is implausible (> 10000%); rates are fractions: 0.24 = 24%")
    return round(x, 12)


Rate = Annotated[float, BeforeValidator(parse_rate)]
Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64)]
StrList = Annotated[list[str], BeforeValidator(lambda v: [v] if isinstance(v, (str, int)) else v)]


def _codes(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (str, int)):
        return [str(v)]
    if isinstance(v, list):
        return [str(x) for x in v]
    return v


Codes = Annotated[list[str] | None, BeforeValidator(_codes)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


# --------------------------------------------------------------------------- sections
class WorldSpec(_Strict):
    """The GE economy: a bundled dataset (``tariffsim data list``) or a folder of the user's tidy files."""

    dataset: str | None = Field("world_io_7x44_2017", description="Bundled world dataset name.")
    files: str | None = Field(None, description="Folder of tidy CSV/Parquet tables (flows.csv required), relative to the scenario file.")
    rebase: bool | None = Field(None, description="Re-solve the baseline at its own tariffs (default: dataset's choice).")

    @model_validator(mode="after")
    def _one_source(self) -> "WorldSpec":
        if self.files is not None and "dataset" in self.model_fields_set and self.dataset is not None:
            raise ValueError("give either dataset or files, not both")
        return self


class GESpec(_Strict):
    """Caliendo-Parro GE options."""

    closure: Literal["fixed", "balanced"] = Field("fixed", description="Deficits fixed at baseline or balanced.")
    theta_scale: float = Field(1.0, gt=0, le=20, description="Multiply every trade elasticity by this factor (0.01 to 20).")
    theta: dict[str, Annotated[float, Field(gt=0, le=100)]] = Field(default_factory=dict, description="Trade elasticity by sector code (overrides).")

    @field_validator("theta_scale")
    @classmethod
    def _theta_scale_floor(cls, v: float) -> float:
        # The solver is exact down to theta -> 0 (models.ge.calc_log_price), but a scale
        # below 1/100 makes every elasticity ~0: a slip (1e-300 was tried), not a scenario.
        if v < 0.01:
            raise ValueError(f"must be at least 0.01 (got {v:g}: every trade elasticity would be ~0)")
        return v


class PESpec(_Strict):
    """Product-level partial equilibrium (US imports by HS10 product)."""

    enabled: bool = True
    schedule: str = Field("japan-deal-2025-09", description="Named schedule to simulate.")
    date: DateOrAsOf = Field(_dt.date(2025, 9, 16), description="Date at which the schedule is read (`as_of`: the scenario's as-of date).")
    partner: str = Field("JPN", description="Partner whose products are shown.")
    top: int = Field(15, ge=1, le=200, description="Number of products in the top-changes table.")


class ModelSpec(_Strict):
    family: Literal["caliendo_parro", "ossa2014", "ilms2025"] = Field(
        "caliendo_parro", description="GE model family (tariffsim.models.base.FAMILIES).")
    options: dict[str, Any] = Field(default_factory=dict, description="The family's own options for tariffsim.bind_model "
                                    "(e.g. revenue: lump_sum for ilms2025).")
    ge: GESpec = Field(default_factory=GESpec)
    pe: PESpec = Field(default_factory=PESpec)


class TimelineEntry(_Strict):
    """A point of the policy timeline: a named schedule read at a date (``as_of``: the scenario's as-of date)."""

    date: DateOrAsOf
    schedule: str = Field("latest", description="Named schedule (tariffsim.policy.builtin_schedule).")
    label: str | None = None


class PolicySpec(_Strict):
    """US tariff policy: the baseline and the ETR timeline."""

    baseline: str | None = Field("baseline-2024", description="Named schedule whose tariffs define the GE baseline (None: the world's own).")
    baseline_date: _dt.date = Field(_dt.date(2024, 12, 31))
    partner: str = Field("JPN", description="Partner highlighted in the ETR timeline.")
    as_of: _dt.date | None = Field(None, description="The report's 'now' (default: today's date, within 2025-01-01.."
                                   "2026-12-31); timeline entries after it are dropped, `as_of` dates take it. "
                                   "`tariffsim run --as-of DATE` sets it.")
    timeline: list[TimelineEntry] = Field(default_factory=list)

    @field_validator("as_of")
    @classmethod
    def _as_of_in_range(cls, v: _dt.date | None) -> _dt.date | None:
        lo, hi = AS_OF_RANGE
        if v is not None and not lo <= v <= hi:
            raise ValueError(f"as_of {v.isoformat()} is outside the US schedule's range {lo.isoformat()}..{hi.isoformat()}")
        return v


class Measure(_Strict):
    """Set or add a tariff: ``importer`` on ``exporter`` (default: every partner) in ``sectors`` (default: all)."""

    importer: StrList
    exporter: Codes = None
    sectors: Codes = Field(None, description="Sector codes, ranges ('1-22') or names of sector_groups.")
    add: Rate | None = Field(None, description="Percentage points to add (fraction or '24%').")
    set: Rate | None = Field(None, description="New rate (fraction or '24%').")

    @model_validator(mode="after")
    def _one_of(self) -> "Measure":
        if (self.add is None) == (self.set is None):
            raise ValueError("give exactly one of add or set")
        # A measure that cannot change anything is a mistake, not a no-op (issue 21).
        if not self.importer:
            raise ValueError("importer: the list is empty, so this measure changes nothing")
        if self.exporter is not None:
            if not self.exporter:
                raise ValueError("exporter: the list is empty, so this measure changes nothing "
                                 "(leave exporter out for every partner)")
            own = [c for c in self.importer if c in self.exporter]
            if own:
                raise ValueError(f"{own[0]} is both importer and exporter: a country's tariff on its own goods "
                                 f"is always 0, so the measure cannot change it")
        if self.sectors is not None and not self.sectors:
            raise ValueError("sectors: the list is empty, so this measure changes nothing "
                             "(leave sectors out for every sector)")
        return self


class Transfer(_Strict):
    """A lump-sum transfer per year (USD bn): ``from`` pays ``to``.

    A pledge (``pledge_usd_bn``) counts, by default, as the investment vehicle's transfer
    equivalent under the MOU cash-flow split (:func:`tariffsim.strategy.investment.investment_transfer`
    with its documented defaults: the pledger's net cost as a level annuity over the horizon);
    with ``grant_share`` given, as the older ``pledge_usd_bn * grant_share / years``.
    """

    from_: str = Field(alias="from")
    to: str
    usd_bn: float | None = Field(None, ge=0)
    pledge_usd_bn: float | None = Field(None, ge=0)
    grant_share: float | None = Field(None, ge=0, le=1)
    years: float = Field(1.0, gt=0)
    label: str | None = None

    @model_validator(mode="after")
    def _amount(self) -> "Transfer":
        if (self.usd_bn is None) == (self.pledge_usd_bn is None):
            raise ValueError("give exactly one of usd_bn or pledge_usd_bn")
        if self.from_ == self.to:
            raise ValueError("from and to must differ")
        return self

    @property
    def annual_usd_bn(self) -> float:
        if self.usd_bn is not None:
            return float(self.usd_bn)
        if self.grant_share is None:
            from .strategy.investment import investment_transfer

            return float(investment_transfer(float(self.pledge_usd_bn)).transfer_equivalent_usd_bn)
        return float(self.pledge_usd_bn) * float(self.grant_share) / float(self.years)


class Counterfactual(_Strict):
    """One GE counterfactual: tariffs = schedule at date (if any), then ``measures`` in order, plus transfers."""

    name: Name
    label: str | None = None
    schedule: str | None = Field(None, description="Named US schedule applied to the world's US import tariffs.")
    date: DateOrAsOf | None = Field(None, description="Date the schedule is read at (`as_of`: the scenario's as-of date).")
    base: Name | None = Field(None, description="Start from another counterfactual's tariffs (and transfers).")
    measures: list[Measure] = Field(default_factory=list)
    transfers: list[Transfer] = Field(default_factory=list)
    closure: Literal["fixed", "balanced"] | None = None

    @model_validator(mode="after")
    def _dated(self) -> "Counterfactual":
        if self.schedule is not None and self.date is None:
            raise ValueError("schedule needs a date")
        return self


def _upper_bound(v: float) -> float:
    """Optimal and Nash tariffs are searched in [0, upper]: ``upper`` must be above the lower bound 0."""
    if not v > 0.0:
        raise ValueError(f"upper bound {100 * v:g}% must be above the lower bound 0%")
    return v


class OptimalTask(_Strict):
    """Best response of ``country`` with the other tariffs at counterfactual ``against``."""

    name: Name
    country: str
    structure: Literal["uniform", "by_sector", "by_partner", "bilateral"] = "by_partner"
    exporters: Codes = Field(None, description="Only a uniform tariff on these partners is chosen (retaliation); default: all, by structure.")
    against: Name | None = Field(None, description="Counterfactual whose tariffs the others keep (default: baseline).")
    upper: Rate = Field(2.0, description="Upper bound on the chosen rates (the lower bound is 0).")
    label: str | None = None

    @field_validator("upper")
    @classmethod
    def _above_lower(cls, v: float) -> float:
        return _upper_bound(v)


class NashTask(_Strict):
    """A Nash tariff war between ``players`` (others keep the tariffs of ``start``)."""

    name: Name
    players: StrList
    structure: Literal["uniform", "by_sector", "by_partner", "bilateral"] = "uniform"
    start: Name | None = None
    upper: Rate = Field(2.0, description="Upper bound on the rates (the lower bound is 0).")
    label: str | None = None

    @field_validator("upper")
    @classmethod
    def _above_lower(cls, v: float) -> float:
        return _upper_bound(v)


class BargainTask(_Strict):
    """Nash bargaining between two players over tariffs and a transfer; the deal is placed on the frontier."""

    name: Name
    players: StrList = Field(default_factory=lambda: ["USA", "JPN"])
    beta: float = Field(0.5, ge=0, le=1, description="Bargaining weight of the first player.")
    disagreement: str = Field("nash", description="'nash' (bilateral Nash war), 'threat' (April 2025 US tariffs) or a counterfactual name.")
    deal: Name | None = Field(None, description="Counterfactual that is the actual deal, placed relative to the frontier.")
    security_value_usd_bn: dict[str, float] | None = Field(None, description="Value a player loses at disagreement (USD bn/yr); default: the sourced defaults of tariffsim.bargain.")
    frontier_points: int = Field(21, ge=3, le=201)
    options: dict[str, Any] = Field(default_factory=dict, description="Extra keyword options passed to tariffsim.bargain.")
    label: str | None = None


class DealLedgerSpec(_Strict):
    """The US-Japan deal clause by clause (tariffsim.deal_section) on each date."""

    enabled: bool = True
    dates: list[DateOrAsOf] = Field(default_factory=lambda: [_dt.date(2025, 9, 16), "as_of"],
                                        description="Dates of the ledger and the participation margins (`as_of`: the scenario's as-of date).")


class BalancingSpec(_Strict):
    """GE balancing tariff: ``importer``'s tariff on ``exporter`` that zeroes their bilateral deficit."""

    importer: str = "USA"
    exporter: str = "JPN"
    enabled: bool = True


class StrategySpec(_Strict):
    optimal: list[OptimalTask] = Field(default_factory=list)
    nash: list[NashTask] = Field(default_factory=list)
    bargain: list[BargainTask] = Field(default_factory=list)
    balancing: BalancingSpec | None = Field(default_factory=BalancingSpec)
    deal_ledger: DealLedgerSpec | None = Field(None, description="The deal clause by clause on dates (US-Japan worlds).")


class MonteCarloOptions(_Strict):
    """Extra options of :func:`tariffsim.monte_carlo` (defaults are the function's own).

    ``dict(options)`` gives the keyword arguments.
    """

    theta_sd: Annotated[float, Field(ge=0, le=100)] | dict[str, Annotated[float, Field(ge=0, le=100)]] | None = Field(
        None, description="Standard deviation of theta: a number or {sector: sd} (default: published SEs, else 25%).")
    chunk_size: int | None = Field(None, ge=1, le=100_000, description="Draws per compiled batch (memory bound).")
    max_failed_share: float = Field(0.05, ge=0, le=1, description="Largest share of draws that may fail to converge.")


class MonteCarloSpec(_Strict):
    """Uncertainty bands: draws of the trade elasticities around their estimates."""

    draws: int = Field(64, ge=2, le=100_000)
    seed: int = Field(0, ge=0)
    counterfactuals: list[Name] | None = Field(None, description="Which counterfactuals get bands (default: all tariff ones).")
    options: MonteCarloOptions = Field(default_factory=MonteCarloOptions, description="Extra keyword options for tariffsim.monte_carlo.")


class FairnessSpec(_Strict):
    pair: tuple[str, str] = ("USA", "JPN")
    date: DateOrAsOf = Field(_dt.date(2025, 9, 16), description="Date of the policy-layer comparison (`as_of`: the scenario's as-of date).")
    schedule: str = "latest"


class OutputSpec(_Strict):
    report: bool = True
    json_: bool = Field(True, alias="json")
    tables: list[Literal["parquet", "csv"]] = Field(default_factory=lambda: ["parquet", "csv"])
    dir: str | None = Field(None, description="Output folder (relative to the scenario file); `--out` overrides.")


class Scenario(_Strict):
    """A tariffsim scenario (YAML). See docs/scenarios.md."""

    version: Literal[1] = 1
    name: Name = "scenario"
    title: str | None = None
    description: str | None = None
    world: WorldSpec = Field(default_factory=WorldSpec)
    sector_groups: dict[Name, list[str]] = Field(default_factory=dict, description="Named lists of sector codes/ranges.")
    model: ModelSpec = Field(default_factory=ModelSpec)
    policy: PolicySpec = Field(default_factory=PolicySpec)
    counterfactuals: list[Counterfactual] = Field(default_factory=list)
    strategy: StrategySpec = Field(default_factory=StrategySpec)
    monte_carlo: MonteCarloSpec | None = None
    fairness: FairnessSpec | None = Field(default_factory=FairnessSpec)
    outputs: OutputSpec = Field(default_factory=OutputSpec)

    _source: "_SourceMap | None" = PrivateAttr(default=None)
    _path: Path | None = PrivateAttr(default=None)

    @field_validator("sector_groups")
    @classmethod
    def _groups_nonempty(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for k, codes in v.items():
            if not codes:
                raise ValueError(f"sector group {k!r} is empty")
        cycle = _group_cycle(v)
        if cycle:
            raise ValueError("sector groups name each other in a cycle: group " + " -> ".join(cycle))
        return v

    # ------------------------------------------------------------ locations
    @property
    def path(self) -> Path | None:
        """The scenario file (None for a scenario built from text or a dict)."""
        return self._path

    @property
    def base_dir(self) -> Path:
        """Folder that relative paths resolve against."""
        return self._path.parent if self._path is not None else Path.cwd()

    def resolve(self, p: str | Path) -> Path:
        """A path from the scenario, resolved relative to the scenario file (a symlink loop stays unresolved)."""
        p = Path(p).expanduser()
        return _resolved(p if p.is_absolute() else self.base_dir / p)

    def output_dir(self, out: str | Path | None = None) -> Path | None:
        """Where a run writes: ``out`` (``--out``, anywhere) or ``outputs.dir`` (None if neither).

        ``outputs.dir`` resolves relative to the scenario file and must stay inside the
        scenario's folder tree: a scenario someone sends you cannot write elsewhere
        (``outputs.dir: ../../elsewhere``) unless you pass ``--out``.
        """
        if out is not None:
            return _resolved(Path(out).expanduser())
        if self.outputs.dir is None:
            return None
        d = self.resolve(self.outputs.dir)
        base = _resolved(self.base_dir)
        if d != base and base not in d.parents:
            raise self.error(("outputs", "dir"), f"{self.outputs.dir!r} resolves to {d}, outside the scenario's folder "
                                                 f"{base}; pass --out to write there")
        return d

    def error(self, loc: Sequence[Any], message: str) -> ScenarioError:
        """A :class:`ScenarioError` ``FILE:LINE: field: message`` for field path ``loc``."""
        return ScenarioError(_format(self._path, self._source, tuple(loc), message))

    def input_paths(self) -> list[Path]:
        """Files this scenario reads (outputs must never overwrite them)."""
        out = [self._path] if self._path is not None else []
        if self.world.files:
            out.append(self.resolve(self.world.files))
        return [p for p in out if p is not None]

    # ------------------------------------------------------------ dates
    def as_of_date(self) -> _dt.date:
        """The report's 'now': ``policy.as_of``, else today's date clipped to :data:`AS_OF_RANGE`."""
        if self.policy.as_of is not None:
            return self.policy.as_of
        lo, hi = AS_OF_RANGE
        return min(max(_dt.date.today(), lo), hi)

    def date_of(self, d: _dt.date | str | None) -> _dt.date | None:
        """A scenario date with ``"as_of"`` resolved."""
        return self.as_of_date() if d == "as_of" else d

    def with_as_of(self, d: _dt.date | str) -> "Scenario":
        """A copy whose as-of date is ``d`` (``tariffsim run --as-of``); a date outside the range is an error."""
        try:
            day = _dt.date.fromisoformat(str(d))
        except ValueError:
            raise ScenarioError(f"--as-of: {d!r} is not a date (YYYY-MM-DD)") from None
        lo, hi = AS_OF_RANGE
        if not lo <= day <= hi:
            raise ScenarioError(f"--as-of: {day.isoformat()} is outside the US schedule's range {lo.isoformat()}..{hi.isoformat()}")
        new = self.model_copy(update={"policy": self.policy.model_copy(update={"as_of": day})})
        new._source, new._path = self._source, self._path
        return new

    def resolved(self) -> "Scenario":
        """A copy for running: every ``as_of`` date replaced by :meth:`as_of_date`, timeline entries after it dropped."""
        day = self.as_of_date()
        seen, timeline = set(), []
        for e in self.policy.timeline:
            d = self.date_of(e.date)
            if d <= day and (d, e.schedule) not in seen:       # an `as_of` entry on an entry's own date is that entry
                seen.add((d, e.schedule))
                timeline.append(e.model_copy(update={"date": d}))
        pol = self.policy.model_copy(update={"as_of": day, "timeline": timeline})
        cfs = [c.model_copy(update={"date": self.date_of(c.date)}) for c in self.counterfactuals]
        strat = self.strategy
        if strat.deal_ledger is not None:
            strat = strat.model_copy(update={"deal_ledger": strat.deal_ledger.model_copy(
                update={"dates": list(dict.fromkeys(self.date_of(d) for d in strat.deal_ledger.dates))})})
        model = self.model.model_copy(update={"pe": self.model.pe.model_copy(update={"date": self.date_of(self.model.pe.date)})})
        fair = None if self.fairness is None else self.fairness.model_copy(update={"date": self.date_of(self.fairness.date)})
        new = self.model_copy(update={"policy": pol, "counterfactuals": cfs, "strategy": strat, "model": model,
                                      "fairness": fair})
        new._source, new._path = self._source, self._path
        return new

    # ------------------------------------------------------------ helpers
    def counterfactual(self, name: str) -> Counterfactual:
        for c in self.counterfactuals:
            if c.name == name:
                return c
        raise ScenarioError(f"no counterfactual named {name!r}")

    def expand_sectors(self, codes: Iterable[str] | None, known: Sequence[str], loc: Sequence[Any]) -> list[str] | None:
        """Sector codes from codes, ranges ``'1-22'`` and group names; unknown codes raise naming ``loc``."""
        if codes is None:
            return None
        out: list[str] = []
        for k, c in enumerate(codes):
            c = str(c).strip()
            if c in self.sector_groups:
                out.extend(self.expand_sectors(self.sector_groups[c], known, ("sector_groups", c)) or [])
                continue
            m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", c)
            if m and c not in known:
                lo, hi = int(m.group(1)), int(m.group(2))
                rng = [str(x) for x in range(lo, hi + 1)]
                missing = [x for x in rng if x not in known]
                if lo > hi or missing:
                    raise self.error((*loc, k), f"sector range {c!r} does not match the world's sector codes")
                out.extend(rng)
                continue
            if c not in known:
                raise self.error((*loc, k), f"unknown sector {c!r}; known: {_short(known)} or a sector_groups name")
            out.append(c)
        return list(dict.fromkeys(out))

    def check_world(self, regions: Sequence[str], sectors: Sequence[str]) -> None:
        """Check every country and sector code against the world; raises naming field and line."""
        regs = set(regions)

        def chk(code: str, loc: tuple) -> None:
            if code not in regs:
                raise self.error(loc, f"unknown country {code!r}; this world has {', '.join(regions)}")

        for g, codes in self.sector_groups.items():
            self.expand_sectors(codes, sectors, ("sector_groups", g))
        for s in self.model.ge.theta:
            if s not in sectors:
                raise self.error(("model", "ge", "theta", s), f"unknown sector {s!r}")
        for ci, c in enumerate(self.counterfactuals):
            for mi, m in enumerate(c.measures):
                loc = ("counterfactuals", ci, "measures", mi)
                for k, imp in enumerate(m.importer):
                    chk(imp, (*loc, "importer", k) if len(m.importer) > 1 else (*loc, "importer"))
                for k, ex in enumerate(m.exporter or []):
                    chk(ex, (*loc, "exporter", k) if len(m.exporter) > 1 else (*loc, "exporter"))
                self.expand_sectors(m.sectors, sectors, (*loc, "sectors"))
            for ti, t in enumerate(c.transfers):
                chk(t.from_, ("counterfactuals", ci, "transfers", ti, "from"))
                chk(t.to, ("counterfactuals", ci, "transfers", ti, "to"))
        for k, t in enumerate(self.strategy.optimal):
            chk(t.country, ("strategy", "optimal", k, "country"))
            for q, e in enumerate(t.exporters or []):
                chk(e, ("strategy", "optimal", k, "exporters", q))
        for k, t in enumerate(self.strategy.nash):
            for q, p in enumerate(t.players):
                chk(p, ("strategy", "nash", k, "players", q))
        for k, t in enumerate(self.strategy.bargain):
            for q, p in enumerate(t.players):
                chk(p, ("strategy", "bargain", k, "players", q))
            for p in t.security_value_usd_bn or {}:
                chk(p, ("strategy", "bargain", k, "security_value_usd_bn", p))
        if self.strategy.balancing is not None:
            chk(self.strategy.balancing.importer, ("strategy", "balancing", "importer"))
            chk(self.strategy.balancing.exporter, ("strategy", "balancing", "exporter"))
        if self.fairness is not None:
            for q, p in enumerate(self.fairness.pair):
                chk(p, ("fairness", "pair", q))

    def _check_references(self) -> None:
        names: dict[str, int] = {}
        for k, c in enumerate(self.counterfactuals):
            if c.name in names:
                raise self.error(("counterfactuals", k, "name"), f"duplicate counterfactual name {c.name!r}")
            names[c.name] = k
        for k, c in enumerate(self.counterfactuals):
            if c.base is not None:
                if c.base not in names:
                    raise self.error(("counterfactuals", k, "base"), f"unknown counterfactual {c.base!r}")
                if names[c.base] >= k:
                    raise self.error(("counterfactuals", k, "base"), f"base {c.base!r} must be defined before {c.name!r}")
        task_names = set(names)
        for kind, tasks, fields in (("optimal", self.strategy.optimal, ("against",)), ("nash", self.strategy.nash, ("start",)),
                                    ("bargain", self.strategy.bargain, ("deal",))):
            for k, t in enumerate(tasks):
                if t.name in task_names:
                    raise self.error(("strategy", kind, k, "name"), f"duplicate name {t.name!r}")
                task_names.add(t.name)
                for f in fields:
                    ref = getattr(t, f)
                    if ref is not None and ref not in names:
                        raise self.error(("strategy", kind, k, f), f"unknown counterfactual {ref!r}; known: {_short(list(names))}")
        for k, t in enumerate(self.strategy.bargain):
            if len(t.players) != 2:
                raise self.error(("strategy", "bargain", k, "players"), "bargaining needs exactly two players")
            if t.disagreement not in ("nash", "threat") and t.disagreement not in names:
                raise self.error(("strategy", "bargain", k, "disagreement"), f"must be 'nash', 'threat' or a counterfactual name, got {t.disagreement!r}")
        for k, t in enumerate(self.strategy.nash):
            if len(t.players) < 2:
                raise self.error(("strategy", "nash", k, "players"), "a tariff war needs at least two players")
        if self.monte_carlo and self.monte_carlo.counterfactuals:
            for k, n in enumerate(self.monte_carlo.counterfactuals):
                if n not in names:
                    raise self.error(("monte_carlo", "counterfactuals", k), f"unknown counterfactual {n!r}")

    def to_yaml(self) -> str:
        """The scenario as YAML (all defaults filled in)."""
        return yaml.safe_dump(self.model_dump(mode="json", by_alias=True, exclude_none=False), sort_keys=False, allow_unicode=True)


def _group_cycle(groups: Mapping[str, Sequence[str]]) -> list[str] | None:
    """The first cycle among groups that name each other (``['a', 'b', 'a']``), or None (iterative DFS)."""
    state: dict[str, int] = {}          # 1: on the current path, 2: finished
    for start in groups:
        if state.get(start):
            continue
        path: list[str] = [start]
        its = [iter([str(c).strip() for c in groups[start]])]
        state[start] = 1
        while its:
            nxt = next(its[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                its.pop()
                continue
            if nxt not in groups:
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                its.append(iter([str(c).strip() for c in groups[nxt]]))
    return None


# --------------------------------------------------------------------------- source positions
class _SourceMap:
    """Line numbers of YAML nodes by field path, from ``yaml.compose`` (no objects are constructed)."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root = root

    def line(self, loc: Sequence[Any]) -> int | None:
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in loc:
            nxt = None
            if isinstance(node, yaml.MappingNode):
                for knode, vnode in node.value:
                    if str(knode.value) == str(part):
                        nxt = vnode
                        line = knode.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                nxt = node.value[part]
                line = nxt.start_mark.line + 1
            if nxt is None:
                continue  # pydantic adds union tags and the like: skip parts that are not in the file
            node = nxt
        return line


def _resolved(p: Path) -> Path:
    """``p.resolve()``, or the absolute path when it cannot be resolved (a symlink loop: reported when read)."""
    try:
        return p.resolve()
    except (RuntimeError, OSError):
        return Path(os.path.abspath(p))


def _dotted(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _short(items: Sequence[str], n: int = 12) -> str:
    items = list(items)
    return ", ".join(items[:n]) + (", ..." if len(items) > n else "")


def _format(path: Path | None, source: _SourceMap | None, loc: tuple, message: str) -> str:
    where = str(path) if path is not None else "<scenario>"
    line = source.line(loc) if source is not None else None
    if line is not None:
        where += f":{line}"
    return f"{where}: {_dotted(loc)}: {message}"


def _clean_loc(loc: tuple, model: type[BaseModel] = None) -> tuple:
    # Drop pydantic's internal union/validator tags such as 'function-after[...]' or 'list[str]'.
    return tuple(p for p in loc if isinstance(p, int) or not re.search(r"[\[\]()]|^(str|int|float|bool|list|dict|none|tuple)$", str(p)))


def _error_message(err: Mapping[str, Any]) -> str:
    typ = err.get("type", "")
    if typ == "extra_forbidden":
        return "unknown field"
    msg = str(err.get("msg", "invalid value"))
    msg = re.sub(r"^(Value error|Assertion failed), ", "", msg)
    if typ in ("literal_error", "enum"):
        return f"{msg} (got {err.get('input')!r})"
    return msg


# --------------------------------------------------------------------------- loading
def parse_scenario(text: str, *, path: str | Path | None = None, defaults: bool = False) -> Scenario:
    """Parse and validate scenario YAML text; ``path`` names the file in messages and anchors relative paths.

    The text goes through :func:`tariffsim.safe_load.parse_yaml` (size, depth, node and
    alias limits, duplicate keys). An empty or comments-only text is an error unless
    ``defaults`` is true, when it means "every field at its default".
    """
    p = Path(path).resolve() if path is not None else None
    where = str(p) if p is not None else "<scenario>"
    doc = safe_load.parse_yaml(text, where=where, what="scenario file", error=ScenarioError, allow_empty=True)
    return _validate(doc, p, defaults)


def _validate(doc: safe_load.YamlDocument, p: Path | None, defaults: bool) -> Scenario:
    where, data = (str(p) if p is not None else doc.where), doc.data
    if data is None:
        if not defaults:
            raise ScenarioError(f"{where}: scenario file is empty (or only comments); write a scenario "
                                f"(tariffsim scenarios {DEFAULT_SCENARIO} prints one) or pass --defaults to run every default")
        data = {}
    source = _SourceMap(doc.root)
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}:1: (top level): a scenario is a mapping of fields (name:, world:, ...), got {type(data).__name__}")
    try:
        scn = Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = _clean_loc(tuple(err.get("loc", ())))
        more = len(exc.errors()) - 1
        msg = _error_message(err) + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
        raise ScenarioError(_format(p, source, loc, msg)) from None
    scn._source = source
    scn._path = p
    scn._check_references()
    if scn.world.files is not None:
        f = scn.resolve(scn.world.files)
        if not f.exists():
            raise scn.error(("world", "files"), f"file not found: {f}")
    return scn


def load_scenario(path: str | Path | None = None, *, defaults: bool = False) -> Scenario:
    """Load a scenario file (``None`` or a built-in name: the package's bundled scenario).

    The file is read by :func:`tariffsim.safe_load.load_yaml_document`: a regular file of
    at most :data:`~tariffsim.safe_load.MAX_YAML_BYTES`, UTF-8, YAML within the depth, node
    and alias limits, no duplicate keys. An empty or comments-only file is an error unless
    ``defaults`` (``--defaults``) is true.

    Raises
    ------
    ScenarioError: missing file, not a regular file, too large, YAML syntax error, unknown
    field, bad value, bad reference (one line, naming the file, line and field).
    """
    if path is None:
        path = builtin_scenario_path(DEFAULT_SCENARIO)
    elif str(path) in SCENARIO_ALIASES:
        path = builtin_scenario_path(SCENARIO_ALIASES[str(path)])
    p = Path(path)
    if not p.exists() and not p.is_symlink() and p.suffix == "" and str(path) in list_builtin_scenarios():
        p = builtin_scenario_path(str(path))
    p = p.absolute()
    doc = safe_load.load_yaml_document(p, what="scenario file", error=ScenarioError, allow_empty=True)
    return _validate(doc, _resolved(p), defaults)


def _builtin_dir() -> Path:
    return Path(str(resources.files("tariffsim") / "scenarios"))


def list_builtin_scenarios() -> list[str]:
    """Names of the scenarios that ship with tariffsim."""
    d = _builtin_dir()
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def builtin_scenario_path(name: str = DEFAULT_SCENARIO) -> Path:
    """Path of a bundled scenario file."""
    p = _builtin_dir() / f"{SCENARIO_ALIASES.get(name, name)}.yaml"
    if not p.exists():
        raise ScenarioError(f"no built-in scenario {name!r}; known: {', '.join(list_builtin_scenarios())}")
    return p


def scenario_schema() -> dict[str, Any]:
    """JSON schema of the scenario format (what `tariffsim schema` prints)."""
    return Scenario.model_json_schema(by_alias=True)
