"""``--format junit``: JUnit XML for CodeBuild report groups, GitLab, Jenkins and the like.

One ``<testsuite>`` per stack, in the order of the report; in it one ``<testcase>`` per
container-image function and one per finding (a repository's or an execution role's):

* a function whose status fails the check has a ``<failure>`` (its type is the status, the text
  its detail and what to do); ``external`` and ``unverifiable`` are ``<skipped>`` (the image could
  not be checked) unless ``--strict``, which makes them failures; ``ok`` passes;
* a finding that fails the check (severity ``error``) has a ``<failure>``; a warning passes, with
  the warning in ``<system-out>`` so the report still shows it.

Each test case names its template (``file``, relative to the current directory) and the line
where the resource is defined (``line``, recorded by the loader while it parsed the template:
formatting opens no file), as JUnit readers that link to sources expect.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from ..load import printable
from ..report import AuditReport, Finding, FunctionReport
from ..rules import ERROR, EXTERNAL, FAILING_STATUSES, RULES, STRICT_FAILING_STATUSES, UNVERIFIABLE
from .base import Formatter

__all__ = ["JunitFormatter", "junit_tree"]

SUITES_NAME = "ecr-lambda-access audit"


def _file(template_path: str) -> str:
    try:
        return Path(os.path.relpath(template_path)).as_posix()
    except ValueError:
        return template_path


def _case(
    suite: ET.Element, name: str, classname: str, template_path: str, line: int | None
) -> ET.Element:
    case = ET.SubElement(suite, "testcase", name=name, classname=classname, time="0")
    case.set("file", _file(template_path))
    if line is not None:
        case.set("line", str(line))
    return case


def _function_case(
    suite: ET.Element, function: FunctionReport, strict: bool, line: int | None
) -> str:
    """Adds the function's test case; returns its outcome (passed, failure, skipped)."""
    case = _case(
        suite, function.function, f"{function.stack}.functions", function.template_path, line
    )
    rule = RULES[function.status]
    failing = STRICT_FAILING_STATUSES if strict else FAILING_STATUSES
    text = f"{function.detail}\nImage: {function.image or '-'}\nWhat to do: {rule.help}"
    if function.required_statements:
        statements = json.dumps([dict(s) for s in function.required_statements], indent=2)
        text += f"\nStatements the repository's owner must have:\n{statements}"
    if function.status in failing:
        failure = ET.SubElement(
            case, "failure", type=function.status, message=f"{function.status}: {rule.text}"
        )
        failure.text = text
        return "failure"
    if function.status in (EXTERNAL, UNVERIFIABLE):
        skipped = ET.SubElement(
            case, "skipped", message=f"{function.status}: {rule.text} (--strict fails on it)"
        )
        skipped.text = text
        return "skipped"
    return "passed"


def _finding_case(suite: ET.Element, finding: Finding, line: int | None) -> str:
    case = _case(
        suite,
        f"{finding.code}: {finding.resource}",
        f"{finding.stack}.findings",
        finding.template_path,
        line,
    )
    rule = RULES[finding.code]
    text = f"{finding.message}\nWhat to do: {rule.help}"
    if finding.severity == ERROR:
        failure = ET.SubElement(case, "failure", type=finding.code, message=rule.text)
        failure.text = text
        return "failure"
    out = ET.SubElement(case, "system-out")
    out.text = f"{finding.severity}: {text}"
    return "passed"


def _stacks(report: AuditReport) -> Iterable[str]:
    seen: dict[str, None] = {}
    for stack in [f.stack for f in report.functions] + [f.stack for f in report.findings]:
        seen.setdefault(stack, None)
    return seen


def _escape(text: str) -> str:
    """``text`` without the characters XML 1.0 does not allow (a stranger's names may hold
    them) nor any other control or bidirectional-override character: escaped as the text format
    shows them (``\\x1b``, ``\\u202e``); line breaks are kept."""
    if text.isprintable():
        return text
    return "\n".join(printable(line) for line in text.split("\n"))


def _xml_safe(root: ET.Element) -> None:
    """Every text and attribute escaped where XML 1.0 would not be well-formed."""
    for element in root.iter():
        if element.text:
            element.text = _escape(element.text)
        for key, value in element.attrib.items():
            element.set(key, _escape(value))


def junit_tree(report: AuditReport, *, strict: bool) -> ET.ElementTree:
    """The report as a JUnit XML tree (``<testsuites>``)."""
    root = ET.Element("testsuites", name=SUITES_NAME)
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    functions: dict[str, list[FunctionReport]] = {}
    findings: dict[str, list[Finding]] = {}
    for function in report.functions:  # indexed once: stacks x functions is quadratic
        functions.setdefault(function.stack, []).append(function)
    for finding in report.findings:
        findings.setdefault(finding.stack, []).append(finding)
    for stack in _stacks(report):
        suite = ET.SubElement(root, "testsuite", name=stack)
        outcomes = [
            _function_case(suite, f, strict, report.line_of(f.template_path, f.logical_id))
            for f in functions.get(stack, ())
        ] + [
            _finding_case(suite, f, report.line_of(f.template_path, f.logical_id))
            for f in findings.get(stack, ())
        ]
        counts = {
            "tests": len(outcomes),
            "failures": outcomes.count("failure"),
            "skipped": outcomes.count("skipped"),
        }
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
        suite.set("time", "0")
    for key, value in totals.items():
        root.set(key, str(value))
    _xml_safe(root)
    root.set("errors", "0")
    root.set("time", "0")
    ET.indent(root)
    return ET.ElementTree(root)


class JunitFormatter(Formatter):
    """The report as JUnit XML (UTF-8 declaration, a final newline)."""

    name = "junit"

    def write(self, report: AuditReport, out: TextIO, *, path: str, strict: bool) -> None:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        junit_tree(report, strict=strict).write(out, encoding="unicode")
        out.write("\n")
