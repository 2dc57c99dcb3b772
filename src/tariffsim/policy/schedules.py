"""Schedules: ordered measures, the built-in 2018-2026 US timeline, and named snapshots of it.

A built-in schedule is the timeline *as known on a cutoff date*: measures announced after the cutoff are left out,
and an end date announced after the cutoff is dropped (the measure was then expected to stay). So
``liberation-day-2025-04-02`` keeps the EO 14257 Annex I country rates in force indefinitely, while
``pause-2025-04-10`` ends them on 9 April and holds China at 125%. From the ``post-ruling-2026-02-24`` cutoff on,
every IEEPA measure ends on the convention's ``ieepa_last_day`` with status *struck down* (*Learning Resources, Inc.
v. Trump*, 607 U.S. ___ (2026), Nos. 24-1287 and 25-250; EO "Ending Certain Tariff Actions", FR 2026-03832).

Built-in schedules answer for dates in [:data:`DATE_MIN`, :data:`DATE_MAX`] (``baseline-2024`` also for 2024);
a date after :data:`TODAY` gives a :class:`~tariffsim.errors.ScheduledDateWarning` (its measures are *scheduled*).

Sources: ``us_tariff_actions_2025/stacking_rules.md``, ``us_tariff_actions_2026/stacking_rules_2026.md`` and the
Federal Register texts cited per measure. Items marked *verify* rest on the data folder's notes, not a primary text.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import polars as pl

from ..data import read_table
from ..errors import ScenarioError, ScheduledDateWarning
from ._data import as_date, base, flat_usmca_row_shares, goods_row_mask, mfn_budgetlab_rows, usmca_row_shares
from ._entry import Entry, entry
from .conventions import DEFAULT_CONVENTION, FLAT_USMCA_2025, Convention, get_convention
from .measures import Measure
from .stacking import MeasureCache, stack, to_frame
from .timeline_2026 import METALS_2026, timeline_2026
from .to_world import sector_rates

D = date.fromisoformat

# --- parameters with documented defaults (Budget Lab tariff-rate-tracker config/policy_params.yaml) ---------------
#: share of 2025 CA/MX imports claiming USMCA preference (exempt from fentanyl duties, EO 14231/14232, and from the
#: auto-parts 232, Proc. 10908 cl. 3): Budget Lab ``usmca_shares`` 2025 (CA ~67%, MX ~68%).
USMCA_SHARE = {"CAN": 0.67, "MEX": 0.68}
#: US content share of USMCA vehicles (exempt from the 232 auto tariff, Proc. 10908 cl. 2(b)): Budget Lab
#: ``auto_rebate.us_auto_content_share``.
US_AUTO_CONTENT_SHARE = 0.40

RECIPROCAL = ("ieepa-recip-baseline", "ieepa-recip-annex-i", "ieepa-recip-china-84", "ieepa-recip-china-125",
              "ieepa-recip-eo14326", "ieepa-recip-eu-floor", "ieepa-recip-jpn-floor", "ieepa-recip-kor-floor",
              "ieepa-recip-che-floor")
S232_ALL = ("s232-steel-2018", "s232-aluminum-2018", "s232-steel-2025", "s232-aluminum-2025", "s232-derivatives-2025",
            "s232-metals-50", "s232-derivatives-50", "s232-metals-gbr-25", "s232-derivatives-gbr-25", "s232-autos",
            "s232-auto-parts", "s232-copper", "s232-mhd", "s232-mhd-vehicles", "s232-buses", *METALS_2026)
ANNEX_II = ("list:ieepa_annex_ii_apr2025",)
CHINA = ("CHN", "HKG", "MAC")  # EO 14195 and EO 14257 cover the PRC incl. Hong Kong and Macau
NO_RECIPROCAL = ("CAN", "MEX", "CUB", "PRK", "RUS", "BLR")
EXEMPT_2018 = ("CAN", "MEX", "EU", "GBR", "JPN", "KOR", "AUS", "BRA", "ARG", "UKR")


_m = entry


def _rate_map(col: str, drop: Iterable[str] = ()) -> dict[str, float]:
    r = read_table("us_tariff_actions_2025", "reciprocal_rates").filter(pl.col(col).is_not_null())
    return {k: float(v) for k, v in zip(r["iso3"], r[col]) if k not in set(drop)}


def _timeline_2025() -> tuple[Entry, ...]:
    e: list[Entry] = [
        # ---------------- Section 232 steel & aluminium ----------------
        _m("s232-steel-2018", "s232", 0.25, "2018-03-23", end="2025-03-11", announced="2018-03-08",
           end_announced="2025-02-10", products=("72", "73"), exclude_partners=EXEMPT_2018,
           authority="Section 232 steel", citation="Proclamation 9705 (83 FR 11625); country arrangements (TRQs, "
           "quotas, exemptions) revoked by Proclamation 10896 (90 FR 9817) from 2025-03-12",
           note="CA/MX/EU/UK/JP/KR/AU/BR/AR/UA modelled as exempt (Budget Lab section_232_country_exemptions)"),
        _m("s232-aluminum-2018", "s232", 0.10, "2018-03-23", end="2025-03-11", announced="2018-03-08",
           end_announced="2025-02-10", products=("76",), exclude_partners=EXEMPT_2018,
           authority="Section 232 aluminum", citation="Proclamation 9704 (83 FR 11619); revoked by Proclamation "
           "10895 (90 FR 9807)"),
        _m("s232-aluminum-rus", "s232", 2.00, "2023-03-10", announced="2023-02-24", products=("76",),
           partners=("RUS",), replaces=("s232-aluminum-2018", "s232-aluminum-2025", "s232-metals-50",
                                        *METALS_2026),
           authority="Section 232 aluminum (Russia)", citation="Proclamation 10522"),
        _m("s232-steel-2025", "s232", 0.25, "2025-03-12", end="2025-06-03", announced="2025-02-10",
           end_announced="2025-06-03", products=("72", "73"), authority="Section 232 steel",
           citation="Proclamation 10896 (90 FR 9817)", note="chapter blanket (Budget Lab shortcut; legal scope is "
           "HTS ch. 99 note 16)"),
        _m("s232-aluminum-2025", "s232", 0.25, "2025-03-12", end="2025-06-03", announced="2025-02-10",
           end_announced="2025-06-03", products=("76",), authority="Section 232 aluminum",
           citation="Proclamation 10895 (90 FR 9807)"),
        _m("s232-derivatives-2025", "s232", 0.25, "2025-03-12", end="2025-06-03", announced="2025-02-10",
           end_announced="2025-06-03", products=("list:s232_metals_derivative",), basis="list",
           authority="Section 232 steel/aluminum derivatives (metal content)",
           citation="Proclamations 10895/10896 annexes; HTS 9903.81.89-.93, 9903.85.04-.08"),
        _m("s232-metals-50", "s232", 0.50, "2025-06-04", end="2026-04-05", end_announced="2026-04-02", end_reason="replaced", announced="2025-06-03", products=("72", "73", "76"),
           exclude_partners=("GBR",), authority="Section 232 steel/aluminum 50%",
           citation="Proclamation 10947 (90 FR 24199)"),
        _m("s232-derivatives-50", "s232", 0.50, "2025-06-04", end="2026-04-05", end_announced="2026-04-02", end_reason="replaced", announced="2025-06-03",
           products=("list:s232_metals_derivative",), basis="list", exclude_partners=("GBR",),
           authority="Section 232 derivatives 50% (metal content)",
           citation="Proclamation 10947; inclusions from 2025-08-18 (FR 2025-15819) via list entry dates"),
        _m("s232-metals-gbr-25", "s232", 0.25, "2025-06-04", end="2026-04-05", end_announced="2026-04-02", end_reason="replaced", announced="2025-06-03", products=("72", "73", "76"),
           partners=("GBR",), authority="Section 232 steel/aluminum (UK stays 25%)", citation="Proclamation 10947"),
        _m("s232-derivatives-gbr-25", "s232", 0.25, "2025-06-04", end="2026-04-05", end_announced="2026-04-02", end_reason="replaced", announced="2025-06-03",
           products=("list:s232_metals_derivative",), basis="list", partners=("GBR",),
           authority="Section 232 derivatives (UK 25%)", citation="Proclamation 10947"),
        # ---------------- Section 232 autos, parts, copper, wood, trucks ----------------
        _m("s232-autos", "s232", 0.25, "2025-04-03", announced="2025-03-26", products=("list:s232_autos",),
           partner_scale={"CAN": 1 - US_AUTO_CONTENT_SHARE, "MEX": 1 - US_AUTO_CONTENT_SHARE},
           authority="Section 232 autos", citation="Proclamation 10908 (90 FR 14705); HTS 9903.94.01",
           note="USMCA vehicles pay on non-US content (US content share 0.40, Budget Lab)"),
        _m("s232-auto-parts", "s232", 0.25, "2025-05-03", announced="2025-03-26", products=("list:s232_auto_parts",),
           usmca_exempt=True, authority="Section 232 auto parts",
           citation="Proclamation 10908; HTS 9903.94.05", note="USMCA-qualifying parts exempt (convention's shares)"),
        _m("s232-copper", "s232", 0.50, "2025-08-01", end="2026-04-05", end_announced="2026-04-02", end_reason="replaced", announced="2025-07-30", products=("list:s232_copper",),
           basis="copper", authority="Section 232 copper (copper content)",
           citation="Proclamation of 2025-07-30 (copper); HTS 9903.78.01, U.S. note 36(b)"),
        _m("s232-lumber", "s232", 0.10, "2025-10-14", announced="2025-09-29", products=("list:s232_lumber",),
           authority="Section 232 softwood timber and lumber", citation="Proclamation of 2025-09-29 (timber/lumber)"),
        _m("s232-furniture", "s232", 0.25, "2025-10-14", announced="2025-09-29",
           products=("list:s232_furniture_cabinets",), authority="Section 232 upholstered furniture, cabinets",
           citation="Proclamation of 2025-09-29 (timber/lumber)"),
        _m("s232-furniture-jpn-eu-floor", "s232", 0.15, "2025-10-14", announced="2025-09-29", rule="floor_all_in",
           products=("list:s232_furniture_cabinets",), partners=("JPN", "EU"), replaces=("s232-furniture",),
           authority="Section 232 wood products, Japan/EU 15% cap", citation="HTS 9903.76.21-.23"),
        _m("s232-mhd", "s232", 0.25, "2025-11-01", announced="2025-10-17", products=("list:s232_mhd_trucks_parts",),
           exclude_products=("list:s232_mhd_vehicles",), usmca_exempt=True,
           authority="Section 232 medium/heavy-duty truck parts", citation="Proclamation 10984",
           note="USMCA-qualifying parts exempt (convention's shares)"),
        _m("s232-mhd-vehicles", "s232", 0.25, "2025-11-01", announced="2025-10-17",
           products=("list:s232_mhd_vehicles",),
           partner_scale={"CAN": 1 - US_AUTO_CONTENT_SHARE, "MEX": 1 - US_AUTO_CONTENT_SHARE},
           authority="Section 232 medium/heavy-duty trucks", citation="Proclamation 10984",
           note="USMCA trucks pay on non-US content (US content share 0.40, as autos; Budget Lab applies "
                "us_auto_content_share to mhd_products)"),
        _m("s232-buses", "s232", 0.10, "2025-11-01", announced="2025-10-17", products=("list:s232_buses",),
           authority="Section 232 buses", citation="Proclamation 10984"),
        _m("s232-autos-jpn-floor", "s232", 0.15, "2025-09-16", announced="2025-09-04", rule="floor_all_in",
           products=("list:s232_autos", "list:s232_auto_parts"), partners=("JPN",), replaces=S232_ALL,
           authority="US-Japan agreement: autos and parts 15% all-in",
           citation="EO 14345; HTS 9903.94.40-.43, U.S. note 33(k)-(m) (not subject to metals 232)"),
        _m("s232-autos-eu-floor", "s232", 0.15, "2025-08-01", announced="2025-09-24", rule="floor_all_in",
           products=("list:s232_autos", "list:s232_auto_parts"), partners=("EU",), replaces=S232_ALL,
           authority="US-EU framework: autos and parts 15% all-in", citation="HTS 9903.94.50-.53 (date: verify)"),
        _m("s232-autos-kor-floor", "s232", 0.15, "2025-11-14", announced="2025-11-14", rule="floor_all_in",
           products=("list:s232_autos", "list:s232_auto_parts"), partners=("KOR",), replaces=S232_ALL,
           authority="US-Korea: autos and parts 15% all-in", citation="HTS 9903.94.60-.65 (date: verify)"),
        # ---------------- IEEPA reciprocal ----------------
        _m("ieepa-recip-baseline", "ieepa_reciprocal", 0.10, "2025-04-05", announced="2025-04-02",
           exclude_partners=NO_RECIPROCAL, exclude_products=ANNEX_II, stacks_on_232=False,
           authority="IEEPA reciprocal baseline", citation="EO 14257 (90 FR 15041) sec. 3; HTS 9903.01.25; "
           "Annex II and 232 goods excluded (9903.01.32-.33)"),
        _m("ieepa-recip-annex-i", "ieepa_reciprocal", _rate_map("rate_annex_i_apr2025"), "2025-04-09",
           end="2025-04-09", announced="2025-04-02", end_announced="2025-04-09", exclude_partners=NO_RECIPROCAL,
           exclude_products=ANNEX_II, stacks_on_232=False, replaces=("ieepa-recip-baseline",),
           authority="IEEPA reciprocal country rates", citation="EO 14257 Annex I; paused by EO 14266 (90 FR 15625)"),
        _m("ieepa-recip-china-84", "ieepa_reciprocal", 0.84, "2025-04-09", end="2025-04-09", announced="2025-04-08",
           end_announced="2025-04-09", partners=CHINA, exclude_products=ANNEX_II, stacks_on_232=False,
           replaces=("ieepa-recip-baseline", "ieepa-recip-annex-i"), authority="IEEPA reciprocal China 84%",
           citation="EO 14259 (90 FR 15509)"),
        _m("ieepa-recip-china-125", "ieepa_reciprocal", 1.25, "2025-04-10", end="2025-05-13", announced="2025-04-09",
           end_announced="2025-05-12", partners=CHINA, exclude_products=ANNEX_II, stacks_on_232=False,
           replaces=("ieepa-recip-baseline", "ieepa-recip-annex-i"), authority="IEEPA reciprocal China 125%",
           citation="EO 14266 (90 FR 15625); reduced to 10% from 2025-05-14 by EO 14298"),
        _m("ieepa-recip-eo14326", "ieepa_reciprocal", _rate_map("rate_eo14326_aug2025", drop=("EU",)), "2025-08-07",
           announced="2025-07-31", exclude_partners=NO_RECIPROCAL, exclude_products=ANNEX_II, stacks_on_232=False,
           replaces=("ieepa-recip-baseline",), authority="IEEPA reciprocal revised country rates",
           citation="EO 14326 Annex I (unlisted countries stay at 10%)"),
        _m("ieepa-recip-eu-floor", "ieepa_reciprocal", 0.15, "2025-08-07", announced="2025-07-31",
           rule="floor_all_in", partners=("EU",), exclude_products=ANNEX_II, stacks_on_232=False,
           replaces=("ieepa-recip-baseline", "ieepa-recip-eo14326"), authority="IEEPA reciprocal EU 15% all-in",
           citation="EO 14326; HTS 9903.02.19-.20"),
        _m("ieepa-recip-jpn-floor", "ieepa_reciprocal", 0.15, "2025-08-07", announced="2025-09-04",
           rule="floor_all_in", partners=("JPN",), exclude_products=ANNEX_II, stacks_on_232=False,
           replaces=("ieepa-recip-baseline", "ieepa-recip-eo14326"),
           authority="US-Japan agreement: reciprocal 15% all-in (retroactive to 2025-08-07)",
           citation="EO 14345; HTS 9903.02.72 (MFN >= 15%: no duty) / 9903.02.73 (15% inclusive of MFN), "
           "U.S. note 2(v); interim 9903.02.30 terminated (90 FR 44638)"),
        _m("ieepa-recip-kor-floor", "ieepa_reciprocal", 0.15, "2025-11-14", announced="2025-11-14",
           rule="floor_all_in", partners=("KOR",), exclude_products=ANNEX_II, stacks_on_232=False,
           replaces=("ieepa-recip-baseline", "ieepa-recip-eo14326"), authority="US-Korea: reciprocal 15% all-in",
           citation="HTS 9903.02.xx (Korea floor; date per Budget Lab: verify)"),
        _m("ieepa-recip-che-floor", "ieepa_reciprocal", 0.15, "2025-11-14", announced="2025-11-14",
           rule="floor_all_in", partners=("CHE", "LIE"), exclude_products=ANNEX_II, stacks_on_232=False,
           replaces=("ieepa-recip-baseline", "ieepa-recip-eo14326"),
           authority="US-Switzerland/Liechtenstein framework: 15% all-in",
           citation="FR 2025-23316 (90 FR 59281)"),
        _m("ieepa-recip-exempt-electronics", "ieepa_reciprocal", 0.0, "2025-04-05", announced="2025-04-11",
           products=("list:ieepa_electronics_apr11",), replaces=RECIPROCAL,
           authority="IEEPA reciprocal: electronics exemption (retroactive)",
           citation="Presidential memorandum of 2025-04-11; HTS 9903.01.32"),
        _m("ieepa-recip-exempt-annex-ii-nov", "ieepa_reciprocal", 0.0, "2025-11-13", announced="2025-11-14",
           products=("list:ieepa_annex_ii_nov2025",), replaces=RECIPROCAL,
           authority="IEEPA reciprocal: Annex II as amended (agricultural products)",
           citation="EO of 2025-11-14 amending EO 14257 Annex II"),
        _m("ieepa-recip-jpn-aircraft", "ieepa_reciprocal", 0.0, "2025-08-07", announced="2025-09-04",
           products=("list:floor_exempt_japan",), partners=("JPN",), replaces=RECIPROCAL,
           authority="US-Japan agreement: civil aircraft exempt (PTAAP)",
           citation="EO 14345; HTS 9903.96.02, U.S. note 35(b) (Japan PTAAP list incomplete in the data)"),
        _m("ieepa-recip-eu-exempt", "ieepa_reciprocal", 0.0, "2025-09-01", announced="2025-09-24",
           products=("list:floor_exempt_eu",), partners=("EU",), replaces=RECIPROCAL,
           authority="US-EU framework: aircraft, generic pharma, PTAAP exempt", citation="HTS 9903.02.xx (verify)"),
        _m("ieepa-recip-kor-exempt", "ieepa_reciprocal", 0.0, "2025-11-14", announced="2025-11-14",
           products=("list:floor_exempt_korea",), partners=("KOR",), replaces=RECIPROCAL,
           authority="US-Korea: civil aircraft exempt", citation="HTS 9903.02.xx (verify)"),
        _m("ieepa-recip-che-exempt", "ieepa_reciprocal", 0.0, "2025-11-14", announced="2025-11-14",
           products=("list:floor_exempt_swiss",), partners=("CHE", "LIE"), replaces=RECIPROCAL,
           authority="US-Switzerland: aircraft, pharma, PTAAP exempt", citation="FR 2025-23316"),
        # ---------------- IEEPA fentanyl / border ----------------
        _m("fent-chn-10", "ieepa_fentanyl", 0.10, "2025-02-04", end="2025-03-03", announced="2025-02-01",
           end_announced="2025-03-03", partners=CHINA, authority="IEEPA fentanyl (China)",
           citation="EO 14195 (90 FR 9121)"),
        _m("fent-chn-20", "ieepa_fentanyl", 0.20, "2025-03-04", end="2025-11-09", announced="2025-03-03",
           end_announced="2025-11-04", partners=CHINA, authority="IEEPA fentanyl (China) 20%",
           citation="EO 14228 (90 FR 11463)"),
        _m("fent-chn-10b", "ieepa_fentanyl", 0.10, "2025-11-10", announced="2025-11-04", partners=CHINA,
           authority="IEEPA fentanyl (China) back to 10%", citation="EO 14357"),
        _m("fent-can", "ieepa_fentanyl", 0.25, "2025-03-04", end="2025-03-06", announced="2025-02-01",
           end_announced="2025-03-06", partners=("CAN",), stacks_on_232=False,
           authority="IEEPA fentanyl/border (Canada)", citation="EO 14193 (90 FR 9113); non-stacking with 232: "
           "EO 14289"),
        _m("fent-can-usmca", "ieepa_fentanyl", 0.25, "2025-03-07", end="2025-07-31", announced="2025-03-06",
           end_announced="2025-07-31", partners=("CAN",), usmca_exempt=True, stacks_on_232=False,
           authority="IEEPA fentanyl (Canada), USMCA goods exempt", citation="EO 14231"),
        _m("fent-can-35", "ieepa_fentanyl", 0.35, "2025-08-01", announced="2025-07-31", partners=("CAN",),
           usmca_exempt=True, stacks_on_232=False, authority="IEEPA fentanyl (Canada) 35%",
           citation="EO 14325"),
        _m("fent-mex", "ieepa_fentanyl", 0.25, "2025-03-04", end="2025-03-06", announced="2025-02-01",
           end_announced="2025-03-06", partners=("MEX",), stacks_on_232=False,
           authority="IEEPA fentanyl/border (Mexico)", citation="EO 14194 (90 FR 9117)"),
        _m("fent-mex-usmca", "ieepa_fentanyl", 0.25, "2025-03-07", announced="2025-03-06", partners=("MEX",),
           usmca_exempt=True, stacks_on_232=False,
           authority="IEEPA fentanyl (Mexico), USMCA goods exempt", citation="EO 14232"),
        # Energy and potash pay 10% instead (EO 14193 s.2, EO 14194 as amended by EO 14231/14232; HTS 9903.01.13
        # Canadian energy, 9903.01.15 Canadian potash, 9903.01.05 Mexican potash; tracker fentanyl_carveouts)
        *[_m(f"fent-{c.lower()}-{kind}{suffix}", "ieepa_fentanyl", 0.10, start, end=end, announced="2025-03-06",
             end_announced=end, partners=(c,), products=lists, usmca_exempt=usmca, stacks_on_232=False,
             replaces=rep, authority=f"IEEPA fentanyl ({c}) energy/potash 10%", citation=cite)
          for c, kind, lists, rep, cite in (
              ("CAN", "energy-potash", ("list:fentanyl_energy_ca", "list:fentanyl_potash_ca"),
               ("fent-can", "fent-can-usmca", "fent-can-35"), "EO 14193 s.2; HTS 9903.01.13, 9903.01.15"),
              ("MEX", "potash", ("list:fentanyl_potash_mx",), ("fent-mex", "fent-mex-usmca"),
               "EO 14194 as amended by EO 14232; HTS 9903.01.05"))
          for suffix, start, end, usmca in (("", "2025-03-04", "2025-03-06", False),
                                            ("-usmca", "2025-03-07", None, True))],
        # ---------------- Section 301 (China) ----------------
        _m("s301-china", "s301", None, "2018-07-06", announced="2018-06-20",
           products=("list:s301_list_1", "list:s301_list_2", "list:s301_list_3", "list:s301_list_3_addl",
                     "list:s301_list_4A"), partners=("CHN",), authority="Section 301 China lists 1-4A",
           citation="USTR notices 83 FR 28710, 83 FR 40823, 83 FR 47974, 84 FR 43304 (list 4B suspended: excluded)"),
        _m("s301-china-2024", "s301", None, "2024-09-27", announced="2024-09-13", products=("list:s301_list_biden_25",),
           partners=("CHN",), authority="Section 301 four-year review increases", citation="89 FR 76581"),
        _m("s301-china-2025", "s301", None, "2025-01-01", announced="2024-09-13",
           products=("list:s301_list_biden_50_jan25",), partners=("CHN",),
           authority="Section 301 four-year review increases (2025 tranche)", citation="89 FR 76581"),
        # ---------------- other IEEPA country measures ----------------
        _m("ieepa-bra-40", "ieepa_country", 0.40, "2025-08-06", announced="2025-07-30", partners=("BRA",),
           exclude_products=ANNEX_II, stacks_on_232=False, authority="IEEPA Brazil +40%",
           citation="EO 14323", note="EO 14323's own exemption list (aircraft, orange juice, ...) is not in the data; "
           "Annex II used instead (overstates)"),
        _m("ieepa-ind-25", "ieepa_country", 0.25, "2025-08-27", announced="2025-08-06", partners=("IND",),
           exclude_products=ANNEX_II, stacks_on_232=False, authority="IEEPA India +25% (Russian oil)",
           citation="EO 14329 (effective date per stacking_rules.md: verify)"),
    ]
    return tuple(e)


#: The law as of this date is ``current``; later dates are *scheduled*.
TODAY = D("2026-12-02")
#: Date range of the built-in schedules (the 2025-2026 timeline; ``baseline-2024`` also covers 2024).
DATE_MIN, DATE_MAX = D("2025-01-01"), D("2026-12-31")
IEEPA_LAYERS = ("ieepa_reciprocal", "ieepa_fentanyl", "ieepa_country")
RULING = D("2026-02-20")

#: name -> (cutoff date, description)
BUILTIN: dict[str, tuple[date, str]] = {
    "baseline-2024": (D("2024-12-31"), "measures in force in 2024: MFN, Section 232 (2018) with country "
                      "arrangements, Section 301 China"),
    "liberation-day-2025-04-02": (D("2025-04-02"), "as announced on 2 April 2025: 10% baseline from 5 April and "
                                  "EO 14257 Annex I country rates from 9 April, with no pause"),
    "pause-2025-04-10": (D("2025-04-10"), "after the 90-day pause (EO 14266): 10% for all but China at 125%"),
    "august-2025": (D("2025-08-07"), "EO 14326 country rates from 7 August 2025 (Japan +15% on top of MFN)"),
    "japan-deal-2025-09": (D("2025-09-16"), "EO 14345: Japan 15% all-in floor (retroactive to 7 Aug), autos and "
                           "parts 15% all-in from 16 Sept 2025"),
    "end-2025": (D("2025-12-31"), "every 2025 measure in the data as known on 31 December 2025 (IEEPA in force)"),
    "post-ruling-2026-02-24": (D("2026-02-24"), "after Learning Resources v. Trump: IEEPA duties struck down, "
                               "Section 122 10% from 24 February 2026 (150 days)"),
    "section122-2026": (D("2026-07-21"), "the Section 122 regime in its last days: S122 10%, the April 2026 "
                        "metals annexes, semiconductors 232, China 301"),
    "forced-labor-301-2026-07-24": (D("2026-07-24"), "Section 122 expired; forced-labor Section 301 tiers from "
                                    "24 July 2026 (Japan 12.5% net of MFN), Brazil 301 +25%"),
    "current": (TODAY, "today's law (2 December 2026), with the measures already announced for later dates"),
    "latest": (DATE_MAX, "every 2025-2026 measure in the data through 31 December 2026"),
}


@dataclass(frozen=True)
class Schedule:
    """An ordered list of measures; ``at(date)`` stacks them for every (hs10, partner) of the 2024 US imports.

    ``meta`` of a built-in schedule carries its ``cutoff``, ``convention`` and valid date range; a user schedule
    uses the default convention's USMCA shares and accepts any date.

    Examples
    --------
    >>> s = builtin_schedule("japan-deal-2025-09")
    >>> car = s.lookup("8703230140", "JPN", "2025-09-16")
    >>> round(car["tariff_rate"][0], 4)
    0.15
    """

    name: str
    measures: tuple[Measure, ...]
    description: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for m in self.measures:
            if not isinstance(m, Measure):
                raise ScenarioError(f"schedule {self.name}: {m!r} is not a Measure")
            if m.name in seen:
                raise ScenarioError(f"schedule {self.name}: duplicate measure name {m.name!r}")
            seen.add(m.name)

    @property
    def convention(self) -> Convention:
        """The measurement convention (USMCA shares etc.) this schedule is evaluated under."""
        return get_convention(self.meta.get("convention", DEFAULT_CONVENTION))

    @cached_property
    def weights_usd(self) -> np.ndarray:
        """Pre-substitution ETR weights per base row: 2024 customs value, restricted to goods rows (no ch. 98/99)
        under the convention's ``weights="goods"`` (the tracker's GTAP-mapped import base)."""
        b = base()
        if self.convention.weights == "goods":
            w = np.where(goods_row_mask(), b.value_usd, 0.0)
            w.flags.writeable = False
            return w
        return b.value_usd

    @cached_property
    def _cache(self) -> MeasureCache:
        c = self.convention
        usmca = (flat_usmca_row_shares(FLAT_USMCA_2025) if c.usmca == "flat_2025"
                 else usmca_row_shares(c.usmca, c.usmca_fill))
        mfn = mfn_budgetlab_rows(c.usmca, c.usmca_fill) if c.mfn == "budgetlab" else None
        return MeasureCache(usmca, mfn)

    def check_date(self, d: Any) -> date:
        """Parse ``d``; ScenarioError outside the schedule's range, ScheduledDateWarning after :data:`TODAY`."""
        dd = as_date(d, f"schedule {self.name}: date")
        lo, hi = self.meta.get("valid_from"), self.meta.get("valid_to")
        if lo is not None and not lo <= dd <= hi:
            raise ScenarioError(f"schedule {self.name}: date {dd} outside its range {lo} .. {hi}")
        if dd > TODAY and self.meta.get("cutoff") is not None:
            warnings.warn(f"schedule {self.name}: {dd} is after today ({TODAY}); measures in force then are "
                          f"scheduled, not yet law in force", ScheduledDateWarning, stacklevel=3)
        return dd

    # ----------------------------------------------------------------- rates
    def arrays(self, d: Any) -> dict[str, np.ndarray]:
        """Layer arrays aligned with the base rows (fast path for ETR and GE aggregation)."""
        return stack(self.measures, self.check_date(d), cache=self._cache)

    def at(self, d: Any) -> pl.DataFrame:
        """Rates on date ``d``: ``hs10, partner, tariff_rate`` (all layers stacked, fraction) and one
        ``<layer>_rate`` column per layer (``mfn_rate, s232_rate, ieepa_rate, fentanyl_rate, ...``)."""
        return to_frame(self.arrays(d))

    def lookup(self, hs10: str, partner: str, d: Any) -> pl.DataFrame:
        """One (hs10, partner) row of :meth:`at` (ScenarioError if the pair had no 2024 imports)."""
        b = base()
        pos = np.searchsorted(b.hs10_codes, hs10)
        if pos >= len(b.hs10_codes) or b.hs10_codes[pos] != hs10 or partner not in b.partners:
            raise ScenarioError(f"lookup: hs10 {hs10!r} x partner {partner!r} has no 2024 US imports")
        rows = np.nonzero((b.h_idx == pos) & (b.p_idx == b.partners.index(partner)))[0]
        if rows.size == 0:
            raise ScenarioError(f"lookup: hs10 {hs10!r} x partner {partner!r} has no 2024 US imports")
        arr = self.arrays(d)
        return to_frame({k: v[rows] for k, v in arr.items()}, _Sub(b, rows))

    def status(self, d: Any) -> pl.DataFrame:
        """Legal status of every measure on ``d``: ``name, layer, start, end, status`` with status one of
        ``in_force``, ``scheduled``, ``suspended``, ``ended``, ``struck_down`` (seen from :data:`TODAY`)."""
        dd = self.check_date(d)
        return pl.DataFrame([{"name": m.name, "layer": m.layer, "start": m.start, "end": m.end,
                              "status": m.status(dd, TODAY)} for m in self.measures],
                            schema_overrides={"end": pl.Date})

    def change_dates(self, start: Any, end: Any) -> list[date]:
        """Dates in [start, end] on which some measure starts, ends (the day after its last day) or its product
        list changes, with ``start`` first."""
        from datetime import timedelta

        from .stacking import _list_dates

        lo, hi = self.check_date(start), self.check_date(end)
        ds = {lo}
        lists = set()
        for m in self.measures:
            ds.add(m.start)
            if m.end is not None:
                ds.add(m.end + timedelta(days=1))
            lists |= {c[5:] for c in (*m.products, *m.exclude_products, *m.product_scale) if c.startswith("list:")}
        for name in lists:
            ds |= set(_list_dates().get(name, ()))
        return sorted(x for x in ds if lo <= x <= hi)

    # -------------------------------------------------------------- editing
    def with_measures(self, *measures: Measure | Mapping[str, Any], name: str | None = None) -> "Schedule":
        """A new schedule with measures appended (Measure objects or YAML-style dicts)."""
        ms = tuple(m if isinstance(m, Measure) else Measure.from_dict(m) for m in measures)
        return Schedule(name or self.name, self.measures + ms, self.description, dict(self.meta))

    def without(self, *names: str) -> "Schedule":
        """A new schedule without the named measures."""
        unknown = set(names) - {m.name for m in self.measures}
        if unknown:
            raise ScenarioError(f"schedule {self.name}: no measure named {', '.join(sorted(unknown))}")
        return Schedule(self.name, tuple(m for m in self.measures if m.name not in names), self.description,
                        dict(self.meta))

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Schedule":
        """Read ``{name, base (optional built-in schedule), measures: [...]}`` from a YAML file.

        The file is read by :func:`tariffsim.safe_load.load_yaml` (regular file, size, UTF-8,
        YAML limits, duplicate keys refused); problems are one-line ``ScenarioError`` errors.
        """
        from .. import safe_load

        p = Path(path)
        doc = safe_load.load_yaml(p, what="schedule file", error=ScenarioError)
        return cls.from_dict(doc, source=str(p))

    @classmethod
    def from_dict(cls, doc: Any, *, source: str = "schedule") -> "Schedule":
        """Build from a mapping ``{name, base?, convention?, description?, measures: [measure dicts]}``."""
        if isinstance(doc, list):
            doc = {"measures": doc}
        if not isinstance(doc, Mapping):
            raise ScenarioError(f"{source}: expected a mapping with a 'measures' list")
        unknown = set(doc) - {"name", "base", "convention", "description", "measures"}
        if unknown:
            raise ScenarioError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
        ms = doc.get("measures") or []
        if not isinstance(ms, list):
            raise ScenarioError(f"{source}: 'measures' must be a list")
        conv = str(doc.get("convention", DEFAULT_CONVENTION))
        start = (builtin_schedule(doc["base"], convention=conv) if doc.get("base")
                 else Schedule(str(doc.get("name", source)), (), meta={"convention": get_convention(conv).name}))
        out = start.with_measures(*ms, name=str(doc.get("name", start.name)))
        return replace(out, description=str(doc.get("description", out.description)))

    # --------------------------------------------------------------- output
    def summary(self) -> pl.DataFrame:
        """One row per measure: name, layer, rule, rate, scope, dates, status today, authority, citation."""
        def fmt_rate(r: Any) -> str:
            if r is None:
                return "per product list"
            if isinstance(r, Mapping):
                return f"by partner ({len(r)} rates)"
            return f"{100 * r:g}%"
        return pl.DataFrame([{
            "name": m.name, "layer": m.layer, "rule": m.rule, "rate": fmt_rate(m.rate),
            "products": ", ".join(m.products), "partners": ", ".join(m.partners),
            "start": m.start, "end": m.end, "status_today": m.status(TODAY, TODAY), "authority": m.authority,
            "citation": m.citation,
        } for m in self.measures], schema_overrides={"end": pl.Date})

    def to_world(self, world: Any, d: Any, *, relative_to: Any = None) -> np.ndarray:
        """(N, N, S) tariffs for a GE world with the US import tariffs replaced by this schedule on ``d``
        (:func:`schedule_to_world`)."""
        return schedule_to_world(self, world, d, relative_to=relative_to)

    def __repr__(self) -> str:
        return f"Schedule({self.name!r}, {len(self.measures)} measures)"


class _Sub:
    """A row subset of the base, for :func:`to_frame` on a few rows."""

    def __init__(self, b: Any, rows: np.ndarray) -> None:
        self.hs10_codes = b.hs10_codes
        self.partners = b.partners
        self.h_idx = b.h_idx[rows]
        self.p_idx = b.p_idx[rows]
        self.value_usd = b.value_usd[rows]


#: Note 33(g) provisions whose trade is not auto parts (tracker applicability share 0): bare heading 8471.
AUTO_PARTS_NOT_APPLICABLE = "8471"

EXEMPT_LISTS = {"annex_ii": "list:ieepa_annex_ii_apr2025", "budgetlab": "list:ieepa_exempt_budgetlab",
                "budgetlab_dated": "list:ieepa_exempt_budgetlab_dated"}


@lru_cache(maxsize=16)
def _timeline(conv: Convention) -> tuple[Entry, ...]:
    """The whole 2018-2026 timeline under ``conv`` (exempt list swapped in; IEEPA ends applied per snapshot)."""
    out = []
    for e in _timeline_2025() + timeline_2026(conv):
        m = e.measure
        if conv.exempt_list != "annex_ii":
            new = EXEMPT_LISTS[conv.exempt_list]
            m = replace(m, exclude_products=tuple(new if c == ANNEX_II[0] else c for c in m.exclude_products))
        if conv.auto_parts_8471 == "excluded" and "list:s232_auto_parts" in m.products:
            # U.S. note 33(g) lists bare heading 8471 among the provisions where auto parts may be classified, but
            # the headings 9903.94.05/.06 cover articles that are such parts: computers are not (tracker
            # resources/s232_auto_parts_applicability.csv, 8471 share 0, calibration of 2026-06-04).
            m = replace(m, exclude_products=(*m.exclude_products, AUTO_PARTS_NOT_APPLICABLE))
        out.append(replace(e, measure=m))
    return tuple(out)


def _snapshot(cutoff: date, conv: Convention) -> tuple[Measure, ...]:
    out = []
    for e in _timeline(conv):
        if e.announced > cutoff:
            continue
        m = e.measure
        if e.end_announced is not None and e.end_announced > cutoff:
            m = replace(m, end=None, end_reason="")
        if cutoff >= RULING and m.layer in IEEPA_LAYERS and (m.end is None or m.end > conv.ieepa_last_day):
            m = replace(m, end=conv.ieepa_last_day, end_reason="struck_down",
                        citation=m.citation + "; struck down: Learning Resources v. Trump (2026-02-20)")
        out.append(m)
    return tuple(out)


def list_schedules() -> list[str]:
    """Names of the built-in schedules, oldest first."""
    return list(BUILTIN)


@lru_cache(maxsize=None)
def builtin_schedule(name: str, *, convention: str = DEFAULT_CONVENTION, exempt_list: str | None = None) -> Schedule:
    """A built-in schedule by name (see :data:`BUILTIN`) under a named convention
    (:data:`tariffsim.policy.conventions.CONVENTIONS`; default ``budgetlab``).

    ``exempt_list`` overrides the convention's IEEPA product exemptions: ``"annex_ii"`` (EO 14257 Annex II as
    published in April 2025 plus the dated amendments; $8bn of 2024 imports from Japan) or ``"budgetlab"`` (Budget
    Lab's HTS10 union over all Annex II revisions, incl. US note 2(v)(iii), ITA and Berman-amendment goods; $44bn
    from Japan). The true 2025 coverage lies between the two (us_tariff_actions_2025/SOURCES.md).
    """
    if name not in BUILTIN:
        raise ScenarioError(f"unknown schedule {name!r}; known: {', '.join(BUILTIN)}")
    conv = get_convention(convention)
    if exempt_list is not None:
        if exempt_list not in EXEMPT_LISTS:
            raise ScenarioError(f"unknown exempt_list {exempt_list!r}; known: {', '.join(EXEMPT_LISTS)}")
        conv = replace(conv, name=f"{conv.name}+{exempt_list}", exempt_list=exempt_list)
    cutoff, desc = BUILTIN[name]
    lo = D("2024-01-01") if name == "baseline-2024" else DATE_MIN
    return Schedule(name, _snapshot(cutoff, conv), desc, {"cutoff": cutoff, "convention": conv,
                                                         "valid_from": lo, "valid_to": DATE_MAX})


def as_schedule(s: "Schedule | str") -> Schedule:
    """A :class:`Schedule` from itself or a built-in name."""
    if isinstance(s, Schedule):
        return s
    if isinstance(s, str):
        return builtin_schedule(s)
    raise ScenarioError(f"expected a Schedule or a schedule name, got {type(s).__name__}")


def schedule_to_world(schedule: "Schedule | str", world: Any, d: Any, *, relative_to: Any = None,
                      importer: str = "USA") -> np.ndarray:
    """World tariff array (N, N, S) with ``importer``'s tariffs replaced by the schedule's sector aggregates on ``d``.

    Sector aggregation: :func:`tariffsim.policy.to_world.sector_rates` (import-weighted means through the HS ->
    ICIO crosswalk).

    Parameters
    ----------
    schedule : :class:`Schedule` or built-in name.
    world : a :class:`tariffsim.World` (``world_io_7x44_2017`` or any world with ICIO 44 sector codes, or one
        sector).
    d : date of the schedule.
    relative_to : optional date: add the schedule's change between ``relative_to`` and ``d`` to the world's own
        tariffs instead of replacing them (keeps the world's base-year calibration), e.g. ``"2025-01-01"``.
    importer : region whose import tariffs the schedule gives (US schedules: ``"USA"``).

    Returns
    -------
    numpy array (N, N, S), a copy; pass to ``tariffsim.solve(world, tariffs=...)``.
    """
    from ..errors import DataError

    s = as_schedule(schedule)
    if importer not in world.regions:
        raise DataError(f"to_world: world {world.name!r} has no region {importer!r}")
    j = world.regions.index(importer)
    new, w = sector_rates(world, s.arrays(d)["tariff"], importer)
    t = np.array(world.tariffs, dtype=np.float64, copy=True)
    has = w > 0
    if relative_to is None:
        t[:, j, :] = np.where(has, new, t[:, j, :])
    else:
        old, _ = sector_rates(world, s.arrays(relative_to)["tariff"], importer)
        t[:, j, :] = np.where(has, t[:, j, :] + (new - old), t[:, j, :])
    t[j, j, :] = 0.0
    return t


def sector_table(schedule: "Schedule | str", world: Any, d: Any, importer: str = "USA") -> pl.DataFrame:
    """Tidy ``exporter, sector, tariff_rate, value_usd`` of the schedule's sector aggregates (cells with imports)."""
    mean, w = sector_rates(world, as_schedule(schedule).arrays(d)["tariff"], importer)
    rows = [{"exporter": world.regions[i], "sector": world.sectors[k], "tariff_rate": float(mean[i, k]),
             "value_usd": float(w[i, k])} for i in range(len(world.regions)) for k in range(len(world.sectors))
            if w[i, k] > 0]
    return pl.DataFrame(rows)


__all__ = ["Schedule", "builtin_schedule", "list_schedules", "as_schedule", "schedule_to_world", "sector_table",
           "BUILTIN", "TODAY", "DATE_MIN", "DATE_MAX", "US_AUTO_CONTENT_SHARE"]
