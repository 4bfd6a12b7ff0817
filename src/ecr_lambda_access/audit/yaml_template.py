"""YAML CloudFormation templates, with the short-form tags (``!Ref``, ``!Sub``, ``!GetAtt``, ...).

Imported only when the audit meets a YAML template: PyYAML costs import time the command does not
pay for the JSON templates CDK writes. Dates stay strings (``Version: 2012-10-17`` is the policy
language version, not a date), as CloudFormation reads them.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["YamlTemplateError", "load_yaml", "load_yaml_with_lines"]


class YamlTemplateError(ValueError):
    """The text is not a YAML template."""


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it


class _TemplateLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """SafeLoader without timestamps, with CloudFormation's short-form tags, and without aliases.

    CloudFormation does not support YAML anchors and aliases (CloudFormation user guide,
    "Template formats"); refusing them also means a template cannot expand in memory
    ("billion laughs"): a node is constructed twice only when an alias names it again.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects or node in self.recursive_objects:
            line = node.start_mark.line + 1 if node.start_mark is not None else "?"
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"line {line}: YAML aliases (*name) are not allowed in a CloudFormation "
                "template (CloudFormation does not support them)",
                node.start_mark,
            )
        return super().construct_object(node, deep=deep)


_TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _short_form)


def load_yaml(text: str) -> Any:
    """The template's data; raises :class:`YamlTemplateError` with the line of the problem."""
    return load_yaml_with_lines(text)[0]


def load_yaml_with_lines(text: str) -> tuple[Any, int | None, dict[str, int]]:
    """The template's data, the line of its ``Resources`` key and the line of each resource's
    key under it (1-based), read from the node tree the parser builds anyway (its marks): no
    second pass over the text. Raises :class:`YamlTemplateError` with the line of the problem."""
    loader = _TemplateLoader(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as error:
        raise YamlTemplateError(str(error).replace("\n", " ")) from None
    finally:
        loader.dispose()
    resources_line, by_id = _resource_lines(node)
    return data, resources_line, by_id


def _line(node: yaml.Node) -> int | None:
    return None if node.start_mark is None else node.start_mark.line + 1


def _resource_lines(root: yaml.Node | None) -> tuple[int | None, dict[str, int]]:
    """As the constructor reads a mapping, a later key wins over an earlier one of the same name."""
    resources_line: int | None = None
    by_id: dict[str, int] = {}
    if not isinstance(root, yaml.MappingNode):
        return resources_line, by_id
    for key, value in root.value:
        if not (isinstance(key, yaml.ScalarNode) and key.value == "Resources"):
            continue
        resources_line, by_id = _line(key), {}
        if isinstance(value, yaml.MappingNode):
            for resource, _ in value.value:
                line = _line(resource)
                if isinstance(resource, yaml.ScalarNode) and line is not None:
                    by_id[str(resource.value)] = line
    return resources_line, by_id
