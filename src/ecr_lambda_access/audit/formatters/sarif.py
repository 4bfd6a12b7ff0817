"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning (and any SARIF viewer).

* one rule per status that is a problem (every status but ``ok``) and per finding kind, from
  :data:`~ecr_lambda_access.audit.rules.RULES`: a short description (what it means), a full
  description (what it means and when it fails the check) and help (what to do, and the guide
  section it comes from);
* one result per problem: a function whose status is not ``ok`` and every finding, at ``error``
  level when it fails the check (``--strict`` included), ``warning`` otherwise;
* each result is located at its template, as a path relative to the current directory (GitHub
  resolves ``artifactLocation.uri`` against the repository root, and ``cdk synth`` runs there),
  and the line where the resource's logical id is defined (recorded by the loader while it parsed
  the template: formatting opens no file), with the construct path as a logical location and a
  fingerprint that does not move with line numbers.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, TextIO

from ..._version import __version__
from ..report import AuditReport
from ..rules import ERROR, FAILING_STATUSES, OK, RULES, STRICT_FAILING_STATUSES, Rule
from .base import Formatter

__all__ = ["SarifFormatter", "sarif_log", "SARIF_SCHEMA", "SARIF_VERSION"]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
TOOL_NAME = "ecr-lambda-access"
INFORMATION_URI = "https://github.com/ecr-lambda-access/ecr-lambda-access"
FINGERPRINT = "ecrLambdaAccess/v1"


def _rules() -> list[Rule]:
    return [rule for rule in RULES.values() if rule.id != OK]


def _camel(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.split("-"))


def _full_description(rule: Rule) -> str:
    subject = "The function" if rule.kind == "status" else "The resource"
    if rule.kind == "status":
        when = (
            "It fails the check."
            if rule.id in FAILING_STATUSES
            else "It fails the check with --strict (the image could not be checked)."
        )
    else:
        when = "It fails the check." if rule.severity == ERROR else "It is a warning."
    return f"{subject}: {rule.text}. {when}"


def _rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": _camel(rule.id),
        "shortDescription": {"text": rule.text},
        "fullDescription": {"text": _full_description(rule)},
        "help": {
            "text": f"{rule.help} See {rule.help_uri}",
            "markdown": f"{rule.help} See [the guide]({rule.help_uri}).",
        },
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": "error" if rule.severity == ERROR else "warning"},
        "properties": {"tags": ["aws", "ecr", "lambda", "iam", rule.kind]},
    }


def _uri(template_path: str) -> str:
    """The template's path relative to the current directory, with forward slashes."""
    try:
        relative = os.path.relpath(template_path)
    except ValueError:  # another drive (Windows): keep it as it is
        relative = template_path
    return Path(relative).as_posix()


def _line(report: AuditReport, template_path: str, logical_id: str) -> int:
    """The line of the resource's key under ``Resources``, as the loader recorded it; the
    ``Resources`` key when the resource is not found there; else 1 (SARIF lines are 1-based)."""
    lines = report.lines.get(template_path)
    if lines is None:
        return 1
    return lines.of(logical_id) or lines.resources or 1


def _result(
    rule_index: int,
    rule: Rule,
    level: str,
    message: str,
    *,
    template_path: str,
    line: int,
    logical_id: str,
    construct_path: str,
    stack: str,
    properties: dict[str, Any],
) -> dict[str, Any]:
    fingerprint = hashlib.sha256(
        f"{rule.id}|{stack}|{construct_path}".encode("utf-8", "surrogatepass")
    ).hexdigest()
    return {
        "ruleId": rule.id,
        "ruleIndex": rule_index,
        "level": level,
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(template_path)},
                    "region": {"startLine": line},
                },
                "logicalLocations": [
                    {
                        "name": logical_id,
                        "fullyQualifiedName": construct_path,
                        "kind": "resource",
                    }
                ],
            }
        ],
        "partialFingerprints": {FINGERPRINT: fingerprint},
        "properties": {"stack": stack, **properties},
    }


def sarif_log(report: AuditReport, *, strict: bool) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log (one run)."""
    rules = _rules()
    index = {rule.id: i for i, rule in enumerate(rules)}
    failing = STRICT_FAILING_STATUSES if strict else FAILING_STATUSES
    results: list[dict[str, Any]] = []
    for function in report.functions:
        if function.status == OK:
            continue
        rule = RULES[function.status]
        results.append(
            _result(
                index[rule.id],
                rule,
                "error" if function.status in failing else "warning",
                f"{function.function}: {function.status}: {function.detail}",
                template_path=function.template_path,
                line=_line(report, function.template_path, function.logical_id),
                logical_id=function.logical_id,
                construct_path=function.function,
                stack=function.stack,
                properties={
                    "account": function.account,
                    "region": function.region,
                    "image": function.image,
                    "repository": function.repository,
                    **(
                        {"requiredStatements": [dict(s) for s in function.required_statements]}
                        if function.required_statements
                        else {}
                    ),
                },
            )
        )
    for finding in report.findings:
        rule = RULES[finding.code]
        results.append(
            _result(
                index[rule.id],
                rule,
                "error" if finding.severity == ERROR else "warning",
                f"{finding.resource}: {finding.message}",
                template_path=finding.template_path,
                line=_line(report, finding.template_path, finding.logical_id),
                logical_id=finding.logical_id,
                construct_path=finding.resource,
                stack=finding.stack,
                properties={},
            )
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule_json(rule) for rule in rules],
                    }
                },
                "results": results,
                "columnKind": "utf16CodeUnits",
                "properties": {"strict": strict, "failed": report.failed(strict=strict)},
            }
        ],
    }


class SarifFormatter(Formatter):
    """The report as a SARIF 2.1.0 log, indented, with a final newline."""

    name = "sarif"

    def write(self, report: AuditReport, out: TextIO, *, path: str, strict: bool) -> None:
        json.dump(sarif_log(report, strict=strict), out, indent=2)
        out.write("\n")
