"""Bounded, safe YAML loading that keeps line marks and rejects duplicate keys.

`load_yaml(path)` returns a `Loaded` document: plain Python data, a map from each path
inside it (tuple of keys/indexes) to its 1-based (line, column), and the SHA-256 of the
bytes read, so every later problem can be reported as `file:line:col: message`.

Documents are untrusted (spec 7.4). The limits below hold for both the libyaml (C)
parser and the pure-Python fallback, because drtool builds the data from the parser's
event stream itself instead of PyYAML's composer and constructor:

- only regular files are read (never a FIFO, a device or a folder), at most `MAX_BYTES`;
- text is UTF-8 (a UTF-8 byte-order mark is skipped), with no control characters;
- aliases (`*name`) are refused: drills need none, and expanding them is the
  billion-laughs attack; nothing is ever expanded, so a self-referencing alias is harmless;
- nesting depth, node count and scalar length are bounded;
- numbers are finite (`.inf` / `.nan` are refused) and integers fit in 53 bits;
- only the YAML core tags (str, int, float, bool, null, timestamp) are accepted.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from drtool.errors import DocumentError, Problem

Path_ = tuple[Any, ...]

MAX_BYTES = 256 * 1024       # a drill or scenario is a few KB
MAX_DEPTH = 32               # mapping/sequence nesting
MAX_NODES = 10_000           # scalars + collections in one document (a drill has ~100)
MAX_SCALAR = 64 * 1024       # characters in one scalar
MAX_INT = 2**53              # integers beyond this lose precision in JSON scorecards

# libyaml's C parser when PyYAML was built with it (it keeps marks); else the pure one.
_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
# What YAML 1.1 (and so PyYAML) accepts as printable; anything else is refused up front.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


@dataclass
class Loaded:
    file: str
    data: Any
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    sha256: str = ""

    def mark(self, path: Path_) -> tuple[int, int]:
        """The line/column of `path`, or of its nearest marked ancestor."""
        path = tuple(path)
        while path:
            if path in self.marks:
                return self.marks[path]
            path = path[:-1]
        return self.marks.get((), (1, 1))

    def problem(self, path: Path_, message: str) -> Problem:
        line, col = self.mark(path)
        return Problem(self.file, line, col, printable(message), tuple(path))

    def without_echoes(self, problems: list[Problem]) -> list[Problem]:
        """`problems` minus those about a value this loader already refused (a refused
        `.inf` is None to the models; "expected a duration, got None" would only repeat it)."""
        refused = [p.path for p in self.problems if p.path]
        return [p for p in problems if p in self.problems or not p.path
                or not any(p.path[:len(r)] == r for r in refused)]


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(message: str) -> str:
    """`message` on one line: control characters and line separators (a key or value
    quoted from the document may hold them) are written as escapes."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), message)


class _Fatal(Exception):
    """A problem after which the rest of the document is not read."""

    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


class _Builder:
    """Plain data and marks from the parser's events (no alias is ever expanded)."""

    def __init__(self, loader: Any, out: Loaded) -> None:
        self.loader = loader
        self.out = out
        self.nodes = 0

    def _at(self, mark: Any) -> tuple[int, int]:
        return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)

    def _problem(self, mark: Any, message: str, path: Path_ = ()) -> None:
        line, col = self._at(mark)
        self.out.problems.append(Problem(self.out.file, line, col, printable(message), path))

    def node(self, path: Path_, depth: int) -> Any:
        event = self.loader.get_event()
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Fatal(event.start_mark, f"more than {MAX_NODES} YAML nodes; a drill or scenario needs far fewer")
        if isinstance(event, yaml.AliasEvent):
            raise _Fatal(event.start_mark, f"YAML aliases (*{event.anchor}) are not supported; write the value out")
        self.out.marks[path] = self._at(event.start_mark)
        if isinstance(event, yaml.ScalarEvent):
            return self.scalar(event, path)
        if depth >= MAX_DEPTH:
            raise _Fatal(event.start_mark, f"nested deeper than {MAX_DEPTH} levels")
        if event.tag not in (None, "!", _TAG + "seq", _TAG + "map"):
            self._problem(event.start_mark, f"YAML tag {event.tag.replace(_TAG, '!!')} is not supported", path)
        if isinstance(event, yaml.SequenceStartEvent):
            items: list[Any] = []
            while not isinstance(self.loader.peek_event(), yaml.SequenceEndEvent):
                items.append(self.node((*path, len(items)), depth + 1))
            self.loader.get_event()
            return items
        if isinstance(event, yaml.MappingStartEvent):
            return self.mapping(path, depth)
        raise _Fatal(event.start_mark, f"unexpected YAML event {type(event).__name__}")

    def _skip(self, path: Path_, depth: int) -> None:
        """Read (bounded) and drop one node: the key or value of a refused entry."""
        marks = self.out.marks
        self.out.marks = {}
        try:
            self.node(path, depth)
        finally:
            self.out.marks = marks

    def mapping(self, path: Path_, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        peek, get = self.loader.peek_event, self.loader.get_event
        while True:
            key_event = peek()
            if isinstance(key_event, yaml.MappingEndEvent):
                get()
                return result
            if not isinstance(key_event, yaml.ScalarEvent):   # an alias is refused by node()
                self._skip(path, depth + 1)
                self._problem(key_event.start_mark, "mapping keys must be plain scalars")
                self._skip(path, depth + 1)
                continue
            get()
            self.nodes += 1
            if key_event.value == "<<" and key_event.tag is None and not key_event.style:
                self._problem(key_event.start_mark, "YAML merge keys (<<) are not supported; write the keys out", path)
                self._skip(path, depth + 1)
                continue
            key = self.scalar(key_event, path)
            if not isinstance(key, str | int | float | bool) or key is None:
                self._problem(key_event.start_mark, "mapping keys must be plain scalars")
                self._skip(path, depth + 1)
                continue
            key_path = (*path, key)
            if key in result:
                first = self.out.marks.get(key_path, (0, 0))[0]
                self._problem(key_event.start_mark, f"duplicate key {key!r} (first at line {first}); remove one")
                self._skip(path, depth + 1)
                continue
            result[key] = self.node(key_path, depth + 1)
            self.out.marks[key_path] = self._at(key_event.start_mark)

    def scalar(self, event: yaml.ScalarEvent, path: Path_) -> Any:
        value = event.value
        if len(value) > MAX_SCALAR:
            raise _Fatal(event.start_mark, f"a value longer than {MAX_SCALAR} characters")
        tag = event.tag
        if tag is None and event.style:               # quoted or block scalar: always a string
            return value
        if tag in (None, "!"):
            tag = self.loader.resolve(yaml.ScalarNode, value, event.implicit) if tag is None else _TAG + "str"
        if tag == _TAG + "str":
            return value
        if tag not in _SCALAR_TAGS:
            self._problem(event.start_mark, f"YAML tag {tag.replace(_TAG, '!!')} is not supported", path)
            return None
        if tag == _TAG + "int" and len(value) > 24:
            self._problem(event.start_mark, f"number too large: {len(value)} digits (at most 2**53)", path)
            return None
        # types-PyYAML: events carry `error.Mark | _yaml.Mark | None`, nodes accept only `error.Mark | None`
        node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark, event.style)  # type: ignore[arg-type]
        try:
            result = self.loader.yaml_constructors[tag](self.loader, node)
        except (ValueError, OverflowError, TypeError, yaml.YAMLError) as exc:
            self._problem(event.start_mark, f"cannot read {value[:40]!r} as {tag.replace(_TAG, '')}: {exc}", path)
            return None
        if isinstance(result, float) and not math.isfinite(result):
            self._problem(event.start_mark, f"{value!r} is not a finite number; numbers must be finite", path)
            return None
        if isinstance(result, int) and not isinstance(result, bool) and abs(result) >= MAX_INT:
            self._problem(event.start_mark, f"number too large: {value[:40]} (at most 2**53)", path)
            return None
        return result


def parse_yaml(text: str, file: str) -> Loaded:
    """Parse one YAML document; every problem becomes a DocumentError with the position."""
    out = Loaded(file=file, data=None)
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        line, col = _position(text, bad.start())
        raise DocumentError([Problem(file, line, col, f"control character U+{ord(bad.group()):04X} is not allowed")],
                            "remove it (a NUL or control byte is never part of a drill)")
    loader = _Loader(text)
    try:
        loader.get_event()                                  # StreamStart
        if isinstance(loader.peek_event(), yaml.StreamEndEvent):
            raise DocumentError([Problem(file, 1, 1, "the file is empty; expected a drill or scenario document")])
        loader.get_event()                                  # DocumentStart
        out.data = _Builder(loader, out).node((), 0)
        loader.get_event()                                  # DocumentEnd
        extra = loader.get_event()
        if not isinstance(extra, yaml.StreamEndEvent):
            line, col = (extra.start_mark.line + 1, extra.start_mark.column + 1)
            raise DocumentError([Problem(file, line, col, "more than one YAML document (---); one per file")])
    except _Fatal as exc:
        mark = exc.mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        raise DocumentError([*out.problems, Problem(file, line, col, printable(exc.message))]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise DocumentError([*out.problems, Problem(file, line, col, printable(f"YAML syntax error: {message}"))],
                            "fix the indentation or quoting at that position") from None
    except yaml.YAMLError as exc:
        raise DocumentError([*out.problems, Problem(file, 1, 1, printable(f"YAML error: {exc}"))]) from None
    except RecursionError:  # pragma: no cover - the depth bound comes first
        raise DocumentError([Problem(file, 1, 1, f"nested deeper than {MAX_DEPTH} levels")]) from None
    finally:
        dispose = getattr(loader, "dispose", None)
        if dispose is not None:
            dispose()
    return out


_KINDS = ((stat.S_ISDIR, "is a folder; expected a YAML file"), (stat.S_ISFIFO, "is a named pipe (FIFO); expected a YAML file"),
          (stat.S_ISCHR, "is a device; expected a YAML file"), (stat.S_ISBLK, "is a device; expected a YAML file"),
          (stat.S_ISSOCK, "is a socket; expected a YAML file"))


def read_bytes(path: str | Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; DocumentError otherwise.

    Opened non-blocking and checked with fstat on the open descriptor, so a FIFO or a
    device never blocks and a file swapped in between check and read is still checked.
    """
    name = str(path)
    if "\x00" in name:
        raise DocumentError([Problem(name.replace("\x00", "\\0"), 1, 1, "the path contains a NUL character")])
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(name, flags)
    except FileNotFoundError:
        raise DocumentError([Problem(name, 1, 1, "file not found")],
                            "check the path (relative to the current folder)") from None
    except IsADirectoryError:
        raise DocumentError([Problem(name, 1, 1, "is a folder; expected a YAML file")]) from None
    except (OSError, ValueError) as exc:
        raise DocumentError([Problem(name, 1, 1, f"cannot read the file: {exc}")]) from None
    try:
        mode = os.fstat(fd).st_mode
        for test, message in _KINDS:
            if test(mode):
                raise DocumentError([Problem(name, 1, 1, message)])
        if not stat.S_ISREG(mode):
            raise DocumentError([Problem(name, 1, 1, "is not a regular file; expected a YAML file")])
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise DocumentError([Problem(name, 1, 1, f"cannot read the file: {exc}")]) from None
    finally:
        os.close(fd)
    if size > limit:
        raise DocumentError([Problem(name, 1, 1, f"the file is larger than {limit // 1024} KiB; "
                                                 "a drill or scenario is a few KB")])
    return b"".join(chunks)


def decode(raw: bytes, file: str) -> str:
    """UTF-8 text of `raw` (a leading UTF-8 byte-order mark is dropped)."""
    for bom, encoding in _BOMS.items():
        if raw.startswith(bom):
            raise DocumentError([Problem(file, 1, 1, f"the file is {encoding}; save it as UTF-8")])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)
        before = raw[:start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        raise DocumentError([Problem(file, line, col, f"invalid UTF-8 (byte 0x{raw[start]:02x}); save the file as UTF-8")]) \
            from None


def load_yaml(path: str | Path, raw: bytes | None = None) -> Loaded:
    """Read and parse `path` (or its already-read bytes `raw`); a missing, unreadable or
    oversized file is a DocumentError too."""
    raw = read_bytes(path) if raw is None else raw
    loaded = parse_yaml(decode(raw, str(path)), str(path))
    loaded.sha256 = hashlib.sha256(raw).hexdigest()
    return loaded
