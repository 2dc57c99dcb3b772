"""Parse a USITC Harmonized Tariff Schedule JSON export and diff its Chapter 99.

The USITC publishes each HTS release as a JSON export: a flat list of rows
``{htsno, indent, description, superior, units, general, special, other,
footnotes, ...}`` in schedule order, where ``indent`` carries the hierarchy,
``htsno`` is empty on parent (``superior``) rows and rates are inherited from
the nearest ancestor that prints one. This module turns such a list into tidy
tables — an HS8 MFN (column 1 General) table for the MFN layer, the HS10
statistical lines, and the Chapter 99 headings — and compares two releases'
Chapter 99 (new, changed and removed headings) so a user sees which measures
to review. All functions are pure: bytes/rows in, polars frames out.

References
----------
USITC, *Harmonized Tariff Schedule of the United States*, JSON export
(``https://hts.usitc.gov/reststop/exportList?format=JSON``); General Note 3
(rates of duty, special program indicators); Chapter 99 (temporary
legislation, temporary modifications: Sections 232, 301, IEEPA).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import polars as pl

from ..errors import DataError

#: Fields every row of the export carries (the export's own schema).
REQUIRED_FIELDS = ("htsno", "indent", "description", "general")

MFN_COLUMNS = {  # the bundled hts_2025_mfn.mfn_hs8 columns first, so an update is a drop-in
    "hs8": "HTS 8-digit code (zero-padded string)",
    "rate_type": "free / ad_valorem / specific / compound / *+text / other_text / missing",
    "adval_rate": "ad valorem part of the column-1 General rate, fraction (0 for specific-only, null for text)",
    "has_specific": "rate has a specific (per-unit) component: AVE must come from realised duties",
    "general_rate_text": "column 1 General (MFN) rate, verbatim",
    "chapter": "HS chapter (2 digits)",
    "description": "line description",
    "description_path": "descriptions of the line and its ancestors, joined by ' : '",
    "units": "statistical units (comma-separated)",
    "specific_components": "specific parts, e.g. '0.044 USD/kg' ('; '-separated)",
    "special_rate_text": "column 1 Special rate with program codes (e.g. JP, KR), verbatim",
    "column2_rate_text": "column 2 rate, verbatim",
    "general_footnote": "footnotes on the General column (e.g. 'See 9903.88.15.')",
    "usjta_line": "special rate column lists program JP (US-Japan Trade Agreement preference)",
}
LINES_COLUMNS = {
    "hs10": "10-digit statistical line (zero-padded string)",
    "hs8": "its 8-digit tariff line",
    "description": "line description",
    "description_path": "descriptions of the line and its ancestors, joined by ' : '",
    "units": "statistical units (comma-separated)",
    "general_rate_text": "General rate, inherited from the nearest ancestor that prints one",
}
CH99_COLUMNS = {
    "heading": "Chapter 99 heading or subheading, dotted (e.g. 9903.01.25)",
    "description": "heading text",
    "description_path": "text of the heading and its parent (superior) rows, joined by ' : '",
    "general": "column 1 General rate (often 'The duty provided in the applicable subheading + X%')",
    "special": "column 1 Special rate",
    "other": "column 2 rate",
}
DIFF_COLUMNS = {
    "heading": "Chapter 99 heading",
    "status": "new / changed / removed",
    "changed_fields": "fields that differ (changed headings), comma-separated",
    "description_old": "text in the baseline schedule",
    "description_new": "text in the release",
    "general_old": "General rate in the baseline",
    "general_new": "General rate in the release",
    "description_path": "full text (release, or baseline for removed headings)",
}
_COMPARED = ("description", "general", "special", "other")


# --------------------------------------------------------------------------- parsing

def parse_export(payload: bytes | str | Sequence[Any], *, source: str = "HTS export") -> list[dict]:
    """Validate an HTS JSON export and return its rows.

    Raises :class:`DataError` (one line) when the payload is not JSON, not a list
    of objects, or a row lacks one of :data:`REQUIRED_FIELDS` (a schema change).
    """
    rows = payload
    if isinstance(payload, (bytes, str)):
        try:
            rows = json.loads(payload)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{source}: not valid JSON ({exc.__class__.__name__} at char {getattr(exc, 'pos', '?')})") from None
    if not isinstance(rows, list):
        raise DataError(f"{source}: unexpected shape: expected a JSON list of rows, got {type(rows).__name__}")
    for i, r in enumerate(rows):
        if not isinstance(r, dict):
            raise DataError(f"{source}: unexpected shape: row {i + 1} is {type(r).__name__}, not an object")
        missing = [f for f in REQUIRED_FIELDS if f not in r]
        if missing:
            raise DataError(f"{source}: unexpected shape: row {i + 1} lacks field(s) {', '.join(missing)} (schema changed?)")
        if not re.fullmatch(r"[0-9.]*", str(r.get("htsno") or "")):
            raise DataError(f"{source}: row {i + 1}: malformed htsno {r.get('htsno')!r}")
    return rows


def _text(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip()


def _footnote(row: dict, column: str) -> str:
    notes = row.get("footnotes") or []
    if not isinstance(notes, list):
        return ""
    return "; ".join(_text(f.get("value")) for f in notes if isinstance(f, dict) and column in (f.get("columns") or []))


def _walk(rows: Iterable[dict]) -> list[dict]:
    """Attach each row's description path and inherited General rate (indent stack)."""
    desc_stack: dict[int, str] = {}
    rate_stack: dict[int, str] = {}
    out = []
    for r in rows:
        try:
            ind = int(r.get("indent") or 0)
        except (TypeError, ValueError):
            raise DataError(f"HTS export: malformed indent {r.get('indent')!r} at htsno {r.get('htsno')!r}") from None
        code = str(r.get("htsno") or "").replace(".", "")
        for st in (desc_stack, rate_stack):
            for k in [k for k in st if k >= ind]:
                del st[k]
        desc = _text(r.get("description"))
        desc_stack[ind] = desc
        general = _text(r.get("general"))
        if general:
            rate_stack[ind] = general
        inherited = rate_stack[max(rate_stack)] if rate_stack else ""
        path = " : ".join(desc_stack[k] for k in sorted(desc_stack) if desc_stack[k])
        units = r.get("units") or []
        out.append({
            "code": code, "htsno": str(r.get("htsno") or ""), "indent": ind, "description": desc,
            "description_path": path, "general": general, "general_inherited": inherited,
            "special": _text(r.get("special")), "other": _text(r.get("other")),
            "units": ",".join(str(u) for u in units) if isinstance(units, list) else _text(units),
            "general_footnote": _footnote(r, "general"),
        })
    return out


def tables_from_export(rows: Sequence[dict]) -> dict[str, pl.DataFrame]:
    """Tidy tables of one release: ``mfn_hs8``, ``lines_hs10`` and ``chapter99``.

    An 8-digit line's rate is its own, or — where the HTS prints an 8-digit line
    with a single statistical suffix only as a 10-digit line — the first rate
    printed on a 10-digit line under it (as in ``../shared/data/hts_2025_mfn``).
    """
    walked = _walk(rows)
    lines = [w for w in walked if len(w["code"]) in (8, 10)]
    hs10 = [{
        "hs10": w["code"], "hs8": w["code"][:8], "description": w["description"],
        "description_path": w["description_path"], "units": w["units"], "general_rate_text": w["general_inherited"],
    } for w in lines if len(w["code"]) == 10 and w["code"][:2] not in ("98", "99")]
    by8: dict[str, dict] = {}
    for w in lines:
        h8 = w["code"][:8]
        rec = by8.get(h8)
        if rec is None:
            rec = by8[h8] = {"hs8": h8, "chapter": h8[:2], "description": w["description"],
                             "description_path": w["description_path"], "units": w["units"],
                             "general_rate_text": "", "special_rate_text": "", "column2_rate_text": "",
                             "general_footnote": ""}
        if not rec["units"]:
            rec["units"] = w["units"]
        if not rec["general_rate_text"] and w["general"]:
            rec.update(general_rate_text=w["general"], special_rate_text=w["special"],
                       column2_rate_text=w["other"], general_footnote=w["general_footnote"])
    mfn_rows = []
    for h8 in sorted(by8):
        rec = by8[h8]
        parsed = parse_rate(rec["general_rate_text"])
        rec.update(parsed.as_dict(), has_specific=bool(parsed.specific_components),
                   usjta_line=bool(re.search(r"\bJP\b", rec["special_rate_text"] or "")))
        mfn_rows.append(rec)
    ch99 = [{
        "heading": w["htsno"], "description": w["description"], "description_path": w["description_path"],
        "general": w["general"], "special": w["special"], "other": w["other"],
    } for w in walked if w["code"].startswith("99") and len(w["code"]) >= 8]
    mfn_schema = {**{c: pl.Utf8 for c in MFN_COLUMNS}, "adval_rate": pl.Float64, "has_specific": pl.Boolean,
                  "usjta_line": pl.Boolean}
    mfn = pl.DataFrame(mfn_rows, schema=mfn_schema).select(list(MFN_COLUMNS))
    l10 = pl.DataFrame(hs10, schema={c: pl.Utf8 for c in LINES_COLUMNS}).unique("hs10", keep="first", maintain_order=True)
    c99 = pl.DataFrame(ch99, schema={c: pl.Utf8 for c in CH99_COLUMNS}).unique("heading", keep="first", maintain_order=True)
    if mfn.height == 0 and c99.height == 0:
        raise DataError("HTS export: no 8- or 10-digit lines found (empty or truncated release?)")
    return {"mfn_hs8": mfn, "lines_hs10": l10.sort("hs10"), "chapter99": c99.sort("heading")}


# --------------------------------------------------------------------------- rates

@dataclass(frozen=True)
class ParsedRate:
    """A General-column rate split into its ad valorem and specific parts."""

    rate_type: str
    adval_rate: float | None
    specific_components: str

    def as_dict(self) -> dict:
        return {"rate_type": self.rate_type, "adval_rate": self.adval_rate, "specific_components": self.specific_components}


_NUM = r"(\d+(?:\.\d+)?)"


def parse_rate(text: str) -> ParsedRate:
    """Parse an HTS rate text ("Free", "2.5%", "4.4¢/kg + 8.5%", ...).

    >>> parse_rate("2.5%")
    ParsedRate(rate_type='ad_valorem', adval_rate=0.025, specific_components='')
    >>> parse_rate("4.4¢/kg").specific_components
    '0.044 USD/kg'
    """
    t = _text(text)
    if not t:
        return ParsedRate("missing", None, "")
    if re.fullmatch(r"Free\.?", t, flags=re.I):
        return ParsedRate("free", 0.0, "")
    adval: list[float] = []
    specs: list[str] = []
    other = False
    for p in (s.strip() for s in re.split(r"\s\+\s", t)):
        if m := re.fullmatch(_NUM + r"%", p):
            adval.append(float(m.group(1)) / 100)
        elif m := re.fullmatch(_NUM + r"¢\s*/?\s*(.+)", p):
            specs.append(f"{float(m.group(1)) / 100:g} USD/{m.group(2).strip().lstrip('/')}")
        elif m := re.fullmatch(r"\$" + _NUM + r"\s*/?\s*(.+)", p):
            specs.append(f"{float(m.group(1)):g} USD/{m.group(2).strip().lstrip('/')}")
        elif m := re.fullmatch(_NUM + r"%\s+(?:on|of) .+", p):
            adval.append(float(m.group(1)) / 100)
            other = True
        else:
            other = True
    if not adval and not specs:
        return ParsedRate("other_text", None, "")
    kind = "compound" if (adval and specs) else ("specific" if specs else "ad_valorem")
    return ParsedRate(kind + ("+text" if other else ""), sum(adval) if adval else 0.0, "; ".join(specs))


# --------------------------------------------------------------------------- chapter 99

def normalize_heading(code: Any) -> str:
    """'99030125' or '9903.01.25' -> '9903.01.25' (10 digits -> '9903.01.25.10')."""
    digits = re.sub(r"\D", "", str(code or ""))
    parts = [digits[:4]] + [digits[i:i + 2] for i in range(4, len(digits), 2)]
    return ".".join(p for p in parts if p)


def chapter99_from_table(df: pl.DataFrame) -> pl.DataFrame | None:
    """Chapter 99 headings from any schedule table, or None if it holds none.

    Accepts this module's ``chapter99`` table and HS8 layouts such as the
    bundled ``hts_2025_mfn.mfn_hs8`` (``hs8, general_rate_text``, optionally
    ``description, description_path, special_rate_text, column2_rate_text``).
    Fields the table lacks come back null and are not compared by
    :func:`chapter99_diff`.
    """
    code_col = next((c for c in ("heading", "htsno", "hs8", "hts8", "hs10", "hts10", "code") if c in df.columns), None)
    if code_col is None:
        return None
    pick = {
        "description": "description" if "description" in df.columns else None,
        "description_path": next((c for c in ("description_path", "description") if c in df.columns), None),
        "general": next((c for c in ("general", "general_rate_text") if c in df.columns), None),
        "special": next((c for c in ("special", "special_rate_text") if c in df.columns), None),
        "other": next((c for c in ("other", "column2_rate_text") if c in df.columns), None),
    }
    if pick["description"] is None and pick["general"] is None:
        return None
    sub = df.filter(pl.col(code_col).cast(pl.Utf8).str.replace_all(r"\.", "").str.starts_with("99"))
    if sub.height == 0:
        return None
    out = sub.select(
        pl.col(code_col).cast(pl.Utf8).map_elements(normalize_heading, return_dtype=pl.Utf8).alias("heading"),
        *[(pl.col(c).cast(pl.Utf8).fill_null("") if c else pl.lit(None, dtype=pl.Utf8)).alias(k) for k, c in pick.items()],
    )
    return out.unique("heading", keep="first", maintain_order=True).sort("heading")


def known_fields(ch99: pl.DataFrame) -> tuple[str, ...]:
    """Compared fields a Chapter 99 table actually carries (not all null)."""
    return tuple(f for f in _COMPARED if f in ch99.columns and ch99[f].null_count() < ch99.height)


def chapter99_diff(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """New, changed and removed Chapter 99 headings between two releases.

    A heading is *changed* when its text, General, Special or column 2 rate
    differs (whitespace-normalised); a field either table lacks (null) is not
    compared. Columns: :data:`DIFF_COLUMNS`.
    """
    o = {r["heading"]: r for r in old.to_dicts()}
    n = {r["heading"]: r for r in new.to_dicts()}
    rows = []
    for h in sorted(set(o) | set(n)):
        a, b = o.get(h), n.get(h)
        if a is None:
            status, changed = "new", ""
        elif b is None:
            status, changed = "removed", ""
        else:
            diffs = [f for f in _COMPARED if a.get(f) is not None and b.get(f) is not None
                     and _text(a.get(f)) != _text(b.get(f))]
            if not diffs:
                continue
            status, changed = "changed", ",".join(diffs)
        rows.append({
            "heading": h, "status": status, "changed_fields": changed,
            "description_old": (a or {}).get("description"), "description_new": (b or {}).get("description"),
            "general_old": (a or {}).get("general"), "general_new": (b or {}).get("general"),
            "description_path": (b or {}).get("description_path") or (a or {}).get("description_path"),
        })
    return pl.DataFrame(rows, schema={c: pl.Utf8 for c in DIFF_COLUMNS})


# HTS General Note 3(c)(i): special program indicators of the partners' trade
# agreements, which appear in the Special column and in Chapter 99 text.
PROGRAM_CODES: dict[str, tuple[str, ...]] = {
    "JPN": ("JP", "U.S.-Japan Trade Agreement", "USJTA"),
    "KOR": ("KR", "United States-Korea Free Trade Agreement", "KORUS"),
    "AUS": ("AU", "United States-Australia Free Trade Agreement"),
    "SGP": ("SG", "United States-Singapore Free Trade Agreement"),
    "CHL": ("CL", "United States-Chile Free Trade Agreement"),
    "ISR": ("IL", "United States-Israel Free Trade Area"),
    "CAN": ("S", "S+", "USMCA"),
    "MEX": ("S", "S+", "USMCA"),
}
# Names the schedule uses beyond the country's short name.
ALIASES: dict[str, tuple[str, ...]] = {
    "JPN": ("Japan", "Japanese"),
    "CHN": ("China", "People's Republic of China", "Hong Kong", "Chinese"),
    "KOR": ("Korea", "Republic of Korea", "South Korea"),
    "GBR": ("United Kingdom", "UK", "Great Britain"),
    "EU": ("European Union", "EU"),
    "USA": ("United States",),
    "DEU": ("Germany", "European Union"),
    "FRA": ("France", "European Union"),
    "ITA": ("Italy", "European Union"),
    "VNM": ("Vietnam", "Viet Nam"),
    "TWN": ("Taiwan",),
    "RUS": ("Russia", "Russian Federation"),
}


def partner_terms(iso3: str, name: str | None = None) -> tuple[str, ...]:
    """Words that identify a partner in Chapter 99 text (names, program codes)."""
    terms = list(ALIASES.get(iso3, ()))
    if name and name not in terms:
        terms.append(name)
    return tuple(terms)


def filter_partner(diff: pl.DataFrame, iso3: str, name: str | None = None) -> pl.DataFrame:
    """Rows of a Chapter 99 table or diff whose text names the partner or its program.

    Country names match as whole words in the heading text (``description_path``
    and the old/new descriptions); program indicators (e.g. ``JP``) match only
    inside a parenthesised program list such as ``Free (AU,JP,KR)``.
    """
    terms = partner_terms(iso3, name)
    progs = [p for p in PROGRAM_CODES.get(iso3, ()) if len(p) <= 3]
    long_progs = [p for p in PROGRAM_CODES.get(iso3, ()) if len(p) > 3]
    words = [re.escape(t) for t in (*terms, *long_progs)]
    if not words and not progs:
        raise DataError(f"partner {iso3!r}: no name known; pass a country name")
    word_re = r"(?i)\b(?:" + "|".join(words) + r")\b" if words else None
    prog_re = r"\([^)]*\b(?:" + "|".join(re.escape(p) for p in progs) + r")\b[^)]*\)" if progs else None
    text_cols = [c for c in ("description_path", "description_old", "description_new", "description") if c in diff.columns]
    rate_cols = [c for c in ("special", "general_old", "general_new", "general") if c in diff.columns]
    cond = pl.lit(False)
    for c in text_cols:
        if word_re:
            cond = cond | pl.col(c).fill_null("").str.contains(word_re)
    for c in text_cols + rate_cols:
        if prog_re:
            cond = cond | pl.col(c).fill_null("").str.contains(prog_re)
    return diff.filter(cond)


__all__ = [
    "REQUIRED_FIELDS", "ParsedRate", "parse_export", "parse_rate", "tables_from_export", "normalize_heading",
    "chapter99_from_table", "chapter99_diff", "known_fields", "filter_partner", "partner_terms", "PROGRAM_CODES",
]
