"""tariffsim dashboard (streamlit): move tariffs, retaliation, transfers and elasticities; see GE outcomes live.

Start with ``tariffsim dashboard`` (binds 127.0.0.1; :mod:`.launch`). Imports :mod:`tariffsim.api` and :mod:`tariffsim.run`
(through :mod:`tariffsim.dashboard.model`).
"""

from __future__ import annotations

import os

import plotly.graph_objects as go
import streamlit as st

from tariffsim.dashboard.model import DashboardModel, Settings, metric_cards

st.set_page_config(page_title="tariffsim dashboard", layout="wide")


@st.cache_resource(show_spinner="Loading the scenario, solving its baseline and start counterfactual...")
def _model() -> DashboardModel:
    return DashboardModel(scenario=os.environ.get("TARIFFSIM_DASHBOARD_SCENARIO") or None)


@st.cache_data(show_spinner=False, max_entries=256)
def _solve(start: str, autos, other, retal: float, transfer: float, scale: float) -> dict:
    m = _model()
    m.set_start(start)
    o = m.solve(Settings(autos, other, retal, transfer, scale))
    return {"outcome": o, "cards": metric_cards(o)}


@st.cache_data(show_spinner=False, max_entries=64)
def _frontier(start: str, transfer: float, scale: float) -> list[dict]:
    m = _model()
    m.set_start(start)
    return m.frontier_points(Settings(None, None, 0.0, transfer, scale))


m = _model()
st.title(f"{m.ctx.scenario.name}: tariffs, retaliation and transfers (US-Japan)")

with st.sidebar:
    st.header("Start from")
    start = st.selectbox("Counterfactual of the scenario", m.starts, index=m.starts.index(m.default_start()),
                         key="start", help="The sliders start at this counterfactual's tariffs on all partners.")
    m.set_start(start)
    a0, o0 = m.start_rates_pct()
    st.header("Policy")
    autos = st.slider("US tariff on Japanese autos (%)", 0.0, 50.0, round(a0 * 2) / 2, 0.5, key="us_autos")
    other = st.slider("US tariff on other Japanese goods (%)", 0.0, 50.0, round(o0 * 2) / 2, 0.5, key="us_other")
    retal = st.slider("Japan's retaliation on US goods (+ %)", 0.0, 50.0, 0.0, 0.5, key="retaliation")
    transfer = st.slider("Transfer Japan -> US (USD bn/yr)", 0.0, 50.0, 0.0, 0.5, key="transfer",
                         help="Host-nation support, the grant equivalent of investment pledges: a lump sum that raises the "
                              "US deficit and lowers Japan's.")
    scale = st.slider("Trade elasticity scale", 0.5, 2.0, 1.0, 0.05, key="theta_scale")

# a slider left at its start value keeps the start counterfactual's own (sector-by-sector) rates
autos_set = None if autos == round(a0 * 2) / 2 else autos
other_set = None if other == round(o0 * 2) / 2 else other
st.caption(m.baseline_statement() + " Caliendo-Parro GE, "
           f"{m.baseline.n_regions} regions x {m.baseline.n_sectors} sectors.")

res = _solve(start, autos_set, other_set, retal, transfer, scale)
o = res["outcome"]
cols = st.columns(len(res["cards"]))
for col, card in zip(cols, res["cards"]):
    col.metric(card["label"], card["value"], card["delta"], delta_color="off")
d1, d2, d3 = st.columns(3)
d1.metric("US ETR on Japan, pre-substitution (%)", f"{o.etr_us_on_jpn_pct:.2f}%",
          f"{o.etr_us_on_jpn_pct - o.etr_base_pct:+.2f} pp vs baseline {o.etr_base_pct:.2f}%", delta_color="off")
d2.metric("US ETR on Japan, post-substitution (%)", f"{o.etr_us_on_jpn_post_pct:.2f}%")
d3.metric("Solver residual", f"{o.residual:.1e}")

left, right = st.columns(2)
with left:
    regions = list(o.welfare_pct)
    fig = go.Figure(go.Bar(x=regions, y=[o.welfare_pct[r] for r in regions],
                           marker_color=["#c0392b" if r == "JPN" else "#1f4e8c" if r == "USA" else "#95a5a6" for r in regions]))
    fig.update_layout(title="Welfare change by country (% of baseline real income)", height=380, template="plotly_white",
                      margin=dict(t=50, b=40), yaxis_title="percent")
    st.plotly_chart(fig, width="stretch")
with right:
    pts = _frontier(start, transfer, scale)
    front = sorted((p for p in pts if p["pareto"]), key=lambda p: p["ev_USA_usd_bn"])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[p["ev_USA_usd_bn"] for p in pts], y=[p["ev_JPN_usd_bn"] for p in pts], mode="markers",
                             name="grid points", marker=dict(color="#bdc3c7", size=7),
                             text=[f"US {p['us_tariff_pct']:.0f}%, Japan +{p['retaliation_pct']:.0f}%" for p in pts]))
    fig.add_trace(go.Scatter(x=[p["ev_USA_usd_bn"] for p in front], y=[p["ev_JPN_usd_bn"] for p in front],
                             mode="lines+markers", name="Pareto frontier", line=dict(color="#1f4e8c"),
                             text=[f"US {p['us_tariff_pct']:.0f}%, Japan +{p['retaliation_pct']:.0f}%" for p in front]))
    fig.add_trace(go.Scatter(x=[o.ev_usd_bn["USA"]], y=[o.ev_usd_bn["JPN"]], mode="markers", name="current",
                             marker=dict(size=14, symbol="diamond", color="#c0392b")))
    fig.update_layout(title="Pareto frontier of US and Japan EV (USD bn/yr)", xaxis_title="US EV, USD bn per year",
                      yaxis_title="Japan EV, USD bn per year", height=380, template="plotly_white", margin=dict(t=50, b=40),
                      legend=dict(orientation="h", y=-0.25))
    st.plotly_chart(fig, width="stretch")
    st.caption("Grid: US tariff on all Japanese goods 0-50% x Japan's retaliation 0-50% (5 x 5), at the current "
               "transfer and elasticity scale; the frontier joins the points where no other grid point makes both "
               "countries better off.")

st.caption("Each change re-solves the general equilibrium (warm-started). The full report: `tariffsim run`.")
