"""`drtool import fis|chaostoolkit`: the written documents validate, carry exactly the
mapped steps, and list everything else (templates in tests/importers/data are written in
the public formats: FIS CreateExperimentTemplate / Chaos Toolkit experiment)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from drtool.cli import invoke
from drtool.registry import ACTIONS, Params

DATA = Path(__file__).parent / "data"


def run_import(tmp_path: Path, kind: str, source: Path, *extra: str) -> tuple[int, dict, dict, str]:
    rc = invoke(["import", kind, str(source), "--out", str(tmp_path), *extra])
    name = source.stem
    scenario_text = (tmp_path / "scenarios" / f"{name}.yaml").read_text()
    drill = yaml.safe_load((tmp_path / "drills" / f"{name}.yaml").read_text())
    return rc, yaml.safe_load(scenario_text), drill, scenario_text


def validate(tmp_path: Path, capsys) -> tuple[int, str]:
    capsys.readouterr()
    rc = invoke(["validate", str(tmp_path / "drills"), str(tmp_path / "scenarios")])
    out = capsys.readouterr()
    return rc, out.out + out.err


def test_fis_template_maps_native_actions_and_validates(tmp_path, capsys):
    rc, scenario, drill, text = run_import(tmp_path, "fis", DATA / "fis-az-and-db.json")
    err = capsys.readouterr().err
    assert rc == 0
    steps = [(s["action"], s.get("targets"), s.get("with")) for s in scenario["inject"]
             if s["action"] != "fis.experiment"]
    # startAfter order: stop-web, then cut-zone, then kill-one and failover-orders
    assert [a for a, _, _ in steps] == ["ec2.stop-instances", "ec2.blackhole-subnets",
                                        "ec2.terminate-instances", "rds.failover-cluster"]
    stop, cut, kill, failover = steps
    assert stop[1] == {"region": "${region}", "tags": {"app": "shop", "drill": "allowed"}, "az": "us-east-1a",
                       "select": {"percent": 50}}
    assert cut[1] == {"region": "${region}", "tags": {"app": "shop"}, "az": "us-east-1a"}
    assert kill[1] == {"region": "${region}", "ids": ["i-0123456789abcdef0"]}
    assert failover[2] == {"cluster": "orders", "region": "${region}"}
    assert drill["guardrails"]["stop_conditions"] == [{"alarm": "shop-5xx", "region": "us-east-1"}]
    assert drill["guardrails"]["accounts"] == ["123456789012"]
    assert drill["parameters"] == {"region": "us-east-1"}
    assert drill["scenario"] == "../scenarios/fis-az-and-db.yaml"
    # the FIS-only actions are named, on the terminal and in the file
    if "fis.experiment" in ACTIONS:               # helper "fis"'s action: the rest runs in one experiment
        assert scenario["inject"][-1]["action"] == "fis.experiment"
    else:
        assert "throttle-api, s3-only" in err and "throttle-api, s3-only" in text
        assert "# - action: fis.experiment" in text and "#         actionId: aws:fis:inject-api-throttle-error" in text
    assert "scope 's3'" in text
    assert validate(tmp_path, capsys)[0] == 0


def test_fis_experiment_step_is_emitted_when_the_registry_has_it(tmp_path, capsys):
    """With `fis.experiment` registered, the FIS-only actions become one active step that
    validates; the importer checks the live registry, never a hard-coded list."""
    added = "fis.experiment" not in ACTIONS
    if added:
        class FisParams(Params):
            actions: dict
            targets: dict = {}
            role_arn: str | None = None

        ACTIONS.register("fis.experiment", summary="test stand-in", params=FisParams)(lambda *a: None)
    try:
        rc, scenario, _, text = run_import(tmp_path, "fis", DATA / "fis-az-and-db.json")
        assert rc == 0
        fis = [s for s in scenario["inject"] if s["action"] == "fis.experiment"]
        assert len(fis) == 1
        assert set(fis[0]["with"]["actions"]) == {"throttle-api", "s3-only"}
        assert set(fis[0]["with"]["targets"]) == {"api-roles", "zone-subnets"}
        assert fis[0]["with"]["actions"]["s3-only"]["startAfter"] == ["throttle-api"]
        assert fis[0]["with"]["role_arn"] == "arn:aws:iam::123456789012:role/fis-experiments"
        assert "NOT MAPPED" not in text
        assert validate(tmp_path, capsys)[0] == 0
    finally:
        if added:
            del ACTIONS._entries["fis.experiment"]


def test_fis_never_selects_wider_than_the_template(tmp_path, capsys):
    """A filter drtool cannot express keeps the action in FIS instead of dropping the filter."""
    template = {"targets": {"t": {"resourceType": "aws:ec2:instance", "resourceTags": {"app": "x"},
                                 "filters": [{"path": "InstanceType", "values": ["m5.large"]}],
                                 "selectionMode": "COUNT(2)"}},
                "actions": {"kill": {"actionId": "aws:ec2:terminate-instances", "targets": {"Instances": "t"}}},
                "roleArn": "arn:aws:iam::111122223333:role/fis"}
    source = tmp_path / "narrow.json"
    source.write_text(json.dumps({"experimentTemplate": template}))   # get-experiment-template output
    rc, scenario, drill, text = run_import(tmp_path, "fis", source, "--region", "eu-west-1")
    assert rc == 0
    assert not [s for s in scenario["inject"] if s["action"] == "ec2.terminate-instances"]
    assert "filter 'InstanceType' has no drtool selector" in text
    assert drill["parameters"] == {"region": "eu-west-1"}
    assert validate(tmp_path, capsys)[0] == 0


def test_chaostoolkit_experiment_maps_probes_and_chaosaws_actions(tmp_path, capsys):
    rc, scenario, drill, text = run_import(tmp_path, "chaostoolkit", DATA / "ctk-asg.yaml")
    err = capsys.readouterr().err
    assert rc == 0
    http = {"check": "http.ok", "name": "shop-health-answers",
            "with": {"url": "https://shop.example.com/health", "status": 200, "timeout": 5.0}}
    group = {"check": "autoscaling.capacity-healthy", "name": "web-group-healthy (shop-usw2)",
             "with": {"group": "shop-usw2", "region": "${region}"}}
    assert scenario["steady_state"] == [http, group] == scenario["verify"]
    assert [(s["action"], s.get("targets"), s.get("with")) for s in scenario["inject"]] == [
        ("ec2.terminate-instances", {"region": "${region}", "group": "shop-usw2", "select": {"percent": 33}}, None),
        ("ec2.stop-instances", {"region": "${region}", "ids": ["i-0fedcba9876543210"]}, None),
        ("rds.failover-cluster", None, {"cluster": "orders", "region": "${region}"}),
    ]
    assert drill["parameters"] == {"region": "us-west-2"}        # configuration.aws_region
    for item in ("latency-ok", "suspend-launches", "watch-orders", "burn-cpu", "resume-launches"):
        assert item in err and item in text.split("kind: scenario")[0]
    assert "start-the-batch-box': dropped; drtool undoes ec2.stop-instances" in text
    assert validate(tmp_path, capsys)[0] == 0


def test_chaostoolkit_json_with_runtime_placeholders(tmp_path, capsys):
    experiment = {"title": "DB failover", "configuration": {"cluster": {"type": "env", "key": "CLUSTER"}},
                  "steady-state-hypothesis": {"title": "up", "probes": [
                      {"type": "probe", "name": "api", "tolerance": [201],
                       "provider": {"type": "http", "url": "https://api.example.com/ping", "timeout": 2}},
                      {"type": "probe", "name": "post", "tolerance": 200,
                       "provider": {"type": "http", "method": "POST", "url": "https://api.example.com/x"}}]},
                  "method": [{"type": "action", "name": "failover",
                              "provider": {"type": "python", "module": "chaosaws.rds.actions",
                                           "func": "failover_db_cluster",
                                           "arguments": {"db_cluster_identifier": "${cluster}"}}},
                             {"ref": "failover"}]}
    source = tmp_path / "db.json"
    source.write_text(json.dumps(experiment))
    rc, scenario, drill, text = run_import(tmp_path, "chaostoolkit", source)
    assert rc == 0
    assert scenario["parameters"]["cluster"]["type"] == "string"
    assert drill["parameters"]["cluster"] == "CHANGE-ME"
    assert scenario["inject"][0]["with"]["cluster"] == "${cluster}"
    assert scenario["steady_state"] == [{"check": "http.ok", "name": "api",
                                         "with": {"url": "https://api.example.com/ping", "status": 201,
                                                  "timeout": 2.0}}]
    assert "http POST probe" in text and "reference to 'failover'" in text
    assert validate(tmp_path, capsys)[0] == 0


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON/YAML object"),
])
def test_bad_input_is_exit_2_without_traceback(tmp_path, capsys, content, message):
    source = tmp_path / "bad.json"
    source.write_text(content)
    assert invoke(["import", "fis", str(source), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_garbage_shapes_still_validate(tmp_path, capsys):
    """Untrusted shapes (strings where objects belong) never crash and never emit an invalid document."""
    source = tmp_path / "odd.json"
    source.write_text(json.dumps({"targets": {"t": {"resourceType": "aws:ec2:instance", "resourceArns": "nope",
                                                    "resourceTags": ["x"], "filters": "y"}},
                                  "actions": {"a": {"actionId": "aws:ec2:stop-instances", "targets": ["t"],
                                                    "startAfter": "b"}, "b": "zzz"},
                                  "stopConditions": [{"source": "aws:cloudwatch:alarm", "value": 3}]}))
    assert invoke(["import", "fis", str(source), "--out", str(tmp_path)]) == 0
    assert validate(tmp_path, capsys)[0] == 0
    ctk = tmp_path / "odd-ctk.yaml"
    ctk.write_text("title: x\nmethod:\n  - {type: action, name: a, provider: {type: python, module: chaosaws.asg.actions,"
                   " func: terminate_random_instances, arguments: {asg_names: g, instance_count: many}}}\n"
                   "  - {type: action, name: b, provider: {type: python, module: chaosaws.ec2.actions,"
                   " func: stop_instances, arguments: {instance_ids: [1]}}}\n")
    assert invoke(["import", "chaostoolkit", str(ctk), "--out", str(tmp_path)]) == 0
    assert validate(tmp_path, capsys)[0] == 0


def test_refuses_to_overwrite_and_checks_the_name(tmp_path, capsys):
    source = DATA / "ctk-asg.yaml"
    assert invoke(["import", "chaostoolkit", str(source), "--out", str(tmp_path)]) == 0
    assert invoke(["import", "chaostoolkit", str(source), "--out", str(tmp_path)]) == 2
    assert "would overwrite" in capsys.readouterr().err
    assert invoke(["import", "chaostoolkit", str(source), "--out", str(tmp_path), "--force"]) == 0
    assert invoke(["import", "chaostoolkit", str(source), "--out", str(tmp_path), "--name", "Bad Name"]) == 2
    assert "--name bad-name" in capsys.readouterr().err
