"""Plotly figures of the report (pure functions: tidy polars tables in, ``plotly.graph_objects.Figure`` out)."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

COLORS = {"USA": "#1f4e8c", "JPN": "#c0392b", "CHN": "#e67e22", "EU": "#2e86c1", "ROW": "#7f8c8d",
          "IND": "#27ae60", "BRA": "#8e44ad"}
_LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=50, b=50), height=430,
               font=dict(family="system-ui, -apple-system, Segoe UI, sans-serif", size=13))


def _color(region: str, k: int) -> str:
    palette = ["#1f4e8c", "#c0392b", "#e67e22", "#2e86c1", "#27ae60", "#8e44ad", "#7f8c8d", "#16a085"]
    return COLORS.get(region, palette[k % len(palette)])


def etr_timeline(df, partner: str, marks: Sequence[dict] = ()) -> go.Figure:
    """Step lines of the effective tariff rate (percent) on ``partner`` and on all US imports, by date.

    ``marks``: events drawn as dashed vertical lines (``{"date": "YYYY-MM-DD", "label": ...}``), e.g. the IEEPA ruling.
    """
    fig = go.Figure()
    for m in marks:
        fig.add_vline(x=m["date"], line=dict(color="#7f8c8d", dash="dash", width=1.5))
        fig.add_annotation(x=m["date"], y=1.0, yref="paper", text=m["label"], showarrow=False, xanchor="left",
                           yanchor="top", font=dict(size=11, color="#555"))
    for col, name, color in (("etr_partner_pct", f"US tariff on {partner} (ETR)", "#c0392b"),
                             ("etr_all_pct", "US tariff on all imports (ETR)", "#1f4e8c")):
        if col in df.columns:
            fig.add_trace(go.Scatter(x=df["date"].to_list(), y=df[col].to_list(), name=name, mode="lines+markers",
                                     line=dict(shape="hv", color=color, width=2.5),
                                     text=df["label"].to_list() if "label" in df.columns else None,
                                     hovertemplate="%{x|%d %b %Y}: %{y:.1f}%<br>%{text}<extra></extra>"))
    fig.update_layout(title=f"Effective US tariff rate: {partner} and all partners", yaxis_title="percent (import-weighted)",
                      xaxis_title=None, legend=dict(orientation="h", y=-0.15), **_LAYOUT)
    return fig


def welfare_by_country(df, regions: Sequence[str]) -> go.Figure:
    """Grouped bars: welfare change (%) by counterfactual and region, with q05-q95 error bars where present."""
    fig = go.Figure()
    labels = list(dict.fromkeys(df["label"].to_list()))
    for k, r in enumerate(regions):
        d = df.filter(df["region"] == r)
        err = None
        if "q05_pct" in d.columns and d["q05_pct"].null_count() < d.height:
            y = d["welfare_change_pct"].to_numpy()
            hi = (d["q95_pct"].fill_null(float("nan")).to_numpy() - y)
            lo = (y - d["q05_pct"].fill_null(float("nan")).to_numpy())
            err = dict(type="data", symmetric=False, array=list(hi), arrayminus=list(lo), thickness=1.2, width=3)
        fig.add_trace(go.Bar(x=d["label"].to_list(), y=d["welfare_change_pct"].to_list(), name=r, error_y=err,
                             marker_color=_color(r, k),
                             hovertemplate=r + ", %{x}: %{y:.3f}%<extra></extra>"))
    fig.update_layout(title="Welfare (real income) change by country", barmode="group",
                      yaxis_title="percent of baseline real income", xaxis=dict(categoryorder="array", categoryarray=labels),
                      legend=dict(orientation="h", y=-0.25), **{**_LAYOUT, "height": 480})
    return fig


def top_products(df, partner: str, n: int) -> go.Figure:
    """Horizontal bars: change in US imports (USD mn) of the products with the largest changes."""
    d = df.head(n).reverse()
    names = [f"{h} {str(desc)[:48]}" for h, desc in zip(d["hs10"].to_list(), d["description"].to_list())]
    fig = go.Figure(go.Bar(y=names, x=d["change_usd_mn"].to_list(), orientation="h",
                           marker_color=["#c0392b" if v < 0 else "#27ae60" for v in d["change_usd_mn"].to_list()],
                           customdata=d["change_pct"].to_list(),
                           hovertemplate="%{y}<br>%{x:,.1f} USD mn (%{customdata:.1f}%)<extra></extra>"))
    fig.update_layout(title=f"Top products: change in US imports from {partner}", xaxis_title="USD millions per year",
                      **{**_LAYOUT, "height": max(380, 26 * len(names) + 120), "margin": dict(l=360, r=20, t=50, b=50)})
    return fig


def frontier(df, points, players: Sequence[str]) -> go.Figure:
    """Pareto frontier in (EV of player 1, EV of player 2), USD bn, with labelled points."""
    a, b = players
    fig = go.Figure()
    if df is not None and df.height:
        fig.add_trace(go.Scatter(x=df[f"ev_{a}_usd_bn"].to_list(), y=df[f"ev_{b}_usd_bn"].to_list(), mode="lines+markers",
                                 name="Pareto frontier", line=dict(color="#34495e", width=2), marker=dict(size=5)))
    symbols = {"disagreement": "x", "nash_bargaining": "star", "deal": "diamond"}
    for p in points:
        key = p.get("kind") in symbols   # label only the bargaining points; the others are in the legend
        fig.add_trace(go.Scatter(x=[p["x"]], y=[p["y"]], mode="markers+text" if key else "markers", name=p["label"],
                                 text=[p["label"]] if key else None, textposition="top center",
                                 hovertemplate=p["label"] + ": (%{x:.1f}, %{y:.1f})<extra></extra>",
                                 marker=dict(size=13 if p.get("kind") in symbols else 9,
                                             symbol=symbols.get(p.get("kind"), "circle"))))
    fig.update_layout(title=f"Bargaining: Pareto frontier and the deal ({a} vs {b})",
                      xaxis_title=f"{a} equivalent variation, USD bn/yr", yaxis_title=f"{b} equivalent variation, USD bn/yr",
                      legend=dict(orientation="h", y=-0.2), **{**_LAYOUT, "height": 520})
    return fig


def fairness(df, pair: Sequence[str]) -> go.Figure:
    """Horizontal bars of each fairness measure, both directions (percent)."""
    a, b = pair
    fig = go.Figure()
    names = df["measure"].to_list()
    vals = sorted((abs(v) for c in (f"{a}_on_{b}_pct", f"{b}_on_{a}_pct") if c in df.columns
                   for v in df[c].to_list() if v is not None), reverse=True)
    # one outlier (Japan's rice AVE, ~200%) would squeeze every other bar: clip it and print its value
    cap = 1.25 * vals[1] if len(vals) > 1 and vals[0] > 3 * vals[1] > 0 else None
    for col, name, color in ((f"{a}_on_{b}_pct", f"{a} on {b}", "#1f4e8c"), (f"{b}_on_{a}_pct", f"{b} on {a}", "#c0392b")):
        if col in df.columns:
            x = df[col].to_list()
            shown = [None if v is None else (min(v, cap) if cap else v) for v in x]
            text = [f"{v:.0f}% (axis cut)" if cap and v is not None and v > cap else None for v in x]
            fig.add_trace(go.Bar(y=names, x=shown, name=name, marker_color=color, orientation="h", text=text,
                                 textposition="inside", customdata=x,
                                 hovertemplate="%{y}: %{customdata:.1f}%<extra>" + name + "</extra>"))
    fig.update_layout(title=f"Trade fairness: {a} and {b} tariffs each way", barmode="group", xaxis_title="percent",
                      yaxis=dict(autorange="reversed"), legend=dict(orientation="h", y=-0.12),
                      **{**_LAYOUT, "height": max(420, 48 * len(names) + 140), "margin": dict(l=330, r=20, t=50, b=60)})
    return fig


def war_tariffs(df) -> go.Figure:
    """Grouped horizontal bars: each player's chosen tariff (percent) by sector group, labelled by task and pair."""
    fig = go.Figure()
    players = list(dict.fromkeys(df["player"].to_list())) if df.height else []
    for k, p in enumerate(players):
        d = df.filter(df["player"] == p)
        fig.add_trace(go.Bar(y=d["sector_group"].to_list(), x=d["tariff_pct"].to_list(), name=p, orientation="h",
                             marker_color=["#8e44ad", "#1f4e8c", "#c0392b", "#27ae60", "#e67e22"][k % 5],
                             hovertemplate=p + ", %{y}: %{x:.1f}%<extra></extra>"))
    groups = len(set(df["sector_group"].to_list())) if df.height else 1
    fig.update_layout(title="Trade war: tariffs chosen, by sector group", barmode="group", xaxis_title="percent",
                      showlegend=True,
                      legend=dict(orientation="h", y=-0.2, yanchor="top"),
                      **{**_LAYOUT, "height": max(380, 40 * groups * max(1, len(players)) + 160),
                         "margin": dict(l=170, r=20, t=50, b=60)})
    return fig


def etr_by_authority(df, authorities: Sequence[str]) -> go.Figure:
    """Stacked bars: the all-imports ETR (percent) at each timeline date split by legal authority."""
    fig = go.Figure()
    colors = {"mfn": "#95a5a6", "s232": "#1f4e8c", "ieepa": "#c0392b", "s122": "#e67e22", "s301": "#8e44ad",
              "s338": "#16a085", "s201": "#2c3e50", "other": "#bdc3c7"}
    x = [str(d) for d in df["date"].to_list()]
    for a in authorities:
        col = f"etr_all_{a}_pct"
        if col in df.columns and float(df[col].abs().max() or 0) > 0:
            fig.add_trace(go.Bar(x=x, y=df[col].to_list(), name=a.upper() if a != "other" else "other",
                                 marker_color=colors.get(a, "#7f8c8d"),
                                 hovertemplate=a.upper() + ", %{x}: %{y:.1f}%<extra></extra>"))
    fig.update_layout(title="Effective US tariff rate on all imports, by authority", barmode="stack",
                      yaxis_title="percent (import-weighted)", legend=dict(orientation="h", y=-0.25),
                      xaxis=dict(type="category", tickangle=-45), **_LAYOUT)
    return fig


def deal_waterfall(df, date: str) -> go.Figure:
    """Horizontal waterfall of each clause's value to the USA and Japan (USD bn/yr vs no deal) on ``date``.

    ``df``: (side, step, kind, value_usd_bn, start_usd_bn, end_usd_bn) for one date; each bar spans
    start -> end; the last bar per side is the whole deal from 0.
    """
    from plotly.subplots import make_subplots

    sides = list(dict.fromkeys(df["side"].to_list()))
    fig = make_subplots(rows=1, cols=len(sides), shared_yaxes=True, subplot_titles=[f"{s}: value of each clause" for s in sides])
    for k, side in enumerate(sides):
        d = df.filter(df["side"] == side)
        vals = d["value_usd_bn"].to_list()
        colors = ["#7f8c8d" if kind == "total" else ("#27ae60" if v >= 0 else "#c0392b")
                  for kind, v in zip(d["kind"].to_list(), vals)]
        fig.add_trace(go.Bar(y=d["step"].to_list(), x=vals, base=d["start_usd_bn"].to_list(), orientation="h",
                             marker_color=colors, name=side, showlegend=False,
                             hovertemplate="%{y}: %{x:+.2f} USD bn/yr<extra>" + side + "</extra>"),
                      row=1, col=k + 1)
        fig.update_xaxes(title_text="USD bn per year vs no deal", zeroline=True, row=1, col=k + 1)
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_layout(title=f"The US-Japan deal clause by clause, {date} (GE, USD bn per year)",
                      **{**_LAYOUT, "height": 520, "margin": dict(l=20, r=20, t=80, b=50)})
    return fig
