"""The report's sections, one file each: ``section(ctx) -> SectionResult`` (data only, no rendering).

:data:`SECTIONS` gives the order of computation and of the report; the summary
(:func:`summary_section`) is computed last and shown first.
"""

from __future__ import annotations

from .bargaining import bargain_section
from .counterfactuals import counterfactuals_section
from .etr import etr_section
from .fairness import fairness_section
from .methods import methods_section
from .products import products_section
from .summary import summary_section
from .war import war_section
from .welfare import welfare_section

#: (key, title, function) in order of computation and presentation (the summary is added first).
SECTIONS = [
    ("etr", "Effective tariff rates, 2024-2025", etr_section),
    ("counterfactuals", "The 2025 tariffs in general equilibrium", counterfactuals_section),
    ("war", "Trade war: retaliation, optimal tariffs and Nash", war_section),
    ("welfare", "Welfare by country, with uncertainty bands", welfare_section),
    ("products", "Top products: US imports from Japan", products_section),
    ("bargain", "The negotiated outcome: Pareto frontier and the deal", bargain_section),
    ("fairness", "Fairness: tariffs each way, the USTR rate and the balancing tariff", fairness_section),
    ("methods", "Methods and sources", methods_section),
]

__all__ = ["SECTIONS", "summary_section", "etr_section", "counterfactuals_section", "war_section", "welfare_section",
           "products_section", "bargain_section", "fairness_section", "methods_section"]
