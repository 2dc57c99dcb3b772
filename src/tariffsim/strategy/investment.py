"""The US-Japan investment vehicle as cash flows: who gets what, when Japan recoups, and the transfer equivalent.

The September 2025 memorandum of understanding on the USD 550bn vehicle (as summarised in
the press; ``us_japan_policy_facts_2026``) has the President select projects, Japan fund
each within 45 days (or face tariff reimposition), project cash flows split 50/50 until
Japan recoups its investment and 90/10 in favour of the US after, and an investment
window to 2029-01-19. :func:`investment_transfer` turns those terms into present values.

Convention (issue 15), with ``P`` the pledge, ``r`` the annual return, ``delta`` the
discount rate, ``H`` the horizon in years:

- disbursement ``D_s`` at the start of year ``s + 1`` (time ``s``): ``"upfront"`` pays
  ``D_0 = P``; ``"even"`` pays ``P / n`` at ``s = 0, ..., n - 1``, one part a year from
  ``start_date`` up to the window's end (``n`` = number of anniversaries of
  ``start_date``, itself included, on or before ``window_end``);
- invested capital in year ``t``: ``K_t = sum_{s < t} D_s``; the project pays
  ``CF_t = r K_t`` at the end of year ``t = 1..H``;
- the US takes ``us_share_before`` of ``CF_t`` until Japan's cumulative receipts equal the
  pledge ``P``; in the year that happens the split is pro rata: with ``f`` the fraction of
  the year's cash flow Japan needs at the before-split, Japan gets
  ``(1 - s_b) f CF_t + (1 - s_a)(1 - f) CF_t``; ``recoup_year = t - 1 + f``; after that the
  US takes ``us_share_after``;
- values are discounted to time 0: ``PV_USA = sum_t US_t (1 + delta)^-t``,
  ``PV_JPN_net = sum_t JPN_t (1 + delta)^-t - sum_s D_s (1 + delta)^-s``;
- annual equivalents are level annuities over ``t = 1..H`` with the same PV:
  ``A = PV / a(delta, H)``, ``a = sum_{t=1}^{H} (1 + delta)^-t`` (``= H`` at ``delta = 0``).

The asset's value after year ``H`` is not counted (for either side). The transfer
equivalent of the pledge used by the deal ledger is Japan's net cost as a level annuity,
``transfer_equivalent_usd_bn = -PV_JPN_net / a``: the resources Japan puts into the US
net of what comes back within ``H``; ``annual_usa_usd_bn`` (the US share of the cash
flows) is reported beside it. The old ``grant_share`` reading (``P x grant_share`` a
year) stays available to ``Deal``.

Defaults (:data:`INVESTMENT_DEFAULTS`): the split and the window come from the MOU
summaries in ``us_japan_policy_facts_2026`` (their meaning is disputed by Tokyo); the
return, the discount rate and the horizon are assumptions, to be varied.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from ..errors import ScenarioError
from .facts import ASSUMED_PLEDGE_RETURN

#: MOU signing (the same day as EO 14345, 2025-09-04): start of the investment window
MOU_DATE = "2025-09-04"
#: Investment window end (``us_japan_policy_facts_2026.mou_investment_window_end``)
WINDOW_END = "2029-01-19"
#: ASSUMPTION: discount rate, about the 2025 yield of 20-year US Treasuries (4.5-5%); vary over 0.02-0.08
ASSUMED_DISCOUNT_RATE = 0.05
#: ASSUMPTION: horizon in years over which cash flows count (no term in the MOU summaries); vary over 10-40
ASSUMED_HORIZON_YEARS = 20

#: name -> (value, source or "assumption", documented range for sensitivity)
INVESTMENT_DEFAULTS: dict[str, tuple[float | str, str, tuple[float, float] | None]] = {
    "pledge_usd_bn": (550.0, "us_japan_policy_facts.deal_investment_vehicle (EO 14345; fact sheet)", None),
    "annual_return": (ASSUMED_PLEDGE_RETURN, "assumption (energy/infrastructure project returns)", (0.02, 0.10)),
    "discount_rate": (ASSUMED_DISCOUNT_RATE, "assumption (20-year US Treasury yield, 2025)", (0.02, 0.08)),
    "horizon_years": (ASSUMED_HORIZON_YEARS, "assumption (no term in the MOU summaries)", (10.0, 40.0)),
    "us_share_before": (0.5, "us_japan_policy_facts_2026.mou_cashflow_split_before_recoup_us (MOU summaries)", None),
    "us_share_after": (0.9, "us_japan_policy_facts_2026.mou_cashflow_split_after_recoup_us (disputed by Tokyo)", None),
    "window_end": (WINDOW_END, "us_japan_policy_facts_2026.mou_investment_window_end", None),
}


@dataclass(frozen=True)
class InvestmentTransfer:
    """Present values of the investment vehicle's cash flows (USD bn, discounted to year 0).

    ``recoup_year`` is the (fractional) year in which Japan's cumulative receipts reach the
    pledge, None if not within the horizon. ``annual_*`` are level annuities over years
    1..H with the same present value. ``cash_flows`` is (H, 5): year, disbursement at the
    start of that year... see :meth:`table`.
    """

    pledge_usd_bn: float
    annual_return: float
    discount_rate: float
    horizon_years: int
    us_share_before: float
    us_share_after: float
    disbursement: str
    n_parts: int
    pv_usa_usd_bn: float
    pv_jpn_receipts_usd_bn: float
    pv_outlay_usd_bn: float
    pv_jpn_net_usd_bn: float
    recoup_year: float | None
    annuity_factor: float
    years: np.ndarray
    disbursed_usd_bn: np.ndarray
    cash_flow_usd_bn: np.ndarray
    usa_usd_bn: np.ndarray
    jpn_usd_bn: np.ndarray

    @property
    def annual_usa_usd_bn(self) -> float:
        """The US share of the cash flows as a level annuity over years 1..H, USD bn/yr."""
        return self.pv_usa_usd_bn / self.annuity_factor

    @property
    def annual_jpn_cost_usd_bn(self) -> float:
        """Japan's net cost (outlay minus receipts) as a level annuity over years 1..H, USD bn/yr."""
        return -self.pv_jpn_net_usd_bn / self.annuity_factor

    @property
    def transfer_equivalent_usd_bn(self) -> float:
        """Transfer Japan -> US used for the pledge in the GE model: Japan's annual net cost, USD bn/yr."""
        return self.annual_jpn_cost_usd_bn

    def table(self):
        """Tidy polars table by year t = 0..H: disbursed (at time t), cash flow, US and Japan receipts (end of t)."""
        import polars as pl

        return pl.DataFrame({"year": self.years, "disbursed_usd_bn": self.disbursed_usd_bn,
                             "cash_flow_usd_bn": self.cash_flow_usd_bn, "usa_usd_bn": self.usa_usd_bn,
                             "jpn_usd_bn": self.jpn_usd_bn})

    def summary(self) -> str:
        rec = "never within the horizon" if self.recoup_year is None else f"in year {self.recoup_year:.2f}"
        return (f"investment vehicle USD {self.pledge_usd_bn:,.0f}bn ({self.disbursement}, {self.n_parts} part(s)), "
                f"return {self.annual_return:.1%}, discount {self.discount_rate:.1%}, H = {self.horizon_years}: "
                f"PV US {self.pv_usa_usd_bn:,.1f}bn, PV Japan net {self.pv_jpn_net_usd_bn:,.1f}bn; Japan recoups {rec}; "
                f"per year US {self.annual_usa_usd_bn:,.2f}bn, Japan's cost {self.annual_jpn_cost_usd_bn:,.2f}bn")

    def __str__(self) -> str:
        return self.summary()


def _as_date(d: str | date, what: str) -> date:
    if isinstance(d, date):
        return d
    try:
        return date.fromisoformat(str(d))
    except ValueError:
        raise ScenarioError(f"{what}: not an ISO date: {d!r}") from None


def _n_parts(start_date: date, window_end: date) -> int:
    """Number of anniversaries of ``start_date`` (itself included) on or before ``window_end``."""
    if window_end < start_date:
        raise ScenarioError(f"window_end {window_end} is before start_date {start_date}")
    n = 0
    while True:
        try:
            d = start_date.replace(year=start_date.year + n)
        except ValueError:          # 29 February
            d = date(start_date.year + n, 3, 1)
        if d > window_end:
            return n
        n += 1


def _split(cash_flow: np.ndarray, pledge: float, s_before: float, s_after: float):
    """Split each year's cash flow; returns (US, Japan, recoup year or None). Pro rata in the recoup year."""
    us, jp = np.zeros_like(cash_flow), np.zeros_like(cash_flow)
    cum, recoup = 0.0, None
    for k, cf in enumerate(cash_flow):
        if recoup is not None:
            us[k], jp[k] = s_after * cf, (1 - s_after) * cf
            continue
        need, jp_before = pledge - cum, (1 - s_before) * cf
        if jp_before < need or jp_before <= 0.0:
            us[k], jp[k] = s_before * cf, jp_before
            cum += jp_before
            continue
        f = need / jp_before
        us[k] = s_before * f * cf + s_after * (1 - f) * cf
        jp[k] = (1 - s_before) * f * cf + (1 - s_after) * (1 - f) * cf
        recoup = k + f          # year k + 1 (1-based), a fraction f of the way through
        cum = pledge
    return us, jp, recoup


def investment_transfer(
    pledge_usd_bn: float = 550.0,
    annual_return: float = ASSUMED_PLEDGE_RETURN,
    discount_rate: float = ASSUMED_DISCOUNT_RATE,
    horizon_years: int = ASSUMED_HORIZON_YEARS,
    us_share_before: float = 0.5,
    us_share_after: float = 0.9,
    disbursement: str = "upfront",
    *,
    start_date: str | date = MOU_DATE,
    window_end: str | date = WINDOW_END,
) -> InvestmentTransfer:
    """Present values of the investment vehicle's cash flows under the MOU split (module docstring convention).

    Parameters
    ----------
    pledge_usd_bn : pledge ``P``, USD bn (>= 0; default the USD 550bn vehicle).
    annual_return : project cash flow per dollar invested per year ``r`` (>= 0; ASSUMPTION 5%).
    discount_rate : ``delta`` (>= 0; ASSUMPTION 5%).
    horizon_years : ``H``, whole years of cash flows counted (>= 1; ASSUMPTION 20).
    us_share_before, us_share_after : US share of the cash flow before / after Japan recoups, in [0, 1]
        (MOU summaries: 0.5 and 0.9).
    disbursement : ``"upfront"`` (all at time 0) or ``"even"`` (equal yearly parts from ``start_date`` to
        ``window_end``).
    start_date, window_end : the investment window (MOU: 2025-09-04 to 2029-01-19); used by ``"even"``.

    Returns
    -------
    InvestmentTransfer with ``pv_usa_usd_bn``, ``pv_jpn_net_usd_bn``, ``recoup_year``, the annual
    equivalents and the year-by-year cash flows.

    Examples
    --------
    >>> r = investment_transfer(100.0, 0.1, 0.0, 5)      # 5 a year to Japan: never recoups
    >>> r.pv_usa_usd_bn, r.pv_jpn_net_usd_bn, r.recoup_year
    (25.0, -75.0, None)
    """
    for name, v in (("pledge_usd_bn", pledge_usd_bn), ("annual_return", annual_return),
                    ("discount_rate", discount_rate)):
        if not isinstance(v, (int, float)) or not math.isfinite(float(v)) or float(v) < 0:
            raise ScenarioError(f"investment_transfer: {name} must be a finite number >= 0, got {v!r}")
    for name, v in (("us_share_before", us_share_before), ("us_share_after", us_share_after)):
        if not isinstance(v, (int, float)) or not 0.0 <= float(v) <= 1.0:
            raise ScenarioError(f"investment_transfer: {name} must lie in [0, 1], got {v!r}")
    if isinstance(horizon_years, bool) or not isinstance(horizon_years, (int, np.integer)) or horizon_years < 1:
        raise ScenarioError(f"investment_transfer: horizon_years must be a whole number >= 1, got {horizon_years!r}")
    if disbursement not in ("upfront", "even"):
        raise ScenarioError(f"investment_transfer: disbursement must be 'upfront' or 'even', got {disbursement!r}")
    P, r, dlt, H = float(pledge_usd_bn), float(annual_return), float(discount_rate), int(horizon_years)
    n = 1 if disbursement == "upfront" else _n_parts(_as_date(start_date, "start_date"),
                                                      _as_date(window_end, "window_end"))
    if n > H + 1:
        raise ScenarioError(f"investment_transfer: horizon_years {H} ends before the last of {n} disbursements")
    D = np.zeros(H + 1)                       # D[s]: disbursed at time s = 0..H
    D[:n] = P / n
    K = np.cumsum(D)[:-1]                     # K[t-1]: invested during year t = 1..H
    cf = r * K
    us, jp, recoup = _split(cf, P, float(us_share_before), float(us_share_after))
    disc = (1.0 + dlt) ** -np.arange(H + 1)
    a = float(disc[1:].sum())
    pv_us, pv_jp, pv_out = float(us @ disc[1:]), float(jp @ disc[1:]), float(D @ disc)
    return InvestmentTransfer(
        pledge_usd_bn=P, annual_return=r, discount_rate=dlt, horizon_years=H, us_share_before=float(us_share_before),
        us_share_after=float(us_share_after), disbursement=disbursement, n_parts=n, pv_usa_usd_bn=pv_us,
        pv_jpn_receipts_usd_bn=pv_jp, pv_outlay_usd_bn=pv_out, pv_jpn_net_usd_bn=pv_jp - pv_out,
        recoup_year=None if recoup is None else float(recoup), annuity_factor=a, years=np.arange(H + 1),
        disbursed_usd_bn=D, cash_flow_usd_bn=np.r_[0.0, cf], usa_usd_bn=np.r_[0.0, us], jpn_usd_bn=np.r_[0.0, jp])


__all__ = ["InvestmentTransfer", "investment_transfer", "INVESTMENT_DEFAULTS", "ASSUMED_DISCOUNT_RATE",
           "ASSUMED_HORIZON_YEARS", "MOU_DATE", "WINDOW_END"]
