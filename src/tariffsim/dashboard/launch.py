"""Start the streamlit dashboard as a child process that lives and dies with ``tariffsim dashboard``.

The launcher starts streamlit in its own session (so a terminal's Ctrl+C reaches it only
through us, once), forwards SIGTERM, SIGINT and SIGHUP to the child's process group, waits
for it, and escalates to SIGKILL when the child has not exited ``grace_s`` seconds after a
forwarded signal. It returns the child's exit status, so nothing is left serving the port
when the command ends (issue 18: a killed ``tariffsim dashboard`` left streamlit running).

Imports nothing heavy: the app itself (:mod:`tariffsim.dashboard.app`) runs in the child.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
GRACE_S = 10.0
APP_PATH = Path(__file__).resolve().parent / "app.py"


def streamlit_command(port: int, host: str = "127.0.0.1") -> list[str]:
    """The ``python -m streamlit run`` command line for the dashboard app on ``host:port``."""
    return [sys.executable, "-m", "streamlit", "run", str(APP_PATH), "--server.address", host,
            "--server.port", str(int(port)), "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--global.developmentMode", "false", "--client.toolbarMode", "viewer"]


def run_child(cmd: Sequence[str], *, env: Mapping[str, str] | None = None, grace_s: float = GRACE_S,
              on_start: Callable[[int], None] | None = None) -> int:
    """Run ``cmd`` to completion, forwarding SIGTERM/SIGINT/SIGHUP to it; return its exit status.

    A forwarded signal gives the child ``grace_s`` seconds to exit before SIGKILL goes to its
    whole process group. The previous signal handlers are restored on return. The status of
    a child killed by signal ``s`` is ``128 + s`` (the shell's convention).
    """
    proc = subprocess.Popen(list(cmd), env=None if env is None else dict(env), start_new_session=True)
    deadline: list[float] = []

    def forward(signum, frame):  # noqa: ARG001
        _signal_group(proc, signum)
        if not deadline:
            deadline.append(time.monotonic() + grace_s)

    previous = {s: signal.signal(s, forward) for s in FORWARDED}
    try:
        if on_start is not None:
            on_start(proc.pid)
        while True:
            try:
                rc = proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if deadline and time.monotonic() > deadline[0]:
                    _signal_group(proc, signal.SIGKILL)
                    rc = proc.wait()
                    break
    except BaseException:
        _signal_group(proc, signal.SIGKILL)
        proc.wait()
        raise
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    # the session may hold grandchildren (streamlit's own helpers): do not leave them behind
    _signal_group(proc, signal.SIGKILL)
    return 128 - rc if rc < 0 else rc


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def launch(port: int = 8501, host: str = "127.0.0.1", *, scenario_path: str | os.PathLike | None = None,
           echo: Callable[[str], None] | None = None) -> int:
    """Serve the dashboard on ``http://host:port`` until streamlit exits or we are signalled; return its status.

    ``scenario_path``: a scenario whose world and baseline the dashboard uses (validated by the
    caller). Announces the URL and the streamlit process id through ``echo``.
    """
    echo = echo or (lambda msg: print(msg, flush=True))
    env = dict(os.environ)
    if scenario_path is not None:
        env["TARIFFSIM_DASHBOARD_SCENARIO"] = str(Path(scenario_path).resolve())
    return run_child(streamlit_command(port, host), env=env,
                     on_start=lambda pid: echo(f"tariffsim dashboard on http://{host}:{port} "
                                               f"(streamlit pid {pid}; Ctrl+C to stop)"))


__all__ = ["launch", "run_child", "streamlit_command", "FORWARDED", "GRACE_S"]
