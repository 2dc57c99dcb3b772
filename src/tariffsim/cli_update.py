"""CLI commands for keeping data current (`tariffsim data update/status`, `tariffsim schedule diff`).

Imports only :mod:`tariffsim.api`. Registered on the main app by :mod:`tariffsim.cli`.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer, data_app: typer.Typer) -> None:
    """Add the update commands to the main app and its ``data`` sub-app."""
    return None
