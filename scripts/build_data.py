"""Build tariffsim's bundled datasets from the raw sources in ../shared/data.

Usage::

    python scripts/build_data.py [--source ../shared/data] [--only NAME ...]

Each builder in ``scripts/builders/`` turns one raw source folder into small,
derived, documented Parquet tables under ``src/tariffsim/data/bundled/<name>/``
and returns an attribution record (source, publisher, license, year, units,
citation, per-table columns and row counts). Records are merged into
``bundled/manifest.json``. Raw files are never copied.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUNDLED = ROOT / "src" / "tariffsim" / "data" / "bundled"
sys.path.insert(0, str(HERE))

# Builder modules, in order. Each exposes ``build(source: Path, out: Path) -> list[dict]``.
BUILDERS = ["builders.worlds", "builders.policy", "builders.policy_2026", "builders.elasticities", "builders.facts", "builders.facts_2026", "builders.ossa"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--only", nargs="*", default=None, help="builder modules to run (e.g. worlds policy)")
    args = ap.parse_args(argv)
    if not args.source.is_dir():
        print(f"error: source folder {args.source} not found", file=sys.stderr)
        return 2
    BUNDLED.mkdir(parents=True, exist_ok=True)
    manifest_path = BUNDLED / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    for modname in BUILDERS:
        short = modname.split(".")[-1]
        if args.only and short not in args.only:
            continue
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name == modname:
                continue
            raise
        for rec in mod.build(args.source, BUNDLED):
            manifest[rec["name"]] = rec
            print(f"built {rec['name']}: " + ", ".join(f"{t}={v['rows']}" for t, v in rec["tables"].items()))
    tmp = manifest_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(dict(sorted(manifest.items())), indent=1, sort_keys=False) + "\n")
    os.replace(tmp, manifest_path)
    size = sum(p.stat().st_size for p in BUNDLED.rglob("*") if p.is_file())
    print(f"bundle size: {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
