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
import itertools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache, partial
from pathlib import Path
from typing import Any

from .. import policy
from ..policy import Access, LambdaConsumer, PullAccess
from .load import StackTemplate, load_assembly
from .replicas import (
    REGISTRY_RESOURCE_TYPES,
    RegistryResource,
    replica_of,
    replica_source,
    replica_verdict,
)
from .report import AuditReport, Finding, FunctionReport, RepositoryReport
from .resolve import MARK, Assembly, Resolver, has_marker, partition_of
from .rules import (
    ANY_ACCOUNT,
    CONFUSED_DEPUTY,
    DENIED,
    ERROR,
    EXECUTION_ROLE_ECR,
    EXTERNAL,
    INVALID_POLICY,
    INVALID_REPOSITORY_POLICY,
    LATEST_TAG,
    MISSING_ROOT,
    MISSING_SERVICE,
    NO_POLICY,
    NOT_REPLICATED,
    OK,
    POLICY_TOO_LARGE,
    REGION_MISMATCH,
    UNREADABLE_TEMPLATE,
    UNVERIFIABLE,
    WARNING,
)

__all__ = ["audit_assembly", "audit_stacks"]


_IMAGE_URI = re.compile(
    r"(?P<account>[^./]+)\.dkr\.ecr(?:-fips)?\.(?P<region>[^./]+)\.(?P<suffix>[^/]+)/"
    r"(?P<name>[^:@]+)(?:@(?P<digest>[^@]+)|:(?P<tag>[^:@/]+))?"
)


@dataclass(frozen=True)
class _Image:
    uri: str
    account: str
    region: str
    name: str
    reference: str | None


def _parse_image(uri: str) -> _Image | None:
    match = _IMAGE_URI.fullmatch(uri)
    if match is None:
        return None
    return _Image(
        uri=uri,
        account=match["account"],
        region=match["region"],
        name=match["name"],
        reference=match["digest"] or match["tag"],
    )


def _is_bootstrap_repository(image: _Image) -> bool:
    """True for a name of the CDK bootstrap's container-assets repository of the image's own
    account and Region (``cdk-QUALIFIER-container-assets-ACCOUNT-REGION``)."""
    expected = (
        r"cdk-[a-z0-9]+-container-assets-"
        + re.escape(image.account)
        + "-"
        + re.escape(image.region)
    )
    return re.fullmatch(expected, image.name) is not None


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


@dataclass
class _Repository:
    index: int
    logical_id: str
    name: str
    arn: str
    account: str
    region: str
    policy: dict[str, Any] | None
    path: str
    consumers: list[str] = field(default_factory=list)
    replica_of: str | None = None
    """The source repository ARN ``add_replica`` recorded in the resource's metadata."""

    @property
    def policy_has_markers(self) -> bool:
        """True when the policy holds values known only at deploy time."""
        if self._has_markers is None:
            self._has_markers = self.policy is not None and has_marker(
                json.dumps(self.policy, ensure_ascii=False)
            )
        return self._has_markers

    _has_markers: bool | None = field(default=None, repr=False)


# --------------------------------------------------------------------------------------------
# The audit
# --------------------------------------------------------------------------------------------

_GENERATED = "<name-generated-by-CloudFormation>"
_MAX_OPEN_CONDITIONS = 4
"""At most 2**4 ways are tried for one function."""
_ECR_MANAGED_POLICIES = (
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonEC2ContainerRegistryPowerUser",
    "AmazonEC2ContainerRegistryFullAccess",
    "EC2InstanceProfileForImageBuilderECRContainerBuilds",
)


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
        if principal != "*" and policy.LAMBDA_SERVICE_PRINCIPAL not in _as_list(services):
            continue
        condition = statement.get("Condition")
        for operator, block in (condition if isinstance(condition, Mapping) else {}).items():
            if not isinstance(block, Mapping):
                continue
            wildcard = "like" in str(operator).lower()
            for key, values in block.items():
                if str(key).lower() == "aws:sourcearn":
                    found += [(str(v), wildcard) for v in _as_list(values)]
    return found


def _statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not isinstance(document, Mapping):
        return []
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, Mapping)]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


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
    def __init__(self, stacks: Sequence[StackTemplate], organization_id: str | None) -> None:
        self.assembly = Assembly(stacks)
        self.unknowns = self.assembly.unknowns
        self.organization_id = organization_id
        self.repositories: list[_Repository] = []
        self.by_target: dict[tuple[int, str], _Repository] = {}
        self.by_name: dict[str, list[_Repository]] = {}
        self.findings: list[Finding] = []
        self.functions: list[FunctionReport] = []
        self._checked_roles: dict[int, set[str]] = {}
        self._role_policies: dict[int, dict[str, list[tuple[str, Any]]]] = {}
        self.replication_configurations: list[RegistryResource] = []
        self.registry_policies: list[RegistryResource] = []

    def human(self, text: str | None) -> str | None:
        return None if text is None else self.unknowns.describe(text)

    # repositories -------------------------------------------------------------------------

    def collect_repositories(self) -> None:
        for index, stack in enumerate(self.assembly.stacks):
            resolver = self.assembly.resolvers[index]
            for logical_id, resource in stack.resources.items():
                if not isinstance(resource, Mapping):
                    continue
                if resource.get("Type") in REGISTRY_RESOURCE_TYPES:
                    self.collect_registry_resource(index, logical_id, resource)
                if resource.get("Type") != "AWS::ECR::Repository":
                    continue
                if self.absent(index, resource):
                    continue
                properties = resource.get("Properties") or {}
                document = resolver.resolve(properties.get("RepositoryPolicyText"))
                if isinstance(document, str) and not has_marker(document):
                    try:
                        document = json.loads(document)
                    except json.JSONDecodeError as error:
                        document = {"_unreadable": f"the policy text is not JSON: {error}"}
                elif document is not None and not isinstance(document, dict):
                    document = {"_unreadable": "the policy is neither an object nor JSON text"}
                repository = _Repository(
                    index=index,
                    logical_id=logical_id,
                    name=str(resolver.ref(logical_id, 0)),
                    arn=str(resolver.get_att(logical_id, "Arn", 0)),
                    account=resolver.account,
                    region=resolver.region,
                    policy=document if isinstance(document, dict) else None,
                    path=stack.path_of(logical_id),
                    replica_of=replica_of(resource),
                )
                self.repositories.append(repository)
                self.by_target[(index, logical_id)] = repository
                if not has_marker(repository.name):
                    self.by_name.setdefault(repository.name, []).append(repository)

    def collect_registry_resource(
        self, index: int, logical_id: str, resource: Mapping[str, Any]
    ) -> None:
        """A replication configuration or registry policy (registry-wide, one per registry)."""
        kind = str(resource.get("Type"))
        stack = self.assembly.stacks[index]
        resolver = self.assembly.resolvers[index]
        condition = resource.get("Condition")
        created = resolver.condition(condition, 0) if isinstance(condition, str) else True
        if created is False:
            return
        value = resolver.resolve(
            (resource.get("Properties") or {}).get(REGISTRY_RESOURCE_TYPES[kind])
        )
        if created is not True:
            value = None  # created only under a condition not known here: cannot be relied on
        if isinstance(value, str) and not has_marker(value):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                value = None
        found = RegistryResource(
            account=resolver.account,
            region=resolver.region,
            value=_tokenize_foreign(value, set()),
            where=f"{stack.path_of(logical_id)} (stack {stack.display_name})",
        )
        if kind == "AWS::ECR::RegistryPolicy":
            self.registry_policies.append(found)
        else:
            self.replication_configurations.append(found)

    def replica_status(self, repository: _Repository) -> tuple[str, str] | None:
        """NOT_REPLICATED (or UNVERIFIABLE) when the repository is a replica nothing fills."""
        if any(has_marker(v) for v in (repository.name, repository.account, repository.region)):
            return None
        source = replica_source(
            name=repository.name,
            account=repository.account,
            region=repository.region,
            declared_source=repository.replica_of,
            configurations=self.replication_configurations,
        )
        if source is None:
            return None
        verdict = replica_verdict(
            name=repository.name,
            arn=repository.arn,
            account=repository.account,
            region=repository.region,
            source=source,
            declared=repository.replica_of is not None,
            configurations=self.replication_configurations,
            registry_policies=self.registry_policies,
            partition=partition_of(repository.region),
        )
        if verdict.ok:
            return None
        status = NOT_REPLICATED if verdict.verifiable else UNVERIFIABLE
        return status, f"repository {repository.path} is a replica: {verdict.detail}"

    def admits_every_account(self, repository: _Repository) -> bool:
        """True when a stranger's account (not in any organization we know, in no condition)
        surely gets a pull action: a policy open to every AWS account."""
        if repository.policy is None:
            return False
        document = _tokenize_foreign(repository.policy, set())
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

    def repository_findings(self) -> list[RepositoryReport]:
        reports = []
        for repository in self.repositories:
            stack = self.assembly.stacks[repository.index]
            document = repository.policy
            size = 0 if document is None else _estimated_length(document)
            unconditioned = tuple(policy.unconditioned_service_statements(document))

            finding = partial(
                Finding,
                resource=repository.path,
                stack=stack.display_name,
                logical_id=repository.logical_id,
                template_path=stack.template_path,
            )
            if size > policy.ECR_POLICY_MAX_CHARS:
                self.findings.append(
                    finding(
                        severity=ERROR,
                        code=POLICY_TOO_LARGE,
                        message=f"repository {repository.path}: the repository policy is {size:,} "
                        f"characters, over ECR's limit of {policy.ECR_POLICY_MAX_CHARS:,}: "
                        "SetRepositoryPolicy will reject it at deploy. Admit whole accounts "
                        "(function:*) instead of many function names, split consumers across "
                        "repositories, or admit an AWS Organization",
                    )
                )
            problems = _policy_problems(document)
            if problems:
                self.findings.append(
                    finding(
                        severity=ERROR,
                        code=INVALID_REPOSITORY_POLICY,
                        message=f"repository {repository.path}: the repository policy is invalid "
                        f"({problems[0]}): ECR's SetRepositoryPolicy rejects it at deploy, and no "
                        "function can pull",
                    )
                )
            elif self.admits_every_account(repository):
                self.findings.append(
                    finding(
                        severity=ERROR,
                        code=ANY_ACCOUNT,
                        message=f"repository {repository.path}: the repository policy lets every "
                        'AWS account pull its images (a Principal "*" or {"AWS": "*"} '
                        "statement with no condition that limits it): admit the consumer "
                        "accounts by id, or limit the statement with aws:PrincipalOrgID",
                    )
                )
            if unconditioned:
                self.findings.append(
                    finding(
                        severity=WARNING,
                        code=CONFUSED_DEPUTY,
                        message=f"repository {repository.path}: statement(s) "
                        f"{', '.join(unconditioned)} allow a service principal with no "
                        "aws:SourceArn/aws:SourceAccount "
                        "condition, so the service may pull on behalf of any account (confused "
                        "deputy): limit lambda.amazonaws.com with aws:SourceArn "
                        "arn:PARTITION:lambda:REGION:ACCOUNT:function:* (DockerImageCode.from_ecr "
                        "on an owned repository writes such a statement)",
                    )
                )
            reports.append(
                RepositoryReport(
                    repository=self.human(repository.arn) or repository.arn,
                    name=None if has_marker(repository.name) else repository.name,
                    path=repository.path,
                    stack=stack.display_name,
                    account=stack.account,
                    region=stack.region,
                    has_policy=document is not None,
                    policy_size=size,
                    unconditioned_service_statements=unconditioned,
                    consumers=tuple(repository.consumers),
                    logical_id=repository.logical_id,
                    template_path=stack.template_path,
                    replica_of=repository.replica_of,
                )
            )
        return reports

    # functions ----------------------------------------------------------------------------

    def collect_functions(self) -> None:
        for index, stack in enumerate(self.assembly.stacks):
            for logical_id, resource in stack.resources.items():
                if (
                    not isinstance(resource, Mapping)
                    or resource.get("Type") != "AWS::Lambda::Function"
                ):
                    continue
                properties = resource.get("Properties") or {}
                code = properties.get("Code")
                image_uri = code.get("ImageUri") if isinstance(code, Mapping) else None
                if image_uri is None and properties.get("PackageType") != "Image":
                    continue
                if self.absent(index, resource):
                    continue
                self.functions.append(self.check_function_every_way(index, logical_id, properties))
                self.check_execution_role(index, logical_id, properties)

    def absent(self, index: int, resource: Mapping[str, Any]) -> bool:
        """True when the resource's Condition is surely false (CloudFormation does not create
        it)."""
        condition = resource.get("Condition")
        if not isinstance(condition, str):
            return False
        return self.assembly.resolvers[index].condition(condition, 0) is False

    def check_function_every_way(
        self, index: int, logical_id: str, properties: Mapping[str, Any]
    ) -> FunctionReport:
        """The verdict, and when it depends on conditions not known here (Fn::If), the verdict
        for each way they can go: one verdict when all ways agree, ``unverifiable`` otherwise."""
        resolver = self.assembly.resolvers[index]
        resolver.assumptions.clear()
        resolver.open_conditions.clear()
        first = self.check_function(index, logical_id, properties)
        opened = sorted(resolver.open_conditions)
        if first.status != UNVERIFIABLE or not opened:
            return first
        opened = opened[:_MAX_OPEN_CONDITIONS]
        reports: list[tuple[dict[str, bool], FunctionReport]] = []
        for bits in itertools.product((True, False), repeat=len(opened)):
            resolver.assumptions = dict(zip(opened, bits, strict=True))
            reports.append(
                (resolver.assumptions, self.check_function(index, logical_id, properties))
            )
        resolver.assumptions = {}
        statuses = {r.status for _, r in reports}
        names = ", ".join(opened)
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
            repository=reports[0][1].repository,
        )

    def check_function(
        self, index: int, logical_id: str, properties: Mapping[str, Any]
    ) -> FunctionReport:
        stack = self.assembly.stacks[index]
        resolver = self.assembly.resolvers[index]
        code = properties.get("Code")
        uri = resolver.resolve(code.get("ImageUri") if isinstance(code, Mapping) else None)
        raw_name = resolver.resolve(properties.get("FunctionName"))
        name: str | None = raw_name if isinstance(raw_name, str) else None
        function_path = stack.path_of(logical_id)
        base: dict[str, Any] = {
            "function": function_path,
            "stack": stack.display_name,
            "account": stack.account,
            "region": stack.region,
            "logical_id": logical_id,
            "template_path": stack.template_path,
            "function_name": None if name is None or has_marker(name) else name,
        }

        def report(status: str, detail: str, **extra: Any) -> FunctionReport:
            fields: dict[str, Any] = {
                "image": self.human(uri if isinstance(uri, str) else None),
                "repository": None,
            }
            fields.update(extra)
            return FunctionReport(status=status, detail=detail, **base, **fields)

        if not isinstance(uri, str):
            return report(
                UNVERIFIABLE,
                f"function {function_path} has no image URI the audit can read (Code.ImageUri)",
            )
        image = _parse_image(uri)
        if image is None:
            return report(
                UNVERIFIABLE,
                f"the image URI {self.human(uri)} is not a private Amazon ECR image "
                "(ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME:TAG): it cannot be checked",
            )
        reference = None if image.reference is None else self.human(image.reference)
        base["tag_or_digest"] = reference
        region = resolver.region
        account = resolver.account
        if image.region != region and not has_marker(image.region) and not has_marker(region):
            return report(
                REGION_MISMATCH,
                f"the image is in {image.region} but the function runs in {region}: Lambda "
                f"runs images only from its own Region. Replicate the repository to {region} "
                "(ECR replication) and use the replica's URI",
                repository=self.human(
                    f"arn:{resolver.partition}:ecr:{image.region}:{image.account}:repository/{image.name}"
                ),
            )
        repository, why_not = self.find_repository(image)
        bootstrap = repository is None and _is_bootstrap_repository(image)
        if bootstrap:
            repository = _Repository(
                index=index,
                logical_id="",
                name=image.name,
                arn=f"arn:{resolver.partition}:ecr:{image.region}:{image.account}"
                f":repository/{image.name}",
                account=image.account,
                region=image.region,
                policy=bootstrap_repository_policy(image.account, image.region, resolver.partition),
                path=f"CDK bootstrap repository {self.human(image.name)}",
            )
        if repository is None:
            return self.external_or_unverifiable(report, image, resolver, name, why_not)
        if function_path not in repository.consumers:
            repository.consumers.append(function_path)
        arn = self.human(repository.arn)
        if (
            repository.region != region
            and not has_marker(repository.region)
            and not has_marker(region)
        ):
            return report(
                REGION_MISMATCH,
                f"repository {repository.path} is in {repository.region} but the function "
                f"runs in {region}: Lambda runs images only from its own Region",
                repository=arn,
            )
        if repository.policy is None:
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
            return report(
                NO_POLICY,
                f"repository {repository.path} has no repository policy: allow {needed} "
                "(ecr:BatchGetImage, ecr:GetDownloadUrlForLayer). Do not rely on Lambda adding a "
                "statement itself: it does so only when the deployer may SetRepositoryPolicy, and "
                "a later policy update drops it",
                repository=arn,
            )
        if repository.region != region or (
            repository.account != account
            and (has_marker(repository.account) or has_marker(account))
        ):
            return report(UNVERIFIABLE, self.agnostic_detail(stack, repository), repository=arn)
        status, detail = self.evaluate(resolver, repository, name, logical_id)
        if status == OK:
            replica = self.replica_status(repository)
            if replica is not None:
                status, detail = replica
        if bootstrap:
            detail = (
                f"{detail}. The repository is not in the assembly: this is what the CDK bootstrap "
                "template's policy allows (lambda.amazonaws.com for functions of the "
                "repository's own account and Region only); a customized bootstrap template may "
                "differ"
            )
        return report(status, detail, repository=arn)

    def agnostic_detail(self, stack: StackTemplate, repository: _Repository) -> str:
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

    def find_repository(self, image: _Image) -> tuple[_Repository | None, str]:
        """The repository of the assembly the image is in, or None and why not found."""
        targets = [u.target for u in self.unknowns.of(image.name) if u.target is not None]
        if targets and MARK.fullmatch(image.name):
            repository = self.by_target.get(targets[0])
            if repository is not None:
                return repository, ""
        if has_marker(image.name):
            return None, f"the repository name {self.human(image.name)} is not known before deploy"
        candidates = self.by_name.get(image.name, [])
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
                f"a repository named {image.name} is in the assembly elsewhere: {elsewhere}; "
                f"the image URI points to account {self.human(image.account)}, "
                f"{self.human(image.region)}: if that repository is meant, refer to it by its ARN "
                "(Repository.from_repository_arn), not by its name"
            )
        return None, ""

    def external_or_unverifiable(
        self,
        report: Callable[..., FunctionReport],
        image: _Image,
        resolver: Resolver,
        name: str | None,
        why_not: str,
    ) -> FunctionReport:
        account = resolver.account
        repository_arn = (
            f"arn:{resolver.partition}:ecr:{image.region}:{image.account}:repository/{image.name}"
        )
        if (has_marker(image.account) and image.account != account) or has_marker(image.name):
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
        self, resolver: Resolver, repository: _Repository, name: str | None, logical_id: str
    ) -> tuple[str, str]:
        account, region, partition = resolver.account, resolver.region, resolver.partition
        if repository.policy is not None and "_unreadable" in repository.policy:
            return INVALID_POLICY, (
                f"the policy of repository {repository.path} is invalid: "
                f"{repository.policy['_unreadable']}"
            )
        generated = name is None or has_marker(name)
        function_arn = policy.function_arn_pattern(
            account, _GENERATED if generated else str(name), region=region, partition=partition
        )
        keep = {m.group(0) for m in MARK.finditer(function_arn + repository.account)}
        document = (
            _tokenize_foreign(repository.policy, keep)
            if repository.policy_has_markers
            else repository.policy
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

    def role_policies(self, index: int) -> Mapping[str, list[tuple[str, Any]]]:
        """Role logical id -> (policy logical id, document) of the stack's IAM policies attached
        to it: indexed once per stack (scanning the stack for each function is quadratic)."""
        if index not in self._role_policies:
            by_role: dict[str, list[tuple[str, Any]]] = {}
            for other_id, resource in self.assembly.stacks[index].resources.items():
                if not isinstance(resource, Mapping):
                    continue
                kind = resource.get("Type")
                other = resource.get("Properties") or {}
                if kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                    roles = [_ref_target(r) for r in _as_list(other.get("Roles"))]
                elif kind == "AWS::IAM::RolePolicy":
                    roles = [_ref_target(other.get("RoleName"))]
                else:
                    continue
                for role in dict.fromkeys(r for r in roles if r is not None):
                    by_role.setdefault(role, []).append((other_id, other.get("PolicyDocument")))
            self._role_policies[index] = by_role
        return self._role_policies[index]

    def check_execution_role(
        self, index: int, logical_id: str, properties: Mapping[str, Any]
    ) -> None:
        stack = self.assembly.stacks[index]
        resolver = self.assembly.resolvers[index]
        role = properties.get("Role")
        role_id: str | None = None
        if isinstance(role, Mapping) and "Fn::GetAtt" in role:
            parts = role["Fn::GetAtt"]
            parts = parts.split(".", 1) if isinstance(parts, str) else parts
            if isinstance(parts, list) and parts:
                role_id = str(parts[0])
        if role_id is None or role_id in self._checked_roles.setdefault(index, set()):
            return
        self._checked_roles[index].add(role_id)
        role_resource = resolver.resource(role_id)
        if role_resource is None or role_resource.get("Type") != "AWS::IAM::Role":
            return
        found: list[str] = []
        role_properties = role_resource.get("Properties") or {}
        for inline in _as_list(role_properties.get("Policies")):
            if isinstance(inline, Mapping):
                found += _ecr_actions(
                    inline.get("PolicyDocument"), f"inline policy {inline.get('PolicyName')}"
                )
        for managed in _as_list(role_properties.get("ManagedPolicyArns")):
            target = _ref_target(managed)
            if target is not None:
                resource = resolver.resource(target)
                if resource is not None and resource.get("Type") == "AWS::IAM::ManagedPolicy":
                    found += _ecr_actions(
                        (resource.get("Properties") or {}).get("PolicyDocument"),
                        f"managed policy {target}",
                    )
                continue
            arn = resolver.resolve(managed)
            if isinstance(arn, str):
                policy_name = arn.rsplit("/", 1)[-1]
                if policy_name in _ECR_MANAGED_POLICIES:
                    found.append(f"AWS managed policy {policy_name}")
        for other_id, document in self.role_policies(index).get(role_id, ()):
            found += _ecr_actions(document, f"policy {other_id}")
        if found:
            self.findings.append(
                Finding(
                    severity=WARNING,
                    code=EXECUTION_ROLE_ECR,
                    resource=stack.path_of(role_id),
                    stack=stack.display_name,
                    message=(
                        f"execution role {stack.path_of(role_id)} of function "
                        f"{stack.path_of(logical_id)} holds ECR permissions ({'; '.join(found)}): "
                        "the Lambda service pulls the image with the repository policy, not "
                        "with the execution role; remove them unless the function's code calls "
                        "ECR (repository.grant_pull(function) adds them)"
                    ),
                    logical_id=role_id,
                    template_path=stack.template_path,
                )
            )

    def tag_findings(self) -> None:
        for report in self.functions:
            if report.tag_or_digest == "latest":
                self.findings.append(
                    Finding(
                        severity=WARNING,
                        code=LATEST_TAG,
                        resource=report.function,
                        stack=report.stack,
                        message=(
                            f"function {report.function} runs the 'latest' tag: Lambda resolves a "
                            "tag to a digest once, at create/update, so pushing 'latest' again "
                            "changes nothing until the next code update. Deploy by digest "
                            "(sha256:...) or by an immutable tag"
                        ),
                        logical_id=report.logical_id,
                        template_path=report.template_path,
                    )
                )

    def run(self) -> AuditReport:
        self.template_findings()
        self.collect_repositories()
        self.collect_functions()
        self.tag_findings()
        repositories = self.repository_findings()
        return AuditReport(
            functions=tuple(self.functions),
            repositories=tuple(repositories),
            findings=tuple(self.findings),
        )


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


def _ref_target(value: Any) -> str | None:
    if isinstance(value, Mapping) and isinstance(value.get("Ref"), str):
        return str(value["Ref"])
    return None


def _ecr_actions(document: Any, where: str) -> list[str]:
    actions: list[str] = []
    for statement in _statements(document):
        if str(statement.get("Effect", "")).lower() != "allow":
            continue
        actions += [
            str(a) for a in _as_list(statement.get("Action")) if str(a).lower().startswith("ecr:")
        ]
    if not actions:
        return []
    return [f"{where}: {', '.join(dict.fromkeys(actions))}"]


def audit_stacks(
    stacks: Sequence[StackTemplate], *, organization_id: str | None = None
) -> AuditReport:
    """Audit these stacks (one assembly, stage assemblies included) together.

    ``organization_id``: the AWS Organization every account of the assembly belongs to, so that
    ``aws:PrincipalOrgID`` / ``aws:SourceOrgID`` conditions can be checked. Default: None (such
    conditions make the answer ``unverifiable``).
    """
    return _Audit(stacks, organization_id).run()


def audit_assembly(path: str | Path, *, organization_id: str | None = None) -> AuditReport:
    """Audit the cloud assembly at ``path`` (``cdk.out``). Raises :class:`AssemblyError`."""
    return audit_stacks(load_assembly(path), organization_id=organization_id)
