"""Region and sector aggregation maps for world building: built-in maps and the user's YAML/CSV files.

A map sends every source code to a target code. Files:

- YAML, either ``{source: target}`` or ``{target: [source, ...]}``; the key ``"*"`` (``"*": ROW``) sends every code
  not listed to one target.
- CSV with two columns ``from,to`` (or, without those names, the first two columns); ``*`` in ``from`` as above.

Files are read through :mod:`tariffsim.safe_load` (regular file, size and UTF-8 guards; YAML depth, alias and
duplicate-key guards). A map that leaves a code of the table unmapped (and has no ``"*"``) is refused.

Built-in maps (pass the name instead of a path):

``default7`` (regions)
    The layout of the bundled ``world_io_7x44_2017``: BRA, CHN, IND, JPN, USA, the 27 EU members (2020 on) -> EU,
    everyone else -> ROW.
``icio44`` (sectors)
    OECD ICIO industries (2023 edition ``A01_02`` ... ``T``, and 2021 edition ``D01T02`` ... ``D97T98``) -> the 44
    sector codes ``"1"`` ... ``"44"`` of ``world_io_7x44_2017`` (ICIO order; households as employers, T / D97T98,
    join sector 44 "Other service activities").
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Mapping, Sequence

from ...errors import DataError

EU27 = ("AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "IRL", "ITA",
        "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE")
ICIO2023_INDUSTRIES = (
    "A01_02", "A03", "B05_06", "B07_08", "B09", "C10T12", "C13T15", "C16", "C17_18", "C19", "C20", "C21", "C22",
    "C23", "C24", "C25", "C26", "C27", "C28", "C29", "C30", "C31T33", "D", "E", "F", "G", "H49", "H50", "H51",
    "H52", "H53", "I", "J58T60", "J61", "J62_63", "K", "L", "M", "N", "O", "P", "Q", "R", "S", "T",
)
ICIO2021_INDUSTRIES = (
    "D01T02", "D03", "D05T06", "D07T08", "D09", "D10T12", "D13T15", "D16", "D17T18", "D19", "D20", "D21", "D22",
    "D23", "D24", "D25", "D26", "D27", "D28", "D29", "D30", "D31T33", "D35", "D36T39", "D41T43", "D45T47", "D49",
    "D50", "D51", "D52", "D53", "D55T56", "D58T60", "D61", "D62T63", "D64T66", "D68", "D69T75", "D77T82", "D84",
    "D85", "D86T88", "D90T93", "D94T96", "D97T98",
)


def _icio44() -> dict[str, str]:
    out: dict[str, str] = {}
    for codes in (ICIO2023_INDUSTRIES, ICIO2021_INDUSTRIES):
        for k, c in enumerate(codes):
            out[c] = str(min(k + 1, 44))
    return out


BUILTIN: dict[str, dict[str, str]] = {
    "default7": {**{c: "EU" for c in EU27}, **{c: c for c in ("BRA", "CHN", "IND", "JPN", "USA")}, "*": "ROW"},
    "icio44": _icio44(),
}


def load_map(spec: str | Path | Mapping[str, str], *, kind: str) -> tuple[dict[str, str], dict[str, str]]:
    """A code map from a built-in name, a YAML/CSV file or a mapping; returns ``(map, provenance record)``."""
    if isinstance(spec, Mapping):
        m = {str(k): str(v) for k, v in spec.items()}
        return m, {"kind": kind, "map": "given in code", "sha256": _hash_map(m)}
    name = str(spec)
    if name in BUILTIN:
        m = dict(BUILTIN[name])
        return m, {"kind": kind, "map": f"built-in {name}", "sha256": _hash_map(m)}
    p = Path(name)
    if p.suffix.lower() in (".yaml", ".yml"):
        m = _yaml_map(p, kind)
    elif p.suffix.lower() == ".csv":
        m = _csv_map(p, kind)
    else:
        raise DataError(f"{kind} map {name!r}: not a built-in map ({', '.join(BUILTIN)}) nor a .yaml/.yml/.csv file")
    return m, {"kind": kind, "map": str(p), "sha256": _hash_map(m)}


def _hash_map(m: Mapping[str, str]) -> str:
    return hashlib.sha256("\n".join(f"{k}\t{v}" for k, v in sorted(m.items())).encode()).hexdigest()


def _yaml_map(p: Path, kind: str) -> dict[str, str]:
    from ... import safe_load

    data = safe_load.load_yaml(p, what=f"{kind} map", error=DataError)
    if not isinstance(data, dict):
        raise DataError(f"{p}: {kind} map must be a mapping (source: target, or target: [sources]), got {type(data).__name__}")
    out: dict[str, str] = {}
    for k, v in data.items():
        if isinstance(v, list):
            for src in v:
                _put(out, str(src), str(k), p)
        elif isinstance(v, (str, int)) and not isinstance(v, bool):
            _put(out, str(k), str(v), p)
        else:
            raise DataError(f"{p}: {kind} map entry {k!r}: expected a code or a list of codes, got {type(v).__name__}")
    return out


def _csv_map(p: Path, kind: str) -> dict[str, str]:
    import polars as pl

    from ... import safe_load

    df = safe_load.read_table(p, what=f"{kind} map", error=DataError, infer_schema_length=0)
    cols = ["from", "to"] if {"from", "to"} <= set(df.columns) else df.columns[:2]
    if len(cols) < 2:
        raise DataError(f"{p}: {kind} map needs two columns (from, to)")
    out: dict[str, str] = {}
    for r, (a, b) in enumerate(zip(df[cols[0]].cast(pl.Utf8).to_list(), df[cols[1]].cast(pl.Utf8).to_list())):
        if a is None or b is None or not a.strip() or not b.strip():
            raise DataError(f"{p}: {kind} map row {r + 2}: blank code")
        _put(out, a.strip(), b.strip(), p)
    return out


def _put(out: dict[str, str], src: str, dst: str, p: Path) -> None:
    if src in out and out[src] != dst:
        raise DataError(f"{p}: code {src!r} is mapped twice ({out[src]!r} and {dst!r})")
    out[src] = dst


def apply_map(codes: Sequence[str], m: Mapping[str, str], *, kind: str, where: str) -> list[str]:
    """Target code of each source code; refuses a code the map misses (unless it has ``"*"``)."""
    default = m.get("*")
    missing = [c for c in codes if c not in m and default is None]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise DataError(f"{kind} map {where}: misses {', '.join(missing[:5])}{more} (map every {kind} of the table, "
                        "or add '*: TARGET')")
    return [m.get(c, default) for c in codes]
