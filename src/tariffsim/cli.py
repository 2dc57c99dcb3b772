"""Command-line interface (typer). Imports only :mod:`tariffsim.api`.

User errors (:class:`TariffsimError`) print one line and exit 2; anything else is
a bug: exit 1, traceback only with ``--debug``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from . import api
from .errors import TariffsimError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="tariffsim: trade wars and trade talks on real data.")
data_app = typer.Typer(no_args_is_help=True, help="Bundled datasets: list, inspect, update.")
app.add_typer(data_app, name="data")

_STATE = {"debug": False}


@app.callback()
def _main(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for unexpected errors.")) -> None:
    _STATE["debug"] = debug


@data_app.command("list")
def data_list(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List datasets: name, year, rows, source, license."""
    df = api.list_datasets()
    if as_json:
        typer.echo(json.dumps(df.to_dicts(), indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title="tariffsim datasets")
    for c in ("name", "kind", "year", "rows", "source", "license"):
        t.add_column(c)
    for r in df.to_dicts():
        t.add_row(r["name"], r["kind"], r["year"], f"{r['rows']:,}", r["source"][:60], r["license"][:30])
    Console().print(t)


@data_app.command("info")
def data_info(name: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Columns, units and citation of one dataset."""
    rec = api.dataset_info(name)
    if as_json:
        typer.echo(json.dumps(rec, indent=1))
        return
    typer.echo(f"{name}: {rec.get('title', '')}")
    for k in ("year", "source", "publisher", "license", "units", "citation", "notes"):
        if rec.get(k):
            typer.echo(f"  {k}: {rec[k]}")
    for tb, tinfo in rec["tables"].items():
        typer.echo(f"  table {tb} ({tinfo['rows']:,} rows)")
        for col, desc in tinfo["columns"].items():
            typer.echo(f"    {col}: {desc}")


@app.command()
def run(
    scenario: Optional[Path] = typer.Argument(None, help="Scenario YAML (default: the US-Japan 2025 bundle)."),
    out: Path = typer.Option(Path("out"), "--out", help="Output folder."),
) -> None:
    """Run a scenario (default: the US-Japan 2025 bundle) and write a report."""
    world = api.load_world("world_io_7x44_2017")
    typer.echo(repr(world))
    typer.echo(str(world.summary()))


from .cli_update import register as _register_update  # noqa: E402

_register_update(app, data_app)


def main() -> None:
    """Entry point: map user errors to exit 2 with a one-line message."""
    try:
        app(standalone_mode=False)
    except TariffsimError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        if _STATE["debug"]:
            raise
        typer.echo(f"internal error (a bug; rerun with --debug for a traceback): {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
