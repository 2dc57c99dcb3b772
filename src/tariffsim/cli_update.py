"""CLI commands for keeping data current (`tariffsim data update/status`, `tariffsim schedule diff`).

Imports only :mod:`tariffsim.api`. Registered on the main app by :mod:`tariffsim.cli`.
Only ``data update ...`` touches the network; ``data status`` and
``schedule diff`` read local files.
"""

from __future__ import annotations

import contextlib
import json
from typing import Callable, Iterator, Optional

import typer

from . import api


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int, str], None]]:
    """A rich progress bar on stderr, fed by the library's ``progress(done, total, label)`` callback.

    The bar starts on the first report, so a command that fails before any
    download prints its one-line error and nothing else.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), transient=True)
    state: dict = {}

    def update(done: int, total: int, what: str) -> None:
        if "task" not in state:
            bar.start()
            state["task"] = bar.add_task(label, total=total)
        bar.update(state["task"], completed=done, total=total, description=what)

    try:
        yield update
    finally:
        if "task" in state:
            bar.stop()


def _print_table(rows: list[dict], columns: list[str], title: str, widths: dict[str, int] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    widths = widths or {}
    t = Table(title=title)
    for c in columns:
        t.add_column(c, overflow="fold", max_width=widths.get(c))
    for r in rows:
        t.add_row(*["" if r.get(c) is None else str(r.get(c)) for c in columns])
    Console().print(t)


def register(app: typer.Typer, data_app: typer.Typer) -> None:
    """Add the update commands to the main app and its ``data`` sub-app."""

    @data_app.command("check")
    def data_check(path: str = typer.Argument(..., help="Folder of tidy CSV/Parquet world files (flows.csv required) or a flows file."),
                   as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """Validate a user world (docs/data.md format) and print its totals."""
        world = api.read_world_files(path)
        summary = world.summary()
        if as_json:
            typer.echo(json.dumps({"name": world.name, "regions": list(world.regions), "sectors": list(world.sectors),
                                   "summary": summary.to_dicts()}, indent=1))
            return
        typer.echo(f"ok: {world!r}")
        typer.echo(str(summary))
    update_app = typer.Typer(no_args_is_help=True,
                             help="Download official releases into the user data dir (needs internet).")
    data_app.add_typer(update_app, name="update")
    schedule_app = typer.Typer(no_args_is_help=True, help="Tariff schedules: what a release changes.")
    app.add_typer(schedule_app, name="schedule")

    @update_app.command("census")
    def update_census(
        year: int = typer.Option(..., "--year", help="Calendar year, e.g. 2025."),
        months: Optional[str] = typer.Option(None, "--months", help="Months, e.g. 1-6 or 1,2,12 (default: all published)."),
        exports: bool = typer.Option(True, "--exports/--no-exports", help="Also download exports by HS10 x country."),
        refresh: bool = typer.Option(False, "--refresh", help="Ignore cached answers and download again."),
    ) -> None:
        """US imports (and exports) by HS10 x country from the Census International Trade API.

        API key optional: set CENSUS_API_KEY (500 calls a day without one; a year is 120 calls per flow).
        """
        with _progress(f"census {year}") as cb:
            res = api.update_census(year, months=months, exports=exports, refresh=refresh, progress=cb)
        typer.echo(res.summary())

    @update_app.command("hts")
    def update_hts(
        release: str = typer.Option("current", "--release", help="'current' or a release name such as 2026HTSBasic, 2025HTSRev19."),
        source: Optional[str] = typer.Option(None, "--source", help="URL or local .json/.json.gz file of the release's JSON export."),
        show: int = typer.Option(20, "--show", help="Chapter 99 changes to print (0: none)."),
    ) -> None:
        """A USITC HTS release: MFN rates, and its Chapter 99 diffed against the current schedule."""
        with _progress(f"hts {release}") as cb:
            res = api.update_hts(release, source=source, progress=cb)
        typer.echo(res.summary())
        diff = res.chapter99_diff
        if diff is not None and diff.height and show > 0:
            _print_table(diff.head(show).to_dicts(), ["heading", "status", "changed_fields", "general_old", "general_new", "description_path"],
                         f"Chapter 99 changes to review (first {min(show, diff.height)} of {diff.height})",
                         {"description_path": 70})
            typer.echo("all changes: tariffsim schedule diff   (one partner: --partner JPN)")

    @data_app.command("status")
    def data_status(
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
        verify: bool = typer.Option(True, "--verify/--no-verify", help="Check updated files against their SHA-256."),
    ) -> None:
        """What is bundled, what was updated when and from where (offline)."""
        df = api.data_status(verify=verify)
        if as_json:
            typer.echo(json.dumps(df.to_dicts(), indent=1))
            return
        rows = [{**r, "updated": (r["retrieved_at"] or "")[:16].replace("T", " "), "rows": f"{r['rows']:,}",
                 "source": r["source"][:60]} for r in df.to_dicts()]
        _print_table(rows, ["name", "origin", "release_or_year", "updated", "rows", "integrity", "source"],
                     f"tariffsim data status (updates in {api.user_data_dir()})", {"source": 40})

    @schedule_app.command("diff")
    def schedule_diff(
        release: Optional[str] = typer.Option(None, "--release", help="Updated release (default: the latest update)."),
        against: Optional[str] = typer.Option(None, "--against", help="Another updated release to compare with."),
        partner: Optional[str] = typer.Option(None, "--partner", help="ISO3 code, e.g. JPN: only headings naming it."),
        limit: int = typer.Option(50, "--limit", help="Rows to print (0: all)."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """What a release changes in Chapter 99 (new, changed, removed headings), offline."""
        d = api.schedule_diff(release, against=against, partner=partner)
        rows = d.table.to_dicts()
        if as_json:
            typer.echo(json.dumps({"release": d.release, "baseline": d.baseline, "partner": d.partner,
                                   "note": d.note, "changes": rows}, indent=1))
            return
        typer.echo(d.summary())
        shown = rows if limit <= 0 else rows[:limit]
        if shown:
            _print_table(shown, ["heading", "status", "changed_fields", "general_old", "general_new", "description_path"],
                         f"{len(shown)} of {len(rows)} headings", {"description_path": 70})
