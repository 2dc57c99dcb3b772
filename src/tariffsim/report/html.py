"""Render a run as one self-contained HTML file (jinja2 template, plotly.js embedded, no network)."""

from __future__ import annotations

from importlib import resources

import jinja2


def _env() -> jinja2.Environment:
    loader = jinja2.FileSystemLoader(str(resources.files("tariffsim.report") / "templates"))
    return jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)


def render_report(run) -> str:
    """The report HTML for a :class:`~tariffsim.report.runner.RunResult`.

    Each figure is a ``<figure id="fig-...">`` holding a plotly ``<div>``; section
    notes and titles are escaped, generated tables are inserted as HTML.
    """
    from plotly.offline import get_plotlyjs

    from .runner import _version

    sections = []
    for s in run.sections:
        figs = [{"id": f.id, "caption": f.caption,
                 "html": f.figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"{f.id}-plot",
                                          config={"displaylogo": False, "responsive": True})}
                for f in s.figures]
        sections.append({"key": s.key, "title": s.title, "status": s.status, "note": s.note, "figures": figs, "html": s.html,
                         "warnings": s.warnings})
    scn = run.scenario
    return _env().get_template("report.html.j2").render(
        title=scn.title or f"tariffsim: {scn.name}", description=scn.description or "", scenario_name=scn.name,
        version=_version(), created=run.created, seconds=run.seconds, sections=sections,
        plotly_js=jinja2.utils.markupsafe.Markup(get_plotlyjs()))
