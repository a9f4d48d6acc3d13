"""The CI and scheduler examples under examples/ parse, have the structure their platform
needs, call only drtool commands and options that exist, and name drill files that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from drtool.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GITHUB = sorted((EXAMPLES / "github-actions").glob("*.yml"))
GITLAB = EXAMPLES / "gitlab-ci" / ".gitlab-ci.yml"
ARGO = EXAMPLES / "argo" / "dr-matrix-cronworkflow.yaml"
K8S = EXAMPLES / "kubernetes" / "drill-cronjob.yaml"
ALL = [*GITHUB, GITLAB, ARGO, K8S]


def strings(node: Any) -> list[str]:
    """Every string in a parsed document (scripts, run steps, container commands joined)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        if node and all(isinstance(n, str) for n in node) and node[0] == "drtool":
            return [shlex.join(node)]               # a container `command:` list
        return [s for item in node for s in strings(item)]
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    return []


def drtool_calls(text: str) -> list[list[str]]:
    """Every `drtool ...` command line in a shell snippet, as tokens."""
    text = re.sub(r"\$\{\{[^}]*\}\}", "X", text).replace("\\\n", " ")
    calls = []
    for line in re.split(r"\n|&&|\|\||;|\|(?!\|)", text):
        tokens = shlex.split(line.split(" #", 1)[0], posix=True) if "drtool" in line else []
        if len(tokens) > 1 and tokens[0] == "drtool":     # not a bare name like serviceAccountName: drtool
            calls.append(tokens)
    return calls


def resolve(tokens: list[str]) -> tuple[click.Command, list[str]]:
    """The (sub)command a call names and the path to it."""
    command: click.Command = cli
    path: list[str] = []
    for token in tokens[1:]:
        if not isinstance(command, click.Group) or token.startswith("-"):
            break
        sub = command.get_command(click.Context(command), token)
        assert sub is not None, f"drtool has no command {' '.join([*path, token])!r}"
        command, path = sub, [*path, token]
    return command, path


def load(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_commands_options_and_drills_exist(path: Path):
    docs = load(path)
    calls = [call for doc in docs for text in strings(doc) for call in drtool_calls(text)]
    assert calls, f"{path} runs no drtool command"
    runner = CliRunner()
    for call in calls:
        command, sub = resolve(call)
        assert sub, f"{call}: no subcommand"
        result = runner.invoke(cli, [*sub, "--help"])
        assert result.exit_code == 0, (call, result.output)
        known = {opt for param in command.params for opt in getattr(param, "opts", [])} | {"--help"}
        for token in call:
            if token.startswith("--"):
                assert token.split("=", 1)[0] in known, f"{path.name}: {' '.join(call)}: no option {token}"
    for drill in set(re.findall(r"drills/[\w./-]+\.ya?ml", path.read_text())):
        assert (ROOT / drill).is_file(), f"{path.name} names {drill}, which does not exist"


def github_on(doc: dict) -> dict:
    return doc.get("on", doc.get(True))               # YAML 1.1 reads a bare `on` key as True


@pytest.mark.parametrize("path", GITHUB, ids=lambda p: p.name)
def test_github_workflows(path: Path):
    (doc,) = load(path)
    assert github_on(doc)["schedule"][0]["cron"].count(" ") == 4
    assert doc["permissions"]["id-token"] == "write"
    assert doc["jobs"]
    roles = []
    for job in doc["jobs"].values():
        assert job["runs-on"] and job["steps"]
        for step in job["steps"]:
            assert "uses" in step or "run" in step, step
            if str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@"):
                roles.append(step["with"]["role-to-assume"])
    assert roles and all(roles), "every job assumes its role through OIDC"


def test_github_drill_uploads_junit_and_html_and_gates_on_history():
    (doc,) = load(EXAMPLES / "github-actions" / "dr-drill.yml")
    text = (EXAMPLES / "github-actions" / "dr-drill.yml").read_text()
    steps = [s for job in doc["jobs"].values() for s in job["steps"]]
    run = next(s["run"] for s in steps if "drtool run" in s.get("run", ""))
    assert "--results" in run and "s3://" in text and "--format junit" in run and "--format html" in run
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert uploads and "scorecard.html" in uploads[0]["with"]["path"] and uploads[0]["if"] == "always()"
    assert any("junit.xml" in str(s.get("with", {})) for s in steps)
    assert any("drtool history" in s.get("run", "") for s in doc["jobs"]["overdue-gate"]["steps"])
    assert doc["jobs"]["overdue-gate"]["if"] == "always()"
    (sweeper,) = load(EXAMPLES / "github-actions" / "dr-sweeper.yml")
    assert github_on(sweeper)["schedule"] != github_on(doc)["schedule"]
    assert "drtool rollback --expired --results" in str(sweeper["jobs"]) and "--yes" in str(sweeper["jobs"])


def test_github_matrix_consumes_plan_matrix():
    (doc,) = load(EXAMPLES / "github-actions" / "dr-matrix.yml")
    plan = doc["jobs"]["plan"]
    assert plan["outputs"]["matrix"] == "${{ steps.matrix.outputs.matrix }}"
    assert "drtool plan --matrix" in next(s["run"] for s in plan["steps"] if s.get("id") == "matrix")
    drill = doc["jobs"]["drill"]
    assert drill["needs"] == "plan"
    assert drill["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    assert drill["strategy"]["fail-fast"] is False
    text = str(drill["steps"])
    for key in ("matrix.drill", "matrix.role_arn", "matrix.region"):
        assert key in text
    from drtool.matrix import build  # every key the workflow reads is in an entry

    entry = build([str(ROOT / "drills")])["include"][0]
    assert {"id", "drill", "role_arn", "region", "name", "account"} <= set(entry)


def test_gitlab_pipeline():
    (doc,) = load(GITLAB)
    base = doc[".drtool-aws"]
    assert base["id_tokens"]["AWS_ID_TOKEN"]["aud"] == "sts.amazonaws.com"
    assert "aws sts assume-role-with-web-identity" in " ".join(base["before_script"])
    assert '"$AWS_ID_TOKEN"' in " ".join(base["before_script"])
    jobs = {k: v for k, v in doc.items() if isinstance(v, dict) and "script" in v}
    assert set(jobs) == {"drill", "overdue-gate", "sweep"}
    for name, job in jobs.items():
        assert job["extends"] == ".drtool-aws" and job["stage"] in doc["stages"], name
        assert 'CI_PIPELINE_SOURCE == "schedule"' in job["rules"][0]["if"], name
    assert doc["drill"]["artifacts"]["when"] == "always"
    assert doc["drill"]["artifacts"]["reports"]["junit"].endswith("junit.xml")
    assert "drill-results/" in doc["drill"]["artifacts"]["paths"]
    assert any("--format html" in line and "s3://" not in line for line in doc["drill"]["script"])
    assert doc["overdue-gate"]["rules"][0]["when"] == "always"
    assert any(line.startswith("drtool history") for line in doc["overdue-gate"]["script"])
    assert doc["sweep"]["script"] == ['drtool rollback --expired --results "$RESULTS" --yes']
    assert doc["sweep"]["rules"][0]["if"] != doc["drill"]["rules"][0]["if"]


def test_argo_cron_workflow_iterates_the_matrix():
    (doc,) = load(ARGO)
    assert doc["apiVersion"].startswith("argoproj.io/") and doc["kind"] == "CronWorkflow"
    spec = doc["spec"]["workflowSpec"]
    templates = {t["name"]: t for t in spec["templates"]}
    assert spec["entrypoint"] in templates
    steps = [s for group in templates["drills"]["steps"] for s in group]
    plan, drill = steps
    assert plan["template"] == "plan" and "drtool plan --matrix" in templates["plan"]["script"]["source"]
    assert drill["withParam"] == "{{steps.plan.outputs.result}}"
    assert drill["arguments"]["parameters"][0]["value"] == "{{item}}"
    assert '["include"]' in templates["plan"]["script"]["source"]     # withParam needs a JSON array


def test_kubernetes_cronjobs():
    docs = load(K8S)
    assert {d["kind"] for d in docs} == {"CronJob"}
    for doc in docs:
        assert doc["apiVersion"] == "batch/v1" and doc["spec"]["schedule"].count(" ") == 4
        assert doc["spec"]["concurrencyPolicy"] == "Forbid"
        pod = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        assert pod["restartPolicy"] == "Never" and pod["containers"][0]["command"][0] == "drtool"
    commands = [d["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"] for d in docs]
    assert commands[0][:2] == ["drtool", "run"] and commands[1][:3] == ["drtool", "rollback", "--expired"]


def test_a_wrong_option_would_be_caught():
    """The option check can fail: a made-up option is reported."""
    command, _ = resolve(["drtool", "run", "drills/az-loss.yaml", "--no-such-option"])
    known = {opt for param in command.params for opt in getattr(param, "opts", [])}
    assert "--no-such-option" not in known and "--results" in known
    with pytest.raises(AssertionError):
        resolve(["drtool", "no-such-command"])
