"""`ecr-lambda-access audit --format sarif|junit` and `--output FILE`, on a failing assembly.

The assembly (one synth): a hand-written repository policy that forgets the consumer account's
root statement (missing-root-grant, and a latest tag), a function pulling from a repository no
stack of the app owns (external) and one in an env-agnostic stack (unverifiable).
The SARIF is validated against the official SARIF 2.1.0 schema (tests/schemas/, source named
there) and checked for the fields GitHub code scanning requires; the JUnit XML is read back with
junitparser.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from junitparser import Failure, JUnitXml, Skipped
from support import DIGEST, REGISTRY, WORKLOAD, env, new_app

from ecr_lambda_access import cli
from ecr_lambda_access.audit import FAILING_STATUSES, FINDINGS, RULES, STATUSES, rules
from ecr_lambda_access.audit.formatters import FORMATTERS
from ecr_lambda_access.audit.load import stacks_from_template_paths

SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project directory with a failing cdk.out, as `cdk synth` leaves it."""
    from aws_cdk import Stack
    from aws_cdk import aws_ecr as ecr
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_lambda as lambda_

    root = tmp_path_factory.mktemp("project")
    app = new_app(root / "cdk.out")
    registry = Stack(app, "Registry", env=env(REGISTRY))
    images = ecr.Repository(registry, "Images", repository_name="shared/orders")
    images.add_to_resource_policy(  # the service half only: the root half is forgotten
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("lambda.amazonaws.com")],
            actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            conditions={
                "StringLike": {"aws:SourceArn": f"arn:aws:lambda:us-east-1:{WORKLOAD}:function:*"}
            },
        )
    )
    workload = Stack(app, "Workload", env=env(WORKLOAD))

    def function(stack: Stack, id: str, arn: str, tag: str) -> None:
        repository = ecr.Repository.from_repository_arn(stack, f"{id}Repository", arn)
        lambda_.DockerImageFunction(
            stack, id, code=lambda_.DockerImageCode.from_ecr(repository, tag_or_digest=tag)
        )

    images_arn = f"arn:aws:ecr:us-east-1:{REGISTRY}:repository/shared/orders"
    function(workload, "Worker", images_arn, "latest")
    function(workload, "Partner", "arn:aws:ecr:us-east-1:999999999999:repository/partner", DIGEST)
    function(Stack(app, "Agnostic"), "Anywhere", images_arn, DIGEST)
    app.synth()
    return root


def audit(project: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.chdir(project)
    return cli.main(["audit", "cdk.out", *args])


@pytest.fixture(scope="module")
def sarif(project: Path) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert audit(project, monkeypatch, "--format", "sarif", "--output", "sarif.json") == 1
    return json.loads((project / "sarif.json").read_text())  # type: ignore[no-any-return]


def results_by_rule(log: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for result in log["runs"][0]["results"]:
        found.setdefault(result["ruleId"], []).append(result)
    return found


# ---------------------------------------------------------------------------------------------
# SARIF
# ---------------------------------------------------------------------------------------------


def test_sarif_validates_against_the_official_schema(sarif: dict[str, Any]) -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(sarif)]
    assert errors == []


def test_schema_validation_catches_a_broken_log(sarif: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    broken = json.loads(json.dumps(sarif))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    del broken["runs"][0]["tool"]["driver"]["name"]
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert len(list(validator.iter_errors(broken))) >= 2


def test_sarif_has_the_fields_github_code_scanning_requires(
    sarif: dict[str, Any], project: Path
) -> None:
    assert sarif["$schema"].endswith("sarif-schema-2.1.0.json")
    assert sarif["version"] == "2.1.0"
    (run,) = sarif["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "ecr-lambda-access"
    for rule in driver["rules"]:
        assert rule["id"] and rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"] and rule["help"]["text"]
        assert rules.DOCS_URI in rule["help"]["text"]
    assert run["results"]
    for result in run["results"]:
        assert result["ruleId"] == driver["rules"][result["ruleIndex"]]["id"]
        assert result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        # relative to where the command ran (the repository root), forward slashes
        assert not uri.startswith("/") and ".." not in uri and uri.startswith("cdk.out/"), uri
        assert (project / uri).is_file()
        line = location["region"]["startLine"]
        logical_id = result["locations"][0]["logicalLocations"][0]["name"]
        text = (project / uri).read_text().splitlines()
        assert text[line - 1].strip().startswith(f'"{logical_id}": {{'), (uri, line)


def test_sarif_one_rule_per_problem_status_and_finding_kind(sarif: dict[str, Any]) -> None:
    ids = [rule["id"] for rule in sarif["runs"][0]["tool"]["driver"]["rules"]]
    assert ids == [name for name in RULES if name != "ok"]
    assert set(FAILING_STATUSES) <= set(ids) and set(FINDINGS) <= set(ids)
    assert set(ids) == (set(STATUSES) - {"ok"}) | set(FINDINGS)
    levels = {
        rule["id"]: rule["defaultConfiguration"]["level"]
        for rule in sarif["runs"][0]["tool"]["driver"]["rules"]
    }
    assert {rule for rule, level in levels.items() if level == "error"} == set(FAILING_STATUSES) | {
        "policy-too-large",
        "any-account",
        "invalid-repository-policy",
        "unreadable-template",
    }


def test_sarif_one_result_per_problem_with_levels(sarif: dict[str, Any]) -> None:
    found = results_by_rule(sarif)
    assert {rule: len(results) for rule, results in found.items()} == {
        "missing-root-grant": 1,
        "external": 1,
        "unverifiable": 1,
        "ecr-lambda-access:latestTag": 1,
    }
    assert found["missing-root-grant"][0]["level"] == "error"
    assert found["external"][0]["level"] == "warning"  # fails only with --strict
    statements = found["external"][0]["properties"]["requiredStatements"]
    assert [s["Sid"] for s in statements] == [
        "CrossAccountPermission",
        "LambdaECRImageCrossAccountRetrievalPolicy",
    ]
    assert found["ecr-lambda-access:latestTag"][0]["level"] == "warning"
    message = found["missing-root-grant"][0]["message"]["text"]
    assert message.startswith("Workload/Worker: missing-root-grant:")
    assert f"arn:aws:iam::{WORKLOAD}:root" in message


def test_sarif_strict_makes_unchecked_images_errors(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert audit(project, monkeypatch, "--format", "sarif", "--strict") == 1
    found = results_by_rule(json.loads(capsys.readouterr().out))
    assert found["external"][0]["level"] == "error"
    assert found["unverifiable"][0]["level"] == "error"


def test_sarif_fingerprints_are_stable_and_distinct(sarif: dict[str, Any]) -> None:
    prints = [r["partialFingerprints"]["ecrLambdaAccess/v1"] for r in sarif["runs"][0]["results"]]
    assert len(set(prints)) == len(prints)


# ---------------------------------------------------------------------------------------------
# JUnit
# ---------------------------------------------------------------------------------------------


def junit(project: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, JUnitXml]:
    status = audit(project, monkeypatch, "--format", "junit", "--output", "reports/x.xml", *args)
    return status, JUnitXml.fromfile(str(project / "reports" / "x.xml"))


def cases(xml: JUnitXml) -> dict[str, Any]:
    return {case.name: case for suite in xml for case in suite}


def test_junit_reads_back_one_case_per_function_and_finding(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, xml = junit(project, monkeypatch)
    assert status == 1
    found = cases(xml)
    assert set(found) == {
        "Workload/Worker",
        "Workload/Partner",
        "Agnostic/Anywhere",
        "ecr-lambda-access:latestTag: Workload/Worker",
    }
    (failure,) = found["Workload/Worker"].result
    assert isinstance(failure, Failure) and failure.type == "missing-root-grant"
    assert f"arn:aws:iam::{WORKLOAD}:root" in failure.text
    for name in ("Workload/Partner", "Agnostic/Anywhere"):
        (skipped,) = found[name].result
        assert isinstance(skipped, Skipped), name
    # the owner of an external repository gets the statements to add
    assert "LambdaECRImageCrossAccountRetrievalPolicy" in found["Workload/Partner"].result[0].text
    assert found["ecr-lambda-access:latestTag: Workload/Worker"].result == []  # a warning passes
    assert "latest" in found["ecr-lambda-access:latestTag: Workload/Worker"].system_out
    assert (xml.tests, xml.failures, xml.skipped, xml.errors) == (4, 1, 2, 0)
    assert [suite.name for suite in xml] == ["Workload", "Agnostic"]
    assert found["Workload/Worker"].classname == "Workload.functions"
    assert found["Workload/Worker"]._elem.get("file") == "cdk.out/Workload.template.json"


def test_junit_strict_fails_unchecked_images(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, xml = junit(project, monkeypatch, "--strict")
    assert status == 1
    found = cases(xml)
    for name, status_name in (
        ("Workload/Partner", "external"),
        ("Agnostic/Anywhere", "unverifiable"),
    ):
        (failure,) = found[name].result
        assert isinstance(failure, Failure) and failure.type == status_name
    assert (xml.tests, xml.failures, xml.skipped) == (4, 3, 0)


# ---------------------------------------------------------------------------------------------
# --output, exit codes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("format", sorted(FORMATTERS))  # markdown included
def test_every_format_has_the_same_exit_status_and_output_prints_text(
    format: str,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert audit(project, monkeypatch, "--format", format) == 1
    direct = capsys.readouterr().out
    assert audit(project, monkeypatch, "--format", format, "--output", f"out/{format}") == 1
    printed = capsys.readouterr().out
    assert (project / "out" / format).read_text() == direct
    assert printed.startswith("ecr-lambda-access audit cdk.out\n") and "FAILED" in printed
    assert not list((project / "out").glob(".*.partial"))


def test_output_to_an_unwritable_place_is_a_usage_error(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "a-file").write_text("")
    assert audit(project, monkeypatch, "--format", "sarif", "--output", "a-file/x.sarif") == 2
    error = capsys.readouterr().err
    assert error.startswith("ecr-lambda-access: error: cannot write --output a-file/x.sarif")
    assert error.count("\n") == 1


def test_passing_assembly_exits_0_in_every_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cdk.out").mkdir()
    (tmp_path / "cdk.out" / "manifest.json").write_text('{"version": "55.0.0", "artifacts": {}}')
    for format in ("sarif", "junit"):
        assert audit(tmp_path, monkeypatch, "--format", format) == 0
    out = capsys.readouterr().out
    assert '"results": []' in out and 'tests="0" failures="0"' in out


# ---------------------------------------------------------------------------------------------
# Finding a resource's line
# ---------------------------------------------------------------------------------------------


def _lines(path: Path) -> tuple[int | None, dict[str, int]]:
    (stack,) = stacks_from_template_paths([str(path)])
    return stack.lines.resources, dict(stack.lines.by_id)


def test_resource_line_is_the_key_under_resources_not_a_reference(tmp_path: Path) -> None:
    """The loader records each resource's line while it parses: the key under ``Resources``,
    never a ``Ref``, a ``DependsOn``, a parameter or an output of the same name."""
    template = {
        "Outputs": {"Fn": {"Value": {"Ref": "Fn"}}},
        "Parameters": {"Fn": {"Type": "String", "Description": 'a "quoted" Fn {'}},
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/Fn/", "X": ["}"]}},
            "Fn": {"Type": "AWS::Lambda::Function", "DependsOn": ["Role"]},
            'F\u00e9"n': {"Type": "AWS::SNS::Topic"},
        },
    }
    pretty = tmp_path / "pretty.template.json"
    pretty.write_text(json.dumps(template, indent=2))
    lines = pretty.read_text().splitlines()
    resources, by_id = _lines(pretty)
    assert lines[resources - 1].strip() == '"Resources": {'  # type: ignore[operator]
    assert lines[by_id["Fn"] - 1].strip() == '"Fn": {'
    assert lines[by_id["Role"] - 1].strip() == '"Role": {'
    assert lines[by_id['F\u00e9"n'] - 1].strip() == '"F\\u00e9\\"n": {'
    assert resources < by_id["Role"] < by_id["Fn"]  # type: ignore[operator]
    compact = tmp_path / "compact.template.json"
    compact.write_text(json.dumps(template))
    assert _lines(compact) == (1, {"Role": 1, "Fn": 1, 'F\u00e9"n': 1})
    crlf, lf = tmp_path / "crlf.template.json", tmp_path / "lf.template.json"
    lf.write_bytes(json.dumps(template, indent=4).encode())
    crlf.write_bytes(lf.read_bytes().replace(b"\n", b"\r\n"))
    assert _lines(crlf) == _lines(lf) == _lines(pretty)  # \r\n is one line break
    yaml = tmp_path / "t.yaml"
    yaml.write_text(
        "Parameters:\n  Fn:\n    Type: String\nResources:\n  # the role\n  Role:\n"
        "    Type: AWS::IAM::Role\n  'Fn' :\n    Type: AWS::Lambda::Function\n"
        "    DependsOn: Role\nOutputs:\n  Fn:\n    Value: !Ref Fn\n"
    )
    assert _lines(yaml) == (4, {"Role": 6, "Fn": 8})
    missing = tmp_path / "missing.template.json"
    (stack,) = stacks_from_template_paths([str(missing)])
    assert stack.problem and stack.lines.by_id == {} and stack.lines.of("Fn") is None


@pytest.mark.parametrize(
    "text",
    [
        '{"Resources": {"A": {"Type": "X"}, "A": {"Type": "Y"}}}',  # a duplicate resource
        '{"Resources": {"A": {"Type": "X"}}, "Resources": {}}',  # a duplicate section
        '{"Resources": {"A": {"Type": "X", "Type": "Y"}}}',  # a duplicate inside
        '{"Resources": {"A": {"Type": "X"}} trailing',
        '{"Resources": {"A": {"Type": "X"},}}',
        '{"Resources": {"A" {"Type": "X"}}}',
        '{"Resources": {"A": {"Type": "X"}}',
    ],
)
def test_walking_a_json_template_for_lines_keeps_json_loads_errors(text: str) -> None:
    """The loader's walk gives up where json.loads would fail, and json.loads names why: the
    same finding as before lines were recorded."""
    from ecr_lambda_access.audit import template_text as text_of

    with pytest.raises(ValueError) as expected:
        text_of.parse_json(text)
    with pytest.raises(ValueError) as walked:
        text_of.parse_json_template(text)
    assert str(walked.value) == str(expected.value)


def test_json_template_lines_agree_with_json_loads_on_every_committed_template() -> None:
    from ecr_lambda_access.audit import template_text as text_of

    assert text_of.parse_json_template('[{"Resources": {}}]') == (
        [{"Resources": {}}],
        text_of.NO_LINES,
    )
    root = Path(__file__).parent
    templates = [*root.glob("integ/**/*.template.json"), *root.glob("fixtures/**/*.template.json")]
    assert len(templates) >= 5
    for path in templates:
        text = path.read_text()
        template, lines = text_of.parse_json_template(text)
        assert template == text_of.parse_json(text)
        assert set(lines.by_id) == set(template.get("Resources", {})), path
        rows = text.splitlines()
        for logical_id, line in lines.by_id.items():
            assert rows[line - 1].strip().startswith(json.dumps(logical_id) + ":"), path


def test_formatting_opens_no_file(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The line of each result comes from the report (the loader recorded it): the formatters
    open nothing, not even the templates they point at."""
    import builtins
    import io
    import os

    from ecr_lambda_access.audit import audit_assembly

    report = audit_assembly(project / "cdk.out")
    assert report.lines and any(lines.by_id for lines in report.lines.values())
    opened: list[object] = []

    def refuse(*args: object, **kwargs: object) -> object:
        opened.append(args[0] if args else kwargs)
        raise AssertionError(f"a formatter opened {args[:1]}")

    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.setattr(io, "open", refuse)
    monkeypatch.setattr(os, "open", refuse)
    monkeypatch.setattr(Path, "open", refuse)
    outputs = {}
    for name, formatter in FORMATTERS.items():
        for strict in (False, True):
            out = io.StringIO()
            formatter().write(report, out, path="cdk.out", strict=strict)
            outputs[name, strict] = out.getvalue()
    monkeypatch.undo()
    assert opened == []
    assert '"startLine": 1,' not in outputs["sarif", False]  # every result located
    assert ' line="' in outputs["junit", False]
    # the control: without the loader's lines, every result is at line 1 and no case has one
    bare = type(report)(report.functions, report.repositories, report.findings)
    out = io.StringIO()
    FORMATTERS["sarif"]().write(bare, out, path="cdk.out", strict=False)
    results = json.loads(out.getvalue())["runs"][0]["results"]
    assert {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results} == {1}


def test_rule_help_links_point_at_a_section_of_a_guide() -> None:
    from test_readme import anchors

    docs = Path(__file__).parent.parent / "docs"
    for rule in RULES.values():
        assert rule.help_uri.startswith(rules.DOCS_URI), rule.id
        page, _, fragment = rule.help_uri[len(rules.DOCS_URI) :].partition("#")
        assert (docs / page).is_file(), (rule.id, page)
        assert fragment in anchors((docs / page).read_text()), (rule.id, fragment)
    assert rules.docs_uri("audit.md", "x") == rules.DOCS_URI + "audit.md#x"


def test_the_audit_guide_lists_every_status_and_whether_it_fails() -> None:
    from ecr_lambda_access.audit import live

    guide = (Path(__file__).parent.parent / "docs" / "audit.md").read_text()
    table = dict(re.findall(r"(?m)^\| `([a-z-]+)` \| (.+) \|$", guide))
    assert set(STATUSES) | set(live.LIVE_STATUSES) <= set(table)
    # the failing status for an image URI Lambda refuses (issue 19), with its fix
    unsupported = table["unsupported-image"]
    assert "FIPS" in unsupported and "private ECR" in unsupported and "Region" in unsupported
    for status in FAILING_STATUSES:
        assert table[status].endswith("yes") or "| yes" in table[status], status


_KEYS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8
)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    sections=st.dictionaries(st.sampled_from(["Parameters", "Outputs", "Metadata"]), _VALUES),
    resources=st.dictionaries(_KEYS, st.dictionaries(_KEYS, _VALUES, max_size=3), max_size=6),
    indent=st.sampled_from([None, 1, 2, 4, "\t"]),
    ascii_only=st.booleans(),
)
def test_json_template_lines_agree_with_json_loads_whatever_the_layout(
    sections: dict[str, Any], resources: dict[str, Any], indent: Any, ascii_only: bool
) -> None:
    """The loader's walk reads what json.loads reads, and puts each resource at the line of its
    key under Resources (an independent count: the line of the key's text in the output)."""
    from ecr_lambda_access.audit import template_text as text_of

    template = {**sections, "Resources": resources, "Outputs2": {k: 1 for k in resources}}
    text = json.dumps(template, indent=indent, ensure_ascii=ascii_only)
    parsed, lines = text_of.parse_json_template(text)
    assert parsed == json.loads(text)
    assert set(lines.by_id) == set(resources)
    if indent is None:
        assert set(lines.by_id.values()) <= {1} and lines.resources == 1
        return
    step = indent if isinstance(indent, str) else " " * indent
    rows = text.split("\n")
    top = [i for i, row in enumerate(rows, 1) if row.startswith(step + '"')]
    top = [i for i in top if not rows[i - 1].startswith(step * 2)]
    start = next(i for i in top if rows[i - 1].startswith(step + '"Resources": '))
    assert lines.resources == start
    end = min([i for i in top if i > start], default=len(rows))
    for key, line in lines.by_id.items():
        assert start < line < end
        assert rows[line - 1].startswith(step * 2 + json.dumps(key, ensure_ascii=ascii_only) + ": ")
