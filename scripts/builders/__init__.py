"""Builders for the bundled datasets (see scripts/build_data.py)."""
