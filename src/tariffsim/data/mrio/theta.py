"""Trade elasticities θ for MRIO sectors, mapped from Caliendo and Parro (2015) through ISIC divisions.

Caliendo–Parro estimate θ for 20 goods sectors defined on ISIC Rev.3 (bundled ``elasticities.theta_cp``) and set
8.22 for services. WIOD 2016 and OECD ICIO industries are ISIC Rev.4 codes (``C10T12``, ``C10-C12``, ``D01T02``,
``A01_02``, ``G46``, a section letter ``D``...). The first ISIC Rev.4 division of a code picks the CP sector:

==========  ===========================  ==========  ==========================================
division    CP sector                    division    CP sector
==========  ===========================  ==========  ==========================================
01-03       CP01 Agriculture (01-05)     24          CP11 Basic metals
05-09       CP02 Mining                  25          CP12 Metal products
10-12       CP03 Food                    26          mean of CP14 Office, CP16 Communication,
13-15       CP04 Textile                             CP17 Medical (ISIC4 26 spans Rev.3 30, 32, 33)
16          CP05 Wood                    27          CP15 Electrical
17-18       CP06 Paper                   28          CP13 Machinery n.e.c.
19          CP07 Petroleum               29          CP18 Auto
20-21       CP08 Chemicals (pharma: 24)  30          CP19 Other Transport
22          CP09 Plastic                 31-33       CP20 Other (36-37)
23          CP10 Minerals                35-99       CP_SERVICES (8.22, as CP)
==========  ===========================  ==========  ==========================================

A section letter alone maps as its first division (A 01, B 05, D..U services); a letter must agree with its
division (``C10``, not ``S10``), except the ``D`` prefix of every ICIO 2021 code. A code that is none of these
(pymrio's test sectors, say) takes the ``AGG`` value 4.0 with an :class:`~tariffsim.errors.ElasticityFallbackWarning`.
Aggregated sectors take the mean of their members weighted by international trade (as ``World.aggregate``).

References
----------
Caliendo, L. and F. Parro (2015), "Estimates of the Trade and Welfare Effects of NAFTA", Review of Economic Studies
82(1), 1-44, Table 1.
"""

from __future__ import annotations

import re
import warnings
from typing import Sequence

import numpy as np

from ...errors import DataError, ElasticityFallbackWarning

_DIVISION_CP: tuple[tuple[int, int, tuple[str, ...]], ...] = (
    (1, 3, ("CP01",)), (5, 9, ("CP02",)), (10, 12, ("CP03",)), (13, 15, ("CP04",)), (16, 16, ("CP05",)),
    (17, 18, ("CP06",)), (19, 19, ("CP07",)), (20, 21, ("CP08",)), (22, 22, ("CP09",)), (23, 23, ("CP10",)),
    (24, 24, ("CP11",)), (25, 25, ("CP12",)), (26, 26, ("CP14", "CP16", "CP17")), (27, 27, ("CP15",)),
    (28, 28, ("CP13",)), (29, 29, ("CP18",)), (30, 30, ("CP19",)), (31, 33, ("CP20",)), (35, 99, ("CP_SERVICES",)),
)
_SECTION_DIVISION = {"A": 1, "B": 5, **{c: 35 for c in "DEFGHIJKLMNOPQRSTU"}}
#: ISIC Rev.4 sections and their divisions (a code's letter must agree with its division).
_SECTIONS = {"A": (1, 3), "B": (5, 9), "C": (10, 33), "D": (35, 35), "E": (36, 39), "F": (41, 43), "G": (45, 47),
             "H": (49, 53), "I": (55, 56), "J": (58, 63), "K": (64, 66), "L": (68, 68), "M": (69, 75), "N": (77, 82),
             "O": (84, 84), "P": (85, 85), "Q": (86, 88), "R": (90, 93), "S": (94, 96), "T": (97, 98), "U": (99, 99)}
_CODE = re.compile(r"^([A-U])?(\d{2})")


def cp_sectors_of(code: str) -> tuple[str, ...] | None:
    """CP sector code(s) for an ISIC Rev.4-based industry code, or None when the code is not one."""
    c = str(code).strip().upper()
    m = _CODE.match(c)
    if m:
        div = int(m.group(2))
        lo, hi = _SECTIONS.get(m.group(1) or "", (div, div))
        # ICIO 2021 prefixes every division with "D" (D01T02 ... D97T98); any other letter must be its section
        if not lo <= div <= hi and m.group(1) != "D":
            return None
    elif len(c) == 1 and c in _SECTION_DIVISION:
        div = _SECTION_DIVISION[c]
    else:
        return None
    for lo, hi, cps in _DIVISION_CP:
        if lo <= div <= hi:
            return cps
    return None


def theta_for_sectors(sectors: Sequence[str], cp_theta: dict[str, float]) -> tuple[np.ndarray, list[dict]]:
    """θ per sector and the mapping record (sector, cp_sectors, theta) for provenance."""
    if "AGG" not in cp_theta:
        raise DataError("elasticities.theta_cp: no AGG row")
    out, rec, fallback = [], [], []
    for s in sectors:
        cps = cp_sectors_of(s)
        if cps is None:
            fallback.append(s)
            th, cps = cp_theta["AGG"], ("AGG",)
        else:
            th = float(np.mean([cp_theta[c] for c in cps]))
        out.append(th)
        rec.append({"sector": str(s), "cp_sectors": "+".join(cps), "theta": th})
    if fallback:
        warnings.warn(f"theta: {len(fallback)} sector(s) are not ISIC Rev.4 codes ({', '.join(map(str, fallback[:5]))}); "
                      f"using the aggregate {cp_theta['AGG']}", ElasticityFallbackWarning, stacklevel=3)
    return np.array(out), rec


def aggregate_theta(theta: np.ndarray, weight: np.ndarray, S: np.ndarray) -> np.ndarray:
    """``theta'[b] = sum_{s in b} w_s theta_s / sum_{s in b} w_s`` (``w``: international trade; equal weights if none)."""
    total = S.T @ weight
    w = np.where(total[None, :] > 0, weight[:, None] * S, S)
    return (w * theta[:, None]).sum(axis=0) / w.sum(axis=0)
