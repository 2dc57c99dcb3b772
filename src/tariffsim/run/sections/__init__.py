"""The report's sections, one file each: ``section(ctx) -> SectionResult`` (data only, no rendering).

:data:`SECTIONS` gives the order of computation and of the report; the summary
(:func:`summary_section`) is computed last and shown first.
"""

from __future__ import annotations

from .bargaining import bargain_section
from .counterfactuals import counterfactuals_section
from .deal import deal_section
from .etr import etr_section
from .fairness import fairness_section
from .methods import methods_section
from .products import products_section
from .summary import summary_section
from .war import war_section
from .welfare import welfare_section

#: (key, title, function) in order of computation and presentation (the summary is added first).
SECTIONS = [
    ("etr", "Effective US tariff rates, {timeline_years}", etr_section),
    ("counterfactuals", "The counterfactuals in general equilibrium ({world})", counterfactuals_section),
    ("war", "Trade war: retaliation, optimal tariffs and Nash", war_section),
    ("welfare", "Welfare by country, with uncertainty bands", welfare_section),
    ("products", "Top products: US imports from {pe_partner}", products_section),
    ("bargain", "The negotiated outcome: Pareto frontier and the deal", bargain_section),
    ("deal", "The US-Japan deal, clause by clause, as of {as_of}", deal_section),
    ("fairness", "Fairness: {a} and {b}, tariffs each way, the USTR rate and the balancing tariff", fairness_section),
    ("methods", "Methods and sources", methods_section),
]



def section_title(template: str, ctx) -> str:
    """A section title from :data:`SECTIONS` filled in from the scenario (pair, PE partner, world, timeline years)."""
    from .common import partner_pair

    scn = ctx.scenario
    years = sorted({e.date.year for e in scn.policy.timeline})
    a, b = partner_pair(ctx) if ctx.baseline is not None else ("USA", scn.policy.partner)
    fields = {"as_of": scn.as_of_date().isoformat(), "a": a, "b": b, "pe_partner": scn.model.pe.partner, "world": getattr(ctx.world, "name", ""),
              "timeline_years": (f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])) if years else ""}
    return template.format(**fields).replace(" ()", "").rstrip(", ")


__all__ = ["SECTIONS", "section_title", "summary_section", "etr_section", "counterfactuals_section", "war_section", "welfare_section",
           "products_section", "bargain_section", "deal_section", "fairness_section", "methods_section"]
