"""Read the official MRIO files a user has into a :class:`MrioTable` (parsing only; pymrio does the OECD work).

Sources
-------
``oecd-icio``
    OECD Inter-Country Input-Output tables, csv (or the zip holding it) named ``ICIO<edition>_<year>.csv``, parsed by
    :func:`pymrio.parse_oecd` (which also merges the CN1/CN2 and MX1/MX2 splits into CHN and MEX).
``wiod2016``
    WIOD 2016 release world input-output table ``WIOT<year>_Nov16_ROW`` as ``.xlsx`` (``.xlsb`` with ``pyxlsb``
    installed) or saved as ``.csv``. pymrio's ``parse_wiod`` reads the 2013 release only (it ends the
    interindustry block at sector ``c35``; on a 56-sector 2016 file it would drop 21 sectors silently), so this
    module reads the 2016 sheet itself: 6 header rows (names, codes, country, ``c``-code), 4 label columns, sector
    rows ``c1..c56`` per country, final use ``c57..c61`` (CONS_h, CONS_np, CONS_g, GFCF, INVEN) per country, the
    total column ``GO``, and the bottom rows II_fob, TXSP, EXP_adj, PURR, PURNR, VA, IntTTM, GO.
``pymrio``
    A folder written by ``pymrio.IOSystem.save_all`` (for instance of ``pymrio.load_test()``), read with
    :func:`pymrio.load_all`.

Valuation: every source here records intermediate and final use at basic prices (WIOD: "output at basic prices";
ICIO: basic prices, with taxes less subsidies on products, import duties included, in the TLS row), i.e. *before*
the buyer's tariff, which is the World convention for ``flows``.

Every layout problem is a one-line :class:`DataError` naming the file and what was expected.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import DataError
from .table import MrioTable

SOURCES = ("wiod2016", "oecd-icio", "pymrio")
#: Final-demand categories that are changes in inventories (or valuables), by source naming.
INVENTORY_CATEGORIES = frozenset({"INVNT", "INV", "INVEN", "Changes in inventories", "Changes in valuables"})
_WIOD_PRIMARY = ("II_fob", "TXSP", "EXP_adj", "PURR", "PURNR", "VA", "IntTTM", "GO")
_WIOD_PRIMARY_NAMES = {"total intermediate consumption": "II_fob", "taxes less subsidies on products": "TXSP",
                       "cif/ fob adjustments on exports": "EXP_adj", "direct purchases abroad by residents": "PURR",
                       "purchases on the domestic territory by non-residents": "PURNR",
                       "value added at basic prices": "VA", "international transport margins": "IntTTM",
                       "output at basic prices": "GO"}
#: Tolerance of the column identity x = Z'1 + primary inputs, USD millions (published tables round to 1e-3..1e-6).
BALANCE_ABS_TOL = 0.5
BALANCE_REL_TOL = 1e-4
#: Gross output below this (USD millions) counts as negative, not rounding noise.
NEG_TOL = 1e-6


def require_pymrio() -> Any:
    try:
        import pymrio
    except ImportError:
        raise DataError("building a world from MRIO files needs pymrio: pip install 'tariffsim[mrio]'") from None
    return pymrio


def read_mrio(source: str, path: str | Path, *, year: int | None = None) -> MrioTable:
    """Parse one year of an MRIO source into a balanced :class:`MrioTable`.

    Parameters
    ----------
    source : ``"wiod2016"``, ``"oecd-icio"`` or ``"pymrio"``.
    path : a file, or a folder holding the source's files for several years (then ``year`` picks the file).
    year : year of the table; required when ``path`` is a folder of WIOD or ICIO files, checked against the file
        name otherwise.

    Raises
    ------
    DataError
        Unknown source, no file for the year, wrong layout, negative gross output, an unbalanced table.
    """
    if source not in SOURCES:
        raise DataError(f"unknown MRIO source {source!r}; expected one of {', '.join(SOURCES)}")
    p = Path(path)
    if not p.exists():
        raise DataError(f"{source}: path not found: {p}")
    require_pymrio()
    if source == "oecd-icio":
        rx = r"ICIO\d{4}_(\d{4})\.(csv|zip)"
        f = _pick_file(p, year, rx, "OECD ICIO", "ICIO2023_<year>.csv")
        table = _read_icio(f)
        files, yr = [f], _year_of(f, rx, year)
    elif source == "wiod2016":
        rx = r"WIOT(\d{4})_\w*\.(xlsx|xlsb|csv)"
        f = _pick_file(p, year, rx, "WIOD 2016", "WIOT<year>_Nov16_ROW.xlsx")
        table = _read_wiot(f)
        files, yr = [f], _year_of(f, rx, year)
    else:
        table = _read_pymrio(p)
        files = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
        yr = year if year is not None else table.meta.get("year")
        if yr is None:
            raise DataError(f"pymrio: {p} records no year; give --year")
    _check_output(table)
    meta = {**table.meta, "source": source, "year": int(yr), "files": [str(q) for q in files], "root": str(p)}
    return MrioTable(table.regions, table.sectors, table.categories, np.array(table.Z), np.array(table.Y),
                     np.array(table.primary), table.inventory, table.sector_names, meta)


def _year_of(f: Path, pattern: str, year: int | None) -> int:
    m = re.fullmatch(pattern, f.name, re.IGNORECASE)
    return int(m.group(1)) if m else int(year)


def _pick_file(p: Path, year: int | None, pattern: str, what: str, example: str) -> Path:
    rx = re.compile(pattern, re.IGNORECASE)
    if p.is_file():
        m = rx.fullmatch(p.name)
        if m is None and year is None:
            raise DataError(f"{p.name}: cannot tell the year from the file name (expected {example}); give --year")
        if m is not None and year is not None and int(m.group(1)) != int(year):
            raise DataError(f"{p.name}: holds year {m.group(1)}, not the requested {year}")
        return p
    found = {int(m.group(1)): q for q in sorted(p.iterdir()) if (m := rx.fullmatch(q.name))}
    if year is None:
        raise DataError(f"{what}: {p} is a folder; give the year (--year), one of {', '.join(map(str, sorted(found))) or 'none found'}")
    if int(year) not in found:
        have = ", ".join(map(str, sorted(found))) or "none"
        raise DataError(f"{what}: no file for year {year} in {p} (expected {example.replace('<year>', str(year))}; years found: {have})")
    return found[int(year)]


def _check_output(t: MrioTable) -> None:
    x = t.x
    if (x < -NEG_TOL).any():
        k = int(np.flatnonzero(x < -NEG_TOL)[0])
        raise DataError(f"negative gross output {x[k]:.6g} USD mn at {t.label(k)}")


def _check_balance(label: str, x: np.ndarray, x_col: np.ndarray, t_labels) -> None:
    """Column identity: output from the rows equals intermediate inputs plus primary inputs from the columns."""
    dev = np.abs(x - x_col)
    tol = BALANCE_ABS_TOL + BALANCE_REL_TOL * np.abs(x)
    if (dev > tol).any():
        k = int(np.argmax(dev - tol))
        raise DataError(f"{label}: table does not balance at {t_labels(k)}: output {x[k]:.6g} from the rows, "
                        f"{x_col[k]:.6g} from the columns (intermediate + primary inputs)")


# --------------------------------------------------------------------------- OECD ICIO (via pymrio)
def _read_icio(f: Path) -> MrioTable:
    pymrio = require_pymrio()
    if f.suffix.lower() == ".csv":
        with open(f, encoding="utf-8", errors="replace") as fh:
            head = fh.readline().strip().split(",")
        if "OUT" not in head or not any(c.endswith("_HFCE") for c in head):
            raise DataError(f"{f.name}: not an OECD ICIO csv (first row must hold <ISO3>_<industry> columns, "
                            "<ISO3>_HFCE final-demand columns and OUT)")
    try:
        io = pymrio.parse_oecd(f)
    except Exception as exc:  # noqa: BLE001 - pandas/pymrio raise many kinds on a malformed file
        raise DataError(f"{f.name}: not an OECD ICIO table ({type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''})") from None
    F = io.factor_inputs.F
    missing = [r for r in ("TLS", "VA") if r not in F.index]
    if missing:
        raise DataError(f"{f.name}: not an OECD ICIO table (no {', '.join(missing)} row)")
    t = _from_frames(io.Z, io.Y, f.name)
    _check_output(t)
    x_col = t.Z.sum(axis=0) + F.loc[["TLS", "VA"]].reindex(columns=io.Z.columns).to_numpy(dtype=float).sum(axis=0)
    _check_balance(f.name, t.x, x_col, t.label)
    return t


def _from_frames(Z, Y, label: str) -> MrioTable:
    """MrioTable from pymrio's Z (region, sector) x (region, sector) and Y (region, sector) x (region, category)."""
    if Z.index.nlevels != 2 or Y.columns.nlevels != 2:
        raise DataError(f"{label}: expected (region, sector) rows and (region, category) final-demand columns")
    if not Z.index.equals(Z.columns) or not Z.index.equals(Y.index):
        Z = Z.reindex(index=Z.index, columns=Z.index)
        Y = Y.reindex(index=Z.index)
        if Z.isna().to_numpy().any() or Y.isna().to_numpy().any():
            raise DataError(f"{label}: intermediate rows, columns and final-demand rows do not list the same region-sectors")
    regions = tuple(dict.fromkeys(str(r) for r in Z.index.get_level_values(0)))
    sectors = tuple(dict.fromkeys(str(s) for s in Z.index.get_level_values(1)))
    n, s = len(regions), len(sectors)
    full = [(r, k) for r in regions for k in sectors]
    if [(str(a), str(b)) for a, b in Z.index] != full:
        raise DataError(f"{label}: rows are not every region x every sector in region-major order")
    categories = tuple(dict.fromkeys(str(c) for c in Y.columns.get_level_values(1)))
    ycols = [(str(a), str(b)) for a, b in Y.columns]
    known = set(regions)
    extra = sorted({a for a, _ in ycols} - known)
    if extra:
        raise DataError(f"{label}: final demand of region(s) {', '.join(extra[:5])} that have no intermediate rows")
    Yv = Y.to_numpy(dtype=float)
    Y3 = np.zeros((n * s, n, len(categories)))
    ri, ci = {r: k for k, r in enumerate(regions)}, {c: k for k, c in enumerate(categories)}
    for col, (a, b) in enumerate(ycols):
        Y3[:, ri[a], ci[b]] += Yv[:, col]
    Zv = Z.to_numpy(dtype=float)
    x = Zv.sum(axis=1) + Y3.sum(axis=(1, 2))
    primary = x - Zv.sum(axis=0)
    inventory = tuple(c for c in categories if c in INVENTORY_CATEGORIES)
    return MrioTable(regions, sectors, categories, Zv, Y3, primary, inventory)


# --------------------------------------------------------------------------- pymrio save_all folder
def _read_pymrio(p: Path) -> MrioTable:
    pymrio = require_pymrio()
    if not p.is_dir() or not (p / "file_parameters.json").exists():
        raise DataError(f"pymrio: {p} is not a folder written by IOSystem.save_all (no file_parameters.json)")
    try:
        io = pymrio.load_all(p)
        if io.Z is None:
            io.calc_system()
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"pymrio: cannot load {p} ({type(exc).__name__})") from None
    if io.Z is None or io.Y is None:
        raise DataError(f"pymrio: {p} has no Z/Y (or A, x) tables")
    t = _from_frames(io.Z, io.Y, p.name)
    yr = getattr(io.meta, "year", None) if getattr(io, "meta", None) is not None else None
    return MrioTable(t.regions, t.sectors, t.categories, np.array(t.Z), np.array(t.Y), np.array(t.primary),
                     t.inventory, None, {"year": int(yr)} if isinstance(yr, (int, str)) and str(yr).isdigit() else {})


# --------------------------------------------------------------------------- WIOD 2016 release
def _read_wiot(f: Path) -> MrioTable:
    """Read the sheet as (header rows, label columns A-D, numeric block from column E) and parse it.

    A csv is read in three passes so that the numeric block is parsed as floats by pandas' C reader (no Python
    object per cell); an Excel sheet is read whole by openpyxl (slow: minutes for a full WIOT; a csv is faster).
    """
    import pandas as pd

    suffix = f.suffix.lower()
    bad = f"{f.name}: not a WIOD 2016 WIOT layout"
    try:
        if suffix == ".csv":
            head = pd.read_csv(f, header=None, dtype=object, keep_default_na=False, nrows=12).to_numpy(dtype=object)
            hdr = _header_row(head, bad)
            labels = pd.read_csv(f, header=None, dtype=object, keep_default_na=False, usecols=[0, 1, 2, 3],
                                 skiprows=hdr + 1).to_numpy(dtype=object)
            try:
                body = pd.read_csv(f, header=None, skiprows=hdr + 1, usecols=range(4, head.shape[1]), dtype=float,
                                   keep_default_na=False, na_values=[""]).to_numpy(dtype=float)
            except ValueError:
                raise DataError(f"{bad} (non-numeric cell in the data block)") from None
        else:
            engine = "pyxlsb" if suffix == ".xlsb" else "openpyxl"
            if engine == "pyxlsb":
                try:
                    import pyxlsb  # noqa: F401
                except ImportError:
                    raise DataError(f"{f.name}: reading .xlsb needs pyxlsb (pip install pyxlsb), or save the sheet as .xlsx") from None
            grid = pd.read_excel(f, sheet_name=0, header=None, dtype=object, engine=engine).to_numpy(dtype=object)
            if grid.ndim != 2 or grid.shape[0] < 8 or grid.shape[1] < 6:
                raise DataError(f"{bad} (too few rows or columns)")
            hdr = _header_row(grid, bad)
            head, labels, body = grid[: hdr + 1], grid[hdr + 1:, :4], _to_float(grid[hdr + 1:, 4:], bad)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"{f.name}: cannot read ({type(exc).__name__})") from None
    return _parse_wiot(head, labels, np.nan_to_num(body, nan=0.0), f.name)


def _s(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return str(v).strip()


def _to_float(block: np.ndarray, bad: str) -> np.ndarray:
    """Cells of a sheet as floats (blank: NaN); a non-numeric cell is refused."""
    import pandas as pd

    cells = pd.DataFrame(block)
    vals = cells.apply(lambda c: pd.to_numeric(c, errors="coerce"))
    blank = cells.isna() | cells.map(lambda v: isinstance(v, str) and not v.strip())
    if (vals.isna() & ~blank).to_numpy().any():
        raise DataError(f"{bad} (non-numeric cell in the data block)")
    return vals.to_numpy(dtype=float)


def _header_row(head: np.ndarray, bad: str) -> int:
    """Row of the c-codes (``c1`` in column E); the country row is above it, the industry-code row above that."""
    if head.ndim != 2 or head.shape[1] < 6:
        raise DataError(f"{bad} (too few columns)")
    hdr = next((r for r in range(min(12, head.shape[0])) if _s(head[r, 4]) == "c1"), None)
    if hdr is None or hdr < 2:
        raise DataError(f"{bad} (no header row with c-codes c1, c2, ... from column E)")
    return hdr


def _parse_wiot(head: np.ndarray, labels: np.ndarray, body: np.ndarray, name: str) -> MrioTable:
    bad = f"{name}: not a WIOD 2016 WIOT layout"
    ccode = re.compile(r"c\d+")
    hdr = _header_row(head, bad)
    col_reg = [_s(v) for v in head[hdr - 1, 4:]]
    col_c = [_s(v) for v in head[hdr, 4:]]
    col_code = [_s(v) for v in head[hdr - 2, 4:]]
    lab = [[_s(v) for v in row[:4]] for row in labels]
    data_rows = [k for k, l in enumerate(lab) if ccode.fullmatch(l[3]) and l[2] not in ("", "TOT")]
    if not data_rows:
        raise DataError(f"{bad} (no sector rows with a country in column C and c1, c2, ... in column D)")
    regions = tuple(dict.fromkeys(lab[k][2] for k in data_rows))
    first = [k for k in data_rows if lab[k][2] == regions[0]]
    sectors = tuple(lab[k][0] for k in first)
    sector_names = tuple(lab[k][1] for k in first)
    s_c = [lab[k][3] for k in first]
    n, s = len(regions), len(sectors)
    want = [(r, c) for r in regions for c in s_c]
    if [(lab[k][2], lab[k][3]) for k in data_rows] != want:
        raise DataError(f"{bad} (sector rows are not the same c-codes for every country, in country-major order)")
    zc = [k for k, (r, c) in enumerate(zip(col_reg, col_c)) if c in s_c and r in regions]
    if [(col_reg[k], col_c[k]) for k in zc] != want:
        raise DataError(f"{bad} (intermediate-use columns do not match the sector rows)")
    fdc = [k for k, (r, c) in enumerate(zip(col_reg, col_c)) if r in regions and c not in s_c and ccode.fullmatch(c)]
    if not fdc:
        raise DataError(f"{bad} (no final-use columns c{s + 1}.. per country)")
    categories = tuple(dict.fromkeys(col_code[k] or col_c[k] for k in fdc))
    prim: dict[str, int] = {}  # bottom rows by code (in any label column) or by description
    for k in range(data_rows[-1] + 1, len(lab)):
        for cell in lab[k]:
            code = _WIOD_PRIMARY_NAMES.get(cell.lower(), cell)
            if code in _WIOD_PRIMARY and code not in prim:
                prim[code] = k
                break
    if "GO" not in prim or "VA" not in prim:
        raise DataError(f"{bad} (no 'VA' and 'GO' rows below the sector rows)")
    if body.shape[1] < len(col_c):
        raise DataError(f"{bad} (rows shorter than the header)")

    def num(rows, cols) -> np.ndarray:
        return body[np.ix_(rows, cols)]

    Z = num(data_rows, zc)
    Yf = num(data_rows, fdc)
    Y = np.zeros((n * s, n, len(categories)))
    ri, ci = {r: k for k, r in enumerate(regions)}, {c: k for k, c in enumerate(categories)}
    for j, k in enumerate(fdc):
        Y[:, ri[col_reg[k]], ci[col_code[k] or col_c[k]]] += Yf[:, j]
    x = Z.sum(axis=1) + Y.sum(axis=(1, 2))
    go = num([prim["GO"]], zc)[0]
    t = MrioTable(regions, sectors, categories, Z, Y, x - Z.sum(axis=0),
                  tuple(c for c in categories if c in INVENTORY_CATEGORIES), sector_names)
    _check_output(t)
    _check_balance(name, x, go, t.label)
    rows_p = [prim[r] for r in _WIOD_PRIMARY if r in prim and r not in ("II_fob", "GO")]
    _check_balance(name, x, Z.sum(axis=0) + num(rows_p, zc).sum(axis=0), t.label)
    title = " ".join(_s(v) for v in head[: hdr - 2, 0])
    m = re.search(r"(19|20)\d\d", title)
    return MrioTable(t.regions, t.sectors, t.categories, np.array(t.Z), np.array(t.Y), np.array(t.primary),
                     t.inventory, t.sector_names, {"title_year": int(m.group(0))} if m else {})
