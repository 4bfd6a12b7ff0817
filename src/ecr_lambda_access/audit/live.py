"""The live check (``ecr-lambda-access audit PATH --live``): what is deployed, against what the
functions of a cloud assembly need.

The static audit judges what ``cdk synth`` produced. What breaks later comes from what changed
after deploy: a repository policy replaced outside CloudFormation, an image deleted by a lifecycle
rule, a digest that never replicated, a function gone ``Failed`` or ``Inactive``. For every
container-image function of the assembly this module asks AWS, read-only:

* ``ecr:GetRepositoryPolicy``: the repository's **deployed** policy, evaluated for the function
  with :func:`ecr_lambda_access.policy.evaluate_pull`, the evaluator of the static check. A pull the
  synthesized policy allows and the deployed one does not is ``drifted``; a difference that still
  lets the function pull is a warning.
* ``ecr:DescribeImages``: the synthesized tag or digest, and the digest the deployed function was
  resolved to, must be in the repository (``image-missing`` otherwise). For a replica whose source
  is known, ``ecr:DescribeImageReplicationStatus`` on the source says where replication stands.
* ``lambda:GetFunction``: ``State``/``StateReasonCode`` and ``LastUpdateStatus``/
  ``LastUpdateStatusReasonCode``; ``Failed`` or ``Inactive`` for an image reason is
  ``function-failed`` (with AWS's reason code). A deployed ``ImageUri`` other than the
  synthesized one is a warning.
* ``cloudformation:DescribeStackResource``: only for functions without a ``FunctionName``, to
  learn the name CloudFormation generated.

Credentials come per account (:class:`AccountCredentials`): a named profile, a role assumed in
the account (``sts:AssumeRole``), or the default credentials. Each is checked with
``sts:GetCallerIdentity`` (which needs no permission). An account that cannot be reached makes
what depends on it ``unverifiable``, with the reason; nothing here raises for an AWS error.

Calls run on a bounded thread pool, with botocore's ``standard`` retry mode (throttling retried
with backoff); each repository's policy and images, each account's credentials and each client
are fetched once. boto3 is imported only when a check runs (the ``[live]`` extra).
"""

from __future__ import annotations

import json
import re
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from ..errors import EcrLambdaAccessError
from ..policy import Access, PullAccess, evaluate_pull, policy_text
from .load import StackTemplate, load_assembly
from .report import AuditReport
from .resolve import Assembly, has_marker, partition_of
from .rules import (
    DENIED,
    ERROR,
    FAILING_STATUSES,
    INVALID_POLICY,
    MISSING_ROOT,
    MISSING_SERVICE,
    NO_POLICY,
    OK,
    REGION_MISMATCH,
    UNVERIFIABLE,
    Rule,
)
from .verdicts import audit_stacks

__all__ = [
    "DRIFTED",
    "IMAGE_MISSING",
    "FUNCTION_FAILED",
    "LIVE_RULES",
    "LIVE_STATUSES",
    "LIVE_FAILING_STATUSES",
    "IMAGE_REASON_CODES",
    "LiveUnavailableError",
    "ImageRef",
    "LiveTarget",
    "AccountAccess",
    "AccountCredentials",
    "LiveFunctionReport",
    "LiveReport",
    "LiveCheck",
    "parse_image_uri",
    "policy_gaps",
    "replica_source",
    "replication_rules",
    "ReplicationRule",
    "require_boto3",
    "role_arn_for",
]

LIVE_EXTRA = "ecr-lambda-access[live]"

DRIFTED = "drifted"
IMAGE_MISSING = "image-missing"
FUNCTION_FAILED = "function-failed"

LIVE_RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            DRIFTED,
            "status",
            "the deployed repository policy no longer lets the function pull, though the "
            "synthesized one does (the detail shows the missing or denying statement)",
            "Redeploy the repository's stack, and find what changed the policy outside "
            "CloudFormation (another pipeline, the console, Lambda's own statement).",
            ERROR,
        ),
        Rule(
            IMAGE_MISSING,
            "status",
            "the image (the synthesized tag or digest, or the digest the deployed function runs) "
            "is not in the deployed repository",
            "Push the image again, or deploy an image that exists; exclude deployed digests from "
            "lifecycle rules; for a replica, check the replication of the digest.",
            ERROR,
        ),
        Rule(
            FUNCTION_FAILED,
            "status",
            "the deployed function is Failed or Inactive for an image reason (AWS's reason code "
            "in the detail)",
            "Fix the repository policy or the image, then update the function's code or "
            "configuration to bring it back.",
            ERROR,
        ),
    )
}
"""The statuses only the live check gives (the same :class:`Rule` shape as ``rules.RULES``)."""

LIVE_STATUSES: dict[str, str] = {rule.id: rule.text for rule in LIVE_RULES.values()}
"""The statuses only the live check gives, and what they mean."""

LIVE_FAILING_STATUSES = frozenset({DRIFTED, IMAGE_MISSING, FUNCTION_FAILED}) | FAILING_STATUSES
"""Live verdicts that fail the check. The static statuses appear too, for a deployed policy of a
repository the assembly does not define (or whose synthesized policy already failed)."""

IMAGE_REASON_CODES = frozenset({"ImageDeleted", "ImageAccessDenied", "InvalidImage"})
"""Lambda's ``StateReasonCode``/``LastUpdateStatusReasonCode`` values about the image."""

_PRECEDENCE = (
    REGION_MISMATCH,
    FUNCTION_FAILED,
    IMAGE_MISSING,
    DRIFTED,
    *sorted(FAILING_STATUSES - {REGION_MISMATCH}),
    UNVERIFIABLE,
)
"""Which problem names a function's status when it has several (the detail lists them all)."""

_WORKERS = 16
_RETRY_ATTEMPTS = 8
_DESCRIBE_IMAGES_BATCH = 100  # DescribeImages takes at most 100 imageIds
_SESSION_NAME = "ecr-lambda-access-live"


class LiveUnavailableError(EcrLambdaAccessError):
    """``--live`` without boto3 installed (a usage error: exit status 2)."""


def require_boto3() -> None:
    """Raise :class:`LiveUnavailableError` when boto3 cannot be imported."""
    try:
        import boto3  # noqa: F401
        import botocore  # noqa: F401
    except ImportError:
        raise LiveUnavailableError(
            f"--live needs boto3, which is not installed: pip install '{LIVE_EXTRA}' "
            "(the live extra)"
        ) from None


def role_arn_for(template: str, account: str) -> str:
    """The role ARN of ``--assume-role-arn`` for one account (``{account}`` substituted)."""
    return template.replace("{account}", account)


# --------------------------------------------------------------------------------------------
# What to check: plain data from the static audit
# --------------------------------------------------------------------------------------------

_IMAGE_URI = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<name>[^:@\s]+)(?::(?P<tag>[^:@/\s]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)


@dataclass(frozen=True)
class ImageRef:
    """A private ECR image: registry account, Region, repository name, tag and/or digest."""

    uri: str
    account: str
    region: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def partition(self) -> str:
        return partition_of(self.region)

    @property
    def repository_arn(self) -> str:
        return f"arn:{self.partition}:ecr:{self.region}:{self.account}:repository/{self.repository}"

    @property
    def reference(self) -> str:
        """The digest when there is one (what Lambda runs), else the tag."""
        return self.digest or self.tag or "latest"


def parse_image_uri(uri: str | None) -> ImageRef | None:
    """The parts of a private ECR image URI, or None (unresolved, or not ECR)."""
    match = _IMAGE_URI.fullmatch(uri or "")
    if match is None:
        return None
    return ImageRef(
        uri=str(uri),
        account=match["account"],
        region=match["region"],
        repository=match["name"],
        tag=match["tag"],
        digest=match["digest"],
    )


@dataclass(frozen=True)
class LiveTarget:
    """One container-image function to check against what is deployed."""

    function: str
    """The construct path (as in the static report)."""
    stack: str
    stack_name: str
    logical_id: str
    account: str | None
    region: str | None
    function_name: str | None
    """The ``FunctionName`` of the template; None when it is not known before deploy (generated
    by CloudFormation, or a parameter): the check reads it from the deployed stack."""
    image: ImageRef | None
    synthesized_policy: Mapping[str, Any] | None = None
    """The repository's synthesized policy (resolved), when the assembly defines the repository."""
    replica_source: tuple[str, str] | None = None
    """(account, Region) of the registry the image is replicated from, when known."""
    image_deployed: bool = False
    """True when ``image`` is the deployed function's: the template's is known only at deploy."""

    @property
    def partition(self) -> str:
        return partition_of(self.region or "")


def targets_from_report(
    report: AuditReport,
    stacks: Sequence[StackTemplate] = (),
    *,
    policies: Mapping[str, Mapping[str, Any] | None] | None = None,
    replica_sources: Mapping[str, tuple[str, str]] | None = None,
) -> list[LiveTarget]:
    """A target per function of a static report.

    ``policies``: repository ARN -> synthesized (resolved) policy, for repositories the assembly
    defines; ``replica_sources``: repository ARN -> (account, Region) of its replication source.
    """
    stack_names = {(s.template_path, s.display_name): s.stack_name for s in stacks}
    targets = []
    for f in report.functions:
        image = parse_image_uri(f.image)
        arn = image.repository_arn if image is not None else f.repository
        targets.append(
            LiveTarget(
                function=f.function,
                stack=f.stack,
                stack_name=stack_names.get((f.template_path, f.stack), f.stack),
                logical_id=f.logical_id,
                account=f.account,
                region=f.region,
                function_name=f.function_name,
                image=image,
                synthesized_policy=(policies or {}).get(arn or ""),
                replica_source=(replica_sources or {}).get(arn or ""),
            )
        )
    return targets


# --------------------------------------------------------------------------------------------
# Credentials per account (the seam tests replace)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountAccess:
    """How the check reached one account, or why it could not."""

    account: str
    via: str
    """``profile NAME``, ``role ARN`` or ``default credentials``."""
    identity: str | None = None
    """The caller ARN ``sts:GetCallerIdentity`` returned."""
    error: str | None = None

    @property
    def reachable(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "via": self.via,
            "identity": self.identity,
            "reachable": self.reachable,
            "error": self.error,
        }


def _error_text(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, Mapping):
        info = response.get("Error") or {}
        code, message = info.get("Code", ""), info.get("Message", "")
        operation = getattr(error, "operation_name", "")
        return f"{operation}: {code}: {message}".strip(": ")
    return f"{type(error).__name__}: {error}"


def _error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, Mapping):
        return str((response.get("Error") or {}).get("Code", ""))
    return ""


class AccountCredentials:
    """Credentials per account: a named profile, an assumed role, or the default credentials.

    ``profiles`` maps an account id to a profile name (``--profile ACCOUNT=PROFILE``);
    ``role_arn_template`` is ``arn:aws:iam::{account}:role/NAME`` (``--assume-role-arn``), used for
    every account without a profile. ``session_factory`` makes boto3 sessions (default
    ``boto3.Session``; called with no argument for the base session, with ``profile_name=`` for a
    profile): tests pass one whose clients are mocked.

    Every client comes from the one base session (service models load once), with the account's
    credentials, the ``standard`` retry mode and a connection pool as large as the thread pool.
    """

    def __init__(
        self,
        *,
        profiles: Mapping[str, str] | None = None,
        role_arn_template: str | None = None,
        session_factory: Callable[..., Any] | None = None,
        max_workers: int = _WORKERS,
    ) -> None:
        require_boto3()
        import boto3
        from botocore.config import Config

        from .. import __version__

        self.profiles = dict(profiles or {})
        self.role_arn_template = role_arn_template
        self._factory = session_factory or boto3.Session
        self._base = self._factory()
        self._config = Config(
            retries={"mode": "standard", "max_attempts": _RETRY_ATTEMPTS},
            max_pool_connections=max(10, max_workers),
            connect_timeout=10,
            read_timeout=30,
            user_agent_extra=f"ecr-lambda-access/{__version__}",
        )
        self._lock = threading.Lock()
        self._account_locks: dict[str, threading.Lock] = {}
        self._access: dict[str, AccountAccess] = {}
        self._credentials: dict[str, dict[str, str] | None] = {}
        self._clients: dict[tuple[str | None, str, str], Any] = {}
        self.calls: Counter[str] = Counter()
        """STS operations called (AssumeRole, GetCallerIdentity)."""

    def _count(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] += 1

    def via(self, account: str) -> str:
        if account in self.profiles:
            return f"profile {self.profiles[account]}"
        if self.role_arn_template:
            return f"role {role_arn_for(self.role_arn_template, account)}"
        return "default credentials"

    def _client(self, key: str | None, service: str, region: str) -> Any:
        with self._lock:
            client = self._clients.get((key, service, region))
            if client is None:
                secrets = self._credentials.get(key) if key is not None else None
                client = self._base.client(
                    service, region_name=region, config=self._config, **(secrets or {})
                )
                self._clients[(key, service, region)] = client
            return client

    def _resolve(self, account: str, region: str) -> dict[str, str] | None:
        """The account's credentials (None: the base session's own)."""
        if account in self.profiles:
            session = self._factory(profile_name=self.profiles[account])
            credentials = session.get_credentials()
            if credentials is None:
                raise LookupError(f"profile {self.profiles[account]} has no credentials")
            frozen = credentials.get_frozen_credentials()
            return {
                "aws_access_key_id": frozen.access_key,
                "aws_secret_access_key": frozen.secret_key,
                "aws_session_token": frozen.token,
            }
        if self.role_arn_template:
            sts = self._client(None, "sts", region)
            self._count("sts:AssumeRole")
            role = sts.assume_role(
                RoleArn=role_arn_for(self.role_arn_template, account),
                RoleSessionName=_SESSION_NAME,
            )["Credentials"]
            return {
                "aws_access_key_id": role["AccessKeyId"],
                "aws_secret_access_key": role["SecretAccessKey"],
                "aws_session_token": role["SessionToken"],
            }
        return None

    def access(self, account: str, region: str) -> AccountAccess:
        """Reach the account once (thread-safe); the answer is cached."""
        with self._lock:
            lock = self._account_locks.setdefault(account, threading.Lock())
        with lock:
            known = self._access.get(account)
            if known is not None:
                return known
            via = self.via(account)
            try:
                secrets = self._resolve(account, region)
                with self._lock:
                    self._credentials[account] = secrets
                self._count("sts:GetCallerIdentity")
                identity = self._client(account, "sts", region).get_caller_identity()
                found = str(identity.get("Account"))
                if found != account:
                    hint = (
                        f"map the account to its own profile (--profile {account}=PROFILE) "
                        "or give --assume-role-arn"
                    )
                    access = AccountAccess(
                        account,
                        via,
                        identity.get("Arn"),
                        f"cannot be used: its credentials are for account {found}: {hint}",
                    )
                else:
                    access = AccountAccess(account, via, identity.get("Arn"))
            except Exception as error:  # every failure to reach an account is a reason, not a crash
                access = AccountAccess(
                    account, via, error=f"cannot be reached: {_error_text(error)}"
                )
            self._access[account] = access
            return access

    def client(self, account: str, service: str, region: str) -> Any:
        """A client of a reachable account (call :meth:`access` first)."""
        return self._client(account, service, region)


# --------------------------------------------------------------------------------------------
# What AWS said (observations), and the verdicts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Policy:
    exists: bool = True
    """False when the repository does not exist."""
    document: Mapping[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True)
class _Deployed:
    name: str | None = None
    arn: str | None = None
    state: str | None = None
    state_reason: str | None = None
    state_reason_code: str | None = None
    last_update_status: str | None = None
    last_update_reason_code: str | None = None
    image_uri: str | None = None
    resolved_image_uri: str | None = None
    missing: bool = False
    error: str | None = None


@dataclass(frozen=True)
class _Image:
    present: bool | None
    digest: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class LiveFunctionReport:
    """The live verdict for one function."""

    function: str
    stack: str
    account: str | None
    region: str | None
    function_name: str | None
    status: str
    detail: str
    problems: tuple[tuple[str, str], ...] = ()
    """Every (status, detail) found; ``status`` is the first by severity."""
    warnings: tuple[str, ...] = ()
    state: str | None = None
    state_reason_code: str | None = None
    deployed_image: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "stack": self.stack,
            "account": self.account,
            "region": self.region,
            "function_name": self.function_name,
            "status": self.status,
            "detail": self.detail,
            "problems": [{"status": s, "detail": d} for s, d in self.problems],
            "warnings": list(self.warnings),
            "state": self.state,
            "state_reason_code": self.state_reason_code,
            "deployed_image": self.deployed_image,
        }


@dataclass(frozen=True)
class LiveReport:
    """What the live check found."""

    functions: tuple[LiveFunctionReport, ...]
    accounts: tuple[AccountAccess, ...]
    calls: Mapping[str, int] = field(default_factory=dict)
    """How many times each API operation was called (``service:Operation``; botocore's retries
    not counted)."""
    seconds: float = 0.0

    def failures(self, *, strict: bool = False) -> list[LiveFunctionReport]:
        failing = LIVE_FAILING_STATUSES | ({UNVERIFIABLE} if strict else set())
        return [f for f in self.functions if f.status in failing]

    def failed(self, *, strict: bool = False) -> bool:
        return bool(self.failures(strict=strict))

    def counts(self) -> dict[str, int]:
        return dict(Counter(f.status for f in self.functions))

    def warnings(self) -> list[tuple[str, str]]:
        return [(f.function, w) for f in self.functions for w in f.warnings]

    def to_json(self, *, strict: bool = False) -> dict[str, Any]:
        return {
            "functions": [f.to_json() for f in self.functions],
            "accounts": [a.to_json() for a in self.accounts],
            "calls": dict(sorted(self.calls.items())),
            "summary": {
                "functions": len(self.functions),
                "statuses": self.counts(),
                "warnings": len(self.warnings()),
                "unreachable_accounts": sum(not a.reachable for a in self.accounts),
                "strict": strict,
                "failed": self.failed(strict=strict),
                "seconds": round(self.seconds, 3),
            },
        }


def _canonical(statement: Mapping[str, Any]) -> str:
    """A statement as comparable text: keys sorted, lists of strings as sorted sets."""

    def norm(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): norm(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
        if isinstance(value, (list, tuple)):
            items = [norm(v) for v in value]
            if all(isinstance(i, str) for i in items):
                items = sorted(set(items))
                return items[0] if len(items) == 1 else items
            return items
        return value

    return json.dumps(norm(statement), sort_keys=True)


def _statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    raw = (document or {}).get("Statement")
    items = raw if isinstance(raw, list) else [raw] if raw is not None else []
    return [s for s in items if isinstance(s, Mapping)]


def _named(
    statements: Sequence[Mapping[str, Any]], names: Iterable[str]
) -> list[Mapping[str, Any]]:
    """The statements with these Sids (or positions ``#N``, as the evaluator names them)."""
    found = []
    for name in names:
        for index, statement in enumerate(statements):
            if statement.get("Sid") == name or (not statement.get("Sid") and name == f"#{index}"):
                found.append(statement)
                break
    return found


def _pull_verdict(access: PullAccess) -> tuple[str, str]:
    """A static status for an evaluation that does not let the function pull."""
    root, service = access.root, access.service
    if Access.INVALID in (root.access, service.access):
        return INVALID_POLICY, (service if service.access is Access.INVALID else root).detail
    if Access.DENIED in (root.access, service.access):
        denied = [g for g in (root, service) if g.access is Access.DENIED]
        return DENIED, "; ".join(g.detail for g in denied)
    if root.access is Access.MISSING:
        return MISSING_ROOT, root.detail
    if service.access is Access.MISSING:
        return MISSING_SERVICE, service.detail
    unknown = [g.detail for g in (root, service) if g.access is Access.UNKNOWN]
    return UNVERIFIABLE, "; ".join(unknown)


def _digest_of(uri: str | None) -> str | None:
    image = parse_image_uri(uri)
    return image.digest if image is not None else None


class _Verdict:
    """Collects the problems and warnings of one function."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []
        self.warnings: list[str] = []

    def problem(self, status: str, detail: str) -> None:
        self.problems.append((status, detail))

    def status(self) -> tuple[str, str]:
        if not self.problems:
            return OK, ""
        ordered = sorted(self.problems, key=lambda p: _PRECEDENCE.index(p[0]))
        return ordered[0][0], "; ".join(d for _, d in ordered)


# --------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------


class LiveCheck:
    """Checks targets against what is deployed, with a bounded pool of threads."""

    def __init__(
        self,
        credentials: AccountCredentials,
        *,
        organization_id: str | None = None,
        max_workers: int = _WORKERS,
    ) -> None:
        self.credentials = credentials
        self.organization_id = organization_id
        self.max_workers = max(1, max_workers)
        self._calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()

    # calls -------------------------------------------------------------------------------

    def _call(self, account: str, region: str, service: str, operation: str, **kwargs: Any) -> Any:
        with self._calls_lock:
            self._calls[f"{service}:{operation}"] += 1
        client = self.credentials.client(account, service, region)
        method = re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
        return getattr(client, method)(**kwargs)

    def _map(self, function: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        items = list(items)
        if not items:
            return []
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(items))) as pool:
            return list(pool.map(function, items))

    # observations -------------------------------------------------------------------------

    def _policy(self, key: tuple[str, str, str]) -> _Policy:
        account, region, name = key
        try:
            text = self._call(
                account,
                region,
                "ecr",
                "GetRepositoryPolicy",
                registryId=account,
                repositoryName=name,
            )["policyText"]
        except Exception as error:
            code = _error_code(error)
            if code == "RepositoryPolicyNotFoundException":
                return _Policy(document=None)
            if code == "RepositoryNotFoundException":
                return _Policy(exists=False)
            return _Policy(error=_error_text(error))
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            return _Policy(error=f"the deployed policy is not JSON: {error}")
        return _Policy(document=document if isinstance(document, Mapping) else None)

    def _function_name(self, target: LiveTarget) -> tuple[str | None, str | None]:
        """The deployed function's name (CloudFormation's physical id when generated)."""
        if target.function_name is not None:
            return target.function_name, None
        assert target.account is not None and target.region is not None
        try:
            detail = self._call(
                target.account,
                target.region,
                "cloudformation",
                "DescribeStackResource",
                StackName=target.stack_name,
                LogicalResourceId=target.logical_id,
            )["StackResourceDetail"]
        except Exception as error:
            return None, (
                "the function's name is not in the template (CloudFormation generates it, or it "
                f"is a deploy-time value) and could not be read from stack {target.stack_name}: "
                f"{_error_text(error)}"
            )
        return str(detail.get("PhysicalResourceId")), None

    def _deployed(self, target: LiveTarget) -> _Deployed:
        name, error = self._function_name(target)
        if name is None:
            return _Deployed(error=error)
        assert target.account is not None and target.region is not None
        arn = f"arn:{target.partition}:lambda:{target.region}:{target.account}:function:{name}"
        try:
            response = self._call(
                target.account, target.region, "lambda", "GetFunction", FunctionName=arn
            )
        except Exception as error:
            if _error_code(error) == "ResourceNotFoundException":
                return _Deployed(name=name, arn=arn, missing=True)
            return _Deployed(name=name, arn=arn, error=_error_text(error))
        configuration = response.get("Configuration") or {}
        code = response.get("Code") or {}
        return _Deployed(
            name=name,
            arn=arn,
            state=configuration.get("State"),
            state_reason=configuration.get("StateReason"),
            state_reason_code=configuration.get("StateReasonCode"),
            last_update_status=configuration.get("LastUpdateStatus"),
            last_update_reason_code=configuration.get("LastUpdateStatusReasonCode"),
            image_uri=code.get("ImageUri"),
            resolved_image_uri=code.get("ResolvedImageUri"),
        )

    def _images(self, key: tuple[str, str, str], references: Sequence[str]) -> dict[str, _Image]:
        """DescribeImages for these tags/digests of one repository, in batches of 100."""
        account, region, name = key
        found: dict[str, _Image] = {}

        def ident(reference: str) -> dict[str, str]:
            return (
                {"imageDigest": reference}
                if reference.startswith("sha256:")
                else {"imageTag": reference}
            )

        def describe(batch: Sequence[str]) -> list[Mapping[str, Any]]:
            response = self._call(
                account,
                region,
                "ecr",
                "DescribeImages",
                registryId=account,
                repositoryName=name,
                imageIds=[ident(r) for r in batch],
            )
            return list(response.get("imageDetails") or [])

        def record(details: Iterable[Mapping[str, Any]], wanted: Sequence[str]) -> None:
            for detail in details:
                digest = detail.get("imageDigest")
                for reference in wanted:
                    if reference == digest or reference in (detail.get("imageTags") or ()):
                        found[reference] = _Image(True, digest)

        references = list(dict.fromkeys(references))
        for start in range(0, len(references), _DESCRIBE_IMAGES_BATCH):
            batch = references[start : start + _DESCRIBE_IMAGES_BATCH]
            try:
                details = describe(batch)
            except Exception as error:
                code = _error_code(error)
                if code == "ImageNotFoundException" and len(batch) > 1:
                    for reference in batch:  # at least one is missing: ask for each
                        found.update(self._images(key, [reference]))
                    continue
                for reference in batch:
                    if code == "ImageNotFoundException":
                        found[reference] = _Image(False)
                    elif code == "RepositoryNotFoundException":
                        found[reference] = _Image(False, error="the repository does not exist")
                    else:
                        found[reference] = _Image(None, error=_error_text(error))
                continue
            record(details, batch)
            for reference in batch:
                found.setdefault(reference, _Image(False))
        return found

    def _replication(self, key: tuple[str, str, str, str]) -> list[Mapping[str, Any]] | str:
        account, region, name, reference = key
        try:
            if not reference.startswith("sha256:"):
                details = self._images((account, region, name), [reference])
                image = details.get(reference)
                if image is not None and image.present is None:
                    return f"the source repository cannot be read: {image.error}"
                if image is None or not image.present or image.digest is None:
                    return f"tag {reference} is not in the source repository either"
                reference = image.digest
            response = self._call(
                account,
                region,
                "ecr",
                "DescribeImageReplicationStatus",
                registryId=account,
                repositoryName=name,
                imageId={"imageDigest": reference},
            )
        except Exception as error:
            return _error_text(error)
        return list(response.get("replicationStatuses") or [])

    # the run ------------------------------------------------------------------------------

    def run(self, targets: Sequence[LiveTarget]) -> LiveReport:
        """Check every target; never raises for what AWS answers."""
        started = time.perf_counter()
        checkable = [t for t in targets if t.account and t.region]
        # 1. accounts (functions', repositories', replication sources'), each once
        regions: dict[str, str] = {}
        for t in checkable:
            regions.setdefault(str(t.account), str(t.region))
            if t.image is not None:
                regions.setdefault(t.image.account, t.image.region)
                if t.replica_source is not None:
                    regions.setdefault(*t.replica_source)
        accesses = dict(
            zip(
                regions,
                self._map(lambda a: self.credentials.access(a, regions[a]), regions),
                strict=True,
            )
        )

        def reachable(account: str | None) -> bool:
            return account is not None and accesses[account].reachable

        # 2. repository policies and deployed functions, concurrently
        repositories = sorted(
            {
                (t.image.account, t.image.region, t.image.repository)
                for t in checkable
                if t.image is not None and reachable(t.image.account)
            }
        )
        functions: dict[tuple[str | None, ...], LiveTarget] = {}  # one call per function
        for t in checkable:
            if reachable(t.account):
                functions.setdefault(_function_key(t), t)
        work: list[tuple[str, Any]] = [("policy", k) for k in repositories] + [
            ("function", t) for t in functions.values()
        ]
        results = self._map(
            lambda item: self._policy(item[1]) if item[0] == "policy" else self._deployed(item[1]),
            work,
        )
        policies: dict[tuple[str, str, str], _Policy] = {}
        deployed: dict[str, _Deployed] = {}
        for (kind, item), result in zip(work, results, strict=True):
            if kind == "policy":
                policies[item] = result
            else:
                deployed[item.function] = result
        for t in checkable:  # functions of the assembly that are the same deployed function
            first = functions.get(_function_key(t))
            if first is not None and first.function in deployed:
                deployed.setdefault(t.function, deployed[first.function])

        # 2b. an image URI known only at deploy time (a parameter, an import): the deployed one
        targets = [self._with_deployed_image(t, deployed) for t in targets]
        checkable = [t for t in targets if t.account and t.region]
        more = {
            t.image.account: t.image.region
            for t in checkable
            if t.image is not None and t.image.account not in accesses
        }
        accesses.update(
            zip(more, self._map(lambda a: self.credentials.access(a, more[a]), more), strict=True)
        )
        late = sorted(
            {
                _repo_key(t.image)
                for t in checkable
                if t.image is not None
                and reachable(t.image.account)
                and _repo_key(t.image) not in policies
            }
        )
        policies.update(zip(late, self._map(self._policy, late), strict=True))

        # 3. images: the synthesized reference and the digest each deployed function runs
        wanted: dict[tuple[str, str, str], list[str]] = {}
        for t in checkable:
            if t.image is None or policies.get(_repo_key(t.image), _Policy()).exists is False:
                continue
            if not reachable(t.image.account):
                continue
            refs = wanted.setdefault(_repo_key(t.image), [])
            refs.append(t.image.reference)
            running = _digest_of(deployed.get(t.function, _Deployed()).resolved_image_uri)
            if running is not None and _same_repository(t.image, deployed[t.function]):
                refs.append(running)
        image_results = self._map(lambda k: self._images(k, wanted[k]), list(wanted))
        images = {
            (*key, ref): image
            for key, found in zip(wanted, image_results, strict=True)
            for ref, image in found.items()
        }

        # 4. replication status of missing images of replicas whose source is known
        replication_keys = sorted(
            {
                (*t.replica_source, t.image.repository, t.image.reference)
                for t in checkable
                if t.image is not None
                and t.replica_source is not None
                and reachable(t.replica_source[0])
                and images.get((*_repo_key(t.image), t.image.reference), _Image(True)).present
                is False
            }
        )
        replication = dict(
            zip(replication_keys, self._map(self._replication, replication_keys), strict=True)
        )

        reports = [
            self._verdict(t, accesses, policies, deployed, images, replication) for t in targets
        ]
        return LiveReport(
            functions=tuple(reports),
            accounts=tuple(accesses[a] for a in sorted(accesses)),
            calls=dict(self._calls + self.credentials.calls),
            seconds=time.perf_counter() - started,
        )

    @staticmethod
    def _with_deployed_image(target: LiveTarget, deployed: Mapping[str, _Deployed]) -> LiveTarget:
        if target.image is not None:
            return target
        running = parse_image_uri(deployed.get(target.function, _Deployed()).image_uri)
        return target if running is None else replace(target, image=running, image_deployed=True)

    # verdicts (no I/O) --------------------------------------------------------------------

    def _verdict(
        self,
        target: LiveTarget,
        accesses: Mapping[str, AccountAccess],
        policies: Mapping[tuple[str, str, str], _Policy],
        deployed: Mapping[str, _Deployed],
        images: Mapping[tuple[str, str, str, str], _Image],
        replication: Mapping[tuple[str, str, str, str], list[Mapping[str, Any]] | str],
    ) -> LiveFunctionReport:
        verdict = _Verdict()
        function = deployed.get(target.function, _Deployed())
        if not target.account or not target.region:
            verdict.problem(
                UNVERIFIABLE,
                "the stack is env-agnostic: the live check needs the function's account and Region",
            )
        elif not accesses[target.account].reachable:
            verdict.problem(
                UNVERIFIABLE,
                f"account {target.account} ({accesses[target.account].via}) "
                f"{accesses[target.account].error}",
            )
        else:
            self._function_verdict(target, function, verdict)
        image = target.image
        if image is None:
            verdict.problem(
                UNVERIFIABLE,
                "the synthesized image URI is not a known private ECR image, so its repository "
                "cannot be read",
            )
        elif target.account and target.region:
            if image.region != target.region:
                verdict.problem(
                    REGION_MISMATCH,
                    f"the image is in {image.region} but the function runs in {target.region}: "
                    "Lambda runs images only from its own Region",
                )
            access = accesses[image.account]
            if not access.reachable:
                verdict.problem(
                    UNVERIFIABLE,
                    f"the repository's account {image.account} ({access.via}) {access.error}",
                )
            else:
                self._repository_verdict(target, image, function, policies, verdict)
                self._image_verdict(target, image, function, images, replication, verdict)
        if target.image_deployed:
            verdict.warnings.append(
                "the template's image URI is known only at deploy time: the deployed function's "
                f"image ({target.image.uri if target.image else '-'}) was checked"
            )
        status, detail = verdict.status()
        if status == OK:
            detail = (
                f"deployed function {function.state or 'found'}; the deployed repository policy "
                "lets it pull; the image is in the repository"
            )
        return LiveFunctionReport(
            function=target.function,
            stack=target.stack,
            account=target.account,
            region=target.region,
            function_name=function.name or target.function_name,
            status=status,
            detail=detail,
            problems=tuple(verdict.problems),
            warnings=tuple(verdict.warnings),
            state=function.state,
            state_reason_code=function.state_reason_code or function.last_update_reason_code,
            deployed_image=function.image_uri,
        )

    def _function_verdict(self, target: LiveTarget, function: _Deployed, verdict: _Verdict) -> None:
        if function.error is not None:
            verdict.problem(UNVERIFIABLE, f"the deployed function cannot be read: {function.error}")
            return
        if function.missing:
            verdict.problem(
                UNVERIFIABLE,
                f"function {function.name} is not deployed in account {target.account}, "
                f"{target.region} (GetFunction: ResourceNotFoundException): deploy the stack "
                f"{target.stack_name} first",
            )
            return
        if function.state in ("Failed", "Inactive") and (
            function.state_reason_code in IMAGE_REASON_CODES
        ):
            verdict.problem(
                FUNCTION_FAILED,
                f"the function is {function.state} with StateReasonCode "
                f"{function.state_reason_code}"
                + (f" ({function.state_reason})" if function.state_reason else "")
                + _failure_hint(function.state_reason_code),
            )
        elif function.state in ("Failed", "Inactive") and function.state_reason_code not in (
            None,
            "Idle",
        ):
            verdict.warnings.append(
                f"the function is {function.state} with StateReasonCode "
                f"{function.state_reason_code}, not an image reason"
            )
        if (
            function.last_update_status == "Failed"
            and function.last_update_reason_code in IMAGE_REASON_CODES
        ):
            verdict.problem(
                FUNCTION_FAILED,
                f"its last update failed with LastUpdateStatusReasonCode "
                f"{function.last_update_reason_code}"
                + _failure_hint(function.last_update_reason_code),
            )
        image = target.image
        if image is not None and function.image_uri:
            deployed_digest = _digest_of(function.resolved_image_uri) or _digest_of(
                function.image_uri
            )
            differs = (
                deployed_digest != image.digest
                if image.digest is not None
                else function.image_uri != image.uri
            )
            if differs:
                verdict.warnings.append(
                    f"the deployed ImageUri {function.image_uri} is not the synthesized "
                    f"{image.uri}: the stack is not deployed yet, or the function drifted"
                )

    def _repository_verdict(
        self,
        target: LiveTarget,
        image: ImageRef,
        function: _Deployed,
        policies: Mapping[tuple[str, str, str], _Policy],
        verdict: _Verdict,
    ) -> None:
        policy = policies.get(_repo_key(image))
        if policy is None:  # not read (cannot happen for a reachable account): never say ok
            verdict.problem(UNVERIFIABLE, "the deployed repository policy was not read")
            return
        if policy.error is not None:
            verdict.problem(
                UNVERIFIABLE, f"the deployed repository policy cannot be read: {policy.error}"
            )
            return
        if not policy.exists:
            verdict.problem(
                IMAGE_MISSING,
                f"repository {image.repository_arn} does not exist (GetRepositoryPolicy: "
                "RepositoryNotFoundException)",
            )
            return
        assert target.account is not None and target.region is not None
        arn = function.arn or (
            f"arn:{target.partition}:lambda:{target.region}:{target.account}:function:"
            f"{target.function_name}"
            if target.function_name
            else None
        )
        if arn is None:
            verdict.problem(
                UNVERIFIABLE,
                "the function's name is not known, so the deployed policy's service grant "
                "cannot be checked",
            )
            return
        synthesized = target.synthesized_policy
        wanted = (
            evaluate_pull(
                synthesized,
                function_arn=arn,
                function_account=target.account,
                repository_account=image.account,
                partition=image.partition,
                organization_id=self.organization_id,
                repository_arn=image.repository_arn,
            )
            if synthesized is not None
            else None
        )
        synthesized_allows = wanted is not None and wanted.ok
        if policy.document is None:
            if synthesized_allows:
                verdict.problem(
                    DRIFTED,
                    f"repository {image.repository_arn} has no policy deployed, but the "
                    "synthesized one lets the function pull: it was deleted or replaced "
                    "outside CloudFormation; redeploy the repository's stack",
                )
            else:
                verdict.problem(
                    NO_POLICY, f"repository {image.repository_arn} has no policy deployed"
                )
            return
        access = evaluate_pull(
            policy.document,
            function_arn=arn,
            function_account=target.account,
            repository_account=image.account,
            partition=image.partition,
            organization_id=self.organization_id,
            repository_arn=image.repository_arn,
        )
        deployed_statements = _statements(policy.document)
        if access.ok:
            if synthesized is not None and {_canonical(s) for s in _statements(synthesized)} != {
                _canonical(s) for s in deployed_statements
            }:
                verdict.warnings.append(
                    "the deployed repository policy differs from the synthesized one ("
                    + _difference(synthesized, policy.document)
                    + "), but still lets this function pull"
                )
            return
        status, detail = _pull_verdict(access)
        if status == UNVERIFIABLE:
            verdict.problem(UNVERIFIABLE, f"deployed repository policy: {detail}")
            return
        shown = []
        denying = [g.statements for g in (access.root, access.service) if g.access is Access.DENIED]
        for statement in _named(deployed_statements, [n for names in denying for n in names]):
            shown.append(f"denying statement {policy_text(statement)}")
        if synthesized is not None and wanted is not None and synthesized_allows:
            present = {_canonical(s) for s in deployed_statements}
            granting = [n for g in (wanted.root, wanted.service) for n in g.statements]
            for statement in _named(_statements(synthesized), granting):
                if _canonical(statement) not in present:
                    shown.append(f"missing statement {policy_text(statement)}")
            verdict.problem(
                DRIFTED,
                f"the deployed policy of {image.repository_arn} no longer lets the function "
                f"pull ({detail}), though the synthesized one does"
                + (": " + "; ".join(shown) if shown else "")
                + ". It was changed outside CloudFormation: redeploy the repository's stack",
            )
            return
        verdict.problem(
            status,
            f"deployed policy of {image.repository_arn}: {detail}"
            + (": " + "; ".join(shown) if shown else ""),
        )

    def _image_verdict(
        self,
        target: LiveTarget,
        image: ImageRef,
        function: _Deployed,
        images: Mapping[tuple[str, str, str, str], _Image],
        replication: Mapping[tuple[str, str, str, str], list[Mapping[str, Any]] | str],
        verdict: _Verdict,
    ) -> None:
        key = _repo_key(image)
        synthesized = images.get((*key, image.reference))
        if synthesized is None:
            if not any(status == IMAGE_MISSING for status, _ in verdict.problems):
                verdict.problem(UNVERIFIABLE, "the image was not read")
            return  # else the repository does not exist: said above
        if synthesized.error is not None and synthesized.present is None:
            verdict.problem(UNVERIFIABLE, f"the image cannot be read: {synthesized.error}")
            return
        if synthesized.present is False:
            what = "digest" if image.digest else "tag"
            detail = (
                f"the synthesized {what} {image.reference} is not in repository "
                f"{image.repository_arn}"
            )
            if target.replica_source is not None:
                source = (*target.replica_source, image.repository, image.reference)
                detail += _replication_detail(image, source, replication.get(source))
            else:
                detail += " (deleted by a lifecycle rule, or never pushed)"
            verdict.problem(IMAGE_MISSING, detail)
        running = _digest_of(function.resolved_image_uri)
        if running is not None and running != image.reference and _same_repository(image, function):
            state = images.get((*key, running))
            if state is not None and state.present is False:
                verdict.problem(
                    IMAGE_MISSING,
                    f"the digest the deployed function runs, {running}, is no longer in "
                    f"repository {image.repository_arn} (a lifecycle rule?): Lambda cannot fetch "
                    "it again when the function is optimized or comes back from Inactive; "
                    "update the function's code (redeploy) to an image that exists",
                )


def _function_key(target: LiveTarget) -> tuple[str | None, ...]:
    if target.function_name is not None:
        return (target.account, target.region, target.function_name)
    return (target.account, target.region, target.stack_name, target.logical_id)


def _repo_key(image: ImageRef) -> tuple[str, str, str]:
    return (image.account, image.region, image.repository)


def _same_repository(image: ImageRef, function: _Deployed) -> bool:
    running = parse_image_uri(function.resolved_image_uri or function.image_uri)
    return running is not None and _repo_key(running) == _repo_key(image)


def _failure_hint(code: str | None) -> str:
    return {
        "ImageAccessDenied": ": the repository policy does not let Lambda pull (check it, then "
        "update the function's code or configuration to bring it back)",
        "ImageDeleted": ": the image was deleted from the repository; deploy an image that exists",
        "InvalidImage": ": the image is not a valid Lambda image for this function",
    }.get(code or "", "")


def _replication_detail(
    image: ImageRef,
    source: tuple[str, str, str, str],
    statuses: list[Mapping[str, Any]] | str | None,
) -> str:
    account, region = source[0], source[1]
    where = f" (a replica of {account}/{region}"
    if statuses is None:
        return where + ")"
    if isinstance(statuses, str):
        return where + f"; its replication status cannot be read: {statuses})"
    for status in statuses:
        if status.get("region") == image.region and status.get("registryId") == image.account:
            code = status.get("failureCode")
            return (
                where
                + f"; replication to {image.region}/{image.account}: {status.get('status')}"
                + (f" ({code})" if code else "")
                + ")"
            )
    return (
        where + f"; the source lists no replication of this image to {image.region}/"
        f"{image.account}: only images pushed after replication is configured are replicated)"
    )


def _difference(synthesized: Mapping[str, Any], deployed: Mapping[str, Any]) -> str:
    """Which statements differ, by Sid: changed, added, or not deployed."""
    before = {_canonical(s): s for s in _statements(synthesized)}
    after = {_canonical(s): s for s in _statements(deployed)}

    def sids(items: Iterable[Mapping[str, Any]]) -> list[str]:
        return [str(s.get("Sid") or "(no Sid)") for s in items]

    added = sids(s for k, s in after.items() if k not in before)
    removed = sids(s for k, s in before.items() if k not in after)
    changed = [sid for sid in dict.fromkeys(added) if sid in removed and sid != "(no Sid)"]
    parts = [
        f"{what}: {', '.join(names)}"
        for what, names in (
            ("changed", changed),
            ("added", [n for n in added if n not in changed]),
            ("not deployed", [n for n in removed if n not in changed]),
        )
        if names
    ]
    return "; ".join(parts)


# --------------------------------------------------------------------------------------------
# Text output
# --------------------------------------------------------------------------------------------


def _wrap(text: str, indent: str = "    ") -> str:
    return textwrap.fill(
        text,
        width=100,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def render_text(report: LiveReport, *, strict: bool, out: TextIO) -> None:
    """The live section of ``--format text``: accounts, then each function's verdict."""
    write = out.write
    write(f"\nLive check (deployed): {len(report.functions)} function(s)\n")
    unreachable = [a for a in report.accounts if not a.reachable]
    for access in report.accounts:
        state = "reached" if access.reachable else "NOT REACHED"
        write(f"  account {access.account}: {state} via {access.via}\n")
        if access.error:
            write(_wrap(access.error) + "\n")
    failing = LIVE_FAILING_STATUSES | ({UNVERIFIABLE} if strict else set())
    for f in report.functions:
        mark = "x" if f.status in failing else ("?" if f.status != OK else " ")
        where = f"{f.account or '-'} {f.region or '-'}"
        write(f"{mark} {f.function}  {where}  {f.status}\n")
        write(_wrap(f.detail) + "\n")
        for warning in f.warnings:
            write(_wrap("warning: " + warning) + "\n")
    counts = ", ".join(f"{n} {s}" for s, n in sorted(report.counts().items())) or "none"
    verdict = "FAILED" if report.failed(strict=strict) else "passed"
    calls = sum(report.calls.values())
    write(
        f"live {verdict}: {counts}; {len(report.warnings())} warning(s); "
        f"{len(unreachable)} unreachable account(s); {calls} AWS call(s) in "
        f"{report.seconds:.1f} s\n"
    )


# --------------------------------------------------------------------------------------------
# From a cloud assembly: the static audit, and what the live check needs of it
# --------------------------------------------------------------------------------------------


def audit_with_targets(
    path: str, *, organization_id: str | None = None
) -> tuple[AuditReport, list[LiveTarget]]:
    """The static audit of the assembly at ``path``, and a live target per function.

    The synthesized repository policies and replication configurations are resolved with the
    static audit's resolver (:mod:`.resolve`); values known only at deploy time leave a policy
    out (the live check then judges the deployed policy on its own).
    """
    stacks = load_assembly(path)
    report = audit_stacks(stacks, organization_id=organization_id)
    assembly = Assembly(stacks)
    policies: dict[str, Mapping[str, Any]] = {}
    configurations: list[tuple[str | None, str | None, Any]] = []
    for index, stack in enumerate(stacks):
        resolver = assembly.resolvers[index]
        for logical_id, resource in stack.resources.items():
            kind = resource.get("Type") if isinstance(resource, Mapping) else None
            if kind == "AWS::ECR::ReplicationConfiguration":
                configurations.append((stack.account, stack.region, resolver.resolve(resource)))
            if kind != "AWS::ECR::Repository":
                continue
            properties = resource.get("Properties") or {}
            document = resolver.resolve(properties.get("RepositoryPolicyText"))
            if isinstance(document, str) and not has_marker(document):
                try:
                    document = json.loads(document)
                except json.JSONDecodeError:
                    document = None
            arn = resolver.get_att(logical_id, "Arn", 0)
            if (
                isinstance(document, Mapping)
                and isinstance(arn, str)
                and not has_marker(arn + json.dumps(document, ensure_ascii=False))
            ):
                policies[arn] = document
    rules = replication_rules(configurations)
    sources = {
        image.repository_arn: source
        for image in (parse_image_uri(f.image) for f in report.functions)
        if image is not None and (source := replica_source(rules, image)) is not None
    }
    return report, targets_from_report(report, stacks, policies=policies, replica_sources=sources)


@dataclass(frozen=True)
class ReplicationRule:
    """One destination of a registry's replication configuration (plain data)."""

    source_account: str
    source_region: str
    destination_account: str
    destination_region: str
    prefixes: tuple[str, ...]
    """``PREFIX_MATCH`` filters; empty: every repository."""


def replication_rules(
    configurations: Iterable[tuple[str | None, str | None, Any]],
) -> list[ReplicationRule]:
    """The rules of ``AWS::ECR::ReplicationConfiguration`` resources (resolved), by source."""
    found = []
    for account, region, resource in configurations:
        properties = resource.get("Properties") if isinstance(resource, Mapping) else None
        configuration = (properties or {}).get("ReplicationConfiguration") or {}
        if not account or not region or not isinstance(configuration, Mapping):
            continue
        for rule in configuration.get("Rules") or []:
            if not isinstance(rule, Mapping):
                continue
            prefixes = tuple(
                str(f.get("Filter"))
                for f in rule.get("RepositoryFilters") or []
                if isinstance(f, Mapping) and f.get("FilterType", "PREFIX_MATCH") == "PREFIX_MATCH"
            )
            for destination in rule.get("Destinations") or []:
                if isinstance(destination, Mapping):
                    found.append(
                        ReplicationRule(
                            account,
                            region,
                            str(destination.get("RegistryId")),
                            str(destination.get("Region")),
                            prefixes,
                        )
                    )
    return found


def replica_source(rules: Sequence[ReplicationRule], image: ImageRef) -> tuple[str, str] | None:
    """(account, Region) of the registry that replicates the image's repository, if one does."""
    for rule in rules:
        if (
            (rule.destination_account, rule.destination_region) == (image.account, image.region)
            and (rule.source_account, rule.source_region) != (image.account, image.region)
            and (not rule.prefixes or any(image.repository.startswith(p) for p in rule.prefixes))
        ):
            return rule.source_account, rule.source_region
    return None


# --------------------------------------------------------------------------------------------
# The IAM policy the live check needs (`ecr-lambda-access live-policy`)
# --------------------------------------------------------------------------------------------


def _one_or_list(values: Iterable[str]) -> str | list[str]:
    items = sorted(set(values))
    return items[0] if len(items) == 1 else items


def required_policy(targets: Sequence[LiveTarget], *, account: str | None = None) -> dict[str, Any]:
    """The least-privilege read-only policy for the live check of these targets.

    Attach it to the role (or profile principal) the check uses in each account; ``account``
    keeps only that account's resources. Exactly the actions the check calls, on the repositories,
    functions and stacks involved (``sts:GetCallerIdentity`` needs no permission).
    """
    mine = [t for t in targets if t.account and t.region]

    def keep(owner: str) -> bool:
        return account is None or owner == account

    repositories = {
        t.image.repository_arn for t in mine if t.image is not None and keep(t.image.account)
    }
    sources = {
        f"arn:{partition_of(t.replica_source[1])}:ecr:{t.replica_source[1]}:{t.replica_source[0]}:"
        f"repository/{t.image.repository}"
        for t in mine
        if t.image is not None and t.replica_source is not None and keep(t.replica_source[0])
    }
    named = {
        f"arn:{t.partition}:lambda:{t.region}:{t.account}:function:{t.function_name}"
        for t in mine
        if t.function_name and keep(str(t.account))
    }
    generated = [t for t in mine if not t.function_name and keep(str(t.account))]
    functions = named | {
        f"arn:{t.partition}:lambda:{t.region}:{t.account}:function:*" for t in generated
    }
    stacks = {
        f"arn:{t.partition}:cloudformation:{t.region}:{t.account}:stack/{t.stack_name}/*"
        for t in generated
    }
    statements: list[dict[str, Any]] = []
    if repositories:
        statements.append(
            {
                "Sid": "ReadRepositoryPolicyAndImages",
                "Effect": "Allow",
                "Action": ["ecr:DescribeImages", "ecr:GetRepositoryPolicy"],
                "Resource": _one_or_list(repositories),
            }
        )
    if sources:
        statements.append(
            {
                "Sid": "ReadReplicationStatus",
                "Effect": "Allow",
                "Action": "ecr:DescribeImageReplicationStatus",
                "Resource": _one_or_list(sources),
            }
        )
    if functions:
        statements.append(
            {
                "Sid": "ReadFunctions",
                "Effect": "Allow",
                "Action": "lambda:GetFunction",
                "Resource": _one_or_list(functions),
            }
        )
    if stacks:
        statements.append(
            {
                "Sid": "ReadGeneratedFunctionNames",
                "Effect": "Allow",
                "Action": "cloudformation:DescribeStackResource",
                "Resource": _one_or_list(stacks),
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def policy_gaps(targets: Sequence[LiveTarget]) -> list[str]:
    """What :func:`required_policy` cannot cover: functions whose account, Region or image is
    known only at deploy time (their resources are not in the policy)."""
    gaps = []
    for t in targets:
        if not t.account or not t.region:
            gaps.append(
                f"{t.function}: the stack is env-agnostic, so its function and repository are not "
                "in the policy (the live check reports it unverifiable)"
            )
        elif t.image is None:
            gaps.append(
                f"{t.function}: its image URI is known only at deploy time, so its repository is "
                "not in the policy: add the repository's ARN to ReadRepositoryPolicyAndImages"
            )
    return gaps


def caller_policy(targets: Sequence[LiveTarget], role_arn_template: str) -> dict[str, Any]:
    """The policy of the principal that runs the check with ``--assume-role-arn``."""
    accounts = {t.account for t in targets if t.account and t.region}
    accounts |= {t.image.account for t in targets if t.image is not None and t.account}
    accounts |= {t.replica_source[0] for t in targets if t.replica_source is not None}
    roles = [role_arn_for(role_arn_template, a) for a in sorted(a for a in accounts if a)]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AssumeTheReadOnlyRoles",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": _one_or_list(roles),
            }
        ]
        if roles
        else [],
    }
