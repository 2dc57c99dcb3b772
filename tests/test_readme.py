"""Every fenced Python and bash block of the README runs as written (issue 18).

Python blocks run in a fresh interpreter; bash blocks run with ``.venv/bin`` (the
interpreter running the tests) first on PATH, from the repository root, under
``set -e``. The set-up block (``make run`` / ``make test``) is checked with
``make -n`` (a dry run of the same targets): running ``make test`` inside the
test suite would recurse, and ``make run`` is the default report that
``tests/test_report.py`` already renders.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"^```(python|bash)\n(.*?)^```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S | re.M)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_readme_has_blocks():
    kinds = [k for k, _ in BLOCKS]
    assert kinds.count("python") >= 1 and kinds.count("bash") >= 2


@pytest.mark.parametrize("k", range(len(BLOCKS)), ids=[f"{k}-{BLOCKS[k][0]}" for k in range(len(BLOCKS))])
def test_readme_block_runs(k, tmp_path):
    kind, code = BLOCKS[k]
    if kind == "python":
        p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    elif re.search(r"^make (run|test)\b", code, re.M):
        targets = re.findall(r"^make (\w+)", code, re.M)
        p = subprocess.run(["make", "-n", *targets], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60)
    else:
        p = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", code], cwd=ROOT, env=_env(), capture_output=True,
                           text=True, timeout=600)
    assert p.returncode == 0, f"README block {k} ({kind}) failed:\n{code}\n--- stderr ---\n{p.stderr[-3000:]}"
