"""Scenario sweeps: tariff levels x retaliation x transfers, run by dask.distributed.

A sweep is a grid (``GRID.yaml``, validated by :class:`SweepGrid`) over

- ``tariff``: what ``home`` adds to (``mode: add``) or sets as (``mode: set``) its
  tariff on ``partner``'s goods, in ``sectors`` (default: all);
- ``retaliation``: ``partner``'s answer as a multiple of that tariff, on ``home``'s
  goods in the same sectors;
- ``transfer``: a lump-sum transfer ``T`` (USD mn/yr) from ``partner`` to ``home``
  (e.g. host-nation support): ``D1[home] += T``, ``D1[partner] -= T`` on top of the
  closure's deficits (docs/design.md §5), passed to the GE engine as ``deficits=``.

Scenarios are numbered in grid order (tariff slowest, transfer fastest) and cut
into chunks of ``chunk_size``; each chunk is one task that solves its scenarios
batched (:mod:`tariffsim.scale._kernel`) and returns a tidy table, which the
client appends to the output folder as ``part-<chunk>.parquet`` (atomic write).
A rerun skips chunks already written (resumable, after SIGINT, SIGKILL or a lost
cluster); the folder's ``grid.json`` guards against resuming with a different
grid. The results do not depend on the scheduler: a serial run and a cluster run
write identical tables.

Limits (issue 21/22, ``docs/reliability.md``): the grid's size is computed from its
axes before anything is allocated and may not exceed :data:`MAX_GRID_SCENARIOS`
scenarios or :data:`MAX_GRID_CHUNKS` chunks; scenarios are generated lazily, each
chunk computing only its own rows from their indices; at most a few chunks per
worker are in flight. On dask, a chunk whose task fails is retried ``retries``
times (a worker death counts as a failure), and if no chunk finishes for
``progress_timeout_s`` seconds (workers lost and not restarted) the sweep stops
with one line naming the chunks not done; rerunning resumes.

Example ``GRID.yaml``::

    world: world_io_7x44_2017
    home: USA
    partner: JPN
    mode: add
    tariff: {from: 0.0, to: 0.5, steps: 11}
    retaliation: [0.0, 0.5, 1.0]
    transfer: [0, 10000]
    closure: fixed
    chunk_size: 16
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import warnings
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Union

import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .. import safe_load
from ..errors import ScenarioError, TariffsimError
from ..models import ge
from . import _kernel
from .montecarlo import FailedDrawsWarning

#: Columns of a sweep's Parquet output, in order.
COLUMNS = ("scenario", "tariff", "retaliation", "transfer", "region", "welfare_hat", "ev_usd_mn", "wage_hat",
           "exports_usd_mn", "imports_usd_mn", "tariff_revenue_usd_mn", "trade_balance_usd_mn", "converged",
           "residual")

#: Most scenarios in one grid (tariff x retaliation x transfer values).
MAX_GRID_SCENARIOS = 1_000_000
#: Most chunks (tasks and Parquet parts) in one grid: raise chunk_size for larger grids.
MAX_GRID_CHUNKS = 20_000
#: Largest estimated memory of one chunk's arrays (chunk_size x regions^2 x sectors x 8 bytes x 4).
MAX_CHUNK_BYTES = 2 << 30
#: Default seconds without any chunk finishing before a dask sweep gives up (workers lost).
DEFAULT_PROGRESS_TIMEOUT_S = 300.0


def _numbers(v: Any, name: str) -> Any:
    """Axis values must be YAML numbers: text such as '０.２' (full-width digits) or '24%' is refused."""
    if isinstance(v, list):
        for x in v:
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                raise ValueError(f"{name}: values must be numbers (0.24, not '24%' or text), got {x!r}")
    return v


class Range(BaseModel):
    """Evenly spaced values ``from .. to`` (inclusive), ``steps`` of them."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
    start: float = Field(alias="from", allow_inf_nan=False)
    stop: float = Field(alias="to", allow_inf_nan=False)
    steps: int = Field(ge=1, le=100_000)

    @field_validator("start", "stop", "steps", mode="before")
    @classmethod
    def _strict_number(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"must be a number, got {v!r}")
        return v

    @model_validator(mode="after")
    def _ordered(self) -> "Range":
        if self.steps > 1 and not self.start < self.stop:
            raise ValueError(f"from ({self.start:g}) must be below to ({self.stop:g}) when steps > 1")
        if self.steps == 1 and self.start != self.stop:
            raise ValueError("steps: 1 needs from == to (or give a list)")
        return self

    def __len__(self) -> int:
        return self.steps

    def values(self) -> list[float]:
        return [float(v) for v in np.linspace(self.start, self.stop, self.steps)]


Axis = Union[list[float], Range, float]


class SweepGrid(BaseModel):
    """The ``GRID.yaml`` format of ``tariffsim sweep`` (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    world: str = Field("world_io_7x44_2017", description="bundled world name, or a folder of world files (relative to the grid file)")
    home: str = Field("USA", description="region that levies `tariff` on `partner` and receives `transfer`")
    partner: str = Field("JPN", description="region that retaliates and pays `transfer`")
    sectors: list[str] | None = Field(None, description="sector codes the tariffs apply to (default: all)")
    mode: Literal["add", "set"] = Field("add", description="add to the baseline tariffs, or set them")
    tariff: Axis = Field([0.0], description="home's tariff on partner (fraction): list, number or {from, to, steps}")
    retaliation: Axis = Field([0.0], description="partner's tariff on home as a multiple of `tariff`")
    transfer: Axis = Field([0.0], description="transfer partner -> home, USD mn per year")
    closure: Literal["fixed", "balanced"] = "fixed"
    chunk_size: int = Field(16, ge=1, le=100_000, description="scenarios per task and per Parquet part")
    out: str | None = Field(None, description="output folder (relative to the grid file); default <grid stem>_sweep")
    retries: int = Field(2, ge=0, le=10, description="dask: times a failed chunk (a task error or a lost worker) is retried")
    progress_timeout_s: float = Field(DEFAULT_PROGRESS_TIMEOUT_S, gt=0, le=86_400,
                                      description="dask: give up when no chunk finishes for this many seconds")

    @field_validator("tariff", "retaliation", "transfer", mode="before")
    @classmethod
    def _axis(cls, v: Any, info) -> Any:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return [float(v)]
        return _numbers(v, info.field_name)

    @model_validator(mode="after")
    def _check(self) -> "SweepGrid":
        if self.home == self.partner:
            raise ValueError("home and partner must differ")
        sizes = [len(getattr(self, name)) for name in ("tariff", "retaliation", "transfer")]
        for name, n in zip(("tariff", "retaliation", "transfer"), sizes):
            if not n:
                raise ValueError(f"{name}: empty list")
        n = sizes[0] * sizes[1] * sizes[2]       # computed before anything is allocated
        if n > MAX_GRID_SCENARIOS:
            raise ValueError(f"the grid has {n:,} scenarios ({sizes[0]:,} x {sizes[1]:,} x {sizes[2]:,}); "
                             f"the limit is {MAX_GRID_SCENARIOS:,}: split it into several sweeps")
        chunks = -(-n // self.chunk_size)
        if chunks > MAX_GRID_CHUNKS:
            raise ValueError(f"the grid has {chunks:,} chunks of {self.chunk_size} scenarios; the limit is "
                             f"{MAX_GRID_CHUNKS:,}: raise chunk_size to at least {-(-n // MAX_GRID_CHUNKS)}")
        for name in ("tariff", "retaliation", "transfer"):
            if not np.isfinite(self.values(name)).all():
                raise ValueError(f"{name}: non-finite value")
        t, r = np.array(self.values("tariff")), np.array(self.values("retaliation"))
        ext = [a * b for a in (t.min(), t.max()) for b in (r.min(), r.max())]   # t * r is extreme at the corners
        if t.min() <= -1 or min(ext) <= -1:
            raise ValueError("tariff x retaliation: rates must stay above -100%")
        return self

    def values(self, name: str) -> list[float]:
        v = getattr(self, name)
        return v.values() if isinstance(v, Range) else [float(x) for x in v]

    @property
    def n_scenarios(self) -> int:
        return len(self.tariff) * len(self.retaliation) * len(self.transfer)

    @property
    def n_chunks(self) -> int:
        return -(-self.n_scenarios // self.chunk_size)

    def scenarios(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """(hi - lo, 3) array of (tariff, retaliation, transfer) of scenarios ``lo..hi-1``, tariff slowest.

        Rows are computed from their indices, so a chunk builds only its own rows.
        """
        hi = self.n_scenarios if hi is None else min(hi, self.n_scenarios)
        idx = np.arange(max(0, lo), hi, dtype=np.int64)
        nr, nx = len(self.retaliation), len(self.transfer)
        t, r, x = (np.asarray(self.values(a), dtype=float) for a in ("tariff", "retaliation", "transfer"))
        return np.stack([t[idx // (nr * nx)], r[(idx // nx) % nr], x[idx % nx]], axis=1)

    def chunk_rows(self, k: int) -> tuple[int, int]:
        """Scenario indices ``(lo, hi)`` of chunk ``k``."""
        lo = k * self.chunk_size
        return lo, min(lo + self.chunk_size, self.n_scenarios)

    def fingerprint(self) -> str:
        """Hash of everything that determines the results and the chunking (not ``out``, retries or timeouts)."""
        d = self.model_dump(mode="json", by_alias=True, exclude={"out", "retries", "progress_timeout_s"})
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    @classmethod
    def from_yaml(cls, path: str | Path) -> "SweepGrid":
        """Read and validate a grid file through :func:`tariffsim.safe_load.load_yaml_document`.

        A relative ``world`` folder resolves against the grid file. Errors are one-line
        :class:`ScenarioError` errors naming the file (and the line, where known).
        """
        path = Path(path)
        doc = safe_load.load_yaml_document(path, what="sweep grid file", error=ScenarioError)
        raw = doc.data
        if not isinstance(raw, dict):
            raise ScenarioError(f"{path}:1: expected a mapping of grid fields (tariff:, retaliation:, ...), "
                                f"got {type(raw).__name__}")
        try:
            grid = cls.model_validate(raw)
        except ValidationError as e:
            err = e.errors()[0]
            parts = [x for x in err["loc"] if isinstance(x, int) or not any(c in str(x) for c in "[]()")]
            loc = ".".join(str(x) for x in parts) or "grid"
            line = next((k.start_mark.line + 1 for k, _ in doc.root.value if parts and k.value == str(parts[0])), None)
            msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
            raise ScenarioError(f"{path}{f':{line}' if line else ''}: {loc}: {msg}") from None
        w = path.parent / grid.world
        if (os.sep in grid.world or "/" in grid.world or grid.world.startswith(".")) and w.exists():
            grid = grid.model_copy(update={"world": str(w.resolve())})
        return grid


# --------------------------------------------------------------------------- one chunk (runs on a worker)
@lru_cache(maxsize=4)
def _world(name: str):
    from ..models.baseline import load_world

    return load_world(name)


@lru_cache(maxsize=8)
def _reference(name: str, closure: str):
    world = _world(name)
    p = ge.make_params(world, None, closure=closure)
    x0 = jnp.zeros(world.n_regions)
    return p, np.asarray(_kernel.reference_jacobian(p, x0, has_io=world.has_io))


def scenario_inputs(grid: SweepGrid, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """New tariffs (B, N, N, S) and deficits (B, N) for scenario rows (tariff, retaliation, transfer)."""
    world = _world(grid.world)
    h, q = world.index(grid.home), world.index(grid.partner)
    sidx = world.sector_index(grid.sectors)
    d0 = np.asarray(world.deficit_usd if grid.closure == "fixed" else np.zeros(world.n_regions), dtype=float)
    T1 = np.repeat(np.asarray(world.tariffs, dtype=float)[None], len(rows), axis=0)
    D1 = np.repeat(d0[None], len(rows), axis=0)
    for b, (tar, ret, tr) in enumerate(rows):
        if grid.mode == "add":
            T1[b, q, h, sidx] += tar          # home (importer) on partner's goods
            T1[b, h, q, sidx] += ret * tar    # partner's retaliation on home's goods
        else:
            T1[b, q, h, sidx] = tar
            T1[b, h, q, sidx] = ret * tar
        D1[b, h] += tr
        D1[b, q] -= tr
    if (T1 <= -1).any():
        raise ScenarioError("sweep: a tariff would fall to -100% or below; check tariff, retaliation and mode")
    return T1, D1


def compute_chunk(grid: SweepGrid, k: int):
    """Solve chunk ``k`` of the grid; a tidy polars table (columns :data:`COLUMNS`)."""
    import polars as pl

    world = _world(grid.world)
    lo, hi = grid.chunk_rows(k)
    rows = grid.scenarios(lo, hi)          # only this chunk's rows
    T1, D1 = scenario_inputs(grid, rows)
    p, J0 = _reference(grid.world, grid.closure)
    res = _kernel.solve_batched(p, {"t1": T1, "d1": D1}, x0=np.zeros(world.n_regions), J0=J0,
                                has_io=world.has_io, chunk_size=grid.chunk_size)
    ok = res["ok"]
    B, N = len(rows), world.n_regions

    def col(a):
        a = np.array(a, dtype=float)
        a[~ok] = np.nan
        return a.reshape(-1)

    return pl.DataFrame({
        "scenario": np.repeat(np.arange(lo, hi, dtype=np.int64), N),
        "tariff": np.repeat(rows[:, 0], N),
        "retaliation": np.repeat(rows[:, 1], N),
        "transfer": np.repeat(rows[:, 2], N),
        "region": list(world.regions) * B,
        "welfare_hat": col(res["welfare_hat"]),
        "ev_usd_mn": col((res["welfare_hat"] - 1.0) * world.income_usd[None, :]),
        "wage_hat": col(res["wage_hat"]),
        "exports_usd_mn": col(res["exports"]),
        "imports_usd_mn": col(res["imports"]),
        "tariff_revenue_usd_mn": col(res["tariff_revenue"]),
        "trade_balance_usd_mn": col(res["exports"] - res["imports"]),
        "converged": np.repeat(ok, N),
        "residual": np.repeat(res["residual"], N),
    }).select(COLUMNS)


def _chunk_task(grid_json: str, k: int):
    """Worker entry point (plain data in and out)."""
    return k, compute_chunk(SweepGrid.model_validate_json(grid_json), k)


# --------------------------------------------------------------------------- driver (client side)
def _part_path(out: Path, k: int) -> Path:
    return out / f"part-{k:06d}.parquet"


def _atomic_write_parquet(df, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-", suffix=".tmp")
    os.close(fd)
    try:
        df.write_parquet(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _prepare_out(grid: SweepGrid, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    meta = out / "grid.json"
    fp = grid.fingerprint()
    if meta.exists():
        try:
            old = json.loads(meta.read_text()).get("fingerprint")
        except (ValueError, OSError):
            old = None
        if old != fp:
            raise ScenarioError(f"sweep output {out} holds a different grid (fingerprint {old} != {fp}); "
                                f"choose another out or delete it")
        return
    if any(out.glob("part-*.parquet")):
        raise ScenarioError(f"sweep output {out} has part files but no grid.json; choose another out")
    body = json.dumps({"fingerprint": fp, "grid": grid.model_dump(mode="json", by_alias=True)}, indent=1)
    fd, tmp = tempfile.mkstemp(dir=out, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(body)
    os.replace(tmp, meta)


@dataclass(frozen=True)
class SweepRun:
    """What :func:`run_sweep` did."""

    out: Path
    scenarios: int
    chunks: int
    computed: int
    skipped: int
    failed: int
    seconds: float
    scheduler: str

    def table(self):
        """All results so far (polars), sorted by scenario and region order."""
        return read_sweep(self.out)

    def __str__(self) -> str:
        return (f"sweep: {self.scenarios} scenarios in {self.chunks} chunks ({self.computed} computed, "
                f"{self.skipped} skipped as done), {self.failed} failed, {self.seconds:.1f} s on {self.scheduler}; "
                f"results in {self.out}")


def read_sweep(out: str | Path):
    """Concatenate a sweep's Parquet parts (polars), in scenario order."""
    import polars as pl

    out = Path(out)
    parts = sorted(out.glob("part-*.parquet"))
    if not parts:
        raise ScenarioError(f"no sweep results in {out}")
    return pl.concat([pl.read_parquet(p) for p in parts])


def run_sweep(
    grid_path: str | Path | SweepGrid,
    out: str | Path | None = None,
    scheduler: Any = None,
    *,
    n_workers: int | None = None,
    progress: bool = True,
) -> SweepRun:
    """Run a scenario sweep (``tariffsim sweep GRID.yaml``) and write Parquet parts.

    Parameters
    ----------
    grid_path : a ``GRID.yaml`` file (format: :class:`SweepGrid`) or a ``SweepGrid``.
    out : output folder; default the grid's ``out`` or ``<grid stem>_sweep`` next to
        the grid file. Chunks already there are skipped (resume); a folder written
        by a different grid is refused.
    scheduler : ``None`` starts a dask ``LocalCluster`` on this machine;
        ``"serial"`` runs in this process without dask; an address such as
        ``"tcp://10.0.0.5:8786"`` joins an existing dask cluster (workers need
        tariffsim installed); a ``distributed.Client`` is used as is.
    n_workers : workers of the LocalCluster (default: ``min(4, CPU count)``).
    progress : show a rich progress bar over chunks.

    Returns
    -------
    SweepRun (counts, output folder, ``table()``). Failed scenarios are kept as rows
    with ``converged = False`` and NaN results, counted in ``failed`` and warned about.
    """
    t0 = time.perf_counter()
    if isinstance(grid_path, SweepGrid):
        grid = grid_path
        if out is None and grid.out is None:
            raise ScenarioError("run_sweep: give out= when passing a SweepGrid object")
        out_dir = Path(out if out is not None else grid.out)
    else:
        gp = Path(grid_path)
        grid = SweepGrid.from_yaml(gp)
        out_dir = Path(out) if out is not None else (gp.parent / grid.out if grid.out else gp.parent / f"{gp.stem}_sweep")
        if out_dir.resolve() == gp.resolve():
            raise ScenarioError(f"sweep output {out_dir} would overwrite the grid file")
    # Fail fast, on the client, on a bad world, region or sector code, or a chunk too big to hold.
    w = _world(grid.world)
    w.index(grid.home)
    w.index(grid.partner)
    w.sector_index(grid.sectors)
    chunk_bytes = grid.chunk_size * w.n_regions ** 2 * w.n_sectors * 8 * 4
    if chunk_bytes > MAX_CHUNK_BYTES:
        raise ScenarioError(f"sweep: chunk_size {grid.chunk_size} needs about {chunk_bytes / 2**30:.1f} GiB per chunk on "
                            f"this world ({w.n_regions} regions x {w.n_sectors} sectors); the limit is "
                            f"{MAX_CHUNK_BYTES / 2**30:g} GiB: lower chunk_size")
    _prepare_out(grid, out_dir)
    for stale in out_dir.glob(".part-*.tmp"):     # a part being written when an earlier run was killed (SIGKILL)
        stale.unlink(missing_ok=True)
    todo = [k for k in range(grid.n_chunks) if not _part_path(out_dir, k).exists()]
    skipped = grid.n_chunks - len(todo)

    bar = None
    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        bar.start()
        task = bar.add_task("chunks", total=grid.n_chunks, completed=skipped)
    failed = 0
    try:
        def store(k, df):
            nonlocal failed
            _atomic_write_parquet(df, _part_path(out_dir, k))
            failed += int((~df["converged"]).sum()) // max(1, w.n_regions)
            if bar is not None:
                bar.advance(task)

        if isinstance(scheduler, str) and scheduler in ("serial", "sync"):
            label = "serial"
            for k in todo:
                store(k, compute_chunk(grid, k))
        else:
            label = _run_dask(grid, todo, scheduler, n_workers, store)
    finally:
        if bar is not None:
            bar.stop()
    if failed:
        warnings.warn(f"sweep: {failed} scenarios did not converge; rows kept with converged=False",
                      FailedDrawsWarning, stacklevel=2)
    return SweepRun(out=out_dir, scenarios=grid.n_scenarios, chunks=grid.n_chunks, computed=len(todo),
                    skipped=skipped, failed=failed, seconds=time.perf_counter() - t0, scheduler=label)


def _run_dask(grid: SweepGrid, todo: list[int], scheduler: Any, n_workers: int | None, store) -> str:
    try:
        import dask
        from distributed import Client, LocalCluster, wait
    except ImportError:
        raise ScenarioError("sweeps on dask need dask[distributed]: pip install 'tariffsim[dist]', "
                            "or pass scheduler='serial'") from None
    own_cluster = own_client = None
    if scheduler is None:
        n = n_workers or min(4, os.cpu_count() or 1)
        # A worker death counts against the chunk that was running (dask's allowed-failures).
        with dask.config.set({"distributed.scheduler.allowed-failures": grid.retries}):
            own_cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client = own_client = Client(own_cluster)
        label = f"LocalCluster({n} workers)"
    elif isinstance(scheduler, str):
        try:
            client = own_client = Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as e:
            raise ScenarioError(f"cannot reach dask scheduler {scheduler!r}: {e}") from None
        label = f"dask scheduler {scheduler}"
    elif isinstance(scheduler, Client):
        client = scheduler
        label = "dask client"
    else:
        raise ScenarioError(f"scheduler must be None, 'serial', an address or a distributed.Client, got {scheduler!r}")
    try:
        if todo:
            _drive(client, grid, todo, store, wait)
    finally:
        if own_client is not None:
            own_client.close(timeout=10)
        if own_cluster is not None:
            own_cluster.close(timeout=10)
    return label


def _drive(client, grid: SweepGrid, todo: list[int], store, wait) -> None:
    """Submit chunks a few per worker at a time; stop with one line when no chunk finishes for the timeout."""
    gj, fp = grid.model_dump_json(by_alias=True), grid.fingerprint()
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    window = max(4, 4 * n_workers)
    pending, inflight, failed, lost = deque(todo), {}, {}, {}

    def left() -> list[int]:
        return sorted([*inflight.values(), *pending, *failed])

    def stop(reason: str) -> ScenarioError:
        client.cancel(list(inflight))
        ks = left()
        shown = ", ".join(map(str, ks[:20])) + (", ..." if len(ks) > 20 else "")
        return ScenarioError(f"sweep: {reason}; {len(ks)} of {grid.n_chunks} chunks not done ({shown}); "
                             f"the finished ones are saved: rerun the same command to resume")

    while pending or inflight:
        while pending and len(inflight) < window:
            k = pending.popleft()
            again = f"-r{lost[k]}" if lost.get(k) else ""       # a fresh key for a resubmitted chunk
            fut = client.submit(_chunk_task, gj, k, key=f"tariffsim-sweep-{fp}-{k}{again}", pure=False,
                                retries=grid.retries)
            inflight[fut] = k
        try:
            done, _ = wait(list(inflight), timeout=grid.progress_timeout_s, return_when="FIRST_COMPLETED")
        except TimeoutError:
            raise stop(f"no chunk finished for {grid.progress_timeout_s:g} s (dask workers lost and not restarted?)") from None
        for fut in done:
            k = inflight.pop(fut)
            if fut.status == "finished":
                store(*fut.result())
            else:
                exc = fut.exception() if fut.status == "error" else None
                if isinstance(exc, TariffsimError):
                    client.cancel(list(inflight))
                    raise exc
                if exc is None and lost.get(k, 0) < grid.retries + 1:
                    # cancelled or lost with no error of its own (seen when a worker dies while the
                    # scheduler re-routes its tasks): submit the chunk again, at most retries + 1 times
                    lost[k] = lost.get(k, 0) + 1
                    pending.append(k)
                elif exc is None:
                    failed[k] = f"lost {lost[k]} times (status {fut.status})"
                else:
                    failed[k] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"
            fut.release()
    if failed:
        k0 = min(failed)
        raise stop(f"chunk {k0} failed after {grid.retries + 1} tries ({failed[k0]})"
                   + (f" and {len(failed) - 1} more chunk(s) failed" if len(failed) > 1 else ""))
