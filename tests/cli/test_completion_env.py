"""Shell completion (Click's `_DRTOOL_COMPLETE`) and the `DRTOOL_*` environment defaults."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from drtool.cli import invoke

ROOT = Path(__file__).resolve().parents[2]


def complete(words: str, cword: int, mode: str = "bash_complete") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "_DRTOOL_COMPLETE": mode, "COMP_WORDS": words,
           "COMP_CWORD": str(cword)}
    code = ("import sys; from drtool.cli import main\ntry:\n    main()\nfinally:\n"
            "    print('HEAVY' if {'boto3', 'pydantic'} & set(sys.modules) else 'LIGHT', file=sys.stderr)")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_bash_completion_script_and_completions_without_heavy_imports():
    script = complete("", 0, "bash_source")
    assert "_drtool_completion()" in script.stdout and "complete -o nosort -F _drtool_completion drtool" in script.stdout
    commands = complete("drtool ro", 1)
    assert commands.stdout.split() == ["plain,rollback"] and "LIGHT" in commands.stderr
    choices = complete("drtool run --progress ", 3)
    assert choices.stdout.split() == ["plain,auto", "plain,rich", "plain,plain", "plain,off"]


def test_drtool_results_env_is_the_default_results_store(tmp_path, monkeypatch, capsys):
    run = tmp_path / "store" / "known" / "20260101T000000Z-abcdef"
    run.mkdir(parents=True)
    (run / "scorecard.json").write_text(json.dumps({"schema": "drtool.scorecard/v1", "run": {"drill": "known"}}))
    monkeypatch.setenv("DRTOOL_RESULTS", str(tmp_path / "store"))
    assert invoke(["history", "--drill", "other"]) == 2
    assert f"no runs of drill 'other' in {tmp_path / 'store'}" in capsys.readouterr().err
