"""The one guarded way to read a file a user gives tariffsim.

Every user file (scenario, sweep grid, tariff schedule, world tables, aggregation
and world-building maps, deal files) is opened here, so that each hardening
reaches every file kind at once (issue 21). A file is read only when:

- it is a **regular file**: a folder, named pipe (FIFO), device, socket, broken link
  or symlink loop is refused before anything is read (the file is opened with
  ``O_NONBLOCK`` so that opening a FIFO cannot block, and checked with ``fstat`` on
  the open descriptor, so it cannot be swapped between check and read);
- it is no larger than a **documented size** (:data:`MAX_YAML_BYTES` for YAML,
  :data:`MAX_TABLE_BYTES` for CSV/Parquet tables), checked before reading and again
  while reading (a file that grows is cut at the limit and refused);
- text is **UTF-8**. A UTF-8 byte-order mark at the start is accepted and dropped (as
  Windows editors write it); a UTF-16/UTF-32 BOM or any invalid byte is refused with
  the line where it occurs. CRLF line ends are accepted and read as LF (line numbers
  are unchanged); a lone CR is a line break in YAML as well.

YAML goes through :class:`yaml.SafeLoader` (no Python objects are ever constructed)
with a guarded composer that refuses, with ``FILE:LINE``:

- nesting deeper than :data:`MAX_YAML_DEPTH`;
- more than :data:`MAX_YAML_NODES` nodes once aliases are expanded (a "billion
  laughs" alias bomb is 1 kB of text and 9**9 nodes expanded), and more than
  :data:`MAX_YAML_ALIASES` aliases at all; recursive aliases;
- duplicate keys in a mapping (PyYAML would silently keep the last);
- an empty or comments-only document, unless the caller allows it.

Every refusal is a one-line :class:`~tariffsim.errors.TariffsimError` (the caller picks
the subclass: :class:`~tariffsim.errors.ScenarioError` for scenario-like files,
:class:`~tariffsim.errors.DataError` for data) naming the file and, where known, the
line. ``docs/reliability.md`` lists the limits and the message each one gives.

Public API: :func:`open_regular` (checked bytes), :func:`read_text` (checked UTF-8 text),
:func:`load_yaml` (a Python value), :func:`load_yaml_document` (value and node tree, for
line numbers), :func:`parse_yaml` (text already in memory), :func:`read_table`
(CSV/Parquet as a polars DataFrame).
"""

from __future__ import annotations

import errno
import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import DataError, ScenarioError, TariffsimError

__all__ = [
    "MAX_YAML_BYTES", "MAX_TABLE_BYTES", "MAX_YAML_DEPTH", "MAX_YAML_NODES", "MAX_YAML_ALIASES",
    "YamlDocument", "open_regular", "read_text", "decode_text", "load_yaml", "load_yaml_document", "parse_yaml",
    "read_table",
]

#: Largest YAML file (scenario, sweep grid, schedule, map) read, in bytes (1 MiB).
MAX_YAML_BYTES = 1 << 20
#: Largest CSV/Parquet table read, in bytes (256 MiB).
MAX_TABLE_BYTES = 256 << 20
#: Deepest YAML nesting of mappings and lists (the scenario format needs 6).
MAX_YAML_DEPTH = 32
#: Most YAML nodes, counted with every alias expanded.
MAX_YAML_NODES = 200_000
#: Most alias references (``*name``) in one YAML file.
MAX_YAML_ALIASES = 100

_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _fail(error: type[TariffsimError], where: str, line: int | None, message: str) -> TariffsimError:
    return error(f"{where}{f':{line}' if line else ''}: {message}")


# --------------------------------------------------------------------------- bytes
def open_regular(path: str | os.PathLike, *, what: str = "file", max_bytes: int = MAX_YAML_BYTES,
                 error: type[TariffsimError] = ScenarioError, label: str | None = None) -> bytes:
    """The bytes of ``path``, read only if it is a regular file of at most ``max_bytes``.

    Parameters
    ----------
    path : the file.
    what : what the file is, for messages ("scenario file", "sweep grid file", ...).
    max_bytes : size limit; a larger file is refused before it is read.
    error : the :class:`TariffsimError` subclass raised.
    label : how the file is named in messages (default: the path as given).

    Raises
    ------
    ``error`` (one line): not found, broken link, symlink loop, not a regular file,
    too large, unreadable.
    """
    p = Path(path)
    where = label or str(p)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        raise _open_error(p, where, what, exc, error) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = next((k for test, k in _KINDS if test(st.st_mode)), "not a regular file")
            raise _fail(error, where, None, f"{what} is {kind}, not a regular file")
        if st.st_size > max_bytes:
            raise _fail(error, where, None, f"{what} is {_size(st.st_size)}; the limit is {_size(max_bytes)} "
                                            f"(see docs/reliability.md)")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        chunks, total = [], 0
        while True:
            b = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not b:
                break
            chunks.append(b)
            total += len(b)
            if total > max_bytes:
                raise _fail(error, where, None, f"{what} is larger than the limit of {_size(max_bytes)} "
                                                f"(see docs/reliability.md)")
        return b"".join(chunks)
    except OSError as exc:
        raise _fail(error, where, None, f"cannot read {what}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _open_error(p: Path, where: str, what: str, exc: OSError, error: type[TariffsimError]) -> TariffsimError:
    if exc.errno == errno.ELOOP:
        return _fail(error, where, None, f"{what} is a symlink loop")
    if exc.errno == errno.ENOENT:
        if p.is_symlink():
            return _fail(error, where, None, f"{what} is a broken link (points to {os.readlink(p)})")
        return _fail(error, where, None, f"{what} not found")
    if exc.errno == errno.ENOTDIR:
        return _fail(error, where, None, f"{what} not found (a parent is a file, not a folder)")
    if exc.errno in (errno.ENXIO, errno.ENODEV):   # a socket, or a device without a driver
        return _fail(error, where, None, f"{what} is not a regular file")
    return _fail(error, where, None, f"cannot open {what}: {exc.strerror or exc}")


def _size(n: int) -> str:
    for unit, k in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= k:
            return f"{n / k:.4g} {unit}"
    return f"{n} bytes"


# --------------------------------------------------------------------------- text
def decode_text(data: bytes, *, where: str, what: str = "file",
                error: type[TariffsimError] = ScenarioError) -> str:
    """UTF-8 text from ``data``: a UTF-8 BOM is dropped, CRLF becomes LF, anything else invalid is refused.

    >>> decode_text(b"\\xef\\xbb\\xbfa: 1\\r\\nb: 2\\r\\n", where="f.yaml")
    'a: 1\\nb: 2\\n'
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    else:
        for bom, enc in _BOMS.items():
            if data.startswith(bom):
                raise _fail(error, where, 1, f"{what} is {enc} text; save it as UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _fail(error, where, line, f"{what} is not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise _fail(error, where, line, f"{what} holds a NUL byte (binary data, not text)")
    return text.replace("\r\n", "\n")


def read_text(path: str | os.PathLike, *, what: str = "file", max_bytes: int = MAX_YAML_BYTES,
              error: type[TariffsimError] = ScenarioError, label: str | None = None) -> str:
    """The checked UTF-8 text of a regular file (see :func:`open_regular` and :func:`decode_text`)."""
    data = open_regular(path, what=what, max_bytes=max_bytes, error=error, label=label)
    return decode_text(data, where=label or str(path), what=what, error=error)


# --------------------------------------------------------------------------- YAML
class _Refused(Exception):
    """A YAML limit hit while composing (turned into the caller's error class with the file name)."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


try:  # libyaml's parser (C) is ~6x faster; the composer stays Python so that it can count as it goes
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml.parser import Parser as _Parser
    from yaml.reader import Reader as _Reader
    from yaml.scanner import Scanner as _Scanner

    class _Parser(_Reader, _Scanner, _Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            _Reader.__init__(self, stream)
            _Scanner.__init__(self)
            _Parser.__init__(self)


class _GuardedLoader(yaml.composer.Composer, _Parser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    """A safe loader whose composer counts depth and aliases as it goes (before any recursion gets deep)."""

    def __init__(self, stream: str, max_depth: int, max_aliases: int) -> None:
        _Parser.__init__(self, stream)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self._depth, self._aliases = 0, 0
        self._max_depth, self._max_aliases = max_depth, max_aliases

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > self._max_aliases:
                mark = self.peek_event().start_mark
                raise _Refused(mark.line + 1, f"more than {self._max_aliases} YAML aliases (*name); "
                                              f"write the values out (see docs/reliability.md)")
            return super().compose_node(parent, index)
        if self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
            self._depth += 1
            if self._depth > self._max_depth:
                mark = self.peek_event().start_mark
                raise _Refused(mark.line + 1, f"YAML nested deeper than {self._max_depth} levels")
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        return super().compose_node(parent, index)

    def construct_object(self, node, deep=False):  # noqa: ANN001
        try:
            return super().construct_object(node, deep=deep)
        except (TariffsimError, _Refused, yaml.YAMLError):
            raise
        except (ValueError, TypeError, OverflowError) as exc:  # the timestamp constructor: 2025-13-45
            raise _Refused(node.start_mark.line + 1,
                           f"invalid value {str(node.value)!r}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def _check_tree(root: yaml.Node, max_nodes: int) -> None:
    """Duplicate keys, recursive aliases and the expanded node count, without recursion or expansion."""
    size: dict[int, int] = {}
    busy: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if done:
            busy.discard(nid)
            kids = _children(node)
            total = 1 + sum(size[id(k)] for k in kids)
            if total > max_nodes:
                raise _Refused(node.start_mark.line + 1, f"YAML has more than {max_nodes:,} nodes once aliases are "
                                                         f"expanded (an alias bomb?)")
            size[nid] = total
            continue
        if nid in size:
            continue
        if nid in busy:
            raise _Refused(node.start_mark.line + 1, "recursive YAML alias (a node that contains itself)")
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, _v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value != "<<":
                    if k.value in seen:
                        raise _Refused(k.start_mark.line + 1,
                                       f"duplicate key {k.value!r} (first at line {seen[k.value]})")
                    seen[k.value] = k.start_mark.line + 1
        busy.add(nid)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [x for kv in node.value for x in kv]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file: its Python ``data``, the composed node tree ``root`` (for line numbers) and ``where``."""

    data: Any
    root: yaml.Node | None
    where: str


def parse_yaml(text: str, *, where: str, what: str = "YAML file", error: type[TariffsimError] = ScenarioError,
               allow_empty: bool = False, max_depth: int = MAX_YAML_DEPTH, max_nodes: int = MAX_YAML_NODES,
               max_aliases: int = MAX_YAML_ALIASES, max_chars: int = MAX_YAML_BYTES) -> YamlDocument:
    """Parse YAML text under the limits above; ``where`` names it in messages (``FILE:LINE: ...``).

    >>> parse_yaml("a: [1, 2]", where="x.yaml").data
    {'a': [1, 2]}
    """
    if len(text) > max_chars:
        raise _fail(error, where, None, f"{what} is {len(text):,} characters; the limit is {max_chars:,} "
                                        f"(see docs/reliability.md)")
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n")
    loader = _GuardedLoader(text, max_depth, max_aliases)
    try:
        root = loader.get_single_node()
        if root is None:
            if allow_empty:
                return YamlDocument(None, None, where)
            raise _fail(error, where, None, f"{what} is empty (or only comments)")
        _check_tree(root, max_nodes)
        data = loader.construct_document(root)
    except _Refused as exc:
        raise _fail(error, where, exc.line, exc.message) from None
    except RecursionError:
        raise _fail(error, where, None, "YAML nested too deeply") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if mark is None:
            raise _fail(error, where, None, f"YAML syntax error: {problem}") from None
        lines = text.split("\n")
        at = lines[mark.line][mark.column:mark.column + 1] if mark.line < len(lines) else ""
        if at == "\t":
            problem = "found a tab character; YAML indents with spaces"
        if "maximum nesting depth" in problem:       # libyaml's own guard (1000 levels) fired first
            raise _fail(error, where, mark.line + 1, f"YAML nested deeper than {max_depth} levels") from None
        raise error(f"{where}:{mark.line + 1}:{mark.column + 1}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise _fail(error, where, None, f"YAML syntax error: {str(exc).splitlines()[0]}") from None
    finally:
        loader.dispose()
    if data is None and not allow_empty:
        raise _fail(error, where, root.start_mark.line + 1, f"{what} is empty (a null document)")
    return YamlDocument(data, root, where)


def load_yaml_document(path: str | os.PathLike, *, what: str = "YAML file", error: type[TariffsimError] = ScenarioError,
                       allow_empty: bool = False, max_bytes: int = MAX_YAML_BYTES, label: str | None = None,
                       **limits: int) -> YamlDocument:
    """Read and parse a YAML file under every guard (regular file, size, UTF-8, depth, nodes, aliases, duplicate keys)."""
    where = label or str(path)
    text = read_text(path, what=what, max_bytes=max_bytes, error=error, label=where)
    return parse_yaml(text, where=where, what=what, error=error, allow_empty=allow_empty, max_chars=max_bytes, **limits)


def load_yaml(path: str | os.PathLike, *, what: str = "YAML file", error: type[TariffsimError] = ScenarioError,
              allow_empty: bool = False, max_bytes: int = MAX_YAML_BYTES, label: str | None = None, **limits: int) -> Any:
    """The Python value of a YAML file read under every guard (see :func:`load_yaml_document`)."""
    return load_yaml_document(path, what=what, error=error, allow_empty=allow_empty, max_bytes=max_bytes,
                              label=label, **limits).data


# --------------------------------------------------------------------------- tables
def read_table(path: str | os.PathLike, *, what: str = "table", error: type[TariffsimError] = DataError,
               max_bytes: int = MAX_TABLE_BYTES, label: str | None = None,
               schema_overrides: dict | None = None, infer_schema_length: int = 10_000):
    """A CSV or Parquet file (by suffix: ``.parquet``, else CSV) as a polars DataFrame, read under the guards.

    CSV text must be UTF-8 (a BOM is dropped, CRLF accepted); parser failures become
    one-line ``error`` exceptions ``NAME: cannot parse (...)``.
    """
    import polars as pl

    p = Path(path)
    where = label or str(p)
    data = open_regular(p, what=what, max_bytes=max_bytes, error=error, label=where)
    try:
        if p.suffix.lower() == ".parquet":
            return pl.read_parquet(io.BytesIO(data))
        if not data.strip():
            raise _fail(error, where, None, "cannot parse (empty CSV)")
        text = decode_text(data, where=where, what=what, error=error)
        return pl.read_csv(io.BytesIO(text.encode("utf-8")), infer_schema_length=infer_schema_length,
                           schema_overrides=schema_overrides)
    except TariffsimError:
        raise
    except Exception as exc:  # noqa: BLE001 - csv/parquet parsers raise many kinds
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _fail(error, where, None, f"cannot parse ({msg[:160]})") from None
