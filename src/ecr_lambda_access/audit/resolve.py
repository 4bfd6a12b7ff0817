"""Resolving intrinsics (``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``, ...) to plain data.

Values not known before deployment (the account of an env-agnostic stack, a name CloudFormation
generates) are carried through the resolution as opaque placeholders, one per distinct unknown,
so two occurrences of the same unknown (the account of one stack) compare equal. The model
(:mod:`.model`) converts them once into :class:`.values.Unknown` values that carry their reason;
no reader after the model sees a placeholder. An unknown compared with anything else makes the
answer ``unverifiable``, never a guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..policy.size import partition_of_region, url_suffix_of_region
from .load import StackTemplate
from .values import PLACEHOLDER, Unknown, decode, encode

MARK_OPEN = "\u27e6"
MARK = PLACEHOLDER
"""Placeholder text for an unknown while intrinsics resolve: the model converts it (once) to
:class:`.values.Unknown`, and nothing after the model sees it."""


class Unknowns:
    """Allocates placeholders: one per distinct unknown, so equal unknowns compare equal."""

    def __init__(self) -> None:
        self.items: list[Unknown] = []
        self._by_key: dict[tuple[Any, ...], str] = {}

    def mark(
        self, key: tuple[Any, ...], description: str, target: tuple[int, str] | None = None
    ) -> str:
        marker = self._by_key.get(key)
        if marker is None:
            marker = encode(len(self.items))
            self.items.append(Unknown(description, len(self.items), target))
            self._by_key[key] = marker
        return marker

    def value_of(self, text: str) -> str | Unknown:
        """Resolved text as a model value: a string, or an :class:`Unknown` with its reason."""
        return decode(text, self.items)

    def describe(self, text: str) -> str:
        """The text with each placeholder replaced by ``<what it is>``."""
        return MARK.sub(lambda m: f"<{self.items[int(m.group(1))].reason}>", text)


def has_marker(value: str) -> bool:
    return MARK_OPEN in value


def partition_of(region: str) -> str:
    return partition_of_region(region)


def url_suffix_of(region: str) -> str:
    return url_suffix_of_region(region)


_MAX_DEPTH = 40
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class Assembly:
    """All stacks, with the indexes the resolver needs across stacks."""

    def __init__(self, stacks: Sequence[StackTemplate]) -> None:
        self.stacks = list(stacks)
        self.unknowns = Unknowns()
        self.resolvers = [Resolver(self, index) for index in range(len(self.stacks))]
        self.by_stack_name: dict[str, list[int]] = {}
        self.exports: dict[str, list[tuple[int, Any]]] = {}
        self.index_of: dict[int, int] = {id(stack): i for i, stack in enumerate(self.stacks)}
        self.nested: dict[tuple[int, str], int] = {}
        """(parent index, logical id of the AWS::CloudFormation::Stack) -> nested stack index"""
        for index, stack in enumerate(self.stacks):
            if stack.parent is not None and stack.parent_resource is not None:
                parent = self.index_of.get(id(stack.parent))
                if parent is not None:
                    self.nested[(parent, stack.parent_resource)] = index
        for index, stack in enumerate(self.stacks):
            self.by_stack_name.setdefault(stack.stack_name, []).append(index)
            outputs = stack.template.get("Outputs")
            for output in outputs.values() if isinstance(outputs, Mapping) else ():
                if not isinstance(output, Mapping) or not isinstance(output.get("Export"), Mapping):
                    continue
                name = self.resolvers[index].resolve(output["Export"].get("Name"))
                if isinstance(name, str) and not has_marker(name):
                    self.exports.setdefault(name, []).append((index, output.get("Value")))


class Resolver:
    """Resolves template values of one stack to plain data, unknowns as markers."""

    def __init__(self, assembly: Assembly, index: int) -> None:
        self.assembly = assembly
        self.index = index
        self.assumptions: dict[str, bool] = {}
        """Conditions taken as true or false (both ways are tried when one is not known)."""
        self.open_conditions: set[str] = set()
        """Conditions met whose value is not known (and not assumed)."""

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
            return partition_of(self.stack.region)
        return self._mark("AWS::Partition", f"partition of {self.stack.display_name}")

    @property
    def url_suffix(self) -> str:
        if self.stack.region is not None:
            return url_suffix_of(self.stack.region)
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
            if name in parameters:
                return self.parameter(name, parameters[name], depth)
            return self._mark(f"Ref:{name}", f"reference {name} of stack {self.stack.display_name}")
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

    def parameter(self, name: str, declaration: Any, depth: int) -> Any:
        """A parameter: the value a parent stack passes to its nested stack, else the default
        (what a deploy without parameter overrides uses), else unknown."""
        parent = self.stack.parent
        if parent is not None and self.stack.parent_resource is not None:
            parent_index = self.assembly.index_of.get(id(parent))
            resource = parent.resources.get(self.stack.parent_resource)
            passed = (resource.get("Properties") or {}).get("Parameters") if resource else None
            if parent_index is not None and isinstance(passed, Mapping) and name in passed:
                resolver = self.assembly.resolvers[parent_index]
                return resolver.resolve(passed[name], depth + 1)
        if isinstance(declaration, Mapping):
            kind = str(declaration.get("Type", ""))
            default = declaration.get("Default")
            if default is not None and not kind.startswith("AWS::SSM::Parameter::Value"):
                if kind.startswith("List<") or kind == "CommaDelimitedList":
                    return [v.strip() for v in str(default).split(",")]
                return str(default)
        return self._mark(f"Ref:{name}", f"parameter {name} of stack {self.stack.display_name}")

    def condition(self, name: str, depth: int) -> bool | None:
        """A condition of the template's Conditions: True/False, or None when not known."""
        if name in self.assumptions:
            return self.assumptions[name]
        conditions = self.stack.template.get("Conditions")
        expression = conditions.get(name) if isinstance(conditions, Mapping) else None
        if expression is None or depth > _MAX_DEPTH:
            self.open_conditions.add(name)
            return None
        value = self.condition_value(expression, depth + 1)
        if value is None:
            self.open_conditions.add(name)
        return value

    def condition_value(self, expression: Any, depth: int) -> bool | None:
        if isinstance(expression, bool):
            return expression
        if isinstance(expression, str) and expression.lower() in ("true", "false"):
            return expression.lower() == "true"
        if not isinstance(expression, Mapping) or len(expression) != 1 or depth > _MAX_DEPTH:
            return None
        ((key, argument),) = expression.items()
        if key == "Condition" and isinstance(argument, str):
            return self.condition(argument, depth + 1)
        if key == "Fn::Equals" and isinstance(argument, list) and len(argument) == 2:
            left, right = (self.resolve(a, depth + 1) for a in argument)
            if any(
                has_marker(json.dumps(v, default=str, ensure_ascii=False)) for v in (left, right)
            ):
                return None
            return bool(str(left) == str(right))
        parts = argument if isinstance(argument, list) else []
        values = [self.condition_value(p, depth + 1) for p in parts]
        if key == "Fn::Not" and len(values) == 1:
            return None if values[0] is None else not values[0]
        if key == "Fn::And" and values:
            if any(v is False for v in values):
                return False
            return None if any(v is None for v in values) else True
        if key == "Fn::Or" and values:
            if any(v is True for v in values):
                return True
            return None if any(v is None for v in values) else False
        return None

    def get_att(self, logical_id: str, attribute: str, depth: int) -> Any:
        resource = self.resource(logical_id)
        kind = resource.get("Type") if resource is not None else None
        if kind == "AWS::CloudFormation::Stack" and attribute.startswith("Outputs."):
            nested = self.assembly.nested.get((self.index, logical_id))
            if nested is not None:
                outputs = self.assembly.stacks[nested].template.get("Outputs") or {}
                output = outputs.get(attribute[len("Outputs.") :])
                if isinstance(output, Mapping):
                    resolver = self.assembly.resolvers[nested]
                    return resolver.resolve(output.get("Value"), depth + 1)
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
        if isinstance(region, str) and not has_marker(region):
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
        if isinstance(name, str) and not has_marker(name):
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
        if key == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
            chosen = self.condition(str(argument[0]), depth + 1)
            if chosen is not None:
                return self.resolve(argument[1] if chosen else argument[2], depth + 1)
            return self._mark(
                f"If:{json.dumps(argument, sort_keys=True, default=str)}",
                f"a value that depends on condition {argument[0]} of stack "
                f"{self.stack.display_name}",
            )
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
