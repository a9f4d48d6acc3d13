"""Untrusted documents (spec 7.4): every input ends in exit 0 or 2, `file:line:col`
messages, no traceback, no hang, with both the libyaml and the pure-Python parser.

`tests/unit/corpus/` keeps one regression document per class of issue 10 (aliases,
control characters, huge numbers, `.inf`, escaping scenario paths, a broken local
scenario, ...); the hypothesis tests below mutate valid drills and scenarios.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import drtool.loader
from drtool.api import validate
from drtool.cli import invoke
from drtool.errors import DocumentError

CORPUS = Path(__file__).parent / "corpus"
LOCATED = re.compile(r"^[^\n]+:\d+:\d+: \S")

# corpus drill -> (line, fragment) of the problem it must produce (None: it must pass)
EXPECTED: dict[str, tuple[int, str] | None] = {
    "ok.yaml": None,
    "utf8-bom.yaml": None,
    "alias-bomb.yaml": (5, "YAML aliases (*a) are not supported"),
    "alias-self.yaml": (6, "YAML aliases (*p) are not supported"),
    "alias-key.yaml": (4, "YAML aliases (*n) are not supported"),
    "broken-local-scenario.yaml": (4, "scenario 'region-loss'"),
    "control-char.yaml": (4, "control character U+0007"),
    "deep-nesting.yaml": (4, "nest"),
    "duration-400-digits.yaml": (7, "number too large"),
    "duration-400-digits-string.yaml": (7, "expected a duration"),
    "huge-int.yaml": (6, "number too large"),
    "int-param-bool.yaml": (6, "expected an integer, got True"),
    "invalid-utf8.yaml": (4, "invalid UTF-8"),
    "key-named-str.yaml": (9, "unknown key 'str'"),
    "key-with-nel.yaml": (10, "guardrails.require_tags.\\x85: Input should be a valid string"),
    "kind-list.yaml": (2, "`kind` must be `scenario` or `drill`"),
    "max-targets-true.yaml": (10, "max_targets"),
    "merge-key.yaml": (5, "merge keys"),
    "nul-byte.yaml": (5, "control character U+0000"),
    "parameter-region-typo.yaml": (6, "unknown AWS region 'eu-wset-1'"),
    "poll-zero.yaml": (8, "at least 0.1s"),
    "python-tag.yaml": (5, "YAML tag !!python/object/apply:os.system is not supported"),
    "region-trailing-space.yaml": (9, "unknown AWS region 'us-east-1 '"),
    "rpo-nan.yaml": (7, "not a finite number"),
    "rto-inf.yaml": (7, "not a finite number"),
    "scenario-absolute.yaml": (4, "leads outside the drill's repository"),
    "scenario-nul.yaml": (4, "control character"),
    "scenario-traversal.yaml": (4, "leads outside the drill's repository"),
    "time-limit-zero.yaml": (10, "greater than 0"),
    "two-documents.yaml": (11, "more than one YAML document"),
    "utf16.yaml": (1, "UTF-16"),
}

LOADERS = [pytest.param(yaml.SafeLoader, id="pure")]
if hasattr(yaml, "CSafeLoader"):
    LOADERS.append(pytest.param(yaml.CSafeLoader, id="libyaml"))


@pytest.fixture(params=LOADERS)
def loader(request, monkeypatch):
    monkeypatch.setattr(drtool.loader, "_Loader", request.param)
    return request.param


@contextlib.contextmanager
def no_hang(seconds: int = 20):
    """Fail (instead of hanging the suite) if the body blocks, e.g. on a FIFO."""

    def expire(_signum, _frame):
        raise TimeoutError(f"validate did not return within {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_validate(*paths: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with no_hang(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = invoke(["validate", *map(str, paths)])
    return code, out.getvalue(), err.getvalue()


def assert_clean(code: int, err: str) -> None:
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
    for line in err.splitlines():
        assert LOCATED.match(line) or line.endswith("have problems") or line.startswith("error: no YAML"), line


def test_corpus_is_complete():
    assert {p.name for p in (CORPUS / "drills").iterdir()} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_document(loader, name):
    path = CORPUS / "drills" / name
    code, out, err = run_validate(path)
    assert_clean(code, err)
    expected = EXPECTED[name]
    if expected is None:
        assert code == 0 and f"ok  {path}" in out, err
        return
    line, fragment = expected
    assert code == 2
    assert any(row.startswith(f"{path}:{line}:") and fragment in row for row in err.splitlines()), err


def test_broken_neighbours_do_not_break_the_valid_drill():
    code, out, err = run_validate(CORPUS)
    assert code == 2
    assert f"ok  {CORPUS / 'drills' / 'ok.yaml'} (drill corpus-ok)" in out
    assert_clean(code, err)


def test_special_files_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    (tmp_path / "folder.yaml").mkdir()
    (tmp_path / "passwd.yaml").symlink_to("/etc/passwd")
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:          # 50 MB, sparse: cheap to make, refused by size
        handle.truncate(50 * 1024 * 1024)
    cases = {fifo: "named pipe", Path("/dev/zero"): "is a device", big: "larger than"}
    for path, fragment in cases.items():
        code, _out, err = run_validate(path)
        assert code == 2 and f"{path}:1:1: " in err and fragment in err, err
    with pytest.raises(DocumentError, match="is a folder"):
        drtool.loader.load_yaml(tmp_path / "folder.yaml")
    code, _out, err = run_validate(tmp_path / "folder.yaml")     # a folder argument is searched
    assert code == 2 and "no YAML files found" in err
    code, _out, err = run_validate(tmp_path / "passwd.yaml")      # read, but never a drill
    assert code == 2 and "expected a mapping" in err


def test_scenario_reference_to_a_fifo_or_device_is_refused(tmp_path):
    shutil.copytree(CORPUS / "scenarios", tmp_path / "scenarios")
    os.mkfifo(tmp_path / "scenarios" / "pipe.yaml")
    drill = (CORPUS / "drills" / "ok.yaml").read_text()
    (tmp_path / "drills").mkdir()
    for ref in ("../scenarios/pipe.yaml", "/dev/zero"):
        path = tmp_path / "drills" / "d.yaml"
        path.write_text(drill.replace("scenario: corpus-ok", f"scenario: {ref}"))
        code, _out, err = run_validate(path)
        assert_clean(code, err)
        assert code == 2 and f"{path}:4:" in err, err


# --- property-based: mutated drills and scenarios --------------------------------------

VALID_DRILL = (CORPUS / "drills" / "ok.yaml").read_text()
VALID_SCENARIO = (CORPUS / "scenarios" / "corpus-ok.yaml").read_text()

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["us-east-1 ", "5m", "0", ".inf", "-1s", "${region}", "${nope}", "../../etc/passwd",
                     "/dev/zero", "9" * 400, "corpus-ok", "region-loss", "true"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
KEYS = ["kind", "name", "scenario", "service", "parameters", "objectives", "poll", "guardrails", "aws", "run",
        "rpo", "schedule", "posture", "sandbox", "description", "inject", "recover", "verify", "rollback"]


def _fresh_tree() -> Path:
    root = Path(tempfile.mkdtemp(prefix="drtool-fuzz-"))
    shutil.copytree(CORPUS / "scenarios", root / "scenarios")
    (root / "drills").mkdir()
    return root


def _check(path: Path) -> None:
    results = validate([path])
    assert len(results) == 1
    for problem in results[0].problems:
        assert problem.line >= 1 and problem.col >= 1 and problem.message
    code, _out, err = run_validate(path)
    assert_clean(code, err)
    assert (code == 0) == (not results[0].problems)


FUZZ = settings(max_examples=int(os.environ.get("DRTOOL_FUZZ_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("base", ["drill", "scenario"])
@FUZZ
@given(data=st.data())
def test_structural_mutations(base, data):
    doc = yaml.safe_load(VALID_DRILL if base == "drill" else VALID_SCENARIO)
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from(KEYS + list(doc)))
        doc[key] = data.draw(values)
    root = _fresh_tree()
    try:
        folder = root / ("drills" if base == "drill" else "scenarios")
        path = folder / "fuzz.yaml"
        # safe_dump writes an anchor and alias for any object used twice: aliases get fuzzed too
        path.write_text(yaml.safe_dump(doc, allow_unicode=data.draw(st.booleans())))
        _check(path)
    finally:
        shutil.rmtree(root)


@pytest.mark.parametrize("base", ["drill", "scenario"])
@FUZZ
@given(data=st.data())
def test_byte_mutations(loader, base, data):
    raw = bytearray((VALID_DRILL if base == "drill" else VALID_SCENARIO).encode())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw)))
        action = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        chunk = data.draw(st.one_of(st.binary(min_size=1, max_size=6), st.sampled_from(
            [b"&a ", b"*a", b"[", b"{", b"\x00", b"\xff", b"\xef\xbb\xbf", b": ", b"\n  - ", b"!!python/name:os.system ",
             b".inf", b"<<: ", b"'", b'"', b"\t", b"---\n", b"999999999999999999999999"])))
        if action == "insert":
            raw[at:at] = chunk
        elif action == "delete":
            del raw[at:at + len(chunk)]
        else:
            raw[at:at + len(chunk)] = chunk
    root = _fresh_tree()
    try:
        folder = root / ("drills" if base == "drill" else "scenarios")
        path = folder / "fuzz.yaml"
        path.write_bytes(bytes(raw))
        _check(path)
    finally:
        shutil.rmtree(root)
