"""Reading a cloud assembly: manifests, stage assemblies and the stacks' templates."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import EcrLambdaAccessError

__all__ = ["AssemblyError", "StackTemplate", "load_assembly", "stacks_from_template_paths"]


class AssemblyError(EcrLambdaAccessError):
    """The path is not a readable cloud assembly (a usage error: exit status 2)."""


@dataclass(frozen=True)
class StackTemplate:
    """One stack of the assembly: its template and where it is deployed.

    ``account`` and ``region`` are None for an env-agnostic stack (``unknown-account``).
    ``paths`` maps logical ids to construct paths (from the stack's metadata). A nested stack
    (``AWS::CloudFormation::Stack`` of a ``NestedStack``) has its ``parent`` and the logical id of
    the parent's resource (``parent_resource``). ``problem`` says why the template could not be
    read (the template is then empty and the audit reports an error finding naming the file).
    """

    artifact_id: str
    stack_name: str
    display_name: str
    account: str | None
    region: str | None
    template: Mapping[str, Any]
    template_path: str
    paths: Mapping[str, str] = field(default_factory=dict)
    parent: StackTemplate | None = None
    parent_resource: str | None = None
    problem: str | None = None

    @property
    def resources(self) -> Mapping[str, Any]:
        """The template's ``Resources`` (empty when there are none)."""
        resources = self.template.get("Resources")
        return resources if isinstance(resources, Mapping) else {}

    def path_of(self, logical_id: str) -> str:
        """The construct path of a resource, or ``STACK/LOGICALID`` when it is not recorded."""
        return self.paths.get(logical_id, f"{self.display_name}/{logical_id}")


_UNKNOWN_ACCOUNT = "unknown-account"
_UNKNOWN_REGION = "unknown-region"
MAX_NESTED_STACK_DEPTH = 50
"""CloudFormation nests stacks far less deep; deeper means a loop or a broken assembly."""


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssemblyError(f"{path}: {what} is missing: synthesize again (`cdk synth`)") from None
    except RecursionError:
        raise AssemblyError(f"{path}: cannot read {what}: it is nested too deeply") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AssemblyError(f"{path}: cannot read {what}: {error}") from None


def read_template(path: Path) -> Mapping[str, Any]:
    """A CloudFormation template, JSON or YAML (short-form tags such as ``!Ref`` included).

    Raises :class:`TemplateError` naming the file when it cannot be read, and
    :class:`AssemblyError` when it is nested too deeply to be a template.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError(f"{path}: the template is missing: synthesize again") from None
    except (OSError, UnicodeDecodeError) as error:
        raise TemplateError(f"{path}: cannot read the template: {error}") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml") or not text.lstrip().startswith("{"):
            from .yaml_template import YamlTemplateError, load_yaml  # only when a YAML one is met

            try:
                loaded = load_yaml(text)
            except YamlTemplateError as error:
                raise TemplateError(f"{path}: cannot read the template: {error}") from None
        else:
            try:
                loaded = json.loads(text)
            except json.JSONDecodeError as error:
                raise TemplateError(f"{path}: cannot read the template: {error}") from None
    except RecursionError:
        raise AssemblyError(
            f"{path}: the template is nested too deeply to be a CloudFormation template"
        ) from None
    if not isinstance(loaded, Mapping):
        raise TemplateError(f"{path}: cannot read the template: it is not a JSON/YAML object")
    return loaded


class TemplateError(Exception):
    """One template cannot be read: reported as an error finding, the other stacks go on."""


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
            stacks += with_nested_stacks(_stack_of_artifact(directory, str(artifact_id), artifact))
    return stacks


def _stack_of_artifact(
    directory: Path, artifact_id: str, artifact: Mapping[str, Any]
) -> StackTemplate:
    properties = artifact.get("properties") or {}
    template_path = directory / properties["templateFile"]
    metadata: dict[str, Any] = dict(artifact.get("metadata") or {})
    extra = artifact.get("additionalMetadataFile")
    if isinstance(extra, str) and (directory / extra).is_file():
        loaded = _read_json(directory / extra, f"the metadata of stack {artifact_id}")
        if isinstance(loaded, Mapping):
            metadata.update(loaded)
    account, region = _parse_environment(artifact.get("environment"))
    template, problem = _template_or_problem(template_path)
    return StackTemplate(
        artifact_id=artifact_id,
        stack_name=str(properties.get("stackName") or artifact_id),
        display_name=str(artifact.get("displayName") or artifact_id),
        account=account,
        region=region,
        template=template,
        template_path=str(template_path),
        paths=_logical_paths(metadata),
        problem=problem,
    )


def _template_or_problem(path: Path) -> tuple[Mapping[str, Any], str | None]:
    try:
        return read_template(path), None
    except TemplateError as error:
        return {}, str(error)


_ASSET_KEY = re.compile(r"([0-9a-f]{64})\.json")


def _nested_template_from_assets(directory: Path, resource: Mapping[str, Any]) -> str | None:
    properties = resource.get("Properties")
    url = properties.get("TemplateURL") if isinstance(properties, Mapping) else None
    match = _ASSET_KEY.search(json.dumps(url))
    if match is None:
        return None
    for manifest in sorted(directory.glob("*.assets.json")):
        try:
            files = json.loads(manifest.read_text(encoding="utf-8")).get("files") or {}
        except (OSError, ValueError, AttributeError):
            continue
        source = (files.get(match.group(1)) or {}).get("source") or {}
        if isinstance(source.get("path"), str):
            return str(source["path"])
    return None


def with_nested_stacks(stack: StackTemplate, depth: int = 0) -> list[StackTemplate]:
    """The stack, then every stack nested in it at any depth (``*.nested.template.json``, named by
    the parent resource's ``aws:asset:path`` metadata, in the parent template's directory)."""
    found = [stack]
    directory = Path(stack.template_path).parent
    for logical_id, resource in stack.resources.items():
        kind = resource.get("Type") if isinstance(resource, Mapping) else None
        if kind != "AWS::CloudFormation::Stack":
            continue
        metadata = resource.get("Metadata")
        asset = metadata.get("aws:asset:path") if isinstance(metadata, Mapping) else None
        if not isinstance(asset, str):
            # without asset metadata (integ-runner snapshots), the template URL's object key
            # names the asset in the assets manifest
            asset = _nested_template_from_assets(directory, resource)
        if not isinstance(asset, str):
            continue  # a stack from a URL CloudFormation fetches: not in the assembly
        if depth >= MAX_NESTED_STACK_DEPTH:
            raise AssemblyError(
                f"{stack.template_path}: stacks are nested more than {MAX_NESTED_STACK_DEPTH} "
                "levels deep: the assembly is broken or loops"
            )
        path = directory / asset
        template, problem = _template_or_problem(path)
        construct = stack.path_of(logical_id)
        # CDK names the parent's resource PARENT/Name.NestedStack/Name.NestedStackResource
        head, _, last = construct.rpartition("/")
        if last.endswith(".NestedStackResource") and head.endswith(".NestedStack"):
            construct = head[: -len(".NestedStack")]
        nested = StackTemplate(
            artifact_id=f"{stack.artifact_id}/{logical_id}",
            stack_name=f"{stack.stack_name}-{logical_id}",
            display_name=construct,
            account=stack.account,
            region=stack.region,
            template=template,
            template_path=str(path),
            paths={k: v for k, v in stack.paths.items() if v.startswith(construct + "/")},
            parent=stack,
            parent_resource=logical_id,
            problem=problem,
        )
        found += with_nested_stacks(nested, depth + 1)
    return found


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
            template, problem = _template_or_problem(path)
            stack = StackTemplate(
                artifact_id=name,
                stack_name=name,
                display_name=name,
                account=account,
                region=region,
                template=template,
                template_path=str(path),
                problem=problem,
            )
        stacks.append(stack)
    # nested stacks at any depth, each once (CDK may also pass their templates)
    seen: set[str] = set()
    result: list[StackTemplate] = []
    top = [s for s in stacks if not s.template_path.endswith(".nested.template.json")]
    nested_alone = [s for s in stacks if s.template_path.endswith(".nested.template.json")]
    for stack in [*top, *nested_alone]:
        for one in with_nested_stacks(stack):
            if one.template_path not in seen:
                seen.add(one.template_path)
                result.append(one)
    return result
