"""What trades against what at the US-Japan deal: exchange rates between instruments, and the bargaining range.

At the deal of a ledger (its equilibrium tariffs, purchase wedges and transfer), the marginal
welfare effects of each instrument come from the exact Jacobian of the GE welfare
(``jax.jacrev`` through the implicit-function derivatives of the Caliendo-Parro solver):

- *give* instruments (the US's): a 1 pp cut in the US tariff on Japanese autos (ICIO sector 20),
  a 1 pp cut in the US tariff on Japan's other goods (the floor / the Section 301 tier that
  replaced it);
- *pay* instruments (Japan's), per unit: host-nation support (USD 1bn/yr, a transfer Japan ->
  US), the investment pledge (USD 1bn of pledge, worth its transfer equivalent per dollar, see
  :func:`~tariffsim.strategy.investment.investment_transfer`), US rice purchases (USD 1bn/yr more
  of Japan's imports of US agricultural goods, ICIO sector 1, reached by an import-subsidy wedge).

For a give instrument with welfare effect ``dEV_k`` on side ``k`` and a pay instrument with
marginal effect ``g_k`` per unit, the *equivalent* for side ``k`` is ``e_k = dEV_k / g_k``: the
amount of the pay instrument that leaves ``k`` as well off as the give instrument. The US accepts
the cut for a payment ``p >= -e_USA`` and Japan offers at most ``p <= -e_JPN``; where
``-e_USA < -e_JPN`` there is a mutually beneficial trade and ``[-e_USA, -e_JPN]`` is the
bargaining range (first-order, at the deal).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import ConvergenceError
from ..models.ge import ACCEPT_TOL, equilibrium
from ..world import World
from .deal_ledger import RICE_SECTOR, DealLedger
from .game import _Game
from .sector_groups import _by_name, goods_sectors

GIVE = ("us_auto_tariff_cut_1pp", "us_other_goods_tariff_cut_1pp")
PAY = {"host_nation_support": "USD bn/yr", "investment_pledge": "USD bn of pledge", "rice_purchases": "USD bn/yr"}


@dataclass(frozen=True, eq=False)
class ExchangeRates:
    """Marginal effects at the deal and the exchange-rate table.

    ``give_ev_usd_bn[g]``: (USA, JPN) EV change of give instrument ``g`` (USD bn/yr);
    ``pay_ev_per_unit[p]``: (USA, JPN) EV change per unit of pay instrument ``p``.
    """

    date: object
    give_ev_usd_bn: dict
    pay_ev_per_unit: dict
    transfer_per_pledge_bn: float
    table: object

    def summary(self) -> str:
        rows = self.table.filter(self.table["mutually_beneficial"])
        return (f"exchange rates at the deal on {self.date}: {rows.height} of {self.table.height} instrument pairs "
                "leave room for a mutually beneficial trade")


def _kernel(game: _Game, rice: tuple[int, int, int]):
    """jit(jacrev) of x = [a_1..a_G (tariff moves along dirs), s (rice subsidy), T (USD mn)] ->
    (EV USA, EV JPN in USD bn, rice imports USD bn); arrays are arguments (no constant folding)."""
    base, a, b, has_io = game.base, game.a, game.b, game.world.has_io
    ri, rj, rs = rice

    def f(x, t0, D, R, e_ab, log_w0):
        t1 = t0 + jnp.tensordot(x[:-2], D, axes=1)
        t1 = t1 + R * ((1.0 + t1) * (1.0 - x[-2]) - 1.0 - t1)       # R: indicator of the rice cell
        d1 = base.d1 + e_ab * x[-1]                                 # e_ab: +1 home, -1 partner (T on top of the deal's)
        sol = equilibrium(base._replace(t1=t1, d1=d1), log_w0, has_io)
        ev = (sol.welfare_hat - 1.0) * base.i0 / 1e3
        out = jnp.stack([ev[a], ev[b], sol.flows[ri, rj, rs] / 1e3])
        return out, (out, sol.residual)

    return jax.jit(jax.jacrev(f, has_aux=True))


def exchange_rates(world: World, ledger: DealLedger) -> ExchangeRates:
    """Exchange rates between instruments at the deal of ``ledger`` (module docstring).

    Parameters
    ----------
    world : the World the ledger was computed on.
    ledger : :func:`~tariffsim.strategy.deal_ledger.deal_ledger` result.

    Returns
    -------
    ExchangeRates; ``table`` columns: give, pay, unit, equivalent_usa, equivalent_jpn, us_asks, jpn_offers,
    mutually_beneficial, range_low, range_high.
    """
    import polars as pl

    game = _Game(world, ("USA", "JPN"), None, ledger.closure)
    w = game.world
    a, b = game.a, game.b
    goods = goods_sectors(w)
    autos = [w.sectors.index(s) for s in _by_name(w, ("motor vehicle",), goods)]
    other = [w.sectors.index(s) for s in goods if w.sectors.index(s) not in autos]
    dirs = np.zeros((2,) + w.flows.shape)
    dirs[0, b, a, autos] = -0.01
    dirs[1, b, a, other] = -0.01
    rice = (a, b, w.sectors.index(RICE_SECTOR))
    jac_fn = _kernel(game, rice)
    R = np.zeros(w.flows.shape)
    R[rice] = 1.0
    e_ab = np.zeros(len(w.regions))
    e_ab[a], e_ab[b] = 1.0, -1.0
    # the deal's transfer enters through the base deficits: solve at x = (0, 0, 0, deal transfer)
    x0 = np.array([0.0, 0.0, 0.0, ledger.deal_transfer_usd])
    jac, (val, res) = jac_fn(jnp.asarray(x0), jnp.asarray(ledger.deal_tariffs), jnp.asarray(dirs), jnp.asarray(R),
                             jnp.asarray(e_ab), jnp.zeros(len(w.regions)))
    jac, val = np.asarray(jac), np.asarray(val)
    if not (float(res) < ACCEPT_TOL and np.isfinite(jac).all()):
        raise ConvergenceError(f"exchange_rates: the equilibrium at the deal did not converge (residual {float(res):.2e})")
    give = {GIVE[0]: jac[:2, 0], GIVE[1]: jac[:2, 1]}
    d_rice = jac[:, 2]                                  # per unit subsidy: EV (2) and rice imports (USD bn)
    T_inv, _ = ledger.terms.transfer_usd_bn()
    k = T_inv / ledger.terms.pledge_usd_bn if ledger.terms.pledge_usd_bn > 0 else 0.0
    g_T = jac[:2, 3] * 1e3                              # per USD bn/yr of transfer
    pay = {"host_nation_support": g_T, "investment_pledge": g_T * k, "rice_purchases": d_rice[:2] / d_rice[2]}
    rows = []
    for gname, dev in give.items():
        for pname, g in pay.items():
            e = dev / g
            ask, offer = -e[0], -e[1]
            ok = bool(ask < offer)
            rows.append(dict(give=gname, pay=pname, unit=PAY[pname], give_ev_usa_usd_bn=float(dev[0]),
                             give_ev_jpn_usd_bn=float(dev[1]), pay_ev_usa_per_unit=float(g[0]),
                             pay_ev_jpn_per_unit=float(g[1]), equivalent_usa=float(e[0]), equivalent_jpn=float(e[1]),
                             us_asks=float(ask), jpn_offers=float(offer), mutually_beneficial=ok,
                             range_low=float(ask) if ok else None, range_high=float(offer) if ok else None))
    return ExchangeRates(date=ledger.date, give_ev_usd_bn=give, pay_ev_per_unit=pay, transfer_per_pledge_bn=k,
                         table=pl.DataFrame(rows))


__all__ = ["ExchangeRates", "exchange_rates", "GIVE", "PAY"]
