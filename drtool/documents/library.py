"""Finding the scenario a drill names (spec 7.4): deterministic and confined.

`scenario:` in a drill is either a *path* (it contains `/`, or ends in .yaml/.yml) or a
*name* (`region-loss`).

- A path is taken relative to the drill file (an absolute path is taken as is).
- A name is looked up in the library folders, in this order, first match wins:
  1. `scenarios/` next to the drill's folder (`<drill>/../scenarios`), 2. the drill's own
  folder, 3. each folder in `DRTOOL_SCENARIOS` (`:`-separated), 4. `./scenarios` of the
  current folder, 5. the bundled library. In one folder, files are taken in name order;
  a file is a candidate for name N if its top-level `kind: scenario` line and `name: N`
  line say so, or (when those lines are unreadable) if it is called `N.yaml` / `N.yml`.
  Candidates are found by a cheap line scan, never by parsing: a broken or unrelated
  YAML file elsewhere never changes the result, and a broken candidate is reported as
  the error it is, never skipped in favour of a bundled scenario of the same name.
- Confinement: the resolved file (symlinks followed) must lie inside the drill's
  repository root or inside one of the library folders, else it is refused. The
  repository root is the nearest folder at or above the drill's folder that contains
  `.git`; without one, it is the drill's own folder (and everything below it).
- Each library folder is scanned once per process (rescanned if its mtime changes).
"""

from __future__ import annotations

import functools
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from drtool.errors import DocumentError
from drtool.loader import read_bytes

_SUFFIXES = (".yaml", ".yml")
_KIND = re.compile(rb"^kind:[ \t]*[\"']?([A-Za-z_-]+)[\"']?[ \t]*(?:#.*)?$", re.MULTILINE)
_NAME = re.compile(rb"^name:[ \t]*[\"']?([a-z0-9][a-z0-9._-]*)[\"']?[ \t]*(?:#.*)?$", re.MULTILINE)


class LookupProblem(Exception):
    """The scenario reference cannot be resolved; `message` and `hint` say why."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def bundled_dir(folder: str) -> Path:
    """The bundled `scenarios` or `drills` folder (package data, or the source checkout)."""
    installed = Path(__file__).resolve().parent.parent / "data" / folder
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent.parent / folder


def library_dirs(extra: list[Path] | None = None) -> list[Path]:
    """Where scenario names are looked up: `extra`, DRTOOL_SCENARIOS, ./scenarios, bundled."""
    dirs = list(extra or [])
    env = os.environ.get("DRTOOL_SCENARIOS")
    if env:
        dirs += [Path(p) for p in env.split(os.pathsep) if p]
    dirs.append(Path.cwd() / "scenarios")
    dirs.append(bundled_dir("scenarios"))
    return dirs


def drill_library(drill_path: Path) -> list[Path]:
    """The library folders for one drill, in lookup order."""
    return library_dirs([drill_path.parent.parent / "scenarios", drill_path.parent])


def repository_root(drill_path: Path) -> Path:
    """Nearest folder at or above the drill's folder containing `.git`, else the drill's folder."""
    start = _real(drill_path).parent
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


@dataclass
class _Folder:
    real: Path
    names: dict[str, Path] = field(default_factory=dict)     # from `kind: scenario` + `name:` lines
    stems: dict[str, Path] = field(default_factory=dict)     # files whose lines say nothing clear


_CACHE: dict[tuple[str, int, int], _Folder] = {}


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return Path(os.path.abspath(path))


def _prescan(file: Path) -> tuple[str | None, str | None]:
    """(kind, name) from the file's top-level lines; (None, None) when unreadable."""
    try:
        raw = read_bytes(file)
    except DocumentError:
        return None, None
    kinds = _KIND.findall(raw)
    names = _NAME.findall(raw)
    return (kinds[0].decode() if len(kinds) == 1 else None), (names[0].decode() if len(names) == 1 else None)


def _index(folder: Path) -> _Folder | None:
    try:
        info = os.stat(folder)
    except (OSError, ValueError):
        return None
    if not stat.S_ISDIR(info.st_mode):
        return None
    key = (str(folder), info.st_ino, info.st_mtime_ns)
    if key not in _CACHE:
        real = _real(folder)
        found = _Folder(real)
        try:
            files = sorted(p for p in real.iterdir() if p.suffix in _SUFFIXES)
        except OSError:
            files = []
        for file in files:
            kind, name = _prescan(file)
            if kind == "scenario" and name:
                found.names.setdefault(name, file)
            elif kind in ("scenario", None):
                found.stems.setdefault(file.stem, file)
        _CACHE[key] = found
    return _CACHE[key]


def scenario_index(dirs: list[Path]) -> dict[str, Path]:
    """name -> file for every scenario the line scan finds in `dirs` (first match wins)."""
    index: dict[str, Path] = {}
    for folder in dirs:
        found = _index(folder)
        if found is not None:
            for name, file in found.names.items():
                index.setdefault(name, file)
    return index


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def is_path_ref(ref: str) -> bool:
    return "/" in ref or "\\" in ref or ref.endswith(_SUFFIXES)


@functools.lru_cache(maxsize=256)
def _places(folder: str, env: str | None, cwd: str) -> tuple[list[Path], list[Path]]:
    """(library folders, allowed roots) for drills in `folder` (cached per process)."""
    drill = Path(folder) / "drill.yaml"
    dirs = drill_library(drill)
    return dirs, [repository_root(drill)] + [_real(d) for d in dirs if d.is_dir()]


def resolve_scenario(ref: str, drill_path: Path) -> Path:
    """The scenario file `ref` (a drill's `scenario:`) names; LookupProblem if none."""
    if any(ord(c) < 32 or ord(c) == 127 for c in ref):
        raise LookupProblem("the scenario reference contains a control character")
    dirs, roots = _places(str(drill_path.parent), os.environ.get("DRTOOL_SCENARIOS"), os.getcwd())
    if is_path_ref(ref):
        candidate = _real(drill_path.parent / ref)
        if not _inside(candidate, roots):
            raise LookupProblem(f"scenario path {ref!r} leads outside the drill's repository "
                                f"({roots[0]}) and the scenario library",
                                "keep scenarios in the repository, or add their folder to DRTOOL_SCENARIOS")
        return candidate
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", ref):
        raise LookupProblem(f"scenario {ref[:60]!r} is neither a scenario name nor a path ending in .yaml")
    itself = _real(drill_path)
    for folder, found in ((d, _index(d)) for d in dirs):
        file = (found.names.get(ref) or found.stems.get(ref)) if found is not None else None
        real = _real(file) if file is not None else None
        if found is not None and real is not None and real != itself:
            if not _inside(real, [found.real]):
                raise LookupProblem(f"{file} leads outside its library folder {folder}")
            return real
    from drtool.documents.problems import did_you_mean

    known = sorted(scenario_index(dirs))
    raise LookupProblem(f"scenario {ref!r} not found{did_you_mean(ref, known)}",
                        f"known scenarios: {', '.join(known) or 'none'}; or give a path relative to the drill")


def find_scenario(ref: str, drill_path: Path) -> Path | None:
    """`resolve_scenario`, or None when it cannot be resolved."""
    try:
        return resolve_scenario(ref, drill_path)
    except LookupProblem:
        return None
