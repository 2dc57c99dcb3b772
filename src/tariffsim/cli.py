"""Command-line interface (typer). Reaches the library through :mod:`tariffsim.api` (lazy: ``--help`` imports no JAX).

User errors (:class:`TariffsimError`) print one line and exit 2; anything else is
a bug: exit 1, traceback only with ``--debug``. Every command has ``--help``;
those that print results take ``--json`` for machine-readable output.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from typer.core import TyperGroup

try:  # typer >= 0.16 vendors click as typer._click; older typer uses click itself
    from typer._click.exceptions import ClickException as _ClickException
except ImportError:  # pragma: no cover
    from click import ClickException as _ClickException

from . import api
from .errors import ScenarioError, TariffsimError

class _Group(TyperGroup):
    """Maps user errors to one line on stderr and exit 2, under ``main()`` and typer's test runner alike."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except TariffsimError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None


app = typer.Typer(cls=_Group, add_completion=False, no_args_is_help=True,
                  help="tariffsim: trade wars and trade talks on real data.")
data_app = typer.Typer(no_args_is_help=True, help="Bundled datasets: list, inspect, update.")
app.add_typer(data_app, name="data")

_STATE = {"debug": False}
WORLD_OPT = typer.Option("world_io_7x44_2017", "--world", help="World dataset (tariffsim data list) or a folder of tidy files.")
JSON_OPT = typer.Option(False, "--json", help="Machine-readable output.")
DEFAULTS_OPT = typer.Option(False, "--defaults", help="Accept an empty (or comments-only) scenario file: every field at its default.")


@app.callback()
def _main(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for unexpected errors.")) -> None:
    _STATE["debug"] = debug


@contextlib.contextmanager
def _working(label: str, enabled: bool = True):
    """A rich progress line on stderr (spinner, step text, elapsed time) while a long verb computes.

    Yields ``step(message)`` to show the current step; off when ``enabled`` is false (``--json``).
    """
    if not enabled:
        yield lambda msg: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), TextColumn("{task.completed} steps"),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as prog:
        task = prog.add_task(label, total=None)

        def step(msg: str) -> None:
            prog.update(task, description=f"{label}: {msg}", advance=1)

        yield step


def _echo_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=1, default=_json_default, allow_nan=False))


def _json_default(x: Any) -> Any:
    import datetime as dt

    import numpy as np

    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, (dt.date, dt.datetime)):
        return x.isoformat()
    if isinstance(x, Path):
        return str(x)
    return str(x)


def _clean(rows: list[dict]) -> list[dict]:
    import math

    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()} for r in rows]


def _print_table(df, title: str | None = None, digits: int = 3) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    for c in df.columns:
        t.add_column(str(c), justify="right" if df[c].dtype.is_numeric() else "left")
    for row in df.iter_rows():
        t.add_row(*[f"{v:,.{digits}f}" if isinstance(v, float) else ("" if v is None else str(v)) for v in row])
    Console().print(t)


# --------------------------------------------------------------------------- data
@data_app.command("list")
def data_list(as_json: bool = JSON_OPT) -> None:
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
def data_info(name: str, as_json: bool = JSON_OPT) -> None:
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
    if rec.get("provenance"):
        _echo_provenance(rec["provenance"])


def _echo_provenance(p: dict) -> None:
    """Provenance of a world built from MRIO files (``tariffsim data build-world``)."""
    typer.echo(f"  built by: {p['build_command']}")
    for f in p.get("files", []):
        typer.echo(f"  input file: {f['file']} ({f['bytes']:,} bytes, sha256 {f['sha256']})")
    typer.echo(f"  valuation: {p.get('valuation', '')}")
    inv = p.get("inventories", {})
    typer.echo(f"  inventories: rule {inv.get('rule')}, removed {inv.get('inventory_removed_usd_mn', 0):,.1f} USD mn, "
               f"max output change {inv.get('max_relative_output_change', 0):.3%}")
    for m in p.get("maps", []):
        typer.echo(f"  {m['kind']} map: {m['map']} (sha256 {m['sha256'][:16]}...)")
    t = p.get("tariffs", {})
    typer.echo(f"  tariffs: {t.get('source', '')}; sectors without tariff data: {', '.join(t.get('sectors_without_tariff_data', [])) or 'none'}")


@data_app.command("build-world")
def data_build_world(
    source: str = typer.Argument(..., help="wiod2016, oecd-icio or pymrio."),
    path: Path = typer.Argument(..., help="The downloaded file, or the folder of them (one per year); pymrio: an IOSystem.save_all folder."),
    name: str = typer.Option(..., "--name", help="Dataset name in the catalog (lower-case letters, digits, _)."),
    year: Optional[int] = typer.Option(None, "--year", help="Year of the table (picks the file in a folder)."),
    regions: Optional[str] = typer.Option(None, "--regions", help="Region map: built-in 'default7' or a YAML/CSV file."),
    sectors: Optional[str] = typer.Option(None, "--sectors", help="Sector map: built-in 'icio44' or a YAML/CSV file."),
    tariffs: Optional[str] = typer.Option(None, "--tariffs", help="CSV exporter,importer,sector,tariff_rate, or 'schedule' (US + Japan schedules; needs --sectors icio44)."),
    inventories: str = typer.Option("zero", "--inventories", help="'zero' (inventory changes set to 0, output recomputed) or 'keep'."),
    as_json: bool = JSON_OPT,
) -> None:
    """Build a GE world from WIOD 2016 / OECD ICIO files and add it to the catalog (needs the optional extra 'mrio')."""
    w = api.build_world(source, path, name=name, year=year, regions=regions, sectors=sectors, tariffs=tariffs,
                        inventories=inventories, save=True)
    if as_json:
        _echo_json({"name": w.name, "regions": list(w.regions), "sectors": list(w.sectors), "meta": dict(w.meta)})
        return
    typer.echo(f"{w.name}: {w.n_regions} regions x {w.n_sectors} sectors, {w.meta.get('source', '')}")
    typer.echo(f"  license: {w.meta.get('license', '')}")
    _echo_provenance(w.meta["provenance"])
    typer.echo(f"  use it: tariffsim ... --world {w.name}  |  ts.load_world({w.name!r})")


# --------------------------------------------------------------------------- scenarios
@app.command()
def run(
    scenario: Optional[Path] = typer.Argument(None, help="Scenario YAML or built-in name (default: the US-Japan 2025-2026 bundle)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default: the scenario's outputs.dir, else ./out)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="The report's 'now' (YYYY-MM-DD, 2025-01-01..2026-12-31; default: the scenario's policy.as_of, else today)."),
    as_json: bool = typer.Option(False, "--json", help="Print results.json to stdout instead of the summary."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    defaults: bool = DEFAULTS_OPT,
) -> None:
    """Run a scenario and write OUT/report.html, results.json and tables/*.parquet|csv (atomically)."""
    scn = api.load_scenario(str(scenario) if scenario is not None else None, defaults=defaults)
    if as_of is not None:
        scn = scn.with_as_of(as_of)
    import datetime as _dt

    day = scn.as_of_date()
    if day > _dt.date.today():
        typer.echo(f"note: as of {day.isoformat()}, after today: measures dated after today are scheduled, not in force",
                   err=True)
    if out is None:   # outputs.dir must stay inside the scenario's folder; --out may go anywhere
        out = scn.output_dir(None) or Path("out")
    show = not (as_json or quiet)
    if show:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from .run.sections import SECTIONS

        with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(),
                      transient=True) as prog:
            task = prog.add_task("starting", total=len(SECTIONS) + 2)

            def step(msg: str) -> None:
                prog.update(task, description=msg, advance=1)

            res = api.run_scenario(scn, out, progress=step)
    else:
        res = api.run_scenario(scn, out)
    if as_json:
        _echo_json(res.to_json())
        return
    if not quiet:
        _print_summary(res)


def _print_summary(res) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    t = Table(title=f"{res.scenario.title or res.scenario.name}  ({res.seconds:.1f} s)", show_header=False)
    t.add_column("", style="bold")
    t.add_column("")
    for r in res.headline():
        t.add_row(r["label"], r["value"])
    con.print(t)
    n_warn = sum(len(s.warnings) for s in res.sections)
    if n_warn:
        con.print(f"{n_warn} warning(s) (elasticity fallbacks and the like): listed in the report and results.json")
    for s in res.sections:
        if s.status == "unavailable":
            con.print(f"[yellow]{s.title}: not available in this version[/yellow] ({s.note})")
    if res.out is not None:
        con.print(f"report: {res.out / 'report.html'}")


@app.command()
def validate(scenario: Path = typer.Argument(..., help="Scenario YAML to check."),
             as_json: bool = JSON_OPT,
             world: bool = typer.Option(True, "--world/--no-world", help="Also load the world and check country and sector codes."),
             defaults: bool = DEFAULTS_OPT) -> None:
    """Check a scenario file: YAML, fields, values, references (and codes against its world)."""
    scn = api.load_scenario(str(scenario), defaults=defaults)
    scn.output_dir(None)
    if world:
        _check_world(scn)
    if as_json:
        _echo_json({"ok": True, "scenario": scn.name, "file": str(scn.path), "counterfactuals": [c.name for c in scn.counterfactuals]})
    else:
        typer.echo(f"ok: {scenario} ({scn.name}: {len(scn.counterfactuals)} counterfactuals, "
                   f"{len(scn.strategy.optimal) + len(scn.strategy.nash) + len(scn.strategy.bargain)} strategy tasks)")


def _check_world(scn) -> None:
    if scn.world.files is not None:
        try:
            w = api.read_world_files(scn.resolve(scn.world.files))
        except TariffsimError as exc:
            raise scn.error(("world", "files"), str(exc)) from None
    else:
        try:
            w = api.load_world_as_shipped(scn.world.dataset)   # labels only: no re-solve, no JAX
        except TariffsimError as exc:
            raise scn.error(("world", "dataset"), str(exc)) from None
    scn.check_world(w.regions, w.sectors)


@app.command()
def schema() -> None:
    """Print the JSON schema of the scenario format."""
    _echo_json(api.scenario_schema())


@app.command()
def scenarios(name: Optional[str] = typer.Argument(None, help="Print this built-in scenario's YAML."),
              as_json: bool = JSON_OPT) -> None:
    """List the built-in scenarios, or print one (copy it to start your own)."""
    if name is not None:
        p = api.builtin_scenario_path(name)
        typer.echo(p.read_text(encoding="utf-8"), nl=False)
        return
    rows = []
    for n in api.list_builtin_scenarios():
        s = api.load_scenario(n)
        rows.append({"name": n, "title": s.title or "", "counterfactuals": [c.name for c in s.counterfactuals],
                     "path": str(api.builtin_scenario_path(n))})
    if as_json:
        _echo_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['name']}: {r['title']}\n  counterfactuals: {', '.join(r['counterfactuals'])}\n  file: {r['path']}")


# --------------------------------------------------------------------------- policy
@app.command()
def formula(
    partner: Optional[str] = typer.Option(None, "--partner", "-p", help="One partner (ISO3), e.g. JPN."),
    imports: Optional[float] = typer.Option(None, "--imports", help="US imports from the partner, USD bn (with --exports)."),
    exports: Optional[float] = typer.Option(None, "--exports", help="US exports to the partner, USD bn."),
    as_json: bool = JSON_OPT,
) -> None:
    """The USTR April-2025 reciprocal-tariff formula: rate = max(10%, ceil((m - x) / (4 * 0.25 * m) / 2))."""
    rate_fn = api.ustr_reciprocal_rate
    if imports is not None or exports is not None:
        if imports is None or exports is None:
            raise ScenarioError("--imports and --exports go together (USD bn)")
        if imports <= 0 or exports < 0:
            raise ScenarioError("--imports must be > 0 and --exports >= 0 (USD bn)")
        r = rate_fn(imports * 1e9, exports * 1e9)
        row = _ustr_row(r, partner or "partner", imports, exports)
        if as_json:
            _echo_json(row)
        else:
            typer.echo(_ustr_line(row))
        return
    table_fn = api.ustr_table
    df = table_fn()
    if partner is not None:
        import polars as pl

        cols = [c for c in ("iso3", "partner_iso3", "code", "partner") if c in df.columns]
        if not cols:
            raise TariffsimError("ustr_table: no partner column")
        want = partner.strip().lower()
        want = _AGGREGATE_PARTNERS.get(want, want)      # aggregate codes of the tables (EU) -> the USTR row's name
        cond = pl.lit(False)
        for c in cols:
            cond = cond | (pl.col(c).cast(pl.Utf8).str.to_lowercase() == want)
        sub = df.filter(cond)
        if sub.height == 0:
            raise ScenarioError(f"--partner: {partner!r} is not in the USTR table (use ISO3 codes, e.g. JPN)")
        df = sub
    if as_json:
        _echo_json(_clean(df.to_dicts()))
    elif df.height == 1:
        for k, v in df.row(0, named=True).items():
            typer.echo(f"  {k}: {_fmt_value(k, v)}")
    else:
        _print_table(df, "USTR reciprocal tariffs, April 2025", digits=3)


#: aggregate partner codes used in tariffsim's tables, and the USTR table's row for each (it has no ISO3 for them)
_AGGREGATE_PARTNERS = {"eu": "european union", "eu27": "european union", "eur": "european union"}


def _fmt_value(key: str, v: Any) -> str:
    if isinstance(v, float):
        if key.endswith("_usd"):
            return f"{v / 1e9:,.1f} USD bn"
        if "rate" in key or "dtau" in key:
            return f"{100 * v:.1f}%"
        return f"{v:,.4g}"
    return "" if v is None else str(v)


def _ustr_row(r, partner: str, m_bn: float, x_bn: float) -> dict:
    if isinstance(r, (int, float)):
        return {"partner": partner, "imports_usd_bn": m_bn, "exports_usd_bn": x_bn, "rate": float(r)}
    d = r._asdict() if hasattr(r, "_asdict") else (dict(r) if isinstance(r, dict) else
                                                      {k: getattr(r, k) for k in dir(r) if not k.startswith("_") and not callable(getattr(r, k))})
    return {"partner": partner, "imports_usd_bn": m_bn, "exports_usd_bn": x_bn, **d}


def _ustr_line(row: dict) -> str:
    rate = row.get("rate")
    dtau = (row["imports_usd_bn"] - row["exports_usd_bn"]) / row["imports_usd_bn"]
    return (f"USTR formula: imports {row['imports_usd_bn']:,.1f}bn, exports {row['exports_usd_bn']:,.1f}bn -> "
            f"delta tau {100 * dtau:.1f}%, reciprocal rate {100 * rate:.0f}%" if isinstance(rate, float) else
            "USTR formula: " + ", ".join(f"{k}={v}" for k, v in row.items()))


# --------------------------------------------------------------------------- strategy
def _load_world(world: str):
    p = Path(world)
    return api.load_world(str(p) if p.exists() else world)


@app.command()
def optimal(
    country: str = typer.Argument(..., help="Government choosing its import tariffs (ISO3 / region code)."),
    world: str = WORLD_OPT,
    structure: str = typer.Option("uniform", help="uniform | by_sector | by_partner | bilateral."),
    closure: str = typer.Option("balanced", help="balanced (deficits purged first; default for strategy, as Ossa 2014) | fixed."),
    upper: float = typer.Option(2.0, help="Upper bound on chosen rates (fraction)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Best-response (optimal) tariffs of COUNTRY, other tariffs fixed at the world's."""
    w = _load_world(world)
    with _working(f"optimal tariffs of {country.upper()} ({structure}, multi-start)", not as_json):
        res = api.optimal_tariff(w, country.upper(), structure=structure, closure=closure, bounds=(0.0, upper))
    tab = res.summary()
    wel = res.welfare_table() if hasattr(res, "welfare_table") else None
    if as_json:
        _echo_json({"country": country.upper(), "structure": structure, "corner": bool(getattr(res, "corner", False)),
                    "tariffs": _clean(tab.to_dicts()), "welfare": _clean(wel.to_dicts()) if wel is not None else None})
        return
    typer.echo(repr(res))
    _print_table(tab.head(50), f"Optimal tariffs of {country.upper()} ({structure})")
    if wel is not None:
        _print_table(wel, "Welfare")


@app.command()
def nash(
    players: list[str] = typer.Argument(..., help="Players (region codes), e.g. USA JPN."),
    world: str = WORLD_OPT,
    structure: str = typer.Option("uniform", help="uniform | by_sector | by_partner | bilateral."),
    closure: str = typer.Option("balanced", help="balanced (deficits purged first; default for strategy, as Ossa 2014) | fixed."),
    upper: float = typer.Option(2.0, help="Upper bound on rates (fraction)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Nash tariff war among PLAYERS (iterated best responses); others keep the world's tariffs."""
    w = _load_world(world)
    with _working(f"Nash war among {', '.join(p.upper() for p in players)} ({structure}; rounds of best responses)",
                  not as_json):
        res = api.nash_tariffs(w, [p.upper() for p in players], structure=structure, closure=closure, bounds=(0.0, upper))
    tab = res.summary() if hasattr(res, "summary") else None
    wel = res.welfare_table() if hasattr(res, "welfare_table") else None
    if as_json:
        _echo_json({"players": [p.upper() for p in players], "structure": structure,
                    "tariffs": _clean(tab.to_dicts()) if tab is not None else None,
                    "welfare": _clean(wel.to_dicts()) if wel is not None else None})
        return
    typer.echo(repr(res))
    if tab is not None:
        _print_table(tab.head(50), "Nash tariffs")
    if wel is not None:
        _print_table(wel, "Welfare")


@app.command()
def bargain(
    scenario: Optional[Path] = typer.Argument(None, help="Scenario with a strategy.bargain task (default: the US-Japan bundle)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Nash bargaining and the Pareto frontier of a scenario's bargaining task (and where the deal sits)."""
    scn = api.load_scenario(str(scenario) if scenario is not None else None)
    if not scn.strategy.bargain:
        raise ScenarioError(f"{scn.path}: strategy.bargain: the scenario has no bargaining task")
    with _working("bargaining", not as_json) as step:
        res = api.run_scenario(scn, None, sections=["counterfactuals", "bargain"], progress=step)
    sec = res.section("bargain")
    if as_json:
        _echo_json({"status": sec.status, "note": sec.note, "data": sec.data,
                    "frontier": _clean(sec.tables["bargain_frontier"].to_dicts()) if "bargain_frontier" in sec.tables else None})
        return
    typer.echo(sec.note or sec.status)
    if "bargain_points" in sec.tables:
        _print_table(sec.tables["bargain_points"], "Points (EV, USD bn/yr)")
    if "bargain_frontier" in sec.tables:
        _print_table(sec.tables["bargain_frontier"], "Pareto frontier")


# --------------------------------------------------------------------------- dashboard
@app.command()
def dashboard(
    port: int = typer.Option(8501, help="Port."),
    host: str = typer.Option("127.0.0.1", help="Address to bind (default: this machine only)."),
    scenario: Optional[Path] = typer.Option(None, "--scenario", help="Scenario whose world and baseline the dashboard uses."),
) -> None:
    """Start the interactive dashboard (streamlit) on http://HOST:PORT; SIGTERM/SIGINT stop it and its server."""
    from importlib.util import find_spec

    from .dashboard.launch import launch

    if find_spec("streamlit") is None:
        raise TariffsimError("the dashboard needs streamlit: pip install 'tariffsim[dashboard]'")
    if scenario is not None:
        api.load_scenario(str(scenario))   # a bad scenario is a user error here (exit 2), not a traceback in the browser
    raise typer.Exit(launch(port, host, scenario_path=scenario, echo=typer.echo))


# --------------------------------------------------------------------------- sweeps
@app.command()
def sweep(grid: Path = typer.Argument(..., help="Sweep grid YAML (see docs/uncertainty.md)."),
          out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default: the grid's out, else <grid>_sweep)."),
          scheduler: Optional[str] = typer.Option(None, "--scheduler", help="'serial', a dask address tcp://host:port, or none for a local cluster."),
          workers: Optional[int] = typer.Option(None, "--workers", help="Local dask workers (default: min(4, CPUs))."),
          as_json: bool = JSON_OPT) -> None:
    """Run a parameter sweep over a grid of scenarios (resumable; Parquet parts)."""
    res = api.run_sweep(grid, out, scheduler, n_workers=workers, progress=not as_json)
    if as_json:
        _echo_json({k: getattr(res, k) for k in ("out", "scenarios", "chunks", "computed", "skipped", "failed",
                                                 "seconds", "scheduler")})
    else:
        typer.echo(str(res))


from .cli_update import register as _register_update  # noqa: E402

_register_update(app, data_app)


def main() -> None:
    """Entry point: map user errors to exit 2 with a one-line message."""
    try:
        rc = app(standalone_mode=False)
        if isinstance(rc, int) and not isinstance(rc, bool) and rc != 0:
            sys.exit(rc)
    except TariffsimError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001
        if isinstance(exc, _ClickException):
            exc.show()
            sys.exit(2)
        if _STATE["debug"]:
            raise
        typer.echo(f"internal error (a bug; rerun with --debug for a traceback): {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
