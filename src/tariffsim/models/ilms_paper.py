"""The scenarios and variants of Ignatenko, Macedoni, Lashkaripour and Simonovska (2025), one call each.

Each scenario is the tariff array of the authors' code (``main_baseline.m``,
``main_deficit.m``, ``main_io.m``) solved with :mod:`tariffsim.models.ilms`::

    >>> from tariffsim.models import ilms_paper
    >>> eq = ilms_paper.scenario("ustr").equilibrium            # Table 1, case 1
    >>> round(float(100 * (eq.welfare_hat[eq.regions.index("USA")] - 1)), 2)
    1.13

Scenarios (:data:`SCENARIOS`): ``ustr`` (USTR tariffs, no retaliation), ``optimal``
(closed-form optimal uniform US tariff), ``reciprocal_retaliation`` (every partner
mirrors the US rate on it), ``optimal_retaliation`` (every partner levies the
rest-of-world closed-form optimal tariff on the US), ``optimal_and_retaliation``
(both closed forms, the authors' panel 4 of Table 2). Revenue recycling, the
variants (:data:`VARIANTS`) and the deficit closure are options, so "the lump-sum
rebate" is ``scenario("ustr", variant="lump_sum")``. The numerical optimum and the
Nash war go through the model-agnostic strategy layer, which sits above this module::

    ts.optimal_tariff(paper_model(), "USA", structure="uniform", bounds=(0, 1))      # exact optimum
    ts.nash_tariffs(paper_model(), ["USA", "CHN", "CAN", "MEX", "JPN"], structure="uniform", bounds=(0, 1))

Bound the rates at 100%: beyond it welfare is not concave in a country's own tariff
(for the US it rises again between 100% and 200%, as its wage and hence its deficit,
fixed as a share of world income, grow), and L-BFGS-B then steps to the upper corner.

References
----------
Ignatenko, A., A. Lashkaripour, L. Macedoni and I. Simonovska (2025), "Making America
Great Again? The Economic Impacts of Liberation Day Tariffs", Journal of International
Economics 157, 104138; replication package (July 2025).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

import numpy as np

from ..errors import ScenarioError
from ..world import World
from .base import BoundModel, bind_model
from .ilms import ILMSEquilibrium, closed_form_optimal_tariff, closed_form_retaliation, retaliation_tariffs
from .ilms_data import ilms_world, ustr_tariffs

#: Model variants of the paper as :func:`tariffsim.models.ilms.bind` options.
VARIANTS: dict[str, dict[str, Any]] = {
    "baseline": {},                                   # eps 4, kappa 0.5, phi = 1 + phi~, income-tax relief
    "lump_sum": {"revenue": "lump_sum"},              # Table 1 case 2
    "eaton_kortum": {"nu": 0.0},                      # nu = 0 => phi = 1 (Table 9, Table 10 "fixed transfers")
    "eps8": {"eps": 8.0},                             # psi and phi keep their eps = 4 values, as coded
    "pass_through_0.25": {"pass_through_offset": 0.25},   # phi = 0.25 + phi~ (Table 9)
    "pass_through_0.5": {"pass_through_offset": 0.5},     # phi = 0.5 + phi~
    "io": {"value_added_share": 0.49},                # one-sector roundabout production (main_io.m)
}
SCENARIOS = ("ustr", "optimal", "reciprocal_retaliation", "optimal_retaliation", "optimal_and_retaliation")
#: The authors' EU group (``id_EU`` of main_baseline.m): 25 members; Czechia and Slovakia are
#: not in their index list (both are EU members, TEU art. 52; kept out to match their averages).
EU_AUTHORS = ("AUT", "BEL", "BGR", "CYP", "DEU", "DNK", "ESP", "EST", "FIN", "FRA", "GRC", "HRV", "HUN", "IRL",
              "ITA", "LTU", "LUX", "LVA", "MLT", "NLD", "POL", "PRT", "ROU", "SVN", "SWE")


@dataclass(frozen=True, eq=False)
class PaperScenario:
    """One scenario of the paper: its name, variant, tariffs and solved equilibrium."""

    name: str
    variant: str
    tariffs: np.ndarray
    equilibrium: ILMSEquilibrium
    notes: str = ""

    def summary(self):
        return self.equilibrium.summary()


@lru_cache(maxsize=1)
def paper_world() -> World:
    """The authors' 194-country baseline (:func:`tariffsim.models.ilms_data.ilms_world`), built once."""
    return ilms_world()


def paper_model(variant: str = "baseline", *, world: World | None = None, closure: str = "fixed",
                **options: Any) -> BoundModel:
    """The ILMS model of ``variant`` (:data:`VARIANTS`) bound to the paper's world; ``options`` add to it."""
    if variant not in VARIANTS:
        raise ScenarioError(f"ilms2025 variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    return bind_model(paper_world() if world is None else world, "ilms2025", closure=closure,
                      **{**VARIANTS[variant], **options})


def scenario_tariffs(model: BoundModel, name: str, *, country: str = "USA") -> np.ndarray:
    """(N, N, 1) tariffs of scenario ``name`` (:data:`SCENARIOS`) for ``model``'s world."""
    w = model.world
    k = w.index(country)
    if name not in SCENARIOS:
        raise ScenarioError(f"ilms2025 scenario must be one of {', '.join(SCENARIOS)}, got {name!r}")
    if name in ("optimal", "optimal_and_retaliation"):
        t = np.zeros(w.flows.shape)
        # Table 2 panel 4 evaluates delta over income Y - X_ii instead of E - X_ii (main_baseline.m l.237)
        t[:, k, 0] = closed_form_optimal_tariff(model, country, base="income" if name == "optimal_and_retaliation"
                                                else "expenditure")
        t[k, k, 0] = 0.0
    else:
        t = ustr_tariffs(w, importer=country)
    if name == "reciprocal_retaliation":
        t = retaliation_tariffs(t, country, w.regions)
    elif name in ("optimal_retaliation", "optimal_and_retaliation"):
        t = retaliation_tariffs(t, country, w.regions, closed_form_retaliation(model, country))
    return t


def scenario(name: str = "ustr", variant: str = "baseline", **options: Any) -> PaperScenario:
    """Solve scenario ``name`` of the paper under ``variant`` (module docstring)."""
    m = paper_model(variant, **options)
    t = scenario_tariffs(m, name)
    return PaperScenario(name=name, variant=variant, tariffs=t, equilibrium=m.solve(t))


# --------------------------------------------------------------------------- tables
def _row(eq: ILMSEquilibrium, country: str) -> dict[str, float]:
    k = eq.regions.index(country)
    return {key: float(v[k]) for key, v in eq.table().items()}


def table_rows(eq: ILMSEquilibrium, *, countries=("USA",), groups: Mapping[str, Any] | None = None,
               welfare_mean: bool = False) -> dict[str, dict[str, float]]:
    """Rows of the authors' tables: named countries, then group averages (absorption-weighted;
    ``welfare_mean``: simple mean of welfare, as Table 10 prints it)."""
    rows = {c: _row(eq, c) for c in countries}
    for label, members in (groups or {"non-US": None}).items():
        avg = eq.average(members)
        if welfare_mean:
            avg["welfare"] = eq.average(members, weights="mean")["welfare"]
        rows[label] = avg
    return rows


def _difference(b: ILMSEquilibrium, a: ILMSEquilibrium, groups, welfare_mean: bool) -> dict[str, dict[str, float]]:
    """``temp_b - temp_a`` of main_deficit.m: percentage changes relative to the rebalanced no-tariff economy."""
    rb = table_rows(b, groups=groups, welfare_mean=welfare_mean)
    ra = table_rows(a, groups=groups, welfare_mean=welfare_mean)
    return {r: {k: rb[r][k] - ra[r][k] for k in rb[r]} for r in rb}


def us_balanced_deficits(model: BoundModel, country: str = "USA") -> np.ndarray:
    """Table 10's "balanced trade" deficits: each country's deficit less its imbalance with ``country``,
    and zero for ``country`` (main_deficit.m l.78-79)."""
    X = np.asarray(model.world.flows[:, :, 0])
    k = model.world.index(country)
    E = X.sum(axis=0)
    from .ilms_data import calc_income

    T = E - calc_income(X, np.asarray(model.options["nu"]))
    d = T - (X[k, :] - X[:, k])
    d[k] = 0.0
    return d


def table10(groups=None) -> dict[str, dict[str, dict[str, float]]]:
    """Table 10 (deficit closures), as main_deficit.m computes it.

    (1) "fixed transfers": the Eaton-Kortum variant (nu = 0, phi = 1) under USTR tariffs;
    (2) "balanced": deficits less the imbalance with the US, US balanced, reported as the
    difference from the same economy without tariffs; (3), (4): the same with every partner
    levying ``1/((1+eps) phi - 1)`` on the US (phi = 1, resp. the US phi). Non-US welfare is a
    simple mean, as printed (the code's panel (4) prints panel (3)'s mean; see docs/ilms2025.md).
    """
    ek = paper_model("eaton_kortum")
    us = ek.world.index("USA")
    t_ustr = ustr_tariffs(ek.world)
    out = {"fixed_pre": table_rows(ek.solve(t_ustr), groups=groups, welfare_mean=True)}
    t_ret = retaliation_tariffs(t_ustr, "USA", ek.world.regions, 1.0 / ((1.0 + ek.options["eps"]) * 1.0 - 1.0))
    out["fixed_post"] = table_rows(ek.solve(t_ret), groups=groups, welfare_mean=True)
    base = paper_model()
    bal = paper_model(deficits=us_balanced_deficits(base), strict_deficits=False)
    zero = bal.solve(np.zeros(bal.world.flows.shape))
    out["balanced_pre"] = _difference(bal.solve(t_ustr), zero, groups, True)
    phi_us = float(np.asarray(base.options["phi"])[us])
    t_ret_b = retaliation_tariffs(t_ustr, "USA", bal.world.regions, 1.0 / ((1.0 + base.options["eps"]) * phi_us - 1.0))
    out["balanced_post"] = _difference(bal.solve(t_ret_b), zero, groups, True)
    return out


__all__ = ["EU_AUTHORS", "PaperScenario", "SCENARIOS", "VARIANTS", "paper_model", "paper_world", "scenario", "scenario_tariffs", "table10", "table_rows",
           "us_balanced_deficits"]
