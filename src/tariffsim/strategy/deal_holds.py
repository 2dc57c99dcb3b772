"""Will the US-Japan deal hold? Each side's participation margin on a date: the deal vs its threat point.

For side ``k`` (USA, JPN) on date ``d``, with the deal's EV over the no-deal point from
:func:`~tariffsim.strategy.deal_ledger.deal_ledger` and the threat point of that date
(:func:`~tariffsim.strategy.threat.threat_point`):

    margin_k = EV_k(deal) - EV_k(threat) + security_value_k          (USD bn/yr)

``security_value_k`` is what side ``k`` loses at disagreement beyond the tariffs (Japan: the
US cost of its forces in Japan, USD 20.9bn over 2016-2019 / 4, GAO-21-270, as in
``bargain``; USA: 0 by assumption). The deal holds for ``k`` when ``margin_k >= 0`` (individual
rationality, Nash 1950). The *binding clause* of a side is the valued clause that costs it the
most (its most negative ledger value): the participation constraint hinges on it.
:func:`break_even` finds the value of one threat instrument at which a side's margin is zero
(Brent's method on a bracket; the margin is evaluated, not assumed monotone: the bracket must
change sign).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import numpy as np
from scipy.optimize import brentq

from ..errors import ScenarioError, TariffsimError
from ..world import World
from .deal import Deal, deal_outcome
from .deal_ledger import DealLedger, DealTerms, deal_ledger
from .facts import fact
from .game import _Game
from .threat import THREAT_DEFAULTS, check_date, threat_point

SIDES = ("USA", "JPN")


def default_security_value_usd_bn() -> dict[str, float]:
    """Japan: GAO-21-270 US DoD obligations for its presence in Japan, 2016-2019 / 4; USA: 0 (assumption)."""
    return {"USA": 0.0, "JPN": fact("gao_dod_obligations_japan_2016_2019") / 4.0}


@dataclass(frozen=True, eq=False)
class DealHolds:
    """Participation margins on one date (USD bn/yr; index 0 = USA, 1 = JPN).

    ``deal_ev_usd_bn`` / ``threat_ev_usd_bn``: EV vs the world's base year at the deal and at the
    threat point; ``margin_usd_bn`` = deal - threat + security value; ``binding_clause`` per side and
    its value; ``pledge_margin_jpn_usd_bn``: Japan's margin without the investment clause minus
    with it (what the pledge costs Japan in the margin).
    """

    date: Any
    regime: str
    deal_ev_usd_bn: np.ndarray
    threat_ev_usd_bn: np.ndarray
    security_value_usd_bn: np.ndarray
    margin_usd_bn: np.ndarray
    binding_clause: tuple[str, str]
    binding_value_usd_bn: np.ndarray
    pledge_value_jpn_usd_bn: float
    threat_parameters: Mapping[str, Any]
    ledger: DealLedger

    @property
    def holds(self) -> tuple[bool, bool]:
        return bool(self.margin_usd_bn[0] >= 0), bool(self.margin_usd_bn[1] >= 0)

    @property
    def pledge_individually_rational(self) -> bool:
        """Japan's margin is >= 0 with the pledge in the deal."""
        return bool(self.margin_usd_bn[1] >= 0)

    def line(self) -> str:
        """One line: does the deal hold on this date, and why."""
        m = self.margin_usd_bn
        ok = self.holds
        who = [s for s, h in zip(SIDES, ok) if not h]
        verdict = "holds" if all(ok) else f"does not hold for {' and '.join(who)}"
        why = "; ".join(f"{s}'s binding clause {c} ({v:+.1f}; margin without it {mm - v:+.1f})"
                        for s, c, v, mm in zip(SIDES, self.binding_clause, self.binding_value_usd_bn, m) if v < 0)
        return (f"{self.date} ({self.regime}): the deal {verdict}: margins USA {m[0]:+.1f}, JPN {m[1]:+.1f} USD bn/yr "
                f"(security value JPN {self.security_value_usd_bn[1]:.1f})" + (f"; {why}" if why else ""))

    def table(self):
        import polars as pl

        return pl.DataFrame({"side": list(SIDES), "deal_ev_usd_bn": self.deal_ev_usd_bn,
                             "threat_ev_usd_bn": self.threat_ev_usd_bn,
                             "security_value_usd_bn": self.security_value_usd_bn, "margin_usd_bn": self.margin_usd_bn,
                             "holds": list(self.holds), "binding_clause": list(self.binding_clause),
                             "binding_value_usd_bn": self.binding_value_usd_bn})

    def summary(self) -> str:
        return self.line()

    def __str__(self) -> str:
        return self.line()


def _security(security_value_usd_bn: Mapping[str, float] | None) -> np.ndarray:
    sv = default_security_value_usd_bn() if security_value_usd_bn is None else dict(security_value_usd_bn)
    bad = [k for k in sv if k not in SIDES]
    if bad:
        raise ScenarioError(f"security_value_usd_bn: unknown side(s) {bad}; sides: USA, JPN")
    out = np.array([float(sv.get(s, 0.0)) for s in SIDES])
    if not np.isfinite(out).all():
        raise ScenarioError("security_value_usd_bn: values must be finite")
    return out


def _binding(tab) -> tuple[tuple[str, str], np.ndarray]:
    valued = tab.filter(tab["status"] == "in force")
    names, vals = [], []
    for col in ("ev_usa_usd_bn", "ev_jpn_usd_bn"):
        if valued.height == 0:
            names.append("none")
            vals.append(0.0)
            continue
        k = int(np.argmin(valued[col].to_numpy()))
        v = float(valued[col][k])
        names.append(valued["clause"][k] if v < 0 else "none (every clause helps)")
        vals.append(min(v, 0.0))
    return (names[0], names[1]), np.array(vals)


def deal_holds(world: World, date: Any, *, deal: DealTerms | Mapping[str, Any] | None = None,
               security_value_usd_bn: Mapping[str, float] | None = None, closure: str = "fixed",
               ledger: DealLedger | None = None, clauses=None, **threat: Any) -> DealHolds:
    """Each side's participation margin (USD bn/yr) on ``date``: the deal against its threat point.

    Parameters
    ----------
    world : World with USA and JPN (``world_io_7x44_2017``).
    date : a date inside the US schedule.
    deal : deal terms (see :class:`DealTerms`).
    security_value_usd_bn : {side: USD bn/yr lost at disagreement}; default
        :func:`default_security_value_usd_bn`.
    closure : GE closure.
    ledger : a ledger of the same date and threat to reuse (else computed).
    clauses : the clauses in the deal (default all; see :data:`~tariffsim.strategy.deal_ledger.CLAUSES`).
    **threat : threat instruments (:data:`~tariffsim.strategy.threat.THREAT_DEFAULTS`).

    Returns
    -------
    DealHolds (``line()`` says in one line whether the deal holds and why).
    """
    d = check_date(date)
    sec = _security(security_value_usd_bn)
    tp = threat_point(world, d, **threat)
    L = ledger if ledger is not None else deal_ledger(world, d, deal, clauses=clauses, no_deal=tp, closure=closure,
                                                          pe=False)
    if L.date != d:
        raise ScenarioError(f"deal_holds: the ledger is of {L.date}, not {d}")
    if dict(L.no_deal.parameters) != dict(tp.parameters):
        raise ScenarioError("deal_holds: the ledger was valued against a different threat point")
    deal_ev = L.no_deal_ev_usd_bn + L.whole_ev_usd_bn
    threat_ev = L.no_deal_ev_usd_bn
    margin = deal_ev - threat_ev + sec
    names, vals = _binding(L.table)
    inv = L.table.filter(L.table["clause"] == "investment_vehicle")
    pledge = float(inv["ev_jpn_usd_bn"][0]) if inv.height else 0.0
    return DealHolds(date=d, regime=tp.regime, deal_ev_usd_bn=deal_ev, threat_ev_usd_bn=threat_ev,
                     security_value_usd_bn=sec, margin_usd_bn=margin, binding_clause=names, binding_value_usd_bn=vals,
                     pledge_value_jpn_usd_bn=pledge, threat_parameters=dict(tp.parameters), ledger=L)


def margin_curve(holds: DealHolds, world: World, parameter: str, values, *, closure: str = "fixed") -> np.ndarray:
    """Margins (n, 2) USD bn/yr as one threat instrument takes ``values``, the deal held fixed at ``holds``.

    The deal's EV does not depend on the threat instruments, so only the threat point is re-solved.
    """
    if parameter not in THREAT_DEFAULTS or parameter in ("withdraw_232_caps", "s301_tier_rule"):
        raise ScenarioError(f"margin_curve: {parameter!r} is not a numeric threat instrument; "
                            f"known: {', '.join(k for k in THREAT_DEFAULTS if k not in ('withdraw_232_caps', 's301_tier_rule'))}")
    game = _Game(world, SIDES, None, closure)
    deal_ev = holds.deal_ev_usd_bn
    out = []
    for v in np.atleast_1d(np.asarray(values, dtype=float)):
        p = {**holds.threat_parameters, parameter: float(v)}
        tp = threat_point(world, holds.date, **p)
        eq, _ = deal_outcome(game, Deal(name="threat", tariffs=tp.tariff_rate))
        out.append(deal_ev - game.ev_of(eq) / 1e3 + holds.security_value_usd_bn)
    return np.array(out)


def break_even(holds: DealHolds, world: World, parameter: str, side: str = "JPN",
               bracket: tuple[float, float] = (0.0, 2.0), *, closure: str = "fixed", xtol: float = 1e-6) -> float:
    """The value of threat instrument ``parameter`` at which ``side``'s margin is zero (Brent on ``bracket``).

    Raises TariffsimError when the margin has the same sign at both ends of the bracket.
    """
    if side not in SIDES:
        raise ScenarioError(f"break_even: side must be USA or JPN, got {side!r}")
    k = SIDES.index(side)
    f = lambda v: float(margin_curve(holds, world, parameter, [v], closure=closure)[0, k])  # noqa: E731
    lo, hi = (float(x) for x in bracket)
    flo, fhi = f(lo), f(hi)
    if np.sign(flo) == np.sign(fhi):
        raise TariffsimError(f"break_even: {side}'s margin keeps its sign on {parameter} in [{lo:g}, {hi:g}] "
                             f"({flo:+.2f} .. {fhi:+.2f} USD bn/yr)")
    return float(brentq(f, lo, hi, xtol=xtol))


#: Documented ranges of the assumptions behind the margins (low, default, high); sources in the docstring
#: of :func:`margin_sensitivity`.
SENSITIVITY = {
    "annual_return": (0.02, 0.05, 0.10),
    "discount_rate": (0.02, 0.05, 0.08),
    "horizon_years": (10, 20, 40),
    "grant_share": (0.0, 0.045, 0.09),
    "security_value_jpn_usd_bn": (0.0, 5.225, 10.45),
}


def margin_sensitivity(holds: DealHolds, world: World, ranges: Mapping[str, Sequence[float]] | None = None, *,
                       closure: str = "fixed"):
    """Participation margins as one assumption at a time moves over its documented range (polars table).

    Ranges (:data:`SENSITIVITY`): the vehicle's annual return 2-10% (assumption; project returns of
    energy and infrastructure), the discount rate 2-8% (assumption; around 2025 long US yields), the
    horizon 10-40 years (assumption; no term in the MOU summaries), the grant share 0-0.09 (the old
    ``pledge x grant_share`` reading: 0 = market returns to Japan, 0.09 = 90% of a 10% return), and
    Japan's security value 0 to twice the GAO-21-270 cost of US forces in Japan (USD 5.2bn/yr). The
    deal is re-solved with the pledge's new transfer equivalent (tariffs and purchase commitments as in
    the ledger); the threat point is unchanged.
    """
    import polars as pl

    L = holds.ledger
    rng = dict(SENSITIVITY if ranges is None else ranges)
    unknown = sorted(set(rng) - set(SENSITIVITY))
    if unknown:
        raise ScenarioError(f"margin_sensitivity: unknown assumption(s) {', '.join(unknown)}; known: {', '.join(SENSITIVITY)}")
    inv = L.table.filter(L.table["clause"] == "investment_vehicle")
    pledge_in = inv.height == 1 and inv["status"][0] == "in force"
    T_now, _ = L.terms.transfer_usd_bn()
    game = _Game(world, SIDES, None, closure)
    rows = []
    for name, values in rng.items():
        for v in values:
            sec = holds.security_value_usd_bn.copy()
            if name == "security_value_jpn_usd_bn":
                sec[1] = float(v)
                deal_ev = holds.deal_ev_usd_bn
            else:
                kw = {name: (int(v) if name == "horizon_years" else float(v))}
                if name == "grant_share":
                    kw["transfer_method"] = "grant_share"
                T_new, _ = replace(L.terms, **kw).transfer_usd_bn()
                T_total = L.deal_transfer_usd + (1e3 * (T_new - T_now) if pledge_in else 0.0)
                eq, _ = deal_outcome(game, Deal(name="sensitivity", tariffs=L.deal_policy_tariffs, transfer_usd=T_total,
                                                purchases_usd=L.deal_purchases_usd))
                deal_ev = game.ev_of(eq) / 1e3
            m = deal_ev - holds.threat_ev_usd_bn + sec
            rows.append(dict(date=str(holds.date), assumption=name, value=float(v), margin_usa_usd_bn=float(m[0]),
                             margin_jpn_usd_bn=float(m[1]), holds=bool((m >= 0).all())))
    return pl.DataFrame(rows)


__all__ = ["DealHolds", "deal_holds", "margin_curve", "break_even", "margin_sensitivity", "SENSITIVITY",
           "default_security_value_usd_bn"]
