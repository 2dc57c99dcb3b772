"""tariffsim dashboard (streamlit): move tariffs, retaliation, transfers and elasticities; see GE outcomes live.

Start with ``tariffsim dashboard`` (binds 127.0.0.1). Imports only :mod:`tariffsim.api`
(through :mod:`tariffsim.dashboard.model`).
"""

from __future__ import annotations

import os

import plotly.graph_objects as go
import streamlit as st

from tariffsim.dashboard.model import DashboardModel, Settings

st.set_page_config(page_title="tariffsim: US-Japan 2025", layout="wide")


@st.cache_resource(show_spinner="Loading the world and solving the baseline...")
def _model() -> DashboardModel:
    return DashboardModel(scenario=os.environ.get("TARIFFSIM_DASHBOARD_SCENARIO") or None)


@st.cache_data(show_spinner=False, max_entries=256)
def _solve(autos: float, other: float, retal: float, transfer: float, scale: float) -> dict:
    s = Settings(autos, other, retal, transfer, scale)
    o = _model().solve(s)
    return o.__dict__ | {"settings": s.__dict__}


@st.cache_data(show_spinner=False, max_entries=64)
def _curve(retaliation: float, transfer: float, scale: float) -> list[dict]:
    return _model().tariff_curve(Settings(0, 0, retaliation, transfer, scale))


st.title("US-Japan 2025: tariffs, retaliation and transfers")
st.caption("Caliendo-Parro GE (7 regions x 44 sectors with input-output links); changes relative to the 2024 baseline. "
           "Equivalent variation (EV) in USD bn per year.")

with st.sidebar:
    st.header("Policy")
    autos = st.slider("US tariff on Japanese autos (%)", 0.0, 50.0, 15.0, 0.5, key="us_autos")
    other = st.slider("US tariff on other Japanese goods (%)", 0.0, 50.0, 15.0, 0.5, key="us_other")
    retal = st.slider("Japan's retaliation on US goods (+ %)", 0.0, 50.0, 0.0, 0.5, key="retaliation")
    transfer = st.slider("Transfer Japan -> US (USD bn/yr)", 0.0, 50.0, 0.0, 0.5, key="transfer",
                         help="Host-nation support, the grant equivalent of investment pledges: a lump sum that raises the "
                              "US deficit and lowers Japan's.")
    scale = st.slider("Trade elasticity scale", 0.5, 2.0, 1.0, 0.05, key="theta_scale")

o = _solve(autos, other, retal, transfer, scale)

c1, c2, c3, c4 = st.columns(4)
c1.metric("Japan welfare", f"{o['welfare_pct']['JPN']:+.4f}%", f"{o['ev_usd_bn']['JPN']:+,.2f} bn USD", delta_color="off")
c2.metric("US welfare", f"{o['welfare_pct']['USA']:+.4f}%", f"{o['ev_usd_bn']['USA']:+,.2f} bn USD", delta_color="off")
c3.metric("US imports from Japan", f"{o['us_imports_from_jpn_change_pct']:+.2f}%",
          f"US exports to Japan {o['us_exports_to_jpn_change_pct']:+.2f}%", delta_color="off")
c4.metric("US tariff revenue", f"{o['us_tariff_revenue_usd_bn']:,.1f} bn USD", f"{o['us_tariff_revenue_change_usd_bn']:+,.2f} bn",
          delta_color="off")
d1, d2, d3 = st.columns(3)
d1.metric("US ETR on Japan (pre-substitution)", f"{o['etr_us_on_jpn_pct']:.2f}%", f"baseline {o['etr_base_pct']:.2f}%", delta_color="off")
d2.metric("US ETR on Japan (post-substitution)", f"{o['etr_us_on_jpn_post_pct']:.2f}%")
d3.metric("Solver residual", f"{o['residual']:.1e}")

left, right = st.columns(2)
with left:
    regions = list(o["welfare_pct"])
    fig = go.Figure(go.Bar(x=regions, y=[o["welfare_pct"][r] for r in regions],
                           marker_color=["#c0392b" if r == "JPN" else "#1f4e8c" if r == "USA" else "#95a5a6" for r in regions]))
    fig.update_layout(title="Welfare change by country (%)", height=380, template="plotly_white", margin=dict(t=50, b=40))
    st.plotly_chart(fig, width="stretch")
with right:
    curve = _curve(retal, transfer, scale)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[p["ev_USA_usd_bn"] for p in curve], y=[p["ev_JPN_usd_bn"] for p in curve],
                             mode="lines+markers", name="US tariff 0-50%", text=[f"{p['us_tariff_pct']:.0f}%" for p in curve]))
    fig.add_trace(go.Scatter(x=[o["ev_usd_bn"]["USA"]], y=[o["ev_usd_bn"]["JPN"]], mode="markers", name="current",
                             marker=dict(size=14, symbol="diamond", color="#c0392b")))
    fig.update_layout(title="Frontier: EV of the US vs Japan as the US tariff varies", xaxis_title="US EV, USD bn/yr",
                      yaxis_title="Japan EV, USD bn/yr", height=380, template="plotly_white", margin=dict(t=50, b=40))
    st.plotly_chart(fig, width="stretch")

st.caption("Each change re-solves the general equilibrium (warm-started). The full report: `tariffsim run`.")
