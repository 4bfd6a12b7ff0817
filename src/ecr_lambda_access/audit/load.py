"""Reading a cloud assembly: manifests, stage assemblies and the stacks' templates."""

from __future__ import annotations

import json
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
