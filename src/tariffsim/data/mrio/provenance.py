"""Provenance of a world built from MRIO files: source, license text, file hashes, year, build command.

The record goes into the world's catalog manifest entry (``tariffsim data list`` / ``data info``) and into
``World.meta`` (``meta["provenance"]``), from where the report's sources section prints it.
"""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path
from typing import Any, Mapping, Sequence

#: What each source is, where to get it and the terms it is used under (docs/data.md, "Worlds from MRIO tables").
SOURCE_INFO: dict[str, dict[str, str]] = {
    "wiod2016": {
        "title": "World Input-Output Database, 2016 release (WIOT)",
        "publisher": "University of Groningen, Groningen Growth and Development Centre (WIOD consortium)",
        "url": "https://www.rug.nl/ggdc/valuechain/wiod/wiod-2016-release",
        "license": "CC BY 4.0 (Creative Commons Attribution 4.0 International)",
        "citation": ("Timmer, M. P., Dietzenbacher, E., Los, B., Stehrer, R. and de Vries, G. J. (2015), "
                     "'An Illustrated User Guide to the World Input-Output Database: the Case of Global Automotive "
                     "Production', Review of International Economics 23, 575-605."),
        "valuation": "basic prices (WIOT: output at basic prices; TXSP, cif/fob, direct purchases and margins rows "
                     "are primary inputs)",
    },
    "oecd-icio": {
        "title": "OECD Inter-Country Input-Output (ICIO) tables",
        "publisher": "OECD",
        "url": "https://www.oecd.org/en/data/datasets/inter-country-input-output-tables.html",
        "license": ("OECD Terms and Conditions (2024-07-01): free to use with attribution; content published from "
                    "1 July 2024 is licensed CC BY 4.0"),
        "citation": "OECD (2023), OECD Inter-Country Input-Output Database, http://oe.cd/icio.",
        "valuation": "basic prices (taxes less subsidies on products, import duties included, in the TLS row)",
    },
    "pymrio": {
        "title": "pymrio IOSystem folder (IOSystem.save_all)",
        "publisher": "as recorded by the folder's creator",
        "url": "https://pymrio.readthedocs.io",
        "license": "as stated by the data's publisher (the pymrio test system is synthetic data shipped with pymrio)",
        "citation": "Stadler, K. (2021), 'Pymrio - A Python Based Multi-Regional Input-Output Analysis Toolbox', "
                    "Journal of Open Research Software 9(1), 8.",
        "valuation": "as in the source system (pymrio does not record it); treated as basic prices",
    },
}


def file_record(path: str | Path) -> dict[str, Any]:
    """``{"file": name, "bytes": n, "sha256": hex}`` of one input file."""
    p = Path(path)
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return {"file": p.name, "bytes": p.stat().st_size, "sha256": h.hexdigest()}


def build_command(source: str, path: str | Path, *, year: int, name: str, regions: Any = None, sectors: Any = None,
                  tariffs: Any = None, inventories: str = "zero") -> str:
    """The CLI command that rebuilds the world (``tariffsim data build-world ...``)."""
    parts = ["tariffsim", "data", "build-world", source, str(path), "--year", str(year)]
    for flag, v in (("--regions", regions), ("--sectors", sectors), ("--tariffs", tariffs)):
        if v is not None:
            parts += [flag, v if isinstance(v, str) else "<given in code>"]
    if inventories != "zero":
        parts += ["--inventories", inventories]
    parts += ["--name", name]
    return " ".join(shlex.quote(str(p)) for p in parts)


def world_record(*, source: str, year: int, files: Sequence[str | Path], command: str, maps: Sequence[Mapping],
                 inventory: Mapping, theta: Sequence[Mapping], tariffs: Mapping, versions: Mapping[str, str],
                 shape: tuple[int, int], source_shape: tuple[int, int]) -> dict[str, Any]:
    """The manifest record of a built world (attribution fields + ``provenance``)."""
    info = SOURCE_INFO[source]
    recs = [file_record(f) for f in files]
    return {
        "title": f"{info['title']} {year}: {shape[0]} regions x {shape[1]} sectors (built by tariffsim)",
        "kind": "world",
        "year": str(year),
        "source": f"{info['title']}, {year} ({', '.join(r['file'] for r in recs)})",
        "publisher": info["publisher"],
        "license": info["license"],
        "units": "USD millions (current), fractions",
        "citation": info["citation"],
        "notes": (f"Built by `{command}`. Flows at {info['valuation']}; inventory rule {inventory['rule']}. "
                  "See docs/data.md, 'Worlds from MRIO tables'."),
        "provenance": {
            "source": source, "url": info["url"], "year": int(year), "files": recs, "build_command": command,
            "valuation": info["valuation"], "source_shape": list(source_shape), "maps": list(maps),
            "inventories": dict(inventory), "theta_mapping": list(theta), "tariffs": dict(tariffs),
            "versions": dict(versions),
        },
    }
