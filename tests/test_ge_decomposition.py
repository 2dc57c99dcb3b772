"""The CP (2015) welfare decomposition is first order: it matches exact welfare for small shocks only.

Finite-difference check: scaling the README's +24% US tariff on Japan by s, the gap between
the decomposition and the exact welfare change shrinks like s^2 (so their ratio -> 1 like s),
and at s = 1 the sign difference (+0.031% vs -0.016%) is second order: adding the Harberger
triangle -1/2 sum dt M (M_hat - c_hat) brings the approximation next to the exact value.
"""

from __future__ import annotations

import numpy as np
import pytest

import tariffsim as ts


@pytest.fixture(scope="module")
def readme():
    w = ts.load_world("world_io_7x44_2017")
    t1 = w.tariffs_with(importer="USA", exporter="JPN", add=0.24)
    return w, w.tariffs, t1, w.regions.index("USA")


def test_decomposition_gap_to_exact_welfare_is_second_order(readme):
    w, t0, t1, u = readme
    gaps = []
    for s in (0.01, 0.001):
        eq = ts.solve(w, tariffs=t0 + s * (t1 - t0))
        d = eq.decomposition()
        assert d.exact_pct[u] == pytest.approx(100 * (eq.welfare_hat[u] - 1), rel=1e-12)
        assert d.total_pct[u] == pytest.approx(d.exact_pct[u], rel=5 * s)      # same first-order term
        gaps.append(abs(d.higher_order_pct[u]))
    assert gaps[0] / gaps[1] == pytest.approx(100, rel=0.2)                    # 10x smaller shock, 100x smaller gap


def test_readme_sign_difference_is_the_harberger_triangle_not_a_sign_bug(readme):
    w, t0, t1, u = readme
    eq = ts.solve(w, tariffs=t1)
    d, b = eq.decomposition(), eq.baseline
    assert d.total_pct[u] > 0 > d.exact_pct[u]                                # the issue's +0.031% vs -0.016%
    off = (1 - np.eye(len(b.regions)))[:, :, None]
    m_hat = np.divide(eq.flows, b.flows, out=np.ones_like(eq.flows), where=b.flows > 0)
    tri = -0.5 * np.einsum("inj,inj->n", (t1 - t0) * b.flows * off, eq.cost_hat[:, None, :] - m_hat)
    second = d.total_pct[u] + 100 * tri[u] / b.income_usd[u]
    assert abs(second - d.exact_pct[u]) < 0.3 * abs(d.total_pct[u] - d.exact_pct[u])
    assert set(d.summary().columns) >= {"terms_of_trade_pct", "volume_of_trade_pct", "total_pct", "exact_pct",
                                        "higher_order_pct"}
