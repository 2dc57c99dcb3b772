"""The 2026 US tariff actions: after the IEEPA ruling (Section 122, forced-labor and Brazil Section 301,
Section 338, the 2026 Section 232 programmes, quartz Section 201, China cranes 301).

One :class:`~tariffsim.policy._entry.Entry` per action of ``us_tariff_actions_2026/timeline_2025_2026.csv``, with the
stacking rules of ``stacking_rules_2026.md`` (section numbers cited as SR26 §n; KN = KlearNow review pack rules,
BLPP = Budget Lab ``policy_params.yaml`` @ 04bd7d62). The IEEPA termination itself is applied to the 2025 IEEPA
measures by :func:`tariffsim.policy.schedules.builtin_schedule` (their end date becomes the convention's
``ieepa_last_day``, reason ``struck_down``).
"""

from __future__ import annotations

from ..data import read_table
from ._data import _codes
from ._entry import Entry, entry
from .conventions import Convention

#: Section 232 metals measures of 2025 that the April 2026 annex regime replaces (SR26 §5).
METALS_2025 = ("s232-metals-50", "s232-derivatives-50", "s232-metals-gbr-25", "s232-derivatives-gbr-25",
               "s232-copper")
METALS_2026 = ("s232-annex-1a", "s232-annex-1b", "s232-annex-3", "s232-annex-1c", "s232-annex-1c-floor",
               "s232-annex-1c-usmca-steel")
#: Framework partners with a 15% floor on annex I-C (Proc. 11032; BLPP ``annex_1c.framework_countries``).
ANNEX_1C_FLOOR = ("ARG", "ECU", "SLV", "GTM", "JPN", "KOR", "LIE", "CHE", "TWN", "GBR", "EU")
DEAL_15 = ("EU", "JPN", "KOR", "CHE", "LIE")  # pharma 232 15% all-in (Proc. 11020, U.S. note 40)
POLY_FLOOR = ("EU", "JPN", "KOR", "TWN", "CHE", "LIE")  # polysilicon 232 15% all-in (proclamation of 2026-08-06)

#: Pharmaceutical 232 shares of patented-line imports that pay (BLPP ``pharmaceuticals``): (1 - generic share) x
#: (1 - company-exemption share); generic share 0.95 for China and India, else 0.20; exemption share 0.75 for the
#: EU, UK and Japan, 0.95 for Ireland, Belgium and Switzerland, else 0.40.
PHARMA_PAYING = {"all": 0.8 * 0.6, "CHN": 0.05 * 0.6, "IND": 0.05 * 0.6, "EU": 0.8 * 0.25, "JPN": 0.8 * 0.25,
                 "IRL": 0.8 * 0.05, "BEL": 0.8 * 0.05, "CHE": 0.8 * 0.05}
#: Forced-labor and Brazil 301 use-conditional exclusions: share of the duty still paid on lines excluded for
#: civil-aircraft use (90% claimed) and pharmaceutical use (50% claimed) (BLPP ``aircraft_exempt_share``,
#: ``pharma_exempt_share``).
FL_USE_SCALE = {"list:s301fl_excl_aircraft": 0.10, "list:s301fl_excl_pharma": 0.50}
#: The note 39 line meeting the TPP/DRAM bands (BLPP ``semi_qualifying_shares``, interim binary 2026-04-28).
SEMIS_QUALIFYING = ("8471804000",)
CHINA = ("CHN", "HKG", "MAC")
#: Steel and aluminium chapters: no USMCA relief from the metals annexes in any convention (BLPP STEEL_CHAPTERS,
#: ALUM_CHAPTERS; no USMCA carve-out in U.S. note 16 for them).
STEEL_ALU_CHAPTERS = ("72", "73", "76")


def _tier_partners() -> dict[str, tuple[str, ...]]:
    known = set(_codes()[1])
    t = read_table("us_tariff_actions_2026", "fl_tiers")
    return {tier: tuple(sorted(set(t.filter(t["tier"] == tier)["iso3"].to_list()) & known))
            for tier in t["tier"].unique().to_list()}


def timeline_2026(conv: Convention) -> tuple[Entry, ...]:
    """The 2026 entries under convention ``conv``."""
    tiers = _tier_partners()
    # Annex I-A/I-B/III duty on Canadian/Mexican goods outside ch. 72/73/76: scaled by 1 - USMCA claim share under
    # the tracker convention (06_calculate_rates.R step 7 refreshes s232_usmca_eligible for annex products that are
    # USMCA-eligible; steel/aluminium chapters never get USMCA relief); no relief under annex_usmca="none".
    annex_usmca = dict(usmca_exempt=conv.annex_usmca == "claim_shares", usmca_exclude_products=STEEL_ALU_CHAPTERS)
    pharma_start = conv.pharma_start.isoformat()
    fl_common = dict(exclude_products=("list:s301fl_excl_full", "list:s232_pharma"), product_scale=FL_USE_SCALE,
                     usmca_exempt=True, excluded_by_232=True)
    fl_cite = ("USTR forced-labor Notice of Action (FR 2026-15181); U.S. note 52, HTS 9903.05.20-.84; 232 "
               "articles excluded (note 52(f), 9903.05.90), patented pharma from 2026-07-31 (52(f)(8)); Annex II "
               "Part A exclusions; USMCA goods exempt (9903.05.93/.94)")
    e = [
        # ---------------- Section 201 ----------------
        entry("s201-solar", "s201", 0.145, "2018-02-07", end="2026-02-06", announced="2018-01-23",
              end_announced="2022-02-04", products=("854143",), exclude_partners=("CAN", "MEX"),
              end_reason="expired", authority="Section 201 safeguard on CSPV cells and modules (year 8: 14.5%)",
              citation="Proclamation 9693 as extended by Proclamation 10339; HTS 9903.45.21-.29; expired after "
              "2026-02-06 (BLPP section_201)", note="modules only: cells enter within the 12.5 GW tariff-rate quota "
              "at 0% (Proc. 10339); developing-country exclusions not modelled"),
        entry("s201-quartz", "s201", 0.25, "2026-08-15", end="2030-08-14", announced="2026-08-10",
              end_announced="2026-08-10", products=("6810990020", "6810990040", "7020006000"),
              exclude_partners=("CAN", "MEX"), authority="Section 201 safeguard on quartz surface products",
              citation="Proclamation 11051; U.S. note 41; HTS 9903.45.30 (in-quota 25%) / .31 (over-quota 50%); "
              "91 FR 50645", note="in-quota rate; CA/MX excluded (note 41(c))"),
        # ---------------- Section 232 ----------------
        entry("s232-semis", "s232", 0.25, "2026-01-15", announced="2026-01-14",
              products=SEMIS_QUALIFYING if conv.semis == "qualifying" else ("list:s232_semis",),
              authority="Section 232 semiconductors (note 39 TPP/DRAM bands)",
              citation="Proclamation 11002; U.S. note 39; HTS 9903.79.01; no USMCA carve-out",
              note="start 2026-01-15 (KN; BLPP 2026-01-16)"),
        entry("s232-annex-1a", "s232", {"all": 0.50, "GBR": 0.25}, "2026-04-06", announced="2026-04-02",
              products=("list:s232_annex_1a",), authority="Section 232 metals annex I-A (50%; UK 25%)",
              citation="April 2026 metals proclamation (CSMS #68253075); HTS 9903.82.01-.26, U.S. note 16; full "
                       "value", note="replaces the 2025 steel/aluminium/copper measures", **annex_usmca),
        entry("s232-annex-1b", "s232", {"all": 0.25, "GBR": 0.15}, "2026-04-06", announced="2026-04-02",
              products=("list:s232_annex_1b",), authority="Section 232 metals annex I-B (25%; UK 15%)",
              citation="April 2026 metals proclamation; HTS 9903.82.09, U.S. note 16; full value", **annex_usmca),
        entry("s232-annex-3", "s232", 0.15, "2026-04-06", end="2027-12-31", announced="2026-04-02",
              end_announced="2026-04-02", rule="floor_all_in", products=("list:s232_annex_3",),
              authority="Section 232 metals annex III (15% all-in)", citation="April 2026 metals proclamation; "
              "annex III sunset 2027-12-31 (then I-B)", **annex_usmca),
        entry("s232-annex-1c", "s232", 0.25, "2026-06-08", end="2027-12-31", announced="2026-06-01",
              end_announced="2026-06-01", products=("list:s232_annex_1c",),
              authority="Section 232 metals annex I-C (mobile industrial equipment, 25%)",
              citation="Proclamation 11032 (CSMS #68855869); sunset 2027-12-31"),
        entry("s232-annex-1c-floor", "s232", 0.15, "2026-06-08", end="2027-12-31", announced="2026-06-01",
              end_announced="2026-06-01", rule="floor_all_in", products=("list:s232_annex_1c",),
              partners=ANNEX_1C_FLOOR, replaces=("s232-annex-1c",),
              authority="Section 232 annex I-C, framework partners 15% all-in", citation="Proclamation 11032"),
        entry("s232-annex-1c-usmca-steel", "s232", 0.15, "2026-06-08", end="2027-12-31", announced="2026-06-01",
              end_announced="2026-06-01", rule="floor_all_in", products=("list:s232_annex_1c",),
              partners=("CAN", "MEX"), replaces=("s232-annex-1c",),
              authority="Section 232 annex I-C, Canada/Mexico 15% total", citation="Proclamation 11032; U.S. note "
              "16(j)"),
        entry("s232-pharma", "s232", 1.00, pharma_start, announced="2026-04-02", rule="floor_all_in",
              products=("list:s232_pharma",), partner_scale=PHARMA_PAYING,
              authority="Section 232 patented pharmaceuticals (100% total)",
              citation="Proclamation 11020 (91 FR 18183); U.S. note 40; HTS 9903.04.60-.69",
              note="generic and company-exemption shares of BLPP (PHARMA_PAYING)"),
        entry("s232-pharma-deal", "s232", 0.15, pharma_start, announced="2026-04-02", rule="floor_all_in",
              products=("list:s232_pharma",), partners=DEAL_15, partner_scale=PHARMA_PAYING,
              replaces=("s232-pharma",), authority="Section 232 pharmaceuticals, EU/JP/KR/CH/LI 15% all-in",
              citation="Proclamation 11020; U.S. note 40"),
        entry("s232-pharma-gbr", "s232", 0.0, pharma_start, announced="2026-04-02", products=("list:s232_pharma",),
              partners=("GBR",), replaces=("s232-pharma",), authority="Section 232 pharmaceuticals, UK +0%",
              citation="HTS 2026 rev_15, heading 9903.04.63 (retroactive to 2026-07-31)"),
        entry("s232-uas-small", "s232", 0.25, "2026-09-03", announced="2026-08-28",
              products=("880621", "880622", "880623", "880691", "880692", "880693"),
              authority="Section 232 unmanned aircraft systems, small (25%)",
              citation="Proclamation 11055; U.S. note 43; HTS 9903.08.22",
              note="product list not in the sources: HS 8806 lines up to 25 kg"),
        entry("s232-uas-large", "s232", 1.00, "2026-09-03", announced="2026-08-28",
              products=("880624", "880629", "880694", "880699"),
              authority="Section 232 unmanned aircraft systems, large (100%)",
              citation="Proclamation 11055; U.S. note 43; HTS 9903.08.21",
              note="product list not in the sources: HS 8806 lines above 25 kg"),
        entry("s232-polysilicon", "s232", {"all": 0.15, "GBR": 0.10}, "2026-12-04", announced="2026-08-06",
              products=("list:s232_polysilicon",), authority="Section 232 polysilicon derivatives (15%; UK 10%)",
              citation="Proclamation of 2026-08-06 (polysilicon); minimum import prices modelled as zero (BLPP)"),
        entry("s232-polysilicon-floor", "s232", 0.15, "2026-12-04", announced="2026-08-06", rule="floor_all_in",
              products=("list:s232_polysilicon",), partners=POLY_FLOOR, replaces=("s232-polysilicon",),
              authority="Section 232 polysilicon, framework partners 15% all-in",
              citation="Proclamation of 2026-08-06"),
        # ---------------- Section 122 ----------------
        entry("s122", "s122", 0.10, "2026-02-24", end="2026-07-23", announced="2026-02-20",
              end_announced="2026-02-20", end_reason="expired", exclude_products=("list:s122_exempt",),
              usmca_exempt=True, stacks_on_232=False,
              authority="Section 122 balance-of-payments surcharge (150 days)",
              citation="Proclamation of 2026-02-20 under Trade Act 1974 s.122; HTS 9903.03.01, exemptions "
              "9903.03.02-.11 (232 goods 9903.03.06); USMCA goods exempt"),
        # ---------------- Section 301 ----------------
        entry("s301-china-cranes", "s301", 1.00, "2026-11-10", announced="2025-10-10", suspended_from="2025-11-10",
              products=("8716390090", "842619"), partners=("CHN",),
              authority="Section 301 China ships/logistics: chassis and ship-to-shore cranes +100%",
              citation="USTR Section 301 ships action, U.S. note 31(k)/(l), HTS 9903.91.12/.14; suspended one year "
              "from 2025-11-10 (BLPP gates the duty to 2026-11-10)"),
        entry("s301-brazil", "s301_brazil", 0.25, "2026-07-22", announced="2026-07-20", partners=("BRA",),
              exclude_products=("list:s301_brazil_exempt", "list:s232_pharma"), excluded_by_232=True,
              authority="Section 301 Brazil +25%",
              citation="USTR Notice of Action FR 2026-14542; U.S. note 50, HTS 9903.05.01; 232 articles excluded "
              "(50(a)(vi), 9903.05.07); patented pharma from 2026-07-31 (Annex I Part B)",
              note="exemptions: June proposal list (1,698 HTS8; the final 2,126 are not in the source)"),
        entry("s301-fl-flat-10", "s301_fl", 0.10, "2026-07-24", announced="2026-07-23", partners=tiers["flat_10"],
              authority="Section 301 forced labor, flat 10%", citation=fl_cite, **fl_common),
        entry("s301-fl-net-10", "s301_fl", 0.10, "2026-07-24", announced="2026-07-23", rule="floor_all_in",
              partners=tiers["net_of_mfn_10"], authority="Section 301 forced labor, 10% net of MFN (EU, Taiwan)",
              citation=fl_cite, **fl_common),
        entry("s301-fl-net-125", "s301_fl", 0.125, "2026-07-24", announced="2026-07-23", rule="floor_all_in",
              partners=tiers["net_of_mfn_12.5"],
              authority="Section 301 forced labor, 12.5% net of MFN (Japan, Korea, Switzerland)",
              citation=fl_cite + "; Japan 9903.05.49 (KN R3: 2.5% MFN good pays +10%)", **fl_common),
        entry("s301-fl-flat-125", "s301_fl", 0.125, "2026-07-24", announced="2026-07-23",
              partners=tiers["flat_12.5"], authority="Section 301 forced labor, flat 12.5%", citation=fl_cite,
              **fl_common),
        # ---------------- Section 338 ----------------
        *[entry(f"s338-{prog}", "s338", 0.50, conv.s338_start.isoformat(), announced="2026-07-20",
                suspended_from="2026-08-19" if conv.s338_start.isoformat() > "2026-08-19" else None,
                products=(f"list:s338_{prog}",), partners=("CAN",), excluded_by_232=True,
                authority=f"Section 338 Canada, {prog.replace('_', ' ')} list +50%",
                citation=f"Proclamation 11047 and siblings (2026-07-20); U.S. note 51, HTS 9903.03.{code}; 232 "
                         "articles excluded (note 51(c)); applies whatever the USMCA origin; suspended 19-21 Aug "
                         "(Proc. 11056)")
          for prog, code in (("alcohol", "12"), ("dairy", "13"), ("motor_vehicles", "14"))],
    ]
    return tuple(e)


__all__ = ["timeline_2026", "METALS_2025", "METALS_2026"]
