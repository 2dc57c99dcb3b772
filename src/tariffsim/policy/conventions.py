"""Named measurement conventions of the statutory effective tariff rate.

The law fixes the rates; a statutory ETR also needs conventions where the law depends on facts the customs data do
not record (which entries claim USMCA, which use-conditional exclusions are claimed) or where sources disagree on
a date. Each :class:`Convention` names one such set. The default, ``budgetlab``, follows the documented choices of
The Budget Lab at Yale's tariff-rate tracker (``config/policy_params.yaml`` @ 04bd7d62, copied in
``us_tariff_actions_2026/budgetlab_policy_params_2026-08-10.yaml``), so that the headline agrees with its
"State of U.S. Tariffs" series:

- MFN: the tracker's base rate (ad valorem column-1 rate, specific/compound rates counted as 0, times 1 - the HS2 x
  partner FTA/GSP preference share; Canada/Mexico times 1 - USMCA claim share).
- IEEPA exemptions: the tracker's exempt list as pruned on 2026-06-11 to the lines traceable to the printed Annex II
  enumeration (plus ch. 98, 49, 97), each line from the Annex II revision that first lists it
  (``ieepa_exempt_budgetlab_dated``: electronics from 2025-04-05, the November agricultural lines from 2025-11-13).
- USMCA claim shares by HTS10 for Canada and Mexico: value-weighted over the monthly DataWeb files 2025-07 ..
  2026-02 (``usmca_shares.mode: since``); lines without a measured share claim none (``coalesce(., 0)``).
- IEEPA duties end with the ruling (*Learning Resources v. Trump*, 2026-02-20): last day 2026-02-19, as the State
  of Tariffs series (the tracker's ``ieepa_invalidation_policy_date``).
- Section 338 Canada from 2026-08-22 (CBP, after the 19-21 August suspension of Proc. 11056; the published series
  steps on 2026-08-22); pharmaceuticals 232 from 2026-09-29 for all importers (the tracker's single date).
- 2026 metals annexes I-A/I-B/III: Canadian and Mexican goods outside ch. 72/73/76 pay on the non-USMCA share
  (the tracker's step 7, ``s232_usmca_eligible`` refreshed for annex products).
- Weights: 2024 imports for consumption of goods (chapters 98 and 99 have no GTAP sector in the tracker's
  crosswalk and are not in its weights).
- Auto-parts 232: not on computers (heading 8471; the tracker's applicability share 0 for that note 33(g) line).
- Section 232 semiconductors: only the HTS10 line meeting the note 39(b) performance bands (8471.80.4000; the
  tracker's interim binary ``semi_qualifying_shares`` of 2026-04-28).

Other conventions change one or more of these; :data:`CONVENTIONS` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..errors import ScenarioError

D = date.fromisoformat


@dataclass(frozen=True)
class Convention:
    """A named set of measurement choices for the built-in schedules.

    Parameters
    ----------
    name, description : identification.
    exempt_list : IEEPA product exemptions: ``"budgetlab_dated"`` (the tracker's 2026-06 list: its union pruned to
        the lines traceable to Annex II, each from its Annex II revision's date), ``"budgetlab"`` (the tracker's
        2026-05 union on every date) or ``"annex_ii"`` (EO 14257 Annex II of April
        2025 plus the dated amendments in the data).
    usmca : ``"share_since_2025_07"``, ``"share_2025"``, ``"share_2024"`` (HTS10 claim shares) or ``"flat_2025"``
        (one share per country: Canada 0.67, Mexico 0.68).
    usmca_fill : share given to Canadian/Mexican lines without a measured claim share: ``"zero"`` (the tracker's
        ``coalesce(usmca_share, 0)``) or ``"mean"`` (the country's import-weighted mean share).
    ieepa_last_day : last day IEEPA duties apply (2026-02-19: void from the ruling; 2026-02-23: CBP collection).
    s338_start : first day of Section 338 on Canada.
    pharma_start : first day of Section 232 pharmaceuticals.
    semis : ``"qualifying"`` (8471.80.4000 only) or ``"all"`` (every line of the note 39 list).
    weights : ETR weights: ``"goods"`` (2024 imports of goods, chapters 98/99 left out as in the tracker's GTAP-mapped
        import base) or ``"all"`` (every 2024 import line, chapter 98 returned goods and Census 9999.95 at their
        duty).
    auto_parts_8471 : ``"excluded"`` (heading 8471, computers, pays no auto-parts 232: the tracker's applicability
        share 0 for the bare 8471 line of U.S. note 33(g)) or ``"included"`` (the literal note 33(g) enumeration).
    mfn : ``"budgetlab"`` (the tracker's base rate: statutory ad valorem column-1 rate, specific and compound rates
        counted as 0, times 1 - its HS2 x partner FTA/GSP preference share, Canada/Mexico times 1 - USMCA claim
        share; :func:`tariffsim.policy._data.mfn_budgetlab_rows`; needs HTS10 USMCA shares) or ``"realised_2024"``
        (statutory rate with specific duties at their 2024 AVE; FTA partners pay min(statutory, realised 2024)).
    annex_usmca : ``"claim_shares"`` (the 2026 metals annex I-A/I-B/III duty on Canadian and Mexican goods outside
        ch. 72/73/76 is scaled by 1 - USMCA claim share, as the tracker's ``06_calculate_rates.R`` step 7) or
        ``"none"`` (full annex duty whatever the USMCA status: U.S. note 16 has no USMCA carve-out outside annex
        I-C).
    """

    name: str
    description: str
    exempt_list: str = "budgetlab_dated"
    usmca: str = "share_since_2025_07"
    usmca_fill: str = "zero"
    ieepa_last_day: date = D("2026-02-19")
    s338_start: date = D("2026-08-22")
    pharma_start: date = D("2026-09-29")
    semis: str = "qualifying"
    annex_usmca: str = "claim_shares"
    mfn: str = "budgetlab"
    weights: str = "goods"
    auto_parts_8471: str = "excluded"

    def __post_init__(self) -> None:
        if self.annex_usmca not in ("claim_shares", "none"):
            raise ScenarioError(f"convention {self.name}: unknown annex_usmca {self.annex_usmca!r}; known: "
                                "claim_shares, none")
        if self.weights not in ("goods", "all"):
            raise ScenarioError(f"convention {self.name}: unknown weights {self.weights!r}; known: goods, all")
        if self.auto_parts_8471 not in ("excluded", "included"):
            raise ScenarioError(f"convention {self.name}: unknown auto_parts_8471 {self.auto_parts_8471!r}; known: "
                                "excluded, included")
        if self.usmca_fill not in ("zero", "mean"):
            raise ScenarioError(f"convention {self.name}: unknown usmca_fill {self.usmca_fill!r}; known: zero, mean")
        if self.mfn not in ("budgetlab", "realised_2024"):
            raise ScenarioError(f"convention {self.name}: unknown mfn {self.mfn!r}; known: budgetlab, realised_2024")
        if self.mfn == "budgetlab" and self.usmca == "flat_2025":
            raise ScenarioError(f"convention {self.name}: mfn 'budgetlab' needs HTS10 USMCA shares, not flat_2025")


FLAT_USMCA_2025 = (("CAN", 0.67), ("MEX", 0.68))

CONVENTIONS: dict[str, Convention] = {c.name: c for c in (
    Convention("budgetlab", "Budget Lab tracker definitions (default): its 2026-06 exempt list by revision date, "
               "its MFN base rate, goods-only 2024 weights, HTS10 USMCA claim shares 2025-07..2026-02 (also on the "
               "2026 metals annexes), no auto-parts 232 on computers, IEEPA void from the ruling, S338 from "
               "2026-08-22, pharma 232 from 2026-09-29"),
    Convention("annex-ii-flat-usmca", "EO 14257 Annex II as published (plus dated amendments) and one USMCA share "
               "per country (CA 0.67, MX 0.68), MFN from 2024 realised duties, all import lines weighted, the "
               "literal auto-parts list: tariffsim's 2025 default", exempt_list="annex_ii", usmca="flat_2025",
               mfn="realised_2024", weights="all", auto_parts_8471="included"),
    Convention("budgetlab-union", "as budgetlab, but the tracker's 2026-05 exempt union (4,296 HS10, incl. 232 "
               "programme members and civil aircraft) on every date", exempt_list="budgetlab"),
    Convention("cbp-collection", "as budgetlab, but IEEPA duties until CBP stopped collecting (entries to "
               "2026-02-23) and pharma 232 from 2026-07-31 (Proc. 11020 Annex III companies)",
               ieepa_last_day=D("2026-02-23"), pharma_start=D("2026-07-31")),
    Convention("proclamation-dates", "as budgetlab, but Section 338 from the proclamations' original 2026-08-19 "
               "and pharma 232 from 2026-07-31", s338_start=D("2026-08-19"), pharma_start=D("2026-07-31")),
    Convention("usmca-2024", "as budgetlab, with 2024 (pre-tariff) USMCA claim shares", usmca="share_2024"),
    Convention("usmca-mean-fill", "as budgetlab, but lines without a measured USMCA share take the country's mean "
               "share instead of 0", usmca_fill="mean"),
    Convention("semis-all-lines", "as budgetlab, with Section 232 semiconductors on every note 39 line",
               semis="all"),
    Convention("realised-mfn", "as budgetlab, but the MFN layer is the statutory column-1 rate with specific "
               "duties at their 2024 AVE and FTA partners at min(statutory, realised 2024)", mfn="realised_2024"),
    Convention("all-lines-weights", "as budgetlab, but ETR weights include chapter 98 and Census 9999.95 lines "
               "($127bn of 2024 imports)", weights="all"),
    Convention("auto-parts-literal", "as budgetlab, but the auto-parts 232 on every note 33(g) provision, "
               "computers (heading 8471) included", auto_parts_8471="included"),
    Convention("annex-no-usmca", "as budgetlab, but the 2026 metals annexes charge Canadian/Mexican goods in full "
               "(no USMCA relief outside annex I-C)", annex_usmca="none"),
)}

DEFAULT_CONVENTION = "budgetlab"


def get_convention(name: "str | Convention") -> Convention:
    """A convention by name (or itself); ScenarioError naming the known ones otherwise."""
    if isinstance(name, Convention):
        return name
    if name not in CONVENTIONS:
        raise ScenarioError(f"unknown convention {name!r}; known: {', '.join(CONVENTIONS)}")
    return CONVENTIONS[name]


def list_conventions() -> list[str]:
    """Names of the built-in conventions, default first."""
    return list(CONVENTIONS)


__all__ = ["Convention", "CONVENTIONS", "DEFAULT_CONVENTION", "get_convention", "list_conventions",
           "FLAT_USMCA_2025"]
