"""Deciding verdicts: per function (can it pull its image?) and per repository (findings).

The runner of the static audit over the model of the assembly (:mod:`.model`): for every
``AWS::Lambda::Function`` with an image, the ordered stages of :mod:`.stages` (image reference,
Region, locate the repository and its source, policy, environment, evaluate, replication); for
every repository, the checks of :data:`.checks.REPOSITORY_CHECKS`; the findings of the execution
roles and image tags. Each status's id, severity and texts are its module's in :mod:`.checks`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .checks import (
    execution_role_ecr_actions,
    latest_tag,
)
from .load import StackTemplate, load_assembly
from .model import (
    AssemblyModel,
    ImageReading,
    ModelFunction,
    ModelRepository,
    build_model,
)
from .report import AuditReport, Finding, FunctionReport
from .repositories import repository_reports
from .rules import ERROR, UNREADABLE_TEMPLATE, UNVERIFIABLE
from .stages import Draft, bootstrap_repository_policy, evaluate, run_stages
from .values import Value

__all__ = ["audit_assembly", "audit_stacks", "audit_model", "bootstrap_repository_policy"]


class _Audit:
    """The runner: the model's findings, each function's stages, each repository's checks."""

    def __init__(self, model: AssemblyModel, organization_id: str | None) -> None:
        self.model = model
        self.assembly = model.assembly
        self.organization_id = organization_id
        self.by_name = model.by_name
        self.replication_configurations = model.replication_configurations
        self.registry_policies = model.registry_policies
        self.consumers: dict[tuple[int, str], list[str]] = {}
        self.findings: list[Finding] = []
        self.functions: list[FunctionReport] = []
        self._checked_roles: dict[int, set[str]] = {}

    def evaluate(
        self, index: int, repository: ModelRepository, name: Value | None, logical_id: str
    ) -> tuple[str, str]:
        """(status, detail) of ``repository``'s policy for a function (:func:`.stages.evaluate`)."""
        return evaluate(self, index, repository, name, logical_id)

    def template_findings(self) -> None:
        for stack in self.assembly.stacks:
            if stack.problem is not None:
                self.findings.append(
                    Finding(
                        severity=ERROR,
                        code=UNREADABLE_TEMPLATE,
                        resource=stack.template_path,
                        stack=stack.display_name,
                        message=f"{stack.problem}: the functions and repositories of stack "
                        f"{stack.display_name} are not checked",
                        logical_id="",
                        template_path=stack.template_path,
                    )
                )

    def model_findings(self) -> None:
        """Resources the model could not read (wrong-typed values): an error, never a crash."""
        for index, logical_id, why in self.model.problems:
            stack = self.assembly.stacks[index]
            self.findings.append(
                Finding(
                    severity=ERROR,
                    code=UNREADABLE_TEMPLATE,
                    resource=stack.path_of(logical_id),
                    stack=stack.display_name,
                    message=f"resource {stack.path_of(logical_id)} of stack "
                    f"{stack.display_name} cannot be read ({why}): it is not checked",
                    logical_id=logical_id,
                    template_path=stack.template_path,
                )
            )

    # functions ----------------------------------------------------------------------------

    def collect_functions(self) -> None:
        for function in self.model.functions:
            self.functions.append(self.check_function_every_way(function))
            execution_role_ecr_actions.check(self, function)

    def check_function_every_way(self, function: ModelFunction) -> FunctionReport:
        """The verdict, and when it depends on conditions not known here (Fn::If), the verdict
        for each way they can go (the model's scenarios): one verdict when all ways agree,
        ``unverifiable`` otherwise."""
        first = self.check_function(
            function, function.image_uri, function.function_name, function.image
        )
        if first.status != UNVERIFIABLE or not function.scenarios:
            return first
        reports = [
            (
                dict(way.assumptions),
                self.check_function(function, way.image_uri, way.function_name, way.image),
            )
            for way in function.scenarios
        ]
        statuses = {r.status for _, r in reports}
        names = ", ".join(function.open_conditions)
        if len(statuses) == 1:
            chosen = reports[0][1]
            return dataclasses.replace(
                chosen,
                detail=f"{chosen.detail} (the same whichever way condition {names} goes)",
            )
        ways = "; ".join(
            f"with {', '.join(f'{k}={v}' for k, v in assumed.items())}: {r.status}"
            for assumed, r in reports
        )
        return dataclasses.replace(
            first,
            status=UNVERIFIABLE,
            detail=f"the verdict depends on condition {names}, not known before deploy: {ways}",
            image=reports[0][1].image,
            image_ref=reports[0][1].image_ref,
            repository=reports[0][1].repository,
        )

    def check_function(
        self, function: ModelFunction, uri: Any, raw_name: Any, image: ImageReading
    ) -> FunctionReport:
        """The verdict for one way the function's values go: the first stage that decides."""
        return run_stages(self, Draft(self, function, uri, raw_name, image))

    # findings ---------------------------------------------------------------------------

    def tag_findings(self) -> None:
        for report in self.functions:
            message = latest_tag.check(report.function, report.tag_or_digest)
            if message is not None:
                self.findings.append(
                    Finding(
                        severity=latest_tag.RULE.severity,
                        code=latest_tag.RULE.id,
                        resource=report.function,
                        stack=report.stack,
                        message=message,
                        logical_id=report.logical_id,
                        template_path=report.template_path,
                    )
                )

    def run(self) -> AuditReport:
        self.template_findings()
        self.model_findings()
        self.collect_functions()
        self.tag_findings()
        repositories, findings = repository_reports(self.model, self.consumers)
        self.findings += findings
        return AuditReport(
            functions=tuple(self.functions),
            repositories=tuple(repositories),
            findings=tuple(self.findings),
            lines={s.template_path: s.lines for s in self.model.stacks if s.problem is None},
        )


def audit_stacks(
    stacks: Sequence[StackTemplate], *, organization_id: str | None = None
) -> AuditReport:
    """Audit these stacks (one assembly, stage assemblies included) together.

    ``organization_id``: the AWS Organization every account of the assembly belongs to, so that
    ``aws:PrincipalOrgID`` / ``aws:SourceOrgID`` conditions can be checked. Default: None (such
    conditions make the answer ``unverifiable``).
    """
    return audit_model(build_model(stacks), organization_id=organization_id)


def audit_model(model: AssemblyModel, *, organization_id: str | None = None) -> AuditReport:
    """Audit an assembly already read into its model (:func:`.model.build_model`)."""
    return _Audit(model, organization_id).run()


def audit_assembly(path: str | Path, *, organization_id: str | None = None) -> AuditReport:
    """Audit the cloud assembly at ``path`` (``cdk.out``). Raises :class:`AssemblyError`."""
    return audit_stacks(load_assembly(path), organization_id=organization_id)
