"""Sweeps under faults (issues 21 and 22): killed workers, a killed sweep, a cluster that cannot recover.

Every test compares the Parquet output with a serial run of the same grid: every
scenario's rows exactly once, equal values. The world is the corpus's 3-region,
2-sector ``_good`` world, so a chunk solves in milliseconds once compiled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import polars as pl
import pytest

from tariffsim.errors import ScenarioError
from tariffsim.scale import SweepGrid, read_sweep, run_sweep

WORLD = Path(__file__).resolve().parent / "bad_inputs" / "worlds" / "_good"
GRID = f"""\
world: {WORLD}
home: HOM
partner: FOR
tariff: {{from: 0.0, to: 0.4, steps: 8}}
retaliation: [0.0, 1.0]
transfer: [0, 50]
chunk_size: 2
"""
N_SCENARIOS, N_CHUNKS = 32, 16


@pytest.fixture(scope="module")
def grid_file(tmp_path_factory) -> Path:
    g = tmp_path_factory.mktemp("faults") / "grid.yaml"
    g.write_text(GRID)
    return g


@pytest.fixture(scope="module")
def serial(grid_file, tmp_path_factory) -> pl.DataFrame:
    out = tmp_path_factory.mktemp("serial") / "out"
    run_sweep(grid_file, out=out, scheduler="serial", progress=False)
    return read_sweep(out)


def _assert_complete(out: Path, serial: pl.DataFrame, n_scenarios: int = N_SCENARIOS) -> None:
    got = read_sweep(out).sort("scenario", "region")
    counts = got.group_by("scenario").len()
    assert counts.height == n_scenarios and (counts["len"] == 3).all(), "a scenario is missing or duplicated"
    assert got.equals(serial.sort("scenario", "region"))
    assert not list(out.glob(".part-*")), "a temporary part file was left behind"


def _worker_pids(client) -> list[int]:
    return list(client.run(os.getpid).values())


def _kill_when_parts(out: Path, pids, at_least: int, log: list) -> threading.Thread:
    """SIGKILL ``pids()`` once ``at_least`` parts exist; log how many parts existed at the kill."""
    def go():
        deadline = time.time() + 120
        while time.time() < deadline and len(list(out.glob("part-*.parquet"))) < at_least:
            time.sleep(0.02)
        log.append(len(list(out.glob("part-*.parquet"))))
        for pid in pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    th = threading.Thread(target=go, daemon=True)
    th.start()
    return th


def test_grid_size_is_checked_before_anything_is_allocated():
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"the grid has 1,000,000,000,000,000 scenarios \(100,000 x 100,000 x 100,000\); "
                                         r"the limit is 1,000,000"):
        SweepGrid.model_validate({"tariff": {"from": 0, "to": 1, "steps": 100_000},
                                  "retaliation": {"from": 0, "to": 1, "steps": 100_000},
                                  "transfer": {"from": 0, "to": 1, "steps": 100_000}})
    assert time.perf_counter() - t0 < 2.0
    g = SweepGrid.model_validate({"tariff": {"from": 0, "to": 1, "steps": 1000}, "retaliation": {"from": 0, "to": 1, "steps": 1000},
                                  "chunk_size": 64})
    rows = g.scenarios(*g.chunk_rows(7))      # a chunk builds only its own rows
    assert rows.shape == (64, 3)
    full = SweepGrid.model_validate({"tariff": [0.0, 0.1], "retaliation": [0.0, 0.5, 1.0], "transfer": [0, 7]})
    assert full.scenarios().tolist() == [[t, r, x] for t in (0.0, 0.1) for r in (0.0, 0.5, 1.0) for x in (0.0, 7.0)]


def test_a_killed_worker_mid_sweep_loses_and_duplicates_nothing(grid_file, serial, tmp_path):
    from distributed import Client, LocalCluster

    out = tmp_path / "out"
    log: list[int] = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, Client(cl) as client:
        pids = _worker_pids(client)
        th = _kill_when_parts(out, lambda: pids[:1], 1, log)
        res = run_sweep(grid_file, out=out, scheduler=client, progress=False)
        th.join(timeout=5)
    assert log and log[0] < N_CHUNKS, "the worker was killed only after the sweep had finished"
    assert res.computed == N_CHUNKS
    _assert_complete(out, serial)


DRIVER = textwrap.dedent("""
    import sys
    from tariffsim.scale import run_sweep
    run_sweep(sys.argv[1], out=sys.argv[2], scheduler="serial", progress=False)
""")


def test_a_sigkilled_sweep_resumes_with_every_row_once(grid_file, serial, tmp_path):
    out = tmp_path / "out"
    g = tmp_path / "slow.yaml"          # one scenario per chunk: the kill lands between many small writes
    g.write_text(GRID.replace("chunk_size: 2", "chunk_size: 1"))
    proc = subprocess.Popen([sys.executable, "-W", "ignore", "-c", DRIVER, str(g), str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 180
        while time.time() < deadline and len(list(out.glob("part-*.parquet"))) < 3 and proc.poll() is None:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    done = len(list(out.glob("part-*.parquet")))
    assert proc.returncode == -signal.SIGKILL and 3 <= done < N_SCENARIOS, (proc.returncode, done)
    res = run_sweep(g, out=out, scheduler="serial", progress=False)
    assert res.skipped >= 3 and res.computed + res.skipped == N_SCENARIOS
    ref = run_sweep(g, out=tmp_path / "ref", scheduler="serial", progress=False)   # same chunking, same rounding
    _assert_complete(out, read_sweep(ref.out))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_cluster_that_cannot_recover_ends_in_one_line_within_the_timeout_and_a_rerun_completes(grid_file, serial, tmp_path):
    """A scheduler and two workers without nannies, as separate processes: SIGKILLed workers never come back.

    (A LocalCluster's nannies live in the test process and restart killed workers, so it recovers.)
    """
    from distributed import Client

    out = tmp_path / "out"
    g = tmp_path / "grid.yaml"
    g.write_text(GRID + "progress_timeout_s: 8\n")
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", str(port), "--no-dashboard"], **quiet)]
    workers = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", addr, "--no-nanny",
                                 "--nthreads", "1", "--no-dashboard"], **quiet) for _ in range(2)]
    procs += workers
    log: list[int] = []
    try:
        with Client(addr, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            # every worker is killed as the sweep starts: chunks on this tiny world take milliseconds, so a kill
            # timed on a finished part can come after the last one; without nannies nobody restarts them
            th = _kill_when_parts(out, lambda: [w.pid for w in workers], 0, log)
            t0 = time.perf_counter()
            with pytest.raises(ScenarioError) as exc:
                run_sweep(g, out=out, scheduler=client, progress=False)
            seconds = time.perf_counter() - t0
            th.join(timeout=5)
    finally:
        for p in procs:
            p.kill()
            p.wait(timeout=30)
    msg = str(exc.value)
    assert "\n" not in msg
    # the cluster gives out as silence (the progress timeout) or as a chunk out of retries: both end in one line
    assert msg.startswith(("sweep: no chunk finished for 8 s", "sweep: chunk ")) and "chunks not done (" in msg, msg
    assert "rerun" in msg, msg
    done = len(list(out.glob("part-*.parquet")))
    assert done < N_CHUNKS and f"{N_CHUNKS - done} of {N_CHUNKS} chunks not done" in msg, msg
    assert seconds < 8 + 60, seconds            # the timeout, plus start-up on a loaded machine
    res = run_sweep(g, out=out, scheduler="serial", progress=False)
    assert res.skipped == done and res.computed == N_CHUNKS - done
    _assert_complete(out, serial)
