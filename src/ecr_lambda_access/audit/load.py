"""Reading a cloud assembly: manifests, stage assemblies and the stacks' templates.

The assembly may be a stranger's (the synth output of a pull request from a fork), so every read
is confined and bounded:

* every path the assembly names (a stack's ``templateFile``, a stage's ``directoryName``, a nested
  stack's ``aws:asset:path``, an assets manifest's source path, ``additionalMetadataFile``) is
  resolved once, symlinks included, and must stay inside the assembly directory; a path outside
  is an error finding naming it, and the rest is still audited;
* only regular files are opened (never a FIFO or a device), non-blocking, and only up to
  :data:`MAX_FILE_BYTES` each and :data:`MAX_ASSEMBLY_BYTES` in all, checked before reading;
* a manifest or template that is not shaped as the cloud-assembly schema and CloudFormation's
  template anatomy say (an object of objects, strings where strings belong, no duplicate keys)
  fails closed: a manifest is a usage error (exit 2), a template an error finding;
* each nested template is read once, a nesting loop is an error, and an assembly of more than
  :data:`MAX_STACKS` stacks is refused;
* YAML templates may not use anchors and aliases (CloudFormation does not support them either),
  so a template cannot expand in memory.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import EcrLambdaAccessError
from .template_text import NO_LINES as _NO_LINES
from .template_text import TemplateLines, parse_json, parse_json_template

__all__ = [
    "MAX_ASSEMBLY_BYTES",
    "MAX_FILE_BYTES",
    "MAX_NESTED_STACK_DEPTH",
    "MAX_STACKS",
    "AssemblyError",
    "StackTemplate",
    "TemplateError",
    "TemplateLines",
    "load_assembly",
    "read_regular_text",
    "read_template",
    "stacks_from_template_paths",
]


class AssemblyError(EcrLambdaAccessError):
    """The path is not a readable cloud assembly (a usage error: exit status 2)."""


class TemplateError(Exception):
    """One template cannot be read: reported as an error finding, the other stacks go on."""


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
    lines: TemplateLines = _NO_LINES
    """Where the template defines each resource (empty when it could not be read)."""

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
MAX_FILE_BYTES = 50 * 1024 * 1024
"""The largest manifest or template read (CloudFormation's own template limit is 1 MB)."""
MAX_ASSEMBLY_BYTES = 512 * 1024 * 1024
"""The most bytes of manifests, templates and metadata one audit reads, all files together (each
file is read once); parsed, they take several times as much memory."""
MAX_STACKS = 20_000
"""The most stacks (nested ones included) one assembly may hold before it is refused."""

_TEMPLATE_SECTIONS = ("Parameters", "Mappings", "Conditions", "Resources", "Outputs", "Metadata")
_RESOURCE_MAPPINGS = ("Properties", "Metadata")
_RESOURCE_STRINGS = ("Type", "Condition")


class _OverBudget(AssemblyError):
    """The assembly holds more bytes than one audit reads (never skipped: always exit 2)."""


class _Outside(TemplateError):
    """A path the assembly names resolves outside the assembly directory."""


def printable(value: object) -> str:
    """``value`` as text fit for one line of a message: control characters escaped."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class _Reader:
    """Confined, bounded reads below one resolved root directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.realpath(root))
        self.stacks = 0
        self.bytes_read = 0
        self._templates: dict[Path, tuple[Mapping[str, Any], str | None]] = {}
        self._lines: dict[Path, TemplateLines] = {}
        self._asset_files: dict[Path, Mapping[str, Any]] = {}
        self._asset_manifests: dict[Path, list[str]] = {}

    def confine(self, base: Path, value: object, what: str) -> Path:
        """``base / value`` resolved (symlinks included); raises :class:`_Outside` outside the
        root and :class:`TemplateError` when ``value`` is not a relative path string."""
        if not isinstance(value, str) or not value or "\x00" in value:
            raise TemplateError(f"{printable(base)}: {what} must be a path string, got {value!r}")
        candidate = Path(os.path.realpath(base / value))
        if candidate != self.root and self.root not in candidate.parents:
            raise _Outside(
                f"{printable(value)}: {what} is outside the assembly directory "
                f"{printable(self.root)}: it is not read"
            )
        return candidate

    def read_text(self, path: Path, what: str, error: type[Exception]) -> str:
        """A regular file's text, at most MAX_FILE_BYTES, and MAX_ASSEMBLY_BYTES for all the
        files read (both checked before reading)."""

        def within_budget(size: int) -> None:
            self.bytes_read += size
            if self.bytes_read > MAX_ASSEMBLY_BYTES:
                raise _OverBudget(
                    f"{printable(path)}: the assembly's manifests, templates and metadata hold "
                    f"more than the {MAX_ASSEMBLY_BYTES:,} bytes one audit reads: it is refused "
                    "as broken or hostile; audit its stages one by one"
                )

        return read_regular_text(path, what, error, within_budget)

    def read_json(self, path: Path, what: str) -> Any:
        text = self.read_text(path, what, AssemblyError)
        try:
            return parse_json(text)
        except RecursionError:
            raise AssemblyError(
                f"{printable(path)}: cannot read {what}: nested too deeply"
            ) from None
        except ValueError as problem:
            raise AssemblyError(f"{printable(path)}: cannot read {what}: {problem}") from None

    def asset_files(self, directory: Path, name: str) -> Mapping[str, Any]:
        """The ``files`` of an assets manifest, read once; empty when it cannot be read."""
        try:
            path = self.confine(directory, name, "assets manifest")
        except TemplateError:
            return {}
        if path not in self._asset_files:
            try:
                files = self.read_json(path, "the assets manifest").get("files")
            except _OverBudget:
                raise
            except (TemplateError, AssemblyError, AttributeError):
                files = None
            self._asset_files[path] = files if isinstance(files, Mapping) else {}
        return self._asset_files[path]

    def asset_manifests(self, directory: Path) -> list[str]:
        """The names of the directory's ``*.assets.json`` files, listed once."""
        if directory not in self._asset_manifests:
            self._asset_manifests[directory] = sorted(
                p.name for p in directory.glob("*.assets.json")
            )
        return self._asset_manifests[directory]

    def template(self, path: Path) -> tuple[Mapping[str, Any], str | None]:
        """The template at ``path`` (already confined), read once; or ``({}, problem)``."""
        if path not in self._templates:
            try:
                self._templates[path] = (self._parse_template(path), None)
            except TemplateError as problem:
                self._templates[path] = ({}, str(problem))
        return self._templates[path]

    def lines(self, path: Path) -> TemplateLines:
        """Where the template at ``path`` defines its resources, recorded when :meth:`template`
        parsed it (empty when it could not be read)."""
        return self._lines.get(path, _NO_LINES)

    def _parse_template(self, path: Path) -> Mapping[str, Any]:
        text = self.read_text(path, "the template", TemplateError)
        lines = _NO_LINES
        try:
            if path.suffix.lower() in (".yaml", ".yml") or not text.lstrip().startswith("{"):
                # only for YAML ones
                from .yaml_template import YamlTemplateError, load_yaml_with_lines

                try:
                    loaded, resources_line, by_id = load_yaml_with_lines(text)
                except YamlTemplateError as error:
                    raise TemplateError(
                        f"{printable(path)}: cannot read the template: {error}"
                    ) from None
                lines = TemplateLines(resources_line, MappingProxyType(by_id))
            else:
                try:
                    loaded, lines = parse_json_template(text)
                except ValueError as error:
                    raise TemplateError(
                        f"{printable(path)}: cannot read the template: {error}"
                    ) from None
        except RecursionError:
            raise AssemblyError(
                f"{printable(path)}: the template is nested too deeply to be a CloudFormation "
                "template"
            ) from None
        problem = template_shape_problem(loaded)
        if problem is not None:
            raise TemplateError(f"{printable(path)}: cannot read the template: {problem}")
        template: Mapping[str, Any] = loaded
        self._lines[path] = lines
        return template

    def count_stack(self, where: str) -> None:
        self.stacks += 1
        if self.stacks > MAX_STACKS:
            raise AssemblyError(
                f"{printable(where)}: the assembly holds more than {MAX_STACKS:,} stacks (nested "
                "ones included): it is refused as broken or hostile; audit its stages one by one"
            )


def read_regular_text(
    path: Path,
    what: str,
    error: type[Exception],
    before_reading: Callable[[int], None] | None = None,
) -> str:
    """A regular file's text, at most MAX_FILE_BYTES (checked before reading); raises ``error``
    naming the file otherwise (never blocks on a FIFO, never reads a device). ``before_reading``
    is called with the file's size once it is known to be a regular file under the cap."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise error(f"{printable(path)}: {what} is missing: synthesize again") from None
    except OSError as problem:
        reason = "a symbolic link loop" if problem.errno == errno.ELOOP else problem.strerror
        raise error(f"{printable(path)}: cannot read {what}: {reason}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{printable(path)}: {what} is not a regular file: it is not read")
        if info.st_size > MAX_FILE_BYTES:
            raise error(
                f"{printable(path)}: {what} has {info.st_size:,} bytes, more than the "
                f"{MAX_FILE_BYTES:,} the audit reads (CloudFormation's own limit is far lower)"
            )
        if before_reading is not None:
            before_reading(info.st_size)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as problem:
        raise error(f"{printable(path)}: cannot read {what}: {problem.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise error(f"{printable(path)}: {what} grew past {MAX_FILE_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as problem:
        raise error(f"{printable(path)}: cannot read {what}: {problem}") from None


def template_shape_problem(template: object) -> str | None:
    """Why ``template`` is not shaped as CloudFormation's template anatomy says, or None.

    The sections are objects; each resource is an object whose ``Type`` (and ``Condition``) is a
    string and whose ``Properties`` and ``Metadata`` are objects.
    """
    if not isinstance(template, Mapping):
        return "it is not a JSON/YAML object"
    for section in _TEMPLATE_SECTIONS:
        value = template.get(section)
        if value is not None and not isinstance(value, Mapping):
            return f"{section} is a {type(value).__name__}, not an object"
    for logical_id, resource in (template.get("Resources") or {}).items():
        where = f"Resources.{printable(logical_id)}"
        if not isinstance(resource, Mapping):
            return f"{where} is a {type(resource).__name__}, not an object"
        for key in _RESOURCE_STRINGS:
            value = resource.get(key)
            if (value is not None or key == "Type") and not isinstance(value, str):
                return f"{where}.{key} is a {type(value).__name__}, not a string"
        for key in _RESOURCE_MAPPINGS:
            value = resource.get(key)
            if value is not None and not isinstance(value, Mapping):
                return f"{where}.{key} is a {type(value).__name__}, not an object"
    return None


def read_template(path: Path) -> Mapping[str, Any]:
    """A CloudFormation template, JSON or YAML (short-form tags such as ``!Ref`` included),
    confined to its own directory.

    Raises :class:`TemplateError` naming the file when it cannot be read.
    """
    reader = _Reader(Path(path).parent)
    template, problem = reader.template(reader.confine(reader.root, Path(path).name, "template"))
    if problem is not None:
        raise TemplateError(problem)
    return template


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


def _manifest_problem(manifest: object) -> str | None:
    """Why a manifest is not shaped as the cloud-assembly schema says, or None."""
    if not isinstance(manifest, Mapping):
        return f"the manifest is a {type(manifest).__name__}, not an object"
    artifacts = manifest.get("artifacts")
    if artifacts is None:
        return None
    if not isinstance(artifacts, Mapping):
        return f"artifacts is a {type(artifacts).__name__}, not an object"
    for artifact_id, artifact in artifacts.items():
        where = f"artifacts.{printable(artifact_id)}"
        if not isinstance(artifact, Mapping):
            return f"{where} is a {type(artifact).__name__}, not an object"
        if not isinstance(artifact.get("type"), str):
            return f"{where}.type must be a string, got {artifact.get('type')!r}"
        for key in ("properties", "metadata"):
            value = artifact.get(key)
            if value is not None and not isinstance(value, Mapping):
                return f"{where}.{key} is a {type(value).__name__}, not an object"
        for key in ("environment", "displayName", "additionalMetadataFile"):
            value = artifact.get(key)
            if value is not None and not isinstance(value, str):
                return f"{where}.{key} must be a string, got {value!r}"
        properties = artifact.get("properties") or {}
        required = {
            "aws:cloudformation:stack": "templateFile",
            "cdk:cloud-assembly": "directoryName",
        }.get(artifact["type"])
        if required is not None and not isinstance(properties.get(required), str):
            return (
                f"{where}.properties.{required} must be a path string, got "
                f"{properties.get(required)!r}"
            )
        for key in ("stackName", "displayName"):
            value = properties.get(key)
            if value is not None and not isinstance(value, str):
                return f"{where}.properties.{key} must be a string, got {value!r}"
    return None


def _placeholder(artifact_id: str, path: str, problem: str) -> StackTemplate:
    """A stack that could not be read: its problem becomes an error finding."""
    return StackTemplate(
        artifact_id=artifact_id,
        stack_name=artifact_id,
        display_name=artifact_id,
        account=None,
        region=None,
        template={},
        template_path=path,
        problem=problem,
    )


def _stacks_of_manifest(reader: _Reader, directory: Path, seen: set[Path]) -> list[StackTemplate]:
    if directory in seen:
        return []
    seen.add(directory)
    try:  # the manifest too may be a symbolic link out of the assembly
        path = reader.confine(directory, "manifest.json", "manifest.json")
    except TemplateError as error:
        raise AssemblyError(str(error)) from None
    manifest = reader.read_json(path, "the cloud assembly manifest")
    problem = _manifest_problem(manifest)
    if problem is not None:
        raise AssemblyError(
            f"{printable(path)}: not a cloud assembly manifest ({problem}): synthesize again with "
            "the CDK CLI, or pass the directory it writes"
        )
    stacks: list[StackTemplate] = []
    for artifact_id, artifact in (manifest.get("artifacts") or {}).items():
        kind = artifact["type"]
        properties = artifact.get("properties") or {}
        if kind == "cdk:cloud-assembly":
            try:
                nested = reader.confine(directory, properties["directoryName"], "directoryName")
            except TemplateError as error:
                named = properties["directoryName"]
                stacks.append(_placeholder(str(artifact_id), named, str(error)))
                continue
            stacks += _stacks_of_manifest(reader, nested, seen)
        elif kind == "aws:cloudformation:stack":
            stack = _stack_of_artifact(reader, directory, str(artifact_id), artifact)
            stacks += _with_nested_stacks(reader, stack, 0, ())
    return stacks


def _stack_of_artifact(
    reader: _Reader, directory: Path, artifact_id: str, artifact: Mapping[str, Any]
) -> StackTemplate:
    reader.count_stack(artifact_id)
    properties = artifact.get("properties") or {}
    metadata: dict[str, Any] = dict(artifact.get("metadata") or {})
    extra = artifact.get("additionalMetadataFile")
    if isinstance(extra, str):
        try:
            extra_path = reader.confine(directory, extra, "additionalMetadataFile")
        except TemplateError:
            extra_path = None  # the metadata only names construct paths: skip it
        if extra_path is not None and extra_path.is_file():
            loaded = reader.read_json(extra_path, f"the metadata of stack {artifact_id}")
            if isinstance(loaded, Mapping):
                metadata.update(loaded)
    account, region = _parse_environment(artifact.get("environment"))
    try:
        template_path = reader.confine(directory, properties["templateFile"], "templateFile")
        template, problem = reader.template(template_path)
    except TemplateError as error:
        template_path = directory / str(properties["templateFile"])
        template, problem = {}, str(error)
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
        lines=_NO_LINES if problem is not None else reader.lines(template_path),
    )


_ASSET_KEY = re.compile(r"([0-9a-f]{64})\.json")


def _nested_template_from_assets(
    reader: _Reader, directory: Path, resource: Mapping[str, Any]
) -> str | None:
    properties = resource.get("Properties")
    url = properties.get("TemplateURL") if isinstance(properties, Mapping) else None
    match = _ASSET_KEY.search(json.dumps(url, default=str))
    if match is None:
        return None
    for manifest in reader.asset_manifests(directory):
        entry = reader.asset_files(directory, manifest).get(match.group(1))
        source = entry.get("source") if isinstance(entry, Mapping) else None
        if isinstance(source, Mapping) and isinstance(source.get("path"), str):
            return str(source["path"])
    return None


def with_nested_stacks(stack: StackTemplate, depth: int = 0) -> list[StackTemplate]:
    """The stack, then every stack nested in it at any depth (``*.nested.template.json``, named by
    the parent resource's ``aws:asset:path`` metadata, in the parent template's directory,
    confined to that directory)."""
    reader = _Reader(Path(stack.template_path).parent)
    return _with_nested_stacks(reader, stack, depth, ())


def _with_nested_stacks(
    reader: _Reader, stack: StackTemplate, depth: int, chain: tuple[Path, ...]
) -> list[StackTemplate]:
    found = [stack]
    directory = Path(stack.template_path).parent
    chain = (*chain, Path(stack.template_path))
    for logical_id, resource in stack.resources.items():
        if resource.get("Type") != "AWS::CloudFormation::Stack":
            continue
        metadata = resource.get("Metadata")
        asset = metadata.get("aws:asset:path") if isinstance(metadata, Mapping) else None
        if not isinstance(asset, str):
            # without asset metadata (integ-runner snapshots), the template URL's object key
            # names the asset in the assets manifest
            asset = _nested_template_from_assets(reader, directory, resource)
        if not isinstance(asset, str):
            continue  # a stack from a URL CloudFormation fetches: not in the assembly
        if depth >= MAX_NESTED_STACK_DEPTH:
            raise AssemblyError(
                f"{printable(stack.template_path)}: stacks are nested more than "
                f"{MAX_NESTED_STACK_DEPTH} levels deep: the assembly is broken or loops"
            )
        construct = stack.path_of(logical_id)
        reader.count_stack(construct)
        template: Mapping[str, Any]
        problem: str | None
        try:
            path = reader.confine(directory, asset, "aws:asset:path")
        except TemplateError as error:
            path, template, problem = directory / asset, {}, str(error)
        else:
            if path in chain:
                template, problem = (
                    {},
                    (
                        f"{printable(path)}: the nested stack {printable(logical_id)} includes a "
                        "stack that includes it (a loop): it is not read again"
                    ),
                )
            else:
                template, problem = reader.template(path)
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
            lines=_NO_LINES if problem is not None else reader.lines(path),
        )
        found += _with_nested_stacks(reader, nested, depth + 1, chain)
    return found


def load_assembly(path: str | Path) -> list[StackTemplate]:
    """Every stack of the cloud assembly at ``path``, nested stage assemblies included.

    Raises :class:`AssemblyError` when ``path`` is not a directory holding a ``manifest.json``
    shaped as the cloud-assembly schema says, or holds more than :data:`MAX_STACKS` stacks.
    """
    root = Path(path)
    try:
        if not root.exists():
            raise AssemblyError(
                f"{printable(path)}: no such directory: run `cdk synth` first, or pass the cloud "
                "assembly directory (default cdk.out)"
            )
        if not root.is_dir():
            raise AssemblyError(
                f"{printable(path)} is not a directory: pass the cloud assembly directory"
            )
        if not (root / "manifest.json").exists():
            raise AssemblyError(
                f"{printable(path)} is not a cloud assembly (no manifest.json): pass the "
                "directory `cdk synth` writes (cdk.out, or the app's outdir)"
            )
    except OSError as error:  # a symbolic link loop, a name too long...
        raise AssemblyError(
            f"{printable(path)}: cannot read the assembly: {error.strerror}"
        ) from None
    reader = _Reader(root)
    return _stacks_of_manifest(reader, reader.root, set())


def stacks_from_template_paths(
    template_paths: Iterable[str],
    environments: Mapping[str, tuple[str | None, str | None]] | None = None,
) -> list[StackTemplate]:
    """The stacks of these templates, read with the manifest of each template's directory.

    Used by the validation plugin, which CDK gives template paths. ``environments`` (template path
    -> account, Region) is used for a template no manifest describes.
    """
    by_directory: dict[Path, tuple[_Reader, dict[str, StackTemplate]]] = {}
    stacks: list[StackTemplate] = []
    for template_path in template_paths:
        path = Path(os.path.realpath(template_path))
        directory = path.parent
        if directory not in by_directory:
            reader = _Reader(directory)
            known: dict[str, StackTemplate] = {}
            manifest_path = directory / "manifest.json"
            if manifest_path.is_file():
                manifest = reader.read_json(manifest_path, "the cloud assembly manifest")
                problem = _manifest_problem(manifest)
                if problem is not None:
                    raise AssemblyError(f"{printable(manifest_path)}: {problem}")
                for artifact_id, artifact in (manifest.get("artifacts") or {}).items():
                    if artifact["type"] == "aws:cloudformation:stack":
                        known[artifact["properties"]["templateFile"]] = _stack_of_artifact(
                            reader, directory, str(artifact_id), artifact
                        )
            by_directory[directory] = (reader, known)
        reader, known = by_directory[directory]
        stack = known.get(path.name)
        if stack is None:
            account, region = (environments or {}).get(template_path, (None, None))
            name = path.name.removesuffix(".template.json")
            template, problem = reader.template(path)
            stack = StackTemplate(
                artifact_id=name,
                stack_name=name,
                display_name=name,
                account=account,
                region=region,
                template=template,
                template_path=str(path),
                problem=problem,
                lines=_NO_LINES if problem is not None else reader.lines(path),
            )
        stacks.append(stack)
    # nested stacks at any depth, each once (CDK may also pass their templates)
    seen: set[str] = set()
    result: list[StackTemplate] = []
    top = [s for s in stacks if not s.template_path.endswith(".nested.template.json")]
    nested_alone = [s for s in stacks if s.template_path.endswith(".nested.template.json")]
    for stack in [*top, *nested_alone]:
        entry = by_directory.get(Path(stack.template_path).parent)
        reader = entry[0] if entry else _Reader(Path(stack.template_path).parent)
        for one in _with_nested_stacks(reader, stack, 0, ()):
            if one.template_path not in seen:
                seen.add(one.template_path)
                result.append(one)
    return result
