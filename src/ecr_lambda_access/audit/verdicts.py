"""Deciding verdicts: per function (can it pull its image?) and per repository (findings).

For every ``AWS::Lambda::Function`` with an image (``Code.ImageUri``): resolve the image URI,
find the repository among the ``AWS::ECR::Repository`` resources of the assembly, and evaluate
its policy with :func:`ecr_lambda_access.policy.evaluate_pull`, the same code the constructs are
tested against.

Function names: when a function has no ``FunctionName``, CloudFormation generates one (in practice
``STACK-LOGICALID-RANDOM``, a format AWS does not document). Such a function is ``ok`` only when
the policy admits every function name of its account (``function:*``); a policy that admits names
by pattern makes it ``unverifiable`` when a pattern could match a generated name, and
``missing-service-grant`` when no pattern can.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache, lru_cache, partial
from pathlib import Path
from typing import Any

from .. import policy
from ..policy import Access, LambdaConsumer, PullAccess
from ..registry.image_ref import ImageRef, UnsupportedImage, read_image
from .checks import (
    REPOSITORY_CHECKS,
    RepositoryFacts,
    execution_role_ecr_actions,
    latest_tag,
    replica,
)
from .load import StackTemplate, load_assembly
from .model import (
    AssemblyModel,
    ModelFunction,
    ModelRepository,
    ParsedPolicy,
    PolicyState,
    as_list,
    build_model,
)
from .report import AuditReport, Finding, FunctionReport, RepositoryReport
from .resolve import MARK, Resolver, has_marker
from .rules import (
    DENIED,
    ERROR,
    EXTERNAL,
    INVALID_POLICY,
    MISSING_ROOT,
    MISSING_SERVICE,
    NO_POLICY,
    OK,
    REGION_MISMATCH,
    UNREADABLE_TEMPLATE,
    UNSUPPORTED_IMAGE,
    UNVERIFIABLE,
)

__all__ = ["audit_assembly", "audit_stacks", "audit_model"]


def _is_bootstrap_repository(image: ImageRef) -> bool:
    """True for a name of the CDK bootstrap's container-assets repository of the image's own
    account and Region (``cdk-QUALIFIER-container-assets-ACCOUNT-REGION``)."""
    expected = (
        r"cdk-[a-z0-9]+-container-assets-"
        + re.escape(image.account)
        + "-"
        + re.escape(image.region)
    )
    return re.fullmatch(expected, image.repository) is not None


def bootstrap_repository_policy(account: str, region: str, partition: str) -> dict[str, Any]:
    """The repository policy the CDK bootstrap template gives its container-assets repository
    (aws/aws-cdk-cli, packages/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml,
    ``ContainerAssetsRepository``): lambda.amazonaws.com, only for functions of its own account
    and Region. A customized bootstrap template may differ."""
    return {
        "Version": "2008-10-17",
        "Statement": [
            {
                "Sid": "LambdaECRImageRetrievalPolicy",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Condition": {
                    "StringLike": {
                        "aws:sourceArn": f"arn:{partition}:lambda:{region}:{account}:function:*"
                    }
                },
            }
        ],
    }


# --------------------------------------------------------------------------------------------
# The audit
# --------------------------------------------------------------------------------------------

_GENERATED = "<name-generated-by-CloudFormation>"
_MAX_OPEN_CONDITIONS = 4
"""At most 2**4 ways are tried for one function."""


@lru_cache(maxsize=8192)
def _glob_may_match_prefix(pattern: str, prefix: str) -> bool:
    """True when some value starting with ``prefix`` matches the StringLike ``pattern``."""

    @cache
    def step(i: int, j: int) -> bool:
        if j == len(prefix):
            return True
        if i == len(pattern):
            return False
        char = pattern[i]
        if char == "*":
            return step(i + 1, j) or step(i, j + 1)
        if char == "?" or char == prefix[j]:
            return step(i + 1, j + 1)
        return False

    return step(0, 0)


def _source_arn_patterns(document: Mapping[str, Any] | None) -> list[tuple[str, bool]]:
    """(value, is_wildcard) of every aws:SourceArn condition of Allow statements for Lambda."""
    found: list[tuple[str, bool]] = []
    for statement in _statements(document):
        if str(statement.get("Effect", "")).lower() != "allow":
            continue
        principal = statement.get("Principal")
        services = principal.get("Service") if isinstance(principal, Mapping) else None
        if principal != "*" and policy.LAMBDA_SERVICE_PRINCIPAL not in as_list(services):
            continue
        condition = statement.get("Condition")
        for operator, block in (condition if isinstance(condition, Mapping) else {}).items():
            if not isinstance(block, Mapping):
                continue
            wildcard = "like" in str(operator).lower()
            for key, values in block.items():
                if str(key).lower() == "aws:sourcearn":
                    found += [(str(v), wildcard) for v in as_list(values)]
    return found


def _statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not isinstance(document, Mapping):
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, Mapping)]


def _tokenize_foreign(value: Any, keep: set[str]) -> Any:
    """Markers not in ``keep`` become CDK-token text: the policy evaluator treats it as unknown."""
    if isinstance(value, str):
        if not has_marker(value):
            return value
        return MARK.sub(
            lambda m: m.group(0) if m.group(0) in keep else "${Token[AUDIT." + m.group(1) + "]}",
            value,
        )
    if isinstance(value, list):
        return [_tokenize_foreign(v, keep) for v in value]
    if isinstance(value, Mapping):
        return {k: _tokenize_foreign(v, keep) for k, v in value.items()}
    return value


def _estimated_length(document: Mapping[str, Any]) -> int:
    # Unknown values (an env-agnostic account or Region) are counted as 14 characters, the length
    # of the longest Region name; a 12-digit account id is shorter.
    text = policy.policy_text(document)
    return len(MARK.sub("x" * 14, text))


class _Audit:
    def __init__(self, model: AssemblyModel, organization_id: str | None) -> None:
        self.model = model
        self.assembly = model.assembly
        self.unknowns = self.assembly.unknowns
        self.organization_id = organization_id
        self.repositories = model.repositories
        self.by_target = model.by_target
        self.by_name = model.by_name
        self.consumers: dict[tuple[int, str], list[str]] = {}
        self.findings: list[Finding] = []
        self.functions: list[FunctionReport] = []
        self._checked_roles: dict[int, set[str]] = {}
        self.replication_configurations = model.replication_configurations
        self.registry_policies = model.registry_policies
        self._markers: dict[int, tuple[ModelRepository, bool]] = {}

    def human(self, text: str | None) -> str | None:
        return None if text is None else self.unknowns.describe(text)

    def policy_has_markers(self, repository: ModelRepository) -> bool:
        """True when the policy holds values known only at deploy time."""
        # keyed by id, holding the repository itself: a short-lived stand-in (a repository that
        # replication creates) stays alive while cached, so its id is never reused for another
        cached = self._markers.get(id(repository))
        if cached is None or cached[0] is not repository:
            document = repository.document
            cached = (
                repository,
                document is not None
                and has_marker(json.dumps(document, ensure_ascii=False, default=str)),
            )
            self._markers[id(repository)] = cached
        return cached[1]

    # repositories -------------------------------------------------------------------------

    def admits_every_account(self, repository: ModelRepository) -> bool:
        """True when a stranger's account (not in any organization we know, in no condition)
        surely gets a pull action: a policy open to every AWS account."""
        if repository.document is None:
            return False
        document = _tokenize_foreign(repository.document, set())
        stranger = "000000000000" if repository.account != "000000000000" else "000000000001"
        return any(
            policy.evaluate_pull(
                document,
                function_arn=f"arn:aws:lambda:us-east-1:{stranger}:function:stranger",
                function_account=stranger,
                repository_account=repository.account,
                actions=[action],
            ).root.access
            is Access.GRANTED
            for action in policy.ECR_PULL_ACTIONS
        )

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

    def repository_findings(self) -> list[RepositoryReport]:
        reports = []
        for repository in self.repositories:
            stack = self.assembly.stacks[repository.index]
            document = repository.document
            size = 0 if document is None else _estimated_length(document)
            unconditioned = tuple(policy.unconditioned_service_statements(document))

            finding = partial(
                Finding,
                resource=repository.path,
                stack=stack.display_name,
                logical_id=repository.logical_id,
                template_path=stack.template_path,
            )
            facts = RepositoryFacts(
                path=repository.path,
                size=size,
                limit=policy.ECR_POLICY_MAX_CHARS,
                problems=tuple(_policy_problems(document)),
                unconditioned=unconditioned,
                admits_every_account=partial(self.admits_every_account, repository),
            )
            for check in REPOSITORY_CHECKS:
                message = check.check(facts)
                if message is not None:
                    self.findings.append(
                        finding(severity=check.RULE.severity, code=check.RULE.id, message=message)
                    )
            reports.append(
                RepositoryReport(
                    repository=self.human(repository.arn) or repository.arn,
                    name=None if has_marker(repository.name) else repository.name,
                    path=repository.path,
                    stack=stack.display_name,
                    account=stack.account,
                    region=stack.region,
                    has_policy=repository.policy.state is not PolicyState.ABSENT,
                    policy_size=size,
                    unconditioned_service_statements=unconditioned,
                    consumers=tuple(
                        self.consumers.get((repository.index, repository.logical_id), ())
                    ),
                    logical_id=repository.logical_id,
                    template_path=stack.template_path,
                    replica_of=repository.replica_of,
                )
            )
        return reports

    # functions ----------------------------------------------------------------------------

    def collect_functions(self) -> None:
        for function in self.model.functions:
            self.functions.append(self.check_function_every_way(function))
            execution_role_ecr_actions.check(self, function)

    def check_function_every_way(self, function: ModelFunction) -> FunctionReport:
        """The verdict, and when it depends on conditions not known here (Fn::If), the verdict
        for each way they can go (the model's scenarios): one verdict when all ways agree,
        ``unverifiable`` otherwise."""
        first = self.check_function(function, function.image_uri, function.function_name)
        if first.status != UNVERIFIABLE or not function.scenarios:
            return first
        reports = [
            (dict(way.assumptions), self.check_function(function, way.image_uri, way.function_name))
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

    def check_function(self, function: ModelFunction, uri: Any, raw_name: Any) -> FunctionReport:
        """The verdict for one way the function's values go: the first stage that decides."""
        draft = _Draft(self, function, uri, raw_name)
        for stage in _FUNCTION_STAGES:
            verdict = stage(self, draft)
            if verdict is not None:
                return verdict
        raise AssertionError("the last stage always decides")  # pragma: no cover

    # the stages of a function's verdict, in order ---------------------------------------------

    def stage_image(self, draft: _Draft) -> FunctionReport | None:
        """Image reference: a private ECR URI Lambda accepts, known before deploy."""
        uri = draft.uri
        if not isinstance(uri, str):
            return draft.report(
                UNVERIFIABLE,
                f"function {draft.function.path} has no image URI the audit can read "
                "(Code.ImageUri)",
            )
        function = draft.function
        image = function.image if uri is function.image_uri else read_image(uri)
        if isinstance(image, UnsupportedImage):
            return draft.report(UNSUPPORTED_IMAGE, self.human(image.detail) or image.detail)
        if image is None:
            return draft.report(
                UNVERIFIABLE,
                f"the image URI {self.human(uri)} is not known before deploy: its registry "
                "(ACCOUNT.dkr.ecr.REGION.amazonaws.com) is a deploy-time value, so it cannot be "
                "checked",
            )
        draft.image = image
        reference = image.tag_or_digest
        draft.base["tag_or_digest"] = None if reference is None else self.human(reference)
        return None

    def stage_region(self, draft: _Draft) -> FunctionReport | None:
        """Region: Lambda runs images only from its own Region."""
        image, resolver = draft.ref, draft.resolver
        region = resolver.region
        if image.region != region and not has_marker(image.region) and not has_marker(region):
            return draft.report(
                REGION_MISMATCH,
                f"the image is in {image.region} but the function runs in {region}: Lambda "
                f"runs images only from its own Region. Replicate the repository to {region} "
                "(ECR replication) and use the replica's URI",
                repository=self.human(
                    f"arn:{resolver.partition}:ecr:{image.region}:{image.account}"
                    f":repository/{image.repository}"
                ),
            )
        return None

    def stage_locate(self, draft: _Draft) -> FunctionReport | None:
        """Locate the repository and its source: the assembly's, the CDK bootstrap's, one
        replication creates, or one outside the assembly."""
        image, resolver = draft.ref, draft.resolver
        repository, why_not = self.find_repository(image)
        draft.bootstrap = repository is None and _is_bootstrap_repository(image)
        if draft.bootstrap:
            repository = ModelRepository(
                index=draft.function.index,
                logical_id="",
                name=image.repository,
                arn=f"arn:{resolver.partition}:ecr:{image.region}:{image.account}"
                f":repository/{image.repository}",
                account=image.account,
                region=image.region,
                policy=ParsedPolicy(
                    PolicyState.VALID,
                    document=bootstrap_repository_policy(
                        image.account, image.region, resolver.partition
                    ),
                ),
                path=f"CDK bootstrap repository {self.human(image.repository)}",
            )
        if repository is None:
            logical_id = draft.function.logical_id
            created = replica.created_by_replication(
                self, draft.report, image, resolver, draft.name, logical_id
            )
            if created is not None:
                return created
            return self.external_or_unverifiable(draft.report, image, resolver, draft.name, why_not)
        draft.repository = repository
        consumers = self.consumers.setdefault((repository.index, repository.logical_id), [])
        if not draft.bootstrap and draft.function.path not in consumers:
            consumers.append(draft.function.path)
        region = resolver.region
        if (
            repository.region != region
            and not has_marker(repository.region)
            and not has_marker(region)
        ):
            return draft.report(
                REGION_MISMATCH,
                f"repository {repository.path} is in {repository.region} but the function "
                f"runs in {region}: Lambda runs images only from its own Region",
                repository=self.human(repository.arn),
            )
        return None

    def stage_policy(self, draft: _Draft) -> FunctionReport | None:
        """Policy: not known before deploy, or absent (no policy admits nothing)."""
        repository, account = draft.repo, draft.resolver.account
        arn = self.human(repository.arn)
        if repository.policy.state is PolicyState.UNKNOWN:
            return draft.report(
                UNVERIFIABLE,
                f"the policy of repository {repository.path} is not known before deploy: "
                f"{self.human(repository.policy.reason)}",
                repository=arn,
            )
        if repository.policy.state is PolicyState.ABSENT:
            # No policy admits nothing, whatever account and Region the stacks deploy to: this
            # needs no environment, so env-agnostic stacks get the verdict too.
            same = repository.account == account
            needed = (
                "lambda.amazonaws.com limited by aws:SourceArn to the function"
                if same
                else f"the root of account {self.human(account)} and lambda.amazonaws.com "
                "limited by aws:SourceArn to the function"
                + (
                    " (the root only if the accounts differ)"
                    if has_marker(repository.account) or has_marker(account)
                    else ""
                )
            )
            return draft.report(
                NO_POLICY,
                f"repository {repository.path} has no repository policy: allow {needed} "
                "(ecr:BatchGetImage, ecr:GetDownloadUrlForLayer). Do not rely on Lambda adding a "
                "statement itself: it does so only when the deployer may SetRepositoryPolicy, and "
                "a later policy update drops it",
                repository=arn,
            )
        return None

    def stage_environment(self, draft: _Draft) -> FunctionReport | None:
        """Environment: an env-agnostic account or Region on either side."""
        repository, resolver = draft.repo, draft.resolver
        account, region = resolver.account, resolver.region
        if repository.region != region or (
            repository.account != account
            and (has_marker(repository.account) or has_marker(account))
        ):
            return draft.report(
                UNVERIFIABLE,
                self.agnostic_detail(resolver.stack, repository),
                repository=self.human(repository.arn),
            )
        return None

    def stage_evaluate(self, draft: _Draft) -> FunctionReport | None:
        """Evaluate the policy (policy/evaluate_pull), then replication: does it fill the
        repository?"""
        repository = draft.repo
        status, detail = self.evaluate(
            draft.resolver, repository, draft.name, draft.function.logical_id
        )
        if status == OK:
            replicated = replica.replica_status(self, repository)
            if replicated is not None:
                status, detail = replicated
        if draft.bootstrap:
            detail = (
                f"{detail}. The repository is not in the assembly: this is what the CDK bootstrap "
                "template's policy allows (lambda.amazonaws.com for functions of the "
                "repository's own account and Region only); a customized bootstrap template may "
                "differ"
            )
        return draft.report(status, detail, repository=self.human(repository.arn))

    def agnostic_detail(self, stack: StackTemplate, repository: ModelRepository) -> str:
        """Why a function and a repository, one of them env-agnostic, can't be checked."""
        agnostic = [
            f"stack {s.display_name}"
            for s in (stack, self.assembly.stacks[repository.index])
            if s.account is None or s.region is None
        ]
        names = list(dict.fromkeys(agnostic))
        verb = "is" if len(names) == 1 else "are"
        return (
            f"{' and '.join(names)} {verb} env-agnostic: the account and Region are "
            f"known only at deploy time, so whether the function can pull from repository "
            f"{repository.path} cannot be checked. Give the stack an explicit "
            "env=Environment(account=..., region=...)"
        )

    def find_repository(self, image: ImageRef) -> tuple[ModelRepository | None, str]:
        """The repository of the assembly the image is in, or None and why not found."""
        targets = [u.target for u in self.unknowns.of(image.repository) if u.target is not None]
        if targets and MARK.fullmatch(image.repository):
            repository = self.by_target.get(targets[0])
            if repository is not None:
                return repository, ""
        if has_marker(image.repository):
            return (
                None,
                f"the repository name {self.human(image.repository)} is not known before deploy",
            )
        candidates = list(self.by_name.get(image.repository, ()))
        exact = [c for c in candidates if c.account == image.account and c.region == image.region]
        if exact:
            return exact[0], ""
        unknown = [
            c
            for c in candidates
            if has_marker(c.account) or has_marker(c.region) or has_marker(image.account)
        ]
        if unknown:
            return None, (
                f"repository {unknown[0].path} has this name, but its account or Region, or the "
                "image's, is known only at deploy time"
            )
        if candidates:
            elsewhere = ", ".join(f"{c.path} (account {c.account}, {c.region})" for c in candidates)
            return None, (
                f"a repository named {image.repository} is in the assembly elsewhere: {elsewhere}; "
                f"the image URI points to account {self.human(image.account)}, "
                f"{self.human(image.region)}: if that repository is meant, refer to it by its ARN "
                "(Repository.from_repository_arn), not by its name"
            )
        return None, ""

    def external_or_unverifiable(
        self,
        report: Callable[..., FunctionReport],
        image: ImageRef,
        resolver: Resolver,
        name: str | None,
        why_not: str,
    ) -> FunctionReport:
        account = resolver.account
        repository_arn = (
            f"arn:{resolver.partition}:ecr:{image.region}:{image.account}"
            f":repository/{image.repository}"
        )
        if (has_marker(image.account) and image.account != account) or has_marker(image.repository):
            return report(
                UNVERIFIABLE,
                f"the image {self.human(image.uri)} is not known before deploy: "
                + (why_not or "its account or repository name is a deploy-time value"),
                repository=self.human(repository_arn),
            )
        if why_not and ("deploy time" in why_not):
            return report(UNVERIFIABLE, why_not, repository=self.human(repository_arn))
        same_account = image.account == account
        known_env = not has_marker(account) and not has_marker(image.region)
        consumer = LambdaConsumer(
            account=account,
            function_name=name if name is not None and not has_marker(name) else None,
        )
        statements: tuple[Mapping[str, Any], ...] = ()
        if known_env:
            statements = tuple(
                policy.repository_policy_statements(
                    [consumer],
                    repository_account=image.account,
                    region=image.region,
                    partition=resolver.partition,
                )
            )
        sources = f"function:{consumer.pattern}"
        if same_account:
            grant = (
                f"a statement for lambda.amazonaws.com with ecr:BatchGetImage and "
                f"ecr:GetDownloadUrlForLayer limited by aws:SourceArn "
                f"arn:...:lambda:{self.human(image.region)}:{self.human(account)}:{sources}"
            )
        else:
            grant = (
                f"the root of account {self.human(account)} and lambda.amazonaws.com with "
                f"aws:SourceArn arn:...:lambda:{self.human(image.region)}:{self.human(account)}:"
                f"{sources}, both for ecr:BatchGetImage and ecr:GetDownloadUrlForLayer"
            )
        detail = (
            f"repository {self.human(repository_arn)} is not in this assembly, so its policy "
            f"cannot be checked: its owner must grant {grant}"
            + (" (required_statements in --format json)" if statements else "")
        )
        if why_not:
            detail += f". Note: {why_not}"
        if has_marker(account):
            detail = (
                f"the function's stack is env-agnostic, so its account is known only at deploy "
                f"time; {detail}"
            )
            return report(UNVERIFIABLE, detail, repository=self.human(repository_arn))
        return report(
            EXTERNAL,
            detail,
            repository=self.human(repository_arn),
            required_statements=statements,
        )

    def evaluate(
        self, resolver: Resolver, repository: ModelRepository, name: str | None, logical_id: str
    ) -> tuple[str, str]:
        account, region, partition = resolver.account, resolver.region, resolver.partition
        if repository.policy.state is PolicyState.INVALID:
            return INVALID_POLICY, (
                f"the policy of repository {repository.path} is invalid: {repository.policy.reason}"
            )
        generated = name is None or has_marker(name)
        function_arn = policy.function_arn_pattern(
            account, _GENERATED if generated else str(name), region=region, partition=partition
        )
        keep = {m.group(0) for m in MARK.finditer(function_arn + repository.account)}
        document = (
            _tokenize_foreign(repository.document, keep)
            if self.policy_has_markers(repository)
            else repository.document
        )
        access = policy.evaluate_pull(
            document,
            function_arn=function_arn,
            function_account=account,
            repository_account=repository.account,
            partition=partition,
            organization_id=self.organization_id,
            repository_arn=_tokenize_foreign(repository.arn, keep),
        )
        status, detail = self.verdict(access)
        agnostic = has_marker(account) or has_marker(region)
        if generated and status == MISSING_SERVICE:
            status, detail = self.generated_name_verdict(
                resolver, document, function_arn, logical_id, name
            )
        if (generated or agnostic) and status == OK and _non_monotone(document):
            what = (
                "the function's name is generated by CloudFormation"
                if generated
                else "the stack is env-agnostic (account and Region known only at deploy time)"
            )
            return UNVERIFIABLE, (
                f"{what}, and the policy has Deny statements or negated conditions whose effect "
                "depends on that value: whether the function can pull cannot be checked before "
                f"deploy ({self.human(detail)})"
            )
        if agnostic and status != OK:
            return UNVERIFIABLE, (
                f"the stack is env-agnostic, so the function's account and Region are known only "
                f"at deploy time, and the policy admits the function only for some of them: "
                f"{self.human(detail)}"
            )
        return status, self.human(detail) or detail

    def verdict(self, access: PullAccess) -> tuple[str, str]:
        root, service = access.root, access.service
        if Access.INVALID in (root.access, service.access):
            return INVALID_POLICY, (service if service.access is Access.INVALID else root).detail
        if root.access is Access.DENIED or service.access is Access.DENIED:
            denied = [g for g in (root, service) if g.access is Access.DENIED]
            deciding = ", ".join(n for g in denied for n in g.statements)
            return DENIED, "; ".join(g.detail for g in denied) + f" (statement {deciding})"
        if root.access is Access.MISSING:
            extra = f"; also {service.detail}" if service.access is Access.MISSING else ""
            return MISSING_ROOT, root.detail + extra
        if service.access is Access.MISSING:
            return MISSING_SERVICE, service.detail
        if Access.UNKNOWN in (root.access, service.access):
            unknown = [g.detail for g in (root, service) if g.access is Access.UNKNOWN]
            return UNVERIFIABLE, "; ".join(unknown)
        names = sorted({n for g in (root, service) for n in g.statements})
        return OK, f"{root.detail}; {service.detail} (statement {', '.join(names)})"

    def generated_name_verdict(
        self,
        resolver: Resolver,
        document: Any,
        function_arn: str,
        logical_id: str,
        name: str | None,
    ) -> tuple[str, str]:
        stack = resolver.stack
        arn_prefix = function_arn[: -len(_GENERATED)]
        if name is not None:
            prefix = ""
            what = f"its name is a deploy-time value ({self.human(name)})"
        else:
            guess = f"{stack.stack_name}-{logical_id}-"
            prefix = guess if len(guess) + 12 <= 64 else ""
            what = "it has no FunctionName, so CloudFormation generates one" + (
                f" (like {guess}RANDOM)" if prefix else ""
            )
        target = arn_prefix + prefix
        may_match = [
            value
            for value, wildcard in _source_arn_patterns(document)
            if (_glob_may_match_prefix(value, target) if wildcard else value.startswith(target))
        ]
        if may_match:
            return UNVERIFIABLE, (
                f"{what}; the policy admits lambda.amazonaws.com only for named functions "
                f"({', '.join(self.human(v) or v for v in may_match)}), which may or may not "
                "match the generated name: give the function a FunctionName and admit it, or "
                "admit function:* of the account"
            )
        return MISSING_SERVICE, (
            f"{what}, and no aws:SourceArn of the policy can match it: give the function a "
            f"FunctionName and admit it, or admit {self.human(arn_prefix)}*"
        )

    # execution roles ----------------------------------------------------------------------

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
        repositories = self.repository_findings()
        return AuditReport(
            functions=tuple(self.functions),
            repositories=tuple(repositories),
            findings=tuple(self.findings),
            lines={s.template_path: s.lines for s in self.model.stacks if s.problem is None},
        )


class _Draft:
    """What the stages of one function's verdict learn, in order (image, then repository)."""

    def __init__(self, audit: _Audit, function: ModelFunction, uri: Any, raw_name: Any) -> None:
        self.audit = audit
        self.function = function
        self.uri = uri
        if isinstance(raw_name, (int, float)) and not isinstance(raw_name, bool):
            raw_name = str(raw_name)  # CloudFormation reads a number as its text
        self.name: str | None = raw_name if isinstance(raw_name, str) else None
        self.resolver = audit.assembly.resolvers[function.index]
        stack = self.resolver.stack
        self.base: dict[str, Any] = {
            "function": function.path,
            "stack": stack.display_name,
            "account": stack.account,
            "region": stack.region,
            "logical_id": function.logical_id,
            "template_path": stack.template_path,
            "function_name": None if self.name is None or has_marker(self.name) else self.name,
        }
        self.image: ImageRef | None = None
        self.repository: ModelRepository | None = None
        self.bootstrap = False

    @property
    def ref(self) -> ImageRef:
        assert self.image is not None, "the image stage runs first"
        return self.image

    @property
    def repo(self) -> ModelRepository:
        assert self.repository is not None, "the locate stage runs first"
        return self.repository

    def report(self, status: str, detail: str, **extra: Any) -> FunctionReport:
        fields: dict[str, Any] = {
            "image": self.audit.human(self.uri if isinstance(self.uri, str) else None),
            "image_ref": _known_image(self.image),
            "repository": None,
        }
        fields.update(extra)
        return FunctionReport(status=status, detail=detail, **self.base, **fields)


def _known_image(image: ImageRef | None) -> ImageRef | None:
    """The image when every part of it is known before deploy, else None."""
    if image is None:
        return None
    parts = (image.account, image.region, image.url_suffix, image.repository)
    if any(has_marker(p) for p in (*parts, image.tag or "", image.digest or "")):
        return None
    return image


_FUNCTION_STAGES: tuple[Callable[[_Audit, _Draft], FunctionReport | None], ...] = (
    _Audit.stage_image,
    _Audit.stage_region,
    _Audit.stage_locate,
    _Audit.stage_policy,
    _Audit.stage_environment,
    _Audit.stage_evaluate,
)
"""A function's verdict: image reference, Region, locate the repository and its source, policy,
environment, evaluate (then replication). The first stage that returns a report decides."""


_NON_MONOTONE = re.compile(r"not|ifexists|forallvalues|null", re.IGNORECASE)


def _non_monotone(document: Mapping[str, Any] | None) -> bool:
    """True when a value not known here (a generated name, a deploy-time account) could turn a
    grant into a denial: a conditioned Deny, or an Allow condition that holds on a mismatch
    (negated operators, IfExists, ForAllValues, Null). Plain Allow conditions only match an
    unknown through wildcards or the very same unknown, which holds whatever it turns out to be.
    """
    for statement in _statements(document):
        conditions = statement.get("Condition")
        if not isinstance(conditions, Mapping) or not conditions:
            continue
        if statement.get("Effect") == "Deny":
            return True
        if any(_NON_MONOTONE.search(str(operator)) for operator in conditions):
            return True
    return False


def _policy_problems(document: Mapping[str, Any] | None) -> list[str]:
    if document is None:
        return []
    if "_unreadable" in document:
        return [str(document["_unreadable"])]
    return policy.policy_problems(_tokenize_foreign(document, set()))


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
