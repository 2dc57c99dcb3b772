"""Render a run as one self-contained HTML file (jinja2 template, plotly.js embedded, no network).

Rendering only: figures are drawn from each section's :class:`~tariffsim.run.FigureSpec`
by :mod:`tariffsim.report.figures`, tables from its :class:`~tariffsim.run.TableView`.
"""

from __future__ import annotations

from importlib import resources

import jinja2

from . import figures
from .tables import table_html


def _env() -> jinja2.Environment:
    loader = jinja2.FileSystemLoader(str(resources.files("tariffsim.report") / "templates"))
    return jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)


def draw(spec):
    """The plotly figure of a :class:`~tariffsim.run.FigureSpec`: ``figures.<kind>(data, **options)``."""
    return getattr(figures, spec.kind)(spec.data, **spec.options)


def section_html(s) -> str:
    """A section's trusted prose and its tables as HTML."""
    parts = [s.prose_html] + [table_html(v.df, digits=v.digits, max_rows=v.max_rows) for v in s.views] + [s.prose_after_html]
    return "".join(p for p in parts if p)


def render_report(run) -> str:
    """The report HTML for a :class:`~tariffsim.run.RunResult`.

    Each figure is a ``<figure id="fig-...">`` holding a plotly ``<div>``; section
    notes and titles are escaped, generated tables are inserted as HTML.
    """
    from plotly.offline import get_plotlyjs

    from ..run.result import version

    sections = []
    for s in run.sections:
        figs = [{"id": f.id, "caption": f.caption,
                 "html": draw(f).to_html(full_html=False, include_plotlyjs=False, div_id=f"{f.id}-plot",
                                         config={"displaylogo": False, "responsive": True})}
                for f in s.figures]
        sections.append({"key": s.key, "title": s.title, "status": s.status, "note": s.note, "figures": figs,
                         "html": jinja2.utils.markupsafe.Markup(section_html(s)), "warnings": s.warnings})
    scn = run.scenario
    return _env().get_template("report.html.j2").render(
        title=scn.title or f"tariffsim: {scn.name}", description=scn.description or "", scenario_name=scn.name,
        version=version(), created=run.created, seconds=run.seconds, sections=sections,
        plotly_js=jinja2.utils.markupsafe.Markup(get_plotlyjs()))
