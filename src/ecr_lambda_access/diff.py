"""``ecr-lambda-access diff OLD NEW``: what deploying NEW over OLD does to the resources you keep.

Adopting the library in a deployed app must replace nothing: not the repository, not a function,
not a log group, not a role. This module compares two synthesized cloud assemblies, resource by
resource (matched by stack and logical id), for the types whose replacement a user would regret,
and says for each: ``kept``, ``changed`` (in place), ``replaced`` (with the property that forces
it), ``maybe-replaced`` (the property differs but is only known at deploy time), ``added`` or
``removed``.

Which property changes replace a resource is CloudFormation's rule, not ours: the resource
reference says "Update requires: Replacement" for it, and the resource provider schema of the
CloudFormation registry lists it under ``createOnlyProperties``. :data:`REPLACEMENT_PROPERTIES`
holds those lists for the types we watch, as the schemas state them (the ones cfn-lint ships,
``cfnlint/data/schemas``; ``tests/test_migration.py`` compares the table with them).

Pure Python: plain templates in, plain data out; no jsii. The assemblies are read with
:func:`ecr_lambda_access.audit.load.load_assembly`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .audit.load import StackTemplate, load_assembly

__all__ = [
    "CHANGES",
    "REPLACEMENT_PROPERTIES",
    "AssemblyDiff",
    "ResourceChange",
    "diff_assemblies",
    "diff_stacks",
    "render_json",
    "render_text",
]

REPLACEMENT_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    # CloudFormation resource reference, "Update requires: Replacement" = the registry schema's
    # createOnlyProperties (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
    # aws-resource-<service>-<type>.html; schemas as shipped by cfn-lint in data/schemas).
    "AWS::Lambda::Function": ("FunctionName", "PackageType", "TenancyConfig"),
    "AWS::ECR::Repository": ("RepositoryName", "EncryptionConfiguration"),
    "AWS::Logs::LogGroup": ("LogGroupName",),  # KmsKeyId, RetentionInDays: no interruption
    "AWS::IAM::Role": ("Path", "RoleName"),
    "AWS::SQS::Queue": ("FifoQueue", "QueueName"),
    "AWS::SNS::Topic": ("TopicName", "FifoTopic"),
    "AWS::S3::Bucket": ("BucketName", "BucketNamePrefix", "BucketNamespace"),
    "AWS::DynamoDB::Table": ("TableName", "ImportSourceSpecification"),
    "AWS::KMS::Key": (),  # no property replaces a key; a removed key is scheduled for deletion
    "AWS::SecretsManager::Secret": ("Name",),
    "AWS::Lambda::Url": ("TargetFunctionArn", "Qualifier"),  # a new URL: clients break
    "AWS::Lambda::Alias": ("Name", "FunctionName"),
}
"""The watched types and the properties whose change makes CloudFormation replace them."""

CHANGES: Mapping[str, str] = {
    "kept": "no property changes",
    "changed": "updated in place (no replacement)",
    "replaced": "CloudFormation creates a new resource and deletes the old one",
    "maybe-replaced": (
        "a property that forces replacement differs, but its value is known only at deploy "
        "time: replaced unless both sides resolve to the same value"
    ),
    "added": "new in NEW",
    "removed": "in OLD, not in NEW: deleted (or orphaned with DeletionPolicy Retain)",
}
"""Every ``change`` value of a :class:`ResourceChange`, with its meaning."""

FAILING = ("replaced", "maybe-replaced", "removed")
"""The changes that make ``diff`` exit 1 unless ``--allow-replacement``."""

_LOG_FLAG = "@aws-cdk/aws-lambda:useCdkManagedLogGroup"


@dataclass(frozen=True)
class ResourceChange:
    """One watched resource: what deploying NEW over OLD does to it."""

    stack: str
    logical_id: str
    type: str
    change: str
    path: str
    properties: tuple[str, ...] = ()
    """Every top-level property (or resource attribute) whose value differs."""
    replacing: tuple[str, ...] = ()
    """The properties among them that force a replacement (``Type`` when the type changes)."""
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """Plain data for ``--format json``."""
        return {
            "stack": self.stack,
            "logicalId": self.logical_id,
            "type": self.type,
            "change": self.change,
            "path": self.path,
            "properties": list(self.properties),
            "replacing": list(self.replacing),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class AssemblyDiff:
    """Every watched resource of both assemblies, old order first, then the added ones."""

    changes: tuple[ResourceChange, ...]
    notes: tuple[str, ...] = field(default=())

    def of(self, change: str) -> list[ResourceChange]:
        """The resources with this change."""
        return [c for c in self.changes if c.change == change]

    @property
    def failing(self) -> list[ResourceChange]:
        """Replaced, maybe replaced or removed: what exit status 1 is about."""
        return [c for c in self.changes if c.change in FAILING]

    def counts(self) -> dict[str, int]:
        """How many resources of each change."""
        return {name: len(self.of(name)) for name in CHANGES}

    def as_json(self) -> dict[str, Any]:
        """Plain data for ``--format json``."""
        return {
            "summary": self.counts(),
            "resources": [c.as_json() for c in self.changes],
            "notes": list(self.notes),
        }


def diff_assemblies(old: str | Path, new: str | Path) -> AssemblyDiff:
    """Compare the cloud assemblies at ``old`` and ``new`` (raises ``AssemblyError``)."""
    return diff_stacks(load_assembly(old), load_assembly(new))


def _stack_key(stack: StackTemplate) -> tuple[str, str, str]:
    """What CloudFormation knows the stack by: its name, account and Region."""
    if stack.parent is not None:
        parent = _stack_key(stack.parent)
        return (f"{parent[0]}/{stack.parent_resource}", parent[1], parent[2])
    return (stack.stack_name, stack.account or "", stack.region or "")


def _watched(stack: StackTemplate) -> dict[str, Mapping[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in stack.resources.items()
        if isinstance(resource, Mapping) and resource.get("Type") in REPLACEMENT_PROPERTIES
    }


def _properties(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    properties = resource.get("Properties")
    return properties if isinstance(properties, Mapping) else {}


def _deploy_time(value: Any) -> bool:
    """Whether a value holds an intrinsic CloudFormation resolves at deploy time."""
    if isinstance(value, Mapping):
        if any(key == "Ref" or str(key).startswith("Fn::") for key in value):
            return True
        return any(_deploy_time(v) for v in value.values())
    if isinstance(value, list):
        return any(_deploy_time(v) for v in value)
    return False


def _show(value: Any) -> str:
    if value is None:
        return "(not set: CloudFormation generates it)"
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _sub_parts(text: str) -> list[Any]:
    """The parts of a one-argument ``Fn::Sub`` string, as ``Fn::Join`` would list them."""
    parts: list[Any] = []
    position = 0
    for match in _SUB_VARIABLE.finditer(text):
        parts.append(text[position : match.start()])
        name = match.group(1)
        if name.startswith("!"):
            parts.append("${" + name[1:] + "}")  # ${!Literal} is the text ${Literal}
        elif "." in name:
            parts.append({"Fn::GetAtt": name.split(".", 1)})
        else:
            parts.append({"Ref": name})
        position = match.end()
    parts.append(text[position:])
    return parts


def _joined(parts: list[Any]) -> Any:
    """Flatten nested empty-delimiter joins and merge adjacent strings."""
    merged: list[Any] = []
    for part in parts:
        inner = part.get("Fn::Join") if isinstance(part, dict) and len(part) == 1 else None
        flat = (
            isinstance(inner, list)
            and len(inner) == 2
            and inner[0] == ""
            and isinstance(inner[1], list)
        )
        pieces = inner[1] if flat else [part]  # type: ignore[index]
        for piece in pieces:
            if isinstance(piece, str) and merged and isinstance(merged[-1], str):
                merged[-1] += piece
            elif piece != "":
                merged.append(piece)
    if not merged:
        return ""
    if len(merged) == 1 and isinstance(merged[0], str):
        return merged[0]
    return {"Fn::Join": ["", merged]}


def _canonical(value: Any) -> Any:
    """One spelling for the string intrinsics CDK writes two ways for one value: a one-argument
    ``Fn::Sub`` and an ``Fn::Join`` over a literal list (with its delimiter written between the
    elements) both become an empty-delimiter join of merged parts. Exact: the same value
    resolves the same at deploy time; nothing else is rewritten."""
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if not isinstance(value, Mapping):
        return value
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Fn::Sub" and isinstance(argument, str):
            return _joined(_sub_parts(argument))
        if (
            key == "Fn::Join"
            and isinstance(argument, list)
            and len(argument) == 2
            and isinstance(argument[0], str)
            and isinstance(argument[1], list)
        ):
            items = [_canonical(v) for v in argument[1]]
            parts: list[Any] = []
            for index, item in enumerate(items):
                if index:
                    parts.append(argument[0])
                parts.append(item)
            return _joined(parts)
    return {k: _canonical(v) for k, v in value.items()}


def _changed_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return sorted(
        k for k in set(old) | set(new) if _canonical(old.get(k)) != _canonical(new.get(k))
    )


_ATTRIBUTES = ("DeletionPolicy", "UpdateReplacePolicy", "Condition")


def _compare(
    stack: StackTemplate, logical_id: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> ResourceChange:
    kind = str(old.get("Type"))
    path = stack.path_of(logical_id)
    if new.get("Type") != kind:
        return ResourceChange(
            stack.display_name,
            logical_id,
            kind,
            "replaced",
            path,
            ("Type",),
            ("Type",),
            (f"the logical id now holds a {new.get('Type')}: the {kind} is deleted",),
        )
    old_props, new_props = _properties(old), _properties(new)
    changed = _changed_keys(old_props, new_props)
    changed += [a for a in _ATTRIBUTES if old.get(a) != new.get(a)]
    replacing = [p for p in REPLACEMENT_PROPERTIES[kind] if p in changed]
    notes = [
        f"{p}: {_show(old_props.get(p))} -> {_show(new_props.get(p))}: "
        "CloudFormation replaces the resource ('Update requires: Replacement')"
        + _fix(kind, p, old_props.get(p), new_props.get(p))
        for p in replacing
    ]
    if kind == "AWS::Lambda::Function":
        notes += _log_group_notes(old_props, new_props)
    if not changed:
        change = "kept"
    elif not replacing:
        change = "changed"
    elif all(_deploy_time(old_props.get(p)) or _deploy_time(new_props.get(p)) for p in replacing):
        change = "maybe-replaced"
    else:
        change = "replaced"
    if change in ("replaced", "maybe-replaced") and new.get("UpdateReplacePolicy") == "Retain":
        notes.append("UpdateReplacePolicy Retain: the old resource is kept, out of the stack")
    return ResourceChange(
        stack.display_name, logical_id, kind, change, path, tuple(changed), tuple(replacing),
        tuple(notes),
    )  # fmt: skip


def _fix(kind: str, prop: str, old: Any, new: Any) -> str:
    if kind == "AWS::Lambda::Function" and prop == "FunctionName" and old is None:
        return (
            "; CloudFormation named this function: pass cloudformation_generated_name=True to "
            "ContainerFunction (and no function_name) to keep that name"
        )
    if prop in ("FunctionName", "RepositoryName", "LogGroupName", "RoleName", "QueueName"):
        if old is None:
            return f"; CloudFormation generated the name: don't set {prop} in the new app"
        return f"; keep the old name: pass {_show(old)} again"
    if prop == "EncryptionConfiguration":
        return "; pass the old repository's encryption (and key) to the new construct"
    return ""


def _log_group(props: Mapping[str, Any]) -> Any:
    config = props.get("LoggingConfig")
    return config.get("LogGroup") if isinstance(config, Mapping) else None


def _log_group_notes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    was, now = _log_group(old), _log_group(new)
    if _canonical(was) == _canonical(now):
        return []
    where = _show(was) if was is not None else "/aws/lambda/<function name> (Lambda's default)"
    return [
        f"logs move: LoggingConfig.LogGroup {where} -> {_show(now)}: the function writes to "
        "another log group from this deploy on, and the old log group keeps the old logs. To "
        f'keep writing to /aws/lambda/<function name>, set "{_LOG_FLAG}": true in cdk.json\'s '
        "context (ContainerFunction then reuses that log group), or pass log_group= the "
        "log group the function had"
    ]


def _unmatched_notes(
    stack: StackTemplate,
    removed: Mapping[str, Mapping[str, Any]],
    added: Mapping[str, Mapping[str, Any]],
) -> dict[str, list[str]]:
    """Hints for a removed resource whose twin (same type) was added: a logical id change."""
    hints: dict[str, list[str]] = {}
    for old_id, resource in removed.items():
        twins = [i for i, r in added.items() if r.get("Type") == resource.get("Type")]
        if twins:
            hints[old_id] = [
                f"a logical id change? {', '.join(sorted(twins))} of the same type is added: "
                "CloudFormation creates the new one and deletes this one. Keep the construct "
                f"id, or override_logical_id({old_id!r}) on the new construct's default_child"
            ]
    return hints


def diff_stacks(old: Iterable[StackTemplate], new: Iterable[StackTemplate]) -> AssemblyDiff:
    """Compare two assemblies' stacks (as :func:`load_assembly` reads them)."""
    old_stacks = {_stack_key(s): s for s in old}
    new_stacks = {_stack_key(s): s for s in new}
    changes: list[ResourceChange] = []
    notes: list[str] = []
    for key, before in old_stacks.items():
        after = new_stacks.get(key)
        was = _watched(before)
        if after is None:
            notes.append(
                f"stack {before.display_name} ({key[0]}) is not in NEW: deploying NEW does not "
                "touch it, removing it from the app and deleting it deletes its resources"
            )
            for logical_id, resource in was.items():
                changes.append(_removed(before, logical_id, resource, ["its stack is not in NEW"]))
            continue
        now = _watched(after)
        removed = {i: r for i, r in was.items() if i not in now}
        added = {i: r for i, r in now.items() if i not in was}
        hints = _unmatched_notes(before, removed, added)
        for logical_id, resource in was.items():
            if logical_id in now:
                changes.append(_compare(after, logical_id, resource, now[logical_id]))
            else:
                changes.append(_removed(before, logical_id, resource, hints.get(logical_id, [])))
        for logical_id, resource in added.items():
            changes.append(_added(after, logical_id, resource))
    for key, after in new_stacks.items():
        if key not in old_stacks:
            notes.append(f"stack {after.display_name} ({key[0]}) is new")
            for logical_id, resource in _watched(after).items():
                changes.append(_added(after, logical_id, resource))
    return AssemblyDiff(tuple(changes), tuple(notes))


def _removed(
    stack: StackTemplate, logical_id: str, resource: Mapping[str, Any], notes: list[str]
) -> ResourceChange:
    kept = resource.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate", "Snapshot")
    fate = (
        f"DeletionPolicy {resource.get('DeletionPolicy')}: orphaned (kept, out of the stack)"
        if kept
        else "deleted by CloudFormation"
    )
    return ResourceChange(
        stack.display_name, logical_id, str(resource.get("Type")), "removed",
        stack.path_of(logical_id), notes=(fate, *notes),
    )  # fmt: skip


def _added(stack: StackTemplate, logical_id: str, resource: Mapping[str, Any]) -> ResourceChange:
    notes: list[str] = []
    if resource.get("Type") == "AWS::Logs::LogGroup" and "LogGroupName" not in _properties(
        resource
    ):
        notes.append(
            "a new log group named by CloudFormation: a function wired to it logs there, not "
            f"to /aws/lambda/<function name> (see {_LOG_FLAG})"
        )
    return ResourceChange(
        stack.display_name, logical_id, str(resource.get("Type")), "added",
        stack.path_of(logical_id), notes=tuple(notes),
    )  # fmt: skip


_LABELS = {
    "kept": "kept",
    "changed": "changed",
    "replaced": "REPLACED",
    "maybe-replaced": "REPLACED?",
    "added": "added",
    "removed": "REMOVED",
}


def render_text(diff: AssemblyDiff, out: TextIO, *, old: str, new: str) -> None:
    """A readable list, one line a resource, the notes indented below it."""
    out.write(f"Watched resources, {old} -> {new}:\n")
    stack = None
    for change in diff.changes:
        if change.stack != stack:
            stack = change.stack
            out.write(f"\n{stack}\n")
        line = (
            f"  {_LABELS[change.change]:<9}  {change.type:<24} {change.path} [{change.logical_id}]"
        )
        if change.change == "changed":
            line += f": {', '.join(change.properties)}"
        elif change.replacing:
            line += f": replaced for {', '.join(change.replacing)}"
        out.write(line + "\n")
        for note in change.notes:
            out.write(f"      {note}\n")
    for note in diff.notes:
        out.write(f"\nNote: {note}\n")
    counts = diff.counts()
    out.write(
        "\n"
        + ", ".join(f"{n} {_LABELS[name]}" for name, n in counts.items())
        + (
            ": nothing is replaced or removed\n"
            if not diff.failing
            else ": a resource is replaced or removed (exit status 1; --allow-replacement "
            "accepts it)\n"
        )
    )


def render_json(diff: AssemblyDiff, out: TextIO) -> None:
    """The diff as JSON: ``summary`` (counts), ``resources``, ``notes``."""
    json.dump(diff.as_json(), out, indent=2)
    out.write("\n")
