"""The pipeline check: can every container-image Lambda function of a cloud assembly pull its image?

Pure Python: it reads ``manifest.json`` and the templates of a synthesized cloud assembly
(``cdk.out``), nested assemblies of CDK Pipelines stages included, and never imports jsii or
aws-cdk-lib, so ``ecr-lambda-access audit`` runs in a fraction of a second.

What it does, for every ``AWS::Lambda::Function`` with an image (``Code.ImageUri``):

1. resolves the intrinsics CDK emits (``Fn::Join``, ``Fn::Sub``, ``Fn::Select``/``Fn::Split``,
   ``Ref`` to pseudo parameters and resources, ``Fn::GetAtt``, ``Fn::ImportValue`` and
   ``Fn::GetStackOutput`` across stacks) using each stack's environment;
2. parses the image URI (account, Region, repository name, tag or digest) and finds the
   repository among the ``AWS::ECR::Repository`` resources of the assembly;
3. evaluates the repository policy with :func:`ecr_lambda_access.policy.evaluate_pull`, the same
   code the constructs are tested against.

Values not known before deployment (the account of an env-agnostic stack, a name CloudFormation
generates) are carried through the resolution as opaque markers. Two occurrences of the same
unknown (the account of one stack) compare equal, so a repository and a function of the same
env-agnostic stack can still be checked; an unknown compared with anything else makes the answer
``unverifiable``, never a guess.

Function names: when a function has no ``FunctionName``, CloudFormation generates one (in practice
``STACK-LOGICALID-RANDOM``, a format AWS does not document). Such a function is ``ok`` only when
the policy admits every function name of its account (``function:*``); a policy that admits names
by pattern makes it ``unverifiable`` when a pattern could match a generated name, and
``missing-service-grant`` when no pattern can.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache, partial
from pathlib import Path
from typing import Any

from . import policy, replication_plan
from .errors import EcrLambdaAccessError
from .policy import Access, LambdaConsumer, PullAccess

__all__ = [
    "AssemblyError",
    "StackTemplate",
    "FunctionReport",
    "RepositoryReport",
    "Finding",
    "AuditReport",
    "STATUSES",
    "FAILING_STATUSES",
    "STRICT_FAILING_STATUSES",
    "load_assembly",
    "stacks_from_template_paths",
    "audit_assembly",
    "audit_stacks",
]

# --------------------------------------------------------------------------------------------
# Statuses and findings
# --------------------------------------------------------------------------------------------

OK = "ok"
MISSING_ROOT = "missing-root-grant"
MISSING_SERVICE = "missing-service-grant"
REGION_MISMATCH = "region-mismatch"
DENIED = "denied"
NO_POLICY = "no-policy"
EXTERNAL = "external"
UNVERIFIABLE = "unverifiable"
NOT_REPLICATED = "not-replicated"

STATUSES: dict[str, str] = {
    OK: "the function can pull its image",
    MISSING_ROOT: "the repository policy does not admit the function's account (root principal)",
    MISSING_SERVICE: "no lambda.amazonaws.com statement whose condition matches the function",
    REGION_MISMATCH: "the image is in another Region than the function",
    DENIED: "a Deny statement of the repository policy blocks the pull",
    NO_POLICY: "the repository has no repository policy",
    EXTERNAL: "the repository is not in the assembly: its owner must grant the pull",
    UNVERIFIABLE: "the answer depends on values known only at deploy time",
    NOT_REPLICATED: "the image is in a replica that replication does not feed (no rule for the "
    "repository and destination, or no registry policy letting the source replicate)",
}
"""Every function status and what it means."""

FAILING_STATUSES = frozenset(
    {MISSING_ROOT, MISSING_SERVICE, REGION_MISMATCH, DENIED, NO_POLICY, NOT_REPLICATED}
)
"""Definite problems: the audit exits 1 when a function has one of these."""

STRICT_FAILING_STATUSES = FAILING_STATUSES | {EXTERNAL, UNVERIFIABLE}
"""With ``--strict``, images that cannot be checked fail too."""

ERROR = "error"
WARNING = "warning"

# Finding codes
POLICY_TOO_LARGE = "policy-too-large"
CONFUSED_DEPUTY = "unconditioned-service-principal"
EXECUTION_ROLE_ECR = "execution-role-ecr-actions"
LATEST_TAG = "latest-tag"


class AssemblyError(EcrLambdaAccessError):
    """The path is not a readable cloud assembly (a usage error: exit status 2)."""


@dataclass(frozen=True)
class StackTemplate:
    """One stack of the assembly: its template and where it is deployed.

    ``account`` and ``region`` are None for an env-agnostic stack (``unknown-account``).
    ``paths`` maps logical ids to construct paths (from the stack's metadata).
    """

    artifact_id: str
    stack_name: str
    display_name: str
    account: str | None
    region: str | None
    template: Mapping[str, Any]
    template_path: str
    paths: Mapping[str, str] = field(default_factory=dict)

    @property
    def resources(self) -> Mapping[str, Any]:
        """The template's ``Resources`` (empty when there are none)."""
        resources = self.template.get("Resources")
        return resources if isinstance(resources, Mapping) else {}

    def path_of(self, logical_id: str) -> str:
        """The construct path of a resource, or ``STACK/LOGICALID`` when it is not recorded."""
        return self.paths.get(logical_id, f"{self.display_name}/{logical_id}")


@dataclass(frozen=True)
class FunctionReport:
    """The verdict for one container-image function."""

    function: str
    stack: str
    account: str | None
    region: str | None
    image: str | None
    repository: str | None
    status: str
    detail: str
    logical_id: str
    template_path: str
    function_name: str | None = None
    tag_or_digest: str | None = None
    required_statements: tuple[Mapping[str, Any], ...] = ()
    """For ``external`` images: the statements the repository's owner must have."""

    def to_json(self) -> dict[str, Any]:
        """The JSON form (the CLI's ``functions`` entries)."""
        data: dict[str, Any] = {
            "function": self.function,
            "stack": self.stack,
            "account": self.account,
            "region": self.region,
            "image": self.image,
            "repository": self.repository,
            "status": self.status,
            "detail": self.detail,
            "function_name": self.function_name,
            "tag_or_digest": self.tag_or_digest,
            "logical_id": self.logical_id,
            "template": self.template_path,
        }
        if self.required_statements:
            data["required_statements"] = [dict(s) for s in self.required_statements]
        return data


@dataclass(frozen=True)
class RepositoryReport:
    """One ``AWS::ECR::Repository`` of the assembly."""

    repository: str
    name: str | None
    path: str
    stack: str
    account: str | None
    region: str | None
    has_policy: bool
    policy_size: int
    unconditioned_service_statements: tuple[str, ...]
    consumers: tuple[str, ...]
    logical_id: str
    template_path: str

    def to_json(self) -> dict[str, Any]:
        """The JSON form (the CLI's ``repositories`` entries)."""
        return {
            "repository": self.repository,
            "name": self.name,
            "path": self.path,
            "stack": self.stack,
            "account": self.account,
            "region": self.region,
            "has_policy": self.has_policy,
            "policy_size": self.policy_size,
            "policy_limit": policy.ECR_POLICY_MAX_CHARS,
            "unconditioned_service_statements": list(self.unconditioned_service_statements),
            "consumers": list(self.consumers),
            "logical_id": self.logical_id,
            "template": self.template_path,
        }


@dataclass(frozen=True)
class Finding:
    """A problem of a repository or an execution role (not of one function's pull)."""

    severity: str
    code: str
    resource: str
    stack: str
    message: str
    logical_id: str
    template_path: str

    def to_json(self) -> dict[str, Any]:
        """The JSON form (the CLI's ``findings`` entries)."""
        return {
            "severity": self.severity,
            "code": self.code,
            "resource": self.resource,
            "stack": self.stack,
            "message": self.message,
            "logical_id": self.logical_id,
            "template": self.template_path,
        }


@dataclass(frozen=True)
class AuditReport:
    """Everything the audit found in one assembly."""

    functions: tuple[FunctionReport, ...]
    repositories: tuple[RepositoryReport, ...]
    findings: tuple[Finding, ...]

    def failures(self, *, strict: bool = False) -> list[FunctionReport]:
        """The functions whose status fails the check."""
        failing = STRICT_FAILING_STATUSES if strict else FAILING_STATUSES
        return [f for f in self.functions if f.status in failing]

    def errors(self) -> list[Finding]:
        """Findings that fail the check (a policy ECR would reject)."""
        return [f for f in self.findings if f.severity == ERROR]

    def warnings(self) -> list[Finding]:
        """Findings that do not fail the check."""
        return [f for f in self.findings if f.severity == WARNING]

    def failed(self, *, strict: bool = False) -> bool:
        """True when the pipeline should stop: a definite problem (or, strict, an unchecked one)."""
        return bool(self.failures(strict=strict) or self.errors())

    def counts(self) -> dict[str, int]:
        """How many functions have each status."""
        return dict(Counter(f.status for f in self.functions))

    def to_json(self, *, strict: bool = False) -> dict[str, Any]:
        """The CLI's ``--format json`` object."""
        return {
            "functions": [f.to_json() for f in self.functions],
            "repositories": [r.to_json() for r in self.repositories],
            "findings": [f.to_json() for f in self.findings],
            "summary": {
                "functions": len(self.functions),
                "statuses": self.counts(),
                "errors": len(self.errors()),
                "warnings": len(self.warnings()),
                "strict": strict,
                "failed": self.failed(strict=strict),
            },
        }


# --------------------------------------------------------------------------------------------
# Reading the assembly
# --------------------------------------------------------------------------------------------

_UNKNOWN_ACCOUNT = "unknown-account"
_UNKNOWN_REGION = "unknown-region"


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssemblyError(f"{path}: {what} is missing: synthesize again (`cdk synth`)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AssemblyError(f"{path}: cannot read {what}: {error}") from None


def _parse_environment(value: object) -> tuple[str | None, str | None]:
    if not isinstance(value, str) or not value.startswith("aws://"):
        return None, None
    account, _, region = value[len("aws://") :].partition("/")
    return (
        None if account in ("", _UNKNOWN_ACCOUNT) else account,
        None if region in ("", _UNKNOWN_REGION) else region,
    )


def _logical_paths(metadata: Mapping[str, Any]) -> dict[str, str]:
    paths: dict[str, str] = {}
    for path, entries in metadata.items():
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if isinstance(entry, Mapping) and entry.get("type") == "aws:cdk:logicalId":
                construct = str(path).lstrip("/")
                if construct.endswith("/Resource"):
                    construct = construct[: -len("/Resource")]
                paths[str(entry.get("data"))] = construct
    return paths


def _stacks_of_manifest(directory: Path, seen: set[Path]) -> list[StackTemplate]:
    directory = directory.resolve()
    if directory in seen:
        return []
    seen.add(directory)
    manifest = _read_json(directory / "manifest.json", "the cloud assembly manifest")
    artifacts = manifest.get("artifacts") if isinstance(manifest, Mapping) else None
    if not isinstance(artifacts, Mapping):
        return []
    stacks: list[StackTemplate] = []
    for artifact_id, artifact in artifacts.items():
        if not isinstance(artifact, Mapping):
            continue
        kind = artifact.get("type")
        properties = artifact.get("properties") or {}
        if kind == "cdk:cloud-assembly" and isinstance(properties.get("directoryName"), str):
            stacks += _stacks_of_manifest(directory / properties["directoryName"], seen)
        elif kind == "aws:cloudformation:stack" and isinstance(properties.get("templateFile"), str):
            stacks.append(_stack_of_artifact(directory, str(artifact_id), artifact))
    return stacks


def _stack_of_artifact(
    directory: Path, artifact_id: str, artifact: Mapping[str, Any]
) -> StackTemplate:
    properties = artifact.get("properties") or {}
    template_path = directory / properties["templateFile"]
    template = _read_json(template_path, f"the template of stack {artifact_id}")
    metadata: dict[str, Any] = dict(artifact.get("metadata") or {})
    extra = artifact.get("additionalMetadataFile")
    if isinstance(extra, str) and (directory / extra).is_file():
        loaded = _read_json(directory / extra, f"the metadata of stack {artifact_id}")
        if isinstance(loaded, Mapping):
            metadata.update(loaded)
    account, region = _parse_environment(artifact.get("environment"))
    return StackTemplate(
        artifact_id=artifact_id,
        stack_name=str(properties.get("stackName") or artifact_id),
        display_name=str(artifact.get("displayName") or artifact_id),
        account=account,
        region=region,
        template=template if isinstance(template, Mapping) else {},
        template_path=str(template_path),
        paths=_logical_paths(metadata),
    )


def load_assembly(path: str | Path) -> list[StackTemplate]:
    """Every stack of the cloud assembly at ``path``, nested stage assemblies included.

    Raises :class:`AssemblyError` when ``path`` is not a directory holding a ``manifest.json``.
    """
    root = Path(path)
    if not root.exists():
        raise AssemblyError(
            f"{path}: no such directory: run `cdk synth` first, or pass the cloud assembly "
            "directory (default cdk.out)"
        )
    if not root.is_dir():
        raise AssemblyError(f"{path} is not a directory: pass the cloud assembly directory")
    if not (root / "manifest.json").is_file():
        raise AssemblyError(
            f"{path} is not a cloud assembly (no manifest.json): pass the directory `cdk synth` "
            "writes (cdk.out, or the app's outdir)"
        )
    return _stacks_of_manifest(root, set())


def stacks_from_template_paths(
    template_paths: Iterable[str],
    environments: Mapping[str, tuple[str | None, str | None]] | None = None,
) -> list[StackTemplate]:
    """The stacks of these templates, read with the manifest of each template's directory.

    Used by the validation plugin, which CDK gives template paths. ``environments`` (template path
    -> account, Region) is used for a template no manifest describes.
    """
    by_directory: dict[Path, dict[str, StackTemplate]] = {}
    stacks: list[StackTemplate] = []
    for template_path in template_paths:
        path = Path(template_path).resolve()
        directory = path.parent
        if directory not in by_directory:
            known: dict[str, StackTemplate] = {}
            if (directory / "manifest.json").is_file():
                manifest = _read_json(directory / "manifest.json", "the cloud assembly manifest")
                for artifact_id, artifact in (manifest.get("artifacts") or {}).items():
                    properties = artifact.get("properties") or {}
                    if artifact.get("type") == "aws:cloudformation:stack" and isinstance(
                        properties.get("templateFile"), str
                    ):
                        known[properties["templateFile"]] = _stack_of_artifact(
                            directory, str(artifact_id), artifact
                        )
            by_directory[directory] = known
        stack = by_directory[directory].get(path.name)
        if stack is None:
            account, region = (environments or {}).get(template_path, (None, None))
            name = path.name.removesuffix(".template.json")
            template = _read_json(path, f"the template {path.name}")
            stack = StackTemplate(
                artifact_id=name,
                stack_name=name,
                display_name=name,
                account=account,
                region=region,
                template=template if isinstance(template, Mapping) else {},
                template_path=str(path),
            )
        stacks.append(stack)
    return stacks


# --------------------------------------------------------------------------------------------
# Resolving intrinsics
# --------------------------------------------------------------------------------------------

_MARK_OPEN = "\u27e6"
_MARK_CLOSE = "\u27e7"
_MARK = re.compile(_MARK_OPEN + r"(\d+)" + _MARK_CLOSE)


@dataclass(frozen=True)
class _Unknown:
    """A value not known before deployment, and what it is."""

    description: str
    target: tuple[int, str] | None = None
    """(stack index, logical id) of the resource whose name or ARN this is."""


class _Unknowns:
    """Allocates markers: one per distinct unknown, so equal unknowns compare equal."""

    def __init__(self) -> None:
        self.items: list[_Unknown] = []
        self._by_key: dict[tuple[Any, ...], str] = {}

    def mark(
        self, key: tuple[Any, ...], description: str, target: tuple[int, str] | None = None
    ) -> str:
        marker = self._by_key.get(key)
        if marker is None:
            marker = f"{_MARK_OPEN}{len(self.items)}{_MARK_CLOSE}"
            self.items.append(_Unknown(description, target))
            self._by_key[key] = marker
        return marker

    def of(self, text: str) -> list[_Unknown]:
        return [self.items[int(m)] for m in _MARK.findall(text)]

    def describe(self, text: str) -> str:
        """The text with each marker replaced by ``<what it is>``."""
        return _MARK.sub(lambda m: f"<{self.items[int(m.group(1))].description}>", text)


def _has_marker(value: str) -> bool:
    return _MARK_OPEN in value


def _partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("us-iso-"):
        return "aws-iso"
    if region.startswith("us-isob-"):
        return "aws-iso-b"
    if region.startswith("eusc-"):
        return "aws-eusc"
    return "aws"


def _url_suffix_of(region: str) -> str:
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


_MAX_DEPTH = 40
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class _Assembly:
    """All stacks, with the indexes the resolver needs across stacks."""

    def __init__(self, stacks: Sequence[StackTemplate]) -> None:
        self.stacks = list(stacks)
        self.unknowns = _Unknowns()
        self.resolvers = [_Resolver(self, index) for index in range(len(self.stacks))]
        self.by_stack_name: dict[str, list[int]] = {}
        self.exports: dict[str, list[tuple[int, Any]]] = {}
        for index, stack in enumerate(self.stacks):
            self.by_stack_name.setdefault(stack.stack_name, []).append(index)
            outputs = stack.template.get("Outputs")
            for output in outputs.values() if isinstance(outputs, Mapping) else ():
                if not isinstance(output, Mapping) or not isinstance(output.get("Export"), Mapping):
                    continue
                name = self.resolvers[index].resolve(output["Export"].get("Name"))
                if isinstance(name, str) and not _has_marker(name):
                    self.exports.setdefault(name, []).append((index, output.get("Value")))


class _Resolver:
    """Resolves template values of one stack to plain data, unknowns as markers."""

    def __init__(self, assembly: _Assembly, index: int) -> None:
        self.assembly = assembly
        self.index = index

    @property
    def stack(self) -> StackTemplate:
        return self.assembly.stacks[self.index]

    def _mark(self, what: str, description: str, target: tuple[int, str] | None = None) -> str:
        return self.assembly.unknowns.mark((self.index, what), description, target)

    # pseudo parameters --------------------------------------------------------------------

    @property
    def account(self) -> str:
        if self.stack.account is not None:
            return self.stack.account
        return self._mark("AWS::AccountId", f"account of {self.stack.display_name}")

    @property
    def region(self) -> str:
        if self.stack.region is not None:
            return self.stack.region
        return self._mark("AWS::Region", f"Region of {self.stack.display_name}")

    @property
    def partition(self) -> str:
        if self.stack.region is not None:
            return _partition_of(self.stack.region)
        return self._mark("AWS::Partition", f"partition of {self.stack.display_name}")

    @property
    def url_suffix(self) -> str:
        if self.stack.region is not None:
            return _url_suffix_of(self.stack.region)
        return self._mark("AWS::URLSuffix", f"URL suffix of {self.stack.display_name}")

    def pseudo(self, name: str) -> Any:
        if name == "AWS::AccountId":
            return self.account
        if name == "AWS::Region":
            return self.region
        if name == "AWS::Partition":
            return self.partition
        if name == "AWS::URLSuffix":
            return self.url_suffix
        if name == "AWS::StackName":
            return self.stack.stack_name
        if name == "AWS::NoValue":
            return None
        return self._mark(name, f"{name} of stack {self.stack.display_name}")

    # references ---------------------------------------------------------------------------

    def resource(self, logical_id: str) -> Mapping[str, Any] | None:
        resource = self.stack.resources.get(logical_id)
        return resource if isinstance(resource, Mapping) else None

    def ref(self, name: str, depth: int) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        resource = self.resource(name)
        target = (self.index, name)
        if resource is None:
            parameters = self.stack.template.get("Parameters") or {}
            kind = "parameter" if name in parameters else "reference"
            return self._mark(f"Ref:{name}", f"{kind} {name} of stack {self.stack.display_name}")
        properties = resource.get("Properties") or {}
        name_property = {
            "AWS::ECR::Repository": "RepositoryName",
            "AWS::Lambda::Function": "FunctionName",
            "AWS::IAM::Role": "RoleName",
        }.get(str(resource.get("Type")))
        if name_property is not None and properties.get(name_property) is not None:
            value = self.resolve(properties[name_property], depth + 1)
            if isinstance(value, str):
                return value
        return self._mark(
            f"Ref:{name}",
            f"generated name of {self.stack.path_of(name)}",
            target,
        )

    def get_att(self, logical_id: str, attribute: str, depth: int) -> Any:
        resource = self.resource(logical_id)
        kind = resource.get("Type") if resource is not None else None
        if kind == "AWS::ECR::Repository":
            name = self.ref(logical_id, depth)
            if attribute == "Arn":
                return f"arn:{self.partition}:ecr:{self.region}:{self.account}:repository/{name}"
            if attribute == "RepositoryUri":
                return f"{self.account}.dkr.ecr.{self.region}.{self.url_suffix}/{name}"
        if kind == "AWS::Lambda::Function" and attribute == "Arn":
            name = self.ref(logical_id, depth)
            return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{name}"
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            role = resource.get("Properties", {}).get("RoleName") if resource else None
            if isinstance(role, str):
                return f"arn:{self.partition}:iam::{self.account}:role/{role}"
        return self._mark(
            f"GetAtt:{logical_id}.{attribute}",
            f"{attribute} of {self.stack.path_of(logical_id)}",
            (self.index, logical_id),
        )

    def stack_output(self, stack_name: Any, output_name: Any, region: Any, depth: int) -> Any:
        candidates = self.assembly.by_stack_name.get(str(stack_name), [])
        if isinstance(region, str) and not _has_marker(region):
            candidates = [
                i for i in candidates if self.assembly.stacks[i].region in (region, None)
            ] or candidates
        for index in candidates:
            outputs = self.assembly.stacks[index].template.get("Outputs") or {}
            output = outputs.get(output_name) if isinstance(outputs, Mapping) else None
            if isinstance(output, Mapping):
                return self.assembly.resolvers[index].resolve(output.get("Value"), depth + 1)
        return self._mark(
            f"GetStackOutput:{stack_name}.{output_name}",
            f"output {output_name} of stack {stack_name} (not in the assembly)",
        )

    def import_value(self, name: Any, depth: int) -> Any:
        if isinstance(name, str) and not _has_marker(name):
            exported = self.assembly.exports.get(name, [])
            same_env = [
                e
                for e in exported
                if self.assembly.stacks[e[0]].account == self.stack.account
                and self.assembly.stacks[e[0]].region == self.stack.region
            ]
            for index, value in same_env or exported:
                return self.assembly.resolvers[index].resolve(value, depth + 1)
        return self._mark(f"ImportValue:{name}", f"export {name} (not in the assembly)")

    def sub(self, body: Any, variables: Any, depth: int) -> Any:
        if not isinstance(body, str):
            return self._mark(f"Sub:{body!r}", "a Fn::Sub value")
        values = variables if isinstance(variables, Mapping) else {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                value = self.resolve(values[name], depth + 1)
            elif "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                value = self.get_att(logical_id, attribute, depth + 1)
            else:
                value = self.ref(name, depth + 1)
            return "" if value is None else str(value)

        return _SUB_VARIABLE.sub(replace, body).replace("${!", "${")

    # the walk -----------------------------------------------------------------------------

    def resolve(self, value: Any, depth: int = 0) -> Any:
        """``value`` with every intrinsic replaced by its value or a marker."""
        if depth > _MAX_DEPTH:
            return self._mark(f"deep:{id(value)}", "a value nested too deeply")
        if isinstance(value, list):
            return [self.resolve(v, depth + 1) for v in value]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" or key.startswith("Fn::"):
                return self.intrinsic(str(key), argument, depth)
        return {k: self.resolve(v, depth + 1) for k, v in value.items()}

    def intrinsic(self, key: str, argument: Any, depth: int) -> Any:
        if key == "Ref" and isinstance(argument, str):
            return self.ref(argument, depth)
        if key == "Fn::GetAtt":
            parts = argument.split(".", 1) if isinstance(argument, str) else argument
            if isinstance(parts, list) and len(parts) == 2:
                attribute = self.resolve(parts[1], depth + 1)
                return self.get_att(str(parts[0]), str(attribute), depth)
        if key == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            delimiter = self.resolve(argument[0], depth + 1)
            items = self.resolve(argument[1], depth + 1)
            if (
                isinstance(delimiter, str)
                and isinstance(items, list)
                and all(isinstance(i, (str, int, float)) or i is None for i in items)
            ):
                return delimiter.join(str(i) for i in items if i is not None)
        if key == "Fn::Select" and isinstance(argument, list) and len(argument) == 2:
            index = self.resolve(argument[0], depth + 1)
            items = self.resolve(argument[1], depth + 1)
            if isinstance(items, list) and str(index).isdigit() and int(index) < len(items):
                return items[int(index)]
        if key == "Fn::Split" and isinstance(argument, list) and len(argument) == 2:
            delimiter = self.resolve(argument[0], depth + 1)
            source = self.resolve(argument[1], depth + 1)
            if isinstance(delimiter, str) and delimiter and isinstance(source, str):
                return source.split(delimiter)
        if key == "Fn::Sub":
            if isinstance(argument, list) and len(argument) == 2:
                return self.sub(argument[0], argument[1], depth)
            return self.sub(argument, None, depth)
        if key == "Fn::ImportValue":
            return self.import_value(self.resolve(argument, depth + 1), depth)
        if key == "Fn::GetStackOutput" and isinstance(argument, Mapping):
            return self.stack_output(
                self.resolve(argument.get("StackName"), depth + 1),
                self.resolve(argument.get("OutputName"), depth + 1),
                self.resolve(argument.get("Region"), depth + 1),
                depth,
            )
        if key == "Fn::FindInMap" and isinstance(argument, list) and len(argument) >= 3:
            keys = [self.resolve(a, depth + 1) for a in argument[:3]]
            mappings = self.stack.template.get("Mappings") or {}
            try:
                return self.resolve(mappings[keys[0]][keys[1]][keys[2]], depth + 1)
            except (KeyError, TypeError):
                pass
        return self._mark(
            f"{key}:{json.dumps(argument, sort_keys=True, default=str)}",
            f"a {key} value of stack {self.stack.display_name}",
        )


# --------------------------------------------------------------------------------------------
# Image URIs and repositories
# --------------------------------------------------------------------------------------------

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


def _is_asset_repository(image: _Image) -> bool:
    """True for the CDK bootstrap's container-asset repository of the image's own environment."""
    expected = (
        r"cdk-[a-z0-9]+-container-assets-"
        + re.escape(image.account)
        + "-"
        + re.escape(image.region)
    )
    return re.fullmatch(expected, image.name) is not None


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
            self._has_markers = self.policy is not None and _has_marker(json.dumps(self.policy))
        return self._has_markers

    _has_markers: bool | None = field(default=None, repr=False)


# --------------------------------------------------------------------------------------------
# The audit
# --------------------------------------------------------------------------------------------

_GENERATED = "<name-generated-by-CloudFormation>"
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
        for operator, block in (statement.get("Condition") or {}).items():
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
        if not _has_marker(value):
            return value
        return _MARK.sub(
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
    return len(_MARK.sub("x" * 14, text))


class _Audit:
    def __init__(self, stacks: Sequence[StackTemplate], organization_id: str | None) -> None:
        self.assembly = _Assembly(stacks)
        self.unknowns = self.assembly.unknowns
        self.organization_id = organization_id
        self.repositories: list[_Repository] = []
        self.by_target: dict[tuple[int, str], _Repository] = {}
        self.by_name: dict[str, list[_Repository]] = {}
        self.findings: list[Finding] = []
        self.functions: list[FunctionReport] = []
        self._checked_roles: dict[int, set[str]] = {}
        self.replication_configurations: list[replication_plan.RegistryResource] = []
        self.registry_policies: list[replication_plan.RegistryResource] = []

    def human(self, text: str | None) -> str | None:
        return None if text is None else self.unknowns.describe(text)

    # repositories -------------------------------------------------------------------------

    def collect_repositories(self) -> None:
        for index, stack in enumerate(self.assembly.stacks):
            resolver = self.assembly.resolvers[index]
            for logical_id, resource in stack.resources.items():
                if not isinstance(resource, Mapping):
                    continue
                self.collect_registry_resource(index, logical_id, resource)
                if resource.get("Type") != "AWS::ECR::Repository":
                    continue
                properties = resource.get("Properties") or {}
                document = resolver.resolve(properties.get("RepositoryPolicyText"))
                if isinstance(document, str) and not _has_marker(document):
                    try:
                        document = json.loads(document)
                    except json.JSONDecodeError:
                        document = None
                repository = _Repository(
                    index=index,
                    logical_id=logical_id,
                    name=str(resolver.ref(logical_id, 0)),
                    arn=str(resolver.get_att(logical_id, "Arn", 0)),
                    account=resolver.account,
                    region=resolver.region,
                    policy=document if isinstance(document, dict) else None,
                    path=stack.path_of(logical_id),
                    replica_of=_replica_of(resource),
                )
                self.repositories.append(repository)
                self.by_target[(index, logical_id)] = repository
                if not _has_marker(repository.name):
                    self.by_name.setdefault(repository.name, []).append(repository)

    def collect_registry_resource(
        self, index: int, logical_id: str, resource: Mapping[str, Any]
    ) -> None:
        """Replication configurations and registry policies (registry-wide, one per registry)."""
        kind = resource.get("Type")
        prop = {
            "AWS::ECR::ReplicationConfiguration": "ReplicationConfiguration",
            "AWS::ECR::RegistryPolicy": "PolicyText",
        }.get(str(kind))
        if prop is None:
            return
        stack = self.assembly.stacks[index]
        resolver = self.assembly.resolvers[index]
        value = resolver.resolve((resource.get("Properties") or {}).get(prop))
        if isinstance(value, str) and not _has_marker(value):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                value = None
        found = replication_plan.RegistryResource(
            account=resolver.account,
            region=resolver.region,
            value=_tokenize_foreign(value, set()),
            where=f"{stack.path_of(logical_id)} (stack {stack.display_name})",
        )
        if prop == "PolicyText":
            self.registry_policies.append(found)
        else:
            self.replication_configurations.append(found)

    def replica_status(self, repository: _Repository) -> tuple[str, str] | None:
        """NOT_REPLICATED or UNVERIFIABLE when the repository is a replica nothing feeds."""
        if _has_marker(repository.name) or _has_marker(repository.account):
            return None
        if _has_marker(repository.region):
            return None
        source = replication_plan.replica_source(
            name=repository.name,
            account=repository.account,
            region=repository.region,
            declared_source=repository.replica_of,
            configurations=self.replication_configurations,
        )
        if source is None:
            return None
        verdict = replication_plan.replica_verdict(
            name=repository.name,
            arn=repository.arn,
            account=repository.account,
            region=repository.region,
            source=source,
            declared=repository.replica_of is not None,
            configurations=self.replication_configurations,
            registry_policies=self.registry_policies,
            partition=_partition_of(repository.region),
        )
        if verdict.ok:
            return None
        status = NOT_REPLICATED if verdict.verifiable else UNVERIFIABLE
        return status, f"repository {repository.path} is a replica: {verdict.detail}"

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
                    name=None if _has_marker(repository.name) else repository.name,
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
                self.functions.append(self.check_function(index, logical_id, properties))
                self.check_execution_role(index, logical_id, properties)

    def check_function(
        self, index: int, logical_id: str, properties: Mapping[str, Any]
    ) -> FunctionReport:
        stack = self.assembly.stacks[index]
        resolver = self.assembly.resolvers[index]
        uri = resolver.resolve((properties.get("Code") or {}).get("ImageUri"))
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
            "function_name": None if name is None or _has_marker(name) else name,
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
        if image.region != region and not _has_marker(image.region) and not _has_marker(region):
            return report(
                REGION_MISMATCH,
                f"the image is in {image.region} but the function runs in {region}: Lambda "
                f"runs images only from its own Region. Replicate the repository to {region} "
                "(ECR replication) and use the replica's URI",
                repository=self.human(
                    f"arn:{resolver.partition}:ecr:{image.region}:{image.account}:repository/{image.name}"
                ),
            )
        if _is_asset_repository(image):
            return report(
                OK,
                f"CDK asset image in the bootstrap repository {self.human(image.name)}, whose "
                "policy (CDK bootstrap template) lets lambda.amazonaws.com pull for the "
                "account's functions",
                repository=self.human(
                    f"arn:{resolver.partition}:ecr:{image.region}:{image.account}:repository/{image.name}"
                ),
            )
        repository, why_not = self.find_repository(image)
        if repository is None:
            return self.external_or_unverifiable(report, image, resolver, name, why_not)
        repository.consumers.append(function_path)
        arn = self.human(repository.arn)
        if repository.region != region:
            if not _has_marker(repository.region) and not _has_marker(region):
                return report(
                    REGION_MISMATCH,
                    f"repository {repository.path} is in {repository.region} but the function "
                    f"runs in {region}: Lambda runs images only from its own Region",
                    repository=arn,
                )
            return report(UNVERIFIABLE, self.agnostic_detail(stack, repository), repository=arn)
        if repository.account != account and (
            _has_marker(repository.account) or _has_marker(account)
        ):
            return report(UNVERIFIABLE, self.agnostic_detail(stack, repository), repository=arn)
        if repository.policy is None:
            cross = repository.account != account
            needed = (
                f"the root of account {self.human(account)} and lambda.amazonaws.com limited by "
                "aws:SourceArn to the function"
                if cross
                else "lambda.amazonaws.com limited by aws:SourceArn to the function"
            )
            return report(
                NO_POLICY,
                f"repository {repository.path} has no repository policy: allow {needed} "
                "(ecr:BatchGetImage, ecr:GetDownloadUrlForLayer). Do not rely on Lambda adding a "
                "statement itself: it does so only when the deployer may SetRepositoryPolicy, and "
                "a later policy update drops it",
                repository=arn,
            )
        status, detail = self.evaluate(resolver, repository, name, logical_id)
        if status == OK:
            replica = self.replica_status(repository)
            if replica is not None:
                status, detail = replica
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
        if targets and _MARK.fullmatch(image.name):
            repository = self.by_target.get(targets[0])
            if repository is not None:
                return repository, ""
        if _has_marker(image.name):
            return None, f"the repository name {self.human(image.name)} is not known before deploy"
        candidates = self.by_name.get(image.name, [])
        exact = [c for c in candidates if c.account == image.account and c.region == image.region]
        if exact:
            return exact[0], ""
        unknown = [
            c
            for c in candidates
            if _has_marker(c.account) or _has_marker(c.region) or _has_marker(image.account)
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
        resolver: _Resolver,
        name: str | None,
        why_not: str,
    ) -> FunctionReport:
        account = resolver.account
        repository_arn = (
            f"arn:{resolver.partition}:ecr:{image.region}:{image.account}:repository/{image.name}"
        )
        if (_has_marker(image.account) and image.account != account) or _has_marker(image.name):
            return report(
                UNVERIFIABLE,
                f"the image {self.human(image.uri)} is not known before deploy: "
                + (why_not or "its account or repository name is a deploy-time value"),
                repository=self.human(repository_arn),
            )
        if why_not and ("deploy time" in why_not):
            return report(UNVERIFIABLE, why_not, repository=self.human(repository_arn))
        same_account = image.account == account
        known_env = not _has_marker(account) and not _has_marker(image.region)
        consumer = LambdaConsumer(
            account=account,
            function_name=name if name is not None and not _has_marker(name) else None,
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
        if _has_marker(account):
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
        self, resolver: _Resolver, repository: _Repository, name: str | None, logical_id: str
    ) -> tuple[str, str]:
        account, region, partition = resolver.account, resolver.region, resolver.partition
        generated = name is None or _has_marker(name)
        function_arn = policy.function_arn_pattern(
            account, _GENERATED if generated else str(name), region=region, partition=partition
        )
        keep = {m.group(0) for m in _MARK.finditer(function_arn + repository.account)}
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
        )
        status, detail = self.verdict(access)
        agnostic = _has_marker(account) or _has_marker(region)
        if generated and status == MISSING_SERVICE:
            status, detail = self.generated_name_verdict(
                resolver, document, function_arn, logical_id, name
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
        resolver: _Resolver,
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
        for other_id, resource in stack.resources.items():
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
            if role_id in roles:
                found += _ecr_actions(other.get("PolicyDocument"), f"policy {other_id}")
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
        self.collect_repositories()
        self.collect_functions()
        self.tag_findings()
        repositories = self.repository_findings()
        return AuditReport(
            functions=tuple(self.functions),
            repositories=tuple(repositories),
            findings=tuple(self.findings),
        )


def _replica_of(resource: Mapping[str, Any]) -> str | None:
    metadata = resource.get("Metadata")
    ours = metadata.get("ecr-lambda-access") if isinstance(metadata, Mapping) else None
    value = ours.get("replicaOf") if isinstance(ours, Mapping) else None
    return value if isinstance(value, str) else None


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
