"""``ImagePullChecks``: the audit as a CDK policy-validation plugin, so ``cdk synth`` itself fails.

Usage::

    from aws_cdk import Validations
    from ecr_lambda_access import ImagePullChecks

    Validations.of(app).add_plugins(ImagePullChecks())

CDK calls the plugin after writing the cloud assembly, with the templates of every stack of the
app (CDK Pipelines stages included). It runs :func:`ecr_lambda_access.audit.audit_stacks` on them
and reports each function that cannot pull its image as a violation of severity ``error`` (synth
fails), and the rest (``external``/``unverifiable`` images unless ``strict``, warnings about
policies and execution roles) with severity ``warning`` (reported, synth goes on). Rule names are
the statuses and finding codes of :mod:`ecr_lambda_access.audit.rules`; the latest-tag warning is
``ecr-lambda-access:latestTag``, the same id as the construct's warning.
"""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import (
    IPolicyValidationContext,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    PolicyViolatingResource,
    PolicyViolation,
)

from ._version import __version__
from .audit import (
    ERROR,
    FAILING_STATUSES,
    FINDINGS,
    STATUSES,
    STRICT_FAILING_STATUSES,
    audit_stacks,
    stacks_from_template_paths,
)
from .validation import check_organization_id

__all__ = ["ImagePullChecks"]


@jsii.implements(IPolicyValidationPlugin)
class ImagePullChecks:
    """A validation plugin: can every container-image Lambda function of the app pull its image?

    The same checks as ``ecr-lambda-access audit`` (see :mod:`ecr_lambda_access.audit`), run by
    CDK during synthesis. Add it to the app (or a Stage):
    ``Validations.of(app).add_plugins(ImagePullChecks())``.

    Parameters
    ----------
    strict:
        Also fail synth for images that cannot be checked (``external``: the repository is not
        in the app; ``unverifiable``: values known only at deploy time). Default: False (they
        are reported as warnings).
    organization_id:
        The AWS Organization (``o-...``) every account of the app belongs to, so that
        ``aws:PrincipalOrgID`` / ``aws:SourceOrgID`` conditions can be checked. Default: None.
    """

    def __init__(self, *, strict: bool = False, organization_id: str | None = None) -> None:
        problems = check_organization_id(organization_id)
        if problems:
            cls, message = problems[0]
            raise cls(message)
        self._strict = strict
        self._organization_id = organization_id

    @property
    def name(self) -> str:
        """The plugin's name in CDK's validation report."""
        return "ecr-lambda-access"

    @property
    def version(self) -> str | None:
        """The library's version."""
        return __version__

    @property
    def rule_ids(self) -> list[str] | None:
        """Every rule name this plugin reports."""
        return [r for r in sorted({*STATUSES, *FINDINGS} - {"ok"})]

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        """Audit the templates CDK passes and turn the results into violations."""
        environments: dict[str, tuple[str | None, str | None]] = {}
        for stack in context.stack_templates or ():
            environments[stack.template_path] = (stack.account_id, stack.region)
        stacks = stacks_from_template_paths(list(context.template_paths), environments)
        report = audit_stacks(stacks, organization_id=self._organization_id)
        failing = STRICT_FAILING_STATUSES if self._strict else FAILING_STATUSES
        violations: list[PolicyViolation] = []
        for function in report.functions:
            if function.status == "ok":
                continue
            violations.append(
                _violation(
                    rule=function.status,
                    description=f"{function.function}: {STATUSES[function.status]}",
                    fix=function.detail,
                    severity="error" if function.status in failing else "warning",
                    logical_id=function.logical_id,
                    template_path=function.template_path,
                    locations=["Properties.Code.ImageUri"],
                )
            )
        for finding in report.findings:
            violations.append(
                _violation(
                    rule=finding.code,
                    description=f"{finding.resource}: {FINDINGS[finding.code]}",
                    fix=finding.message,
                    severity=finding.severity,
                    logical_id=finding.logical_id,
                    template_path=finding.template_path,
                    locations=[],
                )
            )
        success = report.failed(strict=self._strict) is False and not any(
            f.severity == ERROR for f in report.findings
        )
        return PolicyValidationPluginReport(
            success=success, violations=violations, plugin_version=__version__
        )


def _violation(
    *,
    rule: str,
    description: str,
    fix: str,
    severity: str,
    logical_id: str,
    template_path: str,
    locations: Sequence[str],
) -> PolicyViolation:
    return PolicyViolation(
        rule_name=rule,
        description=description,
        fix=fix,
        severity=severity,
        violating_resources=[
            PolicyViolatingResource(
                resource_logical_id=logical_id,
                template_path=template_path,
                locations=list(locations),
            )
        ],
    )
