"""Document loading: every malformed input gives file:line:col and exit 2 (spec section 2)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from drtool.cli import invoke
from drtool.documents import load_drill
from drtool.errors import DocumentError

SCENARIO = """\
kind: scenario
name: kill-some
description: test scenario
parameters:
  region: {type: string}
  group: {type: string}
  percent: {type: integer, default: 50}
  settle: {type: duration, default: 1s}
inject:
  - action: ec2.terminate-instances
    targets: {region: "${region}", group: "${group}", select: {percent: "${percent}"}}
recover:
  - wait: autoscaling.capacity-healthy
    with: {group: "${group}", region: "${region}"}
    timeout: "${settle}"
verify:
  - check: http.ok
    with: {url: "http://127.0.0.1:9/health"}
"""

DRILL = """\
kind: drill
name: kill-some-drill
scenario: kill-some
service: {name: web, tier: critical, owner: sre}
parameters: {region: us-east-1, group: web-asg}
objectives: {rto: 5m}
guardrails:
  accounts: ["123456789012"]
"""


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def library(tmp_path):
    write(tmp_path, "scenarios/kill-some.yaml", SCENARIO)
    return tmp_path


def test_valid_drill_binds_typed_parameters(library):
    drill = load_drill(write(library, "drills/ok.yaml", DRILL))
    inject = drill.steps["inject"][0]
    assert inject.targets.select.percent == 50          # whole-string ${percent} keeps its type
    assert drill.steps["recover"][0].timeout == 1.0           # ${settle} bound from its default
    assert drill.parameters == {"region": "us-east-1", "group": "web-asg", "percent": 50, "settle": 1.0}
    assert inject.region(None) == "us-east-1"


BAD_DRILLS = [
    # (name, drill text, expected line, expected message fragment)
    ("yaml syntax", DRILL.replace("objectives: {rto: 5m}", "objectives: {rto: 5m"), 7, "YAML syntax error"),
    ("duplicate key", DRILL + "objectives: {rto: 1m}\n", 9, "duplicate key 'objectives'"),
    ("unknown key", DRILL + "objectivs: {rto: 1m}\n", 9, "unknown key 'objectivs'"),
    ("bad duration", DRILL.replace("rto: 5m", "rto: soon"), 6, "expected a duration"),
    ("wrong type", DRILL + "poll: [1]\n", 9, "duration"),
    ("bad account", DRILL.replace('"123456789012"', '"1234"'), 8, "12-digit AWS account id"),
    ("unknown scenario", DRILL.replace("scenario: kill-some", "scenario: kill-none"), 3, "scenario 'kill-none' not found"),
    ("missing parameter", DRILL.replace("group: web-asg", "grp: web-asg"), 5, "no parameter 'grp'"),
    ("parameter type", DRILL.replace("group: web-asg}", "group: web-asg, percent: many}"), 5,
     "parameter percent: expected an integer"),
    ("missing key", DRILL.replace("service: {name: web, tier: critical, owner: sre}\n", ""), 1,
     "missing required key 'service'"),
    ("not a mapping", "- just\n- a list\n", 1, "expected a mapping"),
    ("empty file", "", 1, "the file is empty"),
    ("wrong kind", DRILL.replace("kind: drill", "kind: dril"), 1, "`kind` must be `scenario` or `drill`"),
]


@pytest.mark.parametrize("name,text,line,fragment", BAD_DRILLS, ids=[c[0] for c in BAD_DRILLS])
def test_bad_drill_reports_file_line_and_exit_2(library, capsys, name, text, line, fragment):
    path = write(library, "drills/bad.yaml", text)
    with pytest.raises(DocumentError) as info:
        load_drill(path)
    problems = info.value.problems
    assert any(p.line == line and fragment in p.message for p in problems), problems
    assert invoke(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line}:" in err and fragment in err
    assert "Traceback" not in err


BAD_SCENARIOS = [
    ("unknown action", SCENARIO.replace("ec2.terminate-instances", "ec2.terminate-instance"), 10,
     "did you mean 'ec2.terminate-instances'"),
    ("unknown probe", SCENARIO.replace("check: http.ok", "check: http.okay"), 17, "unknown probe 'http.okay'"),
    ("missing action parameter", SCENARIO.replace('with: {group: "${group}", region: "${region}"}',
                                                   'with: {region: "${region}"}'), 14, "missing required key 'group'"),
    ("unknown action parameter", SCENARIO.replace('with: {url: "http://127.0.0.1:9/health"}',
                                                   'with: {url: "http://x", retries: 3}'), 18, "unknown key 'retries'"),
    ("two forms", SCENARIO.replace("  - wait: autoscaling.capacity-healthy",
                                   "  - wait: autoscaling.capacity-healthy\n    action: ec2.stop-instances"), 13,
     "exactly one of action, wait, check or manual"),
    ("undeclared placeholder", SCENARIO.replace('group: "${group}", region', 'group: "${grp}", region'), 13,
     "unknown parameter ${grp}"),
    ("targets on a probe", SCENARIO.replace('with: {url: "http://127.0.0.1:9/health"}',
                                             'targets: {ids: [i-1]}'), 17, "takes no `targets:`"),
    ("bad select", SCENARIO.replace('select: {percent: "${percent}"}', "select: {some: 3}"), 11,
     "select must be `all`"),
    ("bad default type", SCENARIO.replace("percent: {type: integer, default: 50}",
                                          "percent: {type: integer, default: half}"), 7, "default of percent"),
]


@pytest.mark.parametrize("name,text,line,fragment", BAD_SCENARIOS, ids=[c[0] for c in BAD_SCENARIOS])
def test_bad_scenario_reports_file_line_and_exit_2(tmp_path, capsys, name, text, line, fragment):
    path = write(tmp_path, "scenarios/bad.yaml", text)
    assert invoke(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line}:" in err, err
    assert fragment in err, err
    assert "Traceback" not in err


def test_several_problems_in_one_file_are_all_reported(tmp_path, capsys):
    text = (SCENARIO.replace("ec2.terminate-instances", "ec2.nuke")
            .replace("check: http.ok", "check: http.okay"))
    path = write(tmp_path, "scenarios/two.yaml", text)
    assert invoke(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:10:" in err and f"{path}:17:" in err


def test_missing_file_is_exit_2(tmp_path, capsys):
    assert invoke(["validate", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err
    assert "nope.yaml:1:1: file not found" in err


def test_validate_folder_checks_every_yaml(library, capsys):
    write(library, "drills/ok.yaml", DRILL)
    assert invoke(["validate", str(library)]) == 0
    out = capsys.readouterr().out
    assert "drill kill-some-drill" in out and "scenario kill-some" in out


def test_bundled_scenarios_and_drills_validate(capsys):
    root = Path(__file__).resolve().parents[2]
    assert invoke(["validate", str(root / "scenarios"), str(root / "drills")]) == 0, capsys.readouterr().err


def test_schema_is_generated_from_the_models(capsys):
    import json

    assert invoke(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    drill = schema["$defs"]["drill"]
    assert drill["additionalProperties"] is False
    assert {"kind", "name", "scenario", "service"} <= set(drill["required"])
    assert "objectives" in drill["properties"] and "services" in drill["properties"]   # may come from the tier
    assert "with" in schema["$defs"]["StepDoc"]["properties"]


# --- scenario resolution (spec 7.4) ----------------------------------------------------

def test_drill_records_resolved_scenario_path_and_sha256(library):
    import hashlib

    drill_path = write(library, "drills/ok.yaml", DRILL)
    drill = load_drill(drill_path)
    scenario_file = library / "scenarios" / "kill-some.yaml"
    assert drill.scenario_path == scenario_file.resolve()
    assert drill.scenario_sha256 == hashlib.sha256(scenario_file.read_bytes()).hexdigest()
    assert drill.sha256 == hashlib.sha256(drill_path.read_bytes()).hexdigest()


def test_broken_local_scenario_is_an_error_never_the_bundled_one(tmp_path, capsys):
    write(tmp_path, "scenarios/region-loss.yaml", "kind: scenario\nname: region-loss\ninject: [{action: ec2.nope}]\n")
    bundled = Path(__file__).resolve().parents[2] / "drills" / "checkout-region-loss.yaml"
    path = write(tmp_path, "drills/d.yaml", bundled.read_text())
    with pytest.raises(DocumentError) as info:
        load_drill(path)
    files = {p.file for p in info.value.problems}
    assert str((tmp_path / "scenarios" / "region-loss.yaml").resolve()) in files
    assert invoke(["validate", str(path)]) == 2
    assert "unknown action 'ec2.nope'" in capsys.readouterr().err


def test_unrelated_broken_files_never_change_the_result(library):
    write(library, "scenarios/aaa-broken.yaml", "kind: scenario\nname: [unclosed\n")
    write(library, "scenarios/alias.yaml", "a: &x [*x]\n")
    write(library, "drills/zzz-broken.yaml", "\x00\x01 not yaml")
    (library / "drills" / "fifo.yaml").parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(library / "drills" / "fifo.yaml")
    drill = load_drill(write(library, "drills/ok.yaml", DRILL))
    assert drill.scenario.name == "kill-some"


def test_scenario_path_relative_to_the_drill(library):
    drill = load_drill(write(library, "drills/ok.yaml", DRILL.replace("scenario: kill-some",
                                                                      "scenario: ../scenarios/kill-some.yaml")))
    assert drill.scenario_path == (library / "scenarios" / "kill-some.yaml").resolve()


@pytest.mark.parametrize("ref", ["../../../../../../../../etc/passwd", "/etc/passwd", "../../outside.yaml",
                                 "link.yaml"])
def test_scenario_paths_outside_the_repository_are_refused(library, ref):
    outside = library.parent / "outside.yaml"
    outside.write_text(SCENARIO)
    (library / "drills").mkdir(exist_ok=True)
    (library / "drills" / "link.yaml").symlink_to("/etc/passwd")
    path = write(library, "drills/d.yaml", DRILL.replace("scenario: kill-some", f"scenario: {ref}"))
    with pytest.raises(DocumentError) as info:
        load_drill(path)
    assert any(p.line == 3 and "leads outside the drill's repository" in p.message for p in info.value.problems)


def test_repository_root_is_the_nearest_git_folder(tmp_path):
    from drtool.documents import repository_root

    (tmp_path / "repo" / ".git").mkdir(parents=True)
    drill = write(tmp_path, "repo/team/drills/d.yaml", DRILL)
    assert repository_root(drill) == (tmp_path / "repo").resolve()
    loose = write(tmp_path, "loose/d.yaml", DRILL)
    assert repository_root(loose) == (tmp_path / "loose").resolve()


def test_scenario_symlinked_out_of_a_library_folder_is_refused(library):
    (library / "scenarios" / "kill-some.yaml").unlink()
    outside = library.parent / "elsewhere.yaml"
    outside.write_text(SCENARIO)
    (library / "scenarios" / "kill-some.yaml").symlink_to(outside)
    with pytest.raises(DocumentError) as info:
        load_drill(write(library, "drills/ok.yaml", DRILL))
    assert any("outside its library folder" in p.message for p in info.value.problems)


# --- one pass, bounded values ----------------------------------------------------------

def test_validate_reports_schema_lookup_and_parameter_problems_in_one_pass(library, capsys):
    text = (DRILL.replace("group: web-asg}", "group: web-asg, percnt: 3}")
            + "poll: 0\nguardrails2: {}\n")
    path = write(library, "drills/bad.yaml", text)
    assert invoke(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:5:" in err and "did you mean 'percent'" in err        # parameter, from the scenario
    assert f"{path}:9:" in err and "at least 0.1s" in err                 # schema
    assert f"{path}:10:" in err and "unknown key 'guardrails2'" in err    # schema


@pytest.mark.parametrize("snippet,line,fragment", [
    ("aws: {region: 'us-east-1 '}", 9, "remove the spaces around 'us-east-1'"),
    ("aws: {region: us-east-l}", 9, "did you mean 'us-east-"),
    ("run: {regions: [us-west-2, mars-1]}", 9, "unknown AWS region 'mars-1'"),
    ("poll: 0.05s", 9, "at least 0.1s"),
    ("poll: .inf", 9, "not a finite number"),
    ("objectives2: {}\nschedule: {every: 0}", 10, "must be greater than 0"),
])
def test_bounded_drill_values(library, snippet, line, fragment):
    path = write(library, "drills/bad.yaml", DRILL + snippet + "\n")
    with pytest.raises(DocumentError) as info:
        load_drill(path)
    assert any(p.line == line and fragment in p.message for p in info.value.problems), info.value.problems


@pytest.mark.parametrize("replace,fragment", [
    (("guardrails:\n", "guardrails:\n  max_targets: true\n"), "valid integer"),
    (("guardrails:\n", "guardrails:\n  time_limit: 0s\n"), "greater than 0"),
    (("objectives: {rto: 5m}", "objectives: {rto: 0}"), "greater than 0"),
    (("region: us-east-1", "region: eu-wset-1"), "parameter region: unknown AWS region 'eu-wset-1'"),
])
def test_bounded_guardrails_and_bound_regions(library, replace, fragment):
    path = write(library, "drills/bad.yaml", DRILL.replace(*replace))
    with pytest.raises(DocumentError) as info:
        load_drill(path)
    assert any(fragment in p.message for p in info.value.problems), info.value.problems


def test_availability_zones_are_checked():
    from drtool.documents.regions import check_az, check_region

    assert check_region("us-east-1") is None and check_region("eu-central-2") is None
    assert check_region("us-east-1 ") and check_region("US-EAST-1")
    for good in ("us-east-1a", "a", "use1-az1", "us-west-2-lax-1a", "usw2-lax1-az1"):
        assert check_az(good) is None, good
    for bad in ("us-east-1", "us-east-1aa", "us-east-9a", "use1-az", "us-east-1a "):
        assert check_az(bad), bad
