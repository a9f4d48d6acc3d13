"""Safe YAML loading that keeps line marks and rejects duplicate keys.

`load_yaml(path)` returns a `Loaded` document: plain Python data plus a map from each
path inside it (tuple of keys/indexes) to its 1-based (line, column), so every later
problem can be reported as `file:line:col: message`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from drtool.errors import DocumentError, Problem

Path_ = tuple[Any, ...]


@dataclass
class Loaded:
    file: str
    data: Any
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

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
        return Problem(self.file, line, col, message, tuple(path))


def _convert(loader: yaml.SafeLoader, node: yaml.Node, path: Path_, out: Loaded) -> Any:
    out.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                out.problems.append(out.problem(path, "YAML merge keys (<<) are not supported; write the keys out"))
                continue
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                out.problems.append(Problem(out.file, line, col, "mapping keys must be plain scalars"))
                continue
            if key in result:
                line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                first = out.marks.get((*path, key), (0, 0))[0]
                out.problems.append(Problem(out.file, line, col,
                                            f"duplicate key {key!r} (first at line {first}); remove one"))
                continue
            out.marks[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _convert(loader, value_node, (*path, key), out)
            out.marks[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(loader, item, (*path, i), out) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def parse_yaml(text: str, file: str) -> Loaded:
    """Parse one YAML document; syntax errors become a DocumentError with the position."""
    out = Loaded(file=file, data=None)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise DocumentError([Problem(file, 1, 1, "the file is empty; expected a drill or scenario document")])
        out.data = _convert(loader, node, (), out)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise DocumentError([Problem(file, line, col, f"YAML syntax error: {message}")],
                            "fix the indentation or quoting at that position") from None
    except yaml.YAMLError as exc:
        raise DocumentError([Problem(file, 1, 1, f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    return out


def load_yaml(path: str | Path) -> Loaded:
    """Read and parse `path`; a missing or unreadable file is a DocumentError too."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DocumentError([Problem(str(path), 1, 1, "file not found")],
                            "check the path (relative to the current folder)") from None
    except IsADirectoryError:
        raise DocumentError([Problem(str(path), 1, 1, "is a folder; expected a YAML file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError([Problem(str(path), 1, 1, f"cannot read the file: {exc}")]) from None
    return parse_yaml(text, str(path))
