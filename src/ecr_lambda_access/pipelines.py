"""CDK Pipelines: :class:`ImagePullAuditStep`, the pipeline check as a step before the deploys."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from aws_cdk import Duration, Token, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam

from ._version import __version__
from .errors import EcrLambdaAccessError, Violation, raise_if_violations
from .validation import check_organization_id

__all__ = ["ImagePullAuditStep", "InvalidAuditStepError"]

PACKAGE = "ecr-lambda-access"
_REPORT_GROUP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,127}")
_REPORT_FILE = re.compile(r"[A-Za-z0-9._/-]+\.xml")


class InvalidAuditStepError(EcrLambdaAccessError):
    """An :class:`ImagePullAuditStep` argument would make a step that cannot run or report."""


class ImagePullAuditStep(pipelines.CodeBuildStep):
    """Runs ``ecr-lambda-access audit`` on the synthesized cloud assembly in a CodeBuild project.

    The step installs this package at the version the app uses (``ecr-lambda-access==X.Y.Z``,
    without dependencies: the audit is pure Python, needs neither Node nor aws-cdk-lib, and
    installs in seconds), audits the synth step's output and fails when a function cannot pull its
    image, so a pipeline that runs it before its first deploy (``pre`` of the first stage or
    wave) deploys nothing when the wiring is broken. The JUnit report goes to a CodeBuild report
    group (the ``reports`` section of the build spec), where each function is one test case; the
    build log shows the text table.

    Example::

        pipeline = pipelines.CodePipeline(self, "Pipeline", synth=synth)
        audit = ImagePullAuditStep("AuditImagePulls", input=pipeline.synth)
        pipeline.add_stage(registry_stage, pre=[audit])

    Parameters
    ----------
    id:
        The step's id (the CodeBuild action's name).
    input:
        The synthesized cloud assembly: the pipeline's synth step (``pipeline.synth``) or its
        primary output. Its files are the step's working directory.
    assembly_directory:
        Where the assembly is inside ``input``. Default: ``"."`` (the synth step's primary output
        is ``cdk.out`` itself).
    strict:
        Fail on images that cannot be checked too (``external``, ``unverifiable``). Default:
        False, as the command.
    organization_id:
        ``--organization-id``: the AWS Organization every account belongs to, for repositories
        in organization mode. Default: none.
    report_group:
        Where the JUnit report goes: a report group name (CodeBuild creates
        ``<project name>-<name>``; CDK already grants the project that) or an
        ``aws_codebuild.IReportGroup`` you own (the step's role gets write access to it).
        Default: ``"image-pull-audit"``.
    report_file:
        The JUnit file's path in the working directory. Default: ``"image-pull-audit.xml"``.
    package_spec:
        What ``pip install`` installs. Default: ``"ecr-lambda-access==<this version>"``; give a
        path or URL for a private index or a fork.
    python:
        The interpreter the build image runs. Default: ``"python3"`` (CodeBuild standard images).
    build_environment, timeout, role_policy_statements:
        As for ``pipelines.CodeBuildStep``. Default: the pipeline's build environment, CodeBuild's
        timeout, no extra statements.
    """

    def __init__(
        self,
        id: str,
        *,
        input: pipelines.IFileSetProducer,
        assembly_directory: str = ".",
        strict: bool = False,
        organization_id: str | None = None,
        report_group: str | codebuild.IReportGroup = "image-pull-audit",
        report_file: str = "image-pull-audit.xml",
        package_spec: str | None = None,
        python: str = "python3",
        build_environment: codebuild.BuildEnvironment | None = None,
        timeout: Duration | None = None,
        role_policy_statements: Sequence[iam.PolicyStatement] = (),
    ) -> None:
        spec = package_spec if package_spec is not None else f"{PACKAGE}=={__version__}"
        raise_if_violations(
            _check(input, assembly_directory, organization_id, report_group, report_file, spec)
        )
        statements = list(role_policy_statements)
        if isinstance(report_group, str):
            report_key = report_group
        else:
            report_key = report_group.report_group_arn
            statements.append(
                iam.PolicyStatement(
                    actions=[
                        "codebuild:CreateReport",
                        "codebuild:UpdateReport",
                        "codebuild:BatchPutTestCases",
                    ],
                    resources=[report_group.report_group_arn],
                )
            )
        audit = [python, "-m", "ecr_lambda_access", "audit", assembly_directory]
        audit += ["--format", "junit", "--output", report_file]
        if strict:
            audit.append("--strict")
        if organization_id is not None:
            audit += ["--organization-id", organization_id]
        self.package_spec = spec
        """What the step installs."""
        self.report_file = report_file
        """The JUnit report's path in the working directory."""
        self.audit_command = shlex.join(audit)
        """The command the step runs (exit 1 fails the step, and the pipeline with it)."""
        super().__init__(
            id,
            input=input,
            install_commands=[
                shlex.join(
                    [
                        python,
                        "-m",
                        "pip",
                        "install",
                        "--disable-pip-version-check",
                        "--no-deps",
                        spec,
                    ]
                )
            ],
            commands=[self.audit_command],
            partial_build_spec=codebuild.BuildSpec.from_object(
                {
                    "reports": {
                        report_key: {"files": [report_file], "file-format": "JUNITXML"},
                    }
                }
            ),
            build_environment=build_environment,
            timeout=timeout,
            role_policy_statements=statements or None,
        )


def _check(
    input: object,
    assembly_directory: str,
    organization_id: str | None,
    report_group: object,
    report_file: str,
    package_spec: str,
) -> list[Violation]:
    found: list[Violation] = list(check_organization_id(organization_id, "organization_id"))
    if input is None:
        found.append(
            (
                InvalidAuditStepError,
                "input must be the synthesized cloud assembly (the pipeline's synth step, "
                "`input=pipeline.synth`), got None",
            )
        )
    if (
        isinstance(report_group, str)
        and not Token.is_unresolved(report_group)
        and not _REPORT_GROUP_NAME.fullmatch(report_group)
    ):
        found.append(
            (
                InvalidAuditStepError,
                f"report_group must be a CodeBuild report group name (2 to 128 letters, "
                f"digits, '-' or '_'), got {report_group!r}: give a name such as "
                "'image-pull-audit', or an aws_codebuild.ReportGroup",
            )
        )
    if not _REPORT_FILE.fullmatch(report_file) or report_file.startswith(("/", "../")):
        found.append(
            (
                InvalidAuditStepError,
                f"report_file must be a relative path ending in .xml, got {report_file!r}: "
                "for example 'image-pull-audit.xml'",
            )
        )
    if not assembly_directory.strip() or assembly_directory.startswith("/"):
        found.append(
            (
                InvalidAuditStepError,
                f"assembly_directory must be a path inside the input, got "
                f"{assembly_directory!r}: use '.' when the input is the assembly itself",
            )
        )
    if not package_spec.strip():
        found.append(
            (
                InvalidAuditStepError,
                f"package_spec must name what pip installs, got {package_spec!r}: leave it out "
                f"to install {PACKAGE}=={__version__}",
            )
        )
    return found
