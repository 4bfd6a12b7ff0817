"""The execution role a ``ContainerFunction`` owns: the AWS managed policies
``aws_lambda.Function`` attaches stripped from it, and one check per stack that no policy of
such a role grants an ``ecr:`` action (the Lambda service pulls the image through the
repository policy)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import jsii
from aws_cdk import IStableListProducer, Stack, Token
from aws_cdk import aws_iam as iam
from constructs import IValidation, Node

from ._stack_facts import stack_state

__all__ = [
    "STRIPPED_MANAGED_POLICIES",
    "OwnRolesCheck",
    "Checked",
    "WithoutManagedPolicies",
    "is_ecr_action",
]

STRIPPED_MANAGED_POLICIES = (
    "service-role/AWSLambdaBasicExecutionRole",
    "service-role/AWSLambdaVPCAccessExecutionRole",
)
"""The AWS managed policies aws_lambda.Function attaches to the role it creates; the exact
statements of ``function.py`` replace them."""


def is_ecr_action(action: str) -> bool:
    lowered = action.lower()
    return lowered == "*" or lowered.startswith("ecr:") or lowered.startswith("ecr*")


@jsii.implements(IStableListProducer)
class WithoutManagedPolicies:
    """The role's ManagedPolicyArns without the AWS managed policies Function attaches.

    ``Lazy.list`` keeps the first value produced, which CDK asks for when it prepares the app
    (before any validation): one ``stack.resolve`` per role, once.
    """

    def __init__(self, stack: Stack, original: Any) -> None:
        self._stack = stack
        self._original = original

    def produce(self) -> Any:
        resolved = self._stack.resolve(self._original)
        if not isinstance(resolved, list):
            return resolved
        kept = [
            # A list of strings goes back to JavaScript: an ARN resolved to an intrinsic (a
            # managed policy of the user's, with the partition as {"Ref": "AWS::Partition"})
            # goes back as a token of that intrinsic.
            arn if isinstance(arn, str) else Token.as_string(arn)
            for arn in resolved
            if not any(name in json.dumps(arn) for name in STRIPPED_MANAGED_POLICIES)
        ]
        return kept


@dataclass
class Checked:
    """A function whose own role :class:`OwnRolesCheck` checks."""

    node: Node
    path: str
    policies: list[iam.Policy] = field(default_factory=list)
    """Policies the function made in its subtree (their ``Resource`` needs no path read)."""
    findings: list[str] | None = None
    """What the last check found (None before it ran): reported under the function's path."""


@jsii.implements(IValidation)
class OwnRolesCheck:
    """Fails synth when a policy of a function's own role grants an ``ecr:`` action: one
    validation per stack for all its ``ContainerFunction``s that own their role.

    Registered on the stack's node (validated before its children). Every ``CfnPolicy`` in a
    function's subtree is checked, as each function's own validation did: the stack's
    constructs are listed once (``find_all``, in tree order); the ``Resource`` of a policy the
    function made is the construct that follows it, any other policy is placed by its path.
    The documents are resolved together in one ``stack.resolve``. A function with a finding
    gets a :class:`_EcrFindings` validation of its own, which CDK then reports under the
    function's path, as before.
    """

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._node = stack.node
        self.functions: list[Checked] = []

    @staticmethod
    def of(stack: Stack) -> OwnRolesCheck:
        def make() -> OwnRolesCheck:
            check = OwnRolesCheck(stack)
            check._node.add_validation(check)
            return check

        return stack_state(stack, "ecr-lambda-access:own-roles-check", make)

    def _containing(self, path: str) -> list[int]:
        """The checked functions whose subtree holds the construct at ``path``."""
        return [
            index
            for index, checked in enumerate(self.functions)
            if path == checked.path or path.startswith(checked.path + "/")
        ]

    def validate(self) -> list[str]:
        everything = self._node.find_all()
        position = {_identity(construct): index for index, construct in enumerate(everything)}
        owners: dict[int, list[int]] = {}
        paths: dict[int, str] = {}
        for checked in self.functions:
            for made in checked.policies:
                at = position.get(_identity(made))
                if (
                    at is not None
                    and at + 1 < len(everything)
                    and isinstance(everything[at + 1], iam.CfnPolicy)
                ):
                    # A Policy's first child is its Resource, right after it in tree order.
                    owners[at + 1] = self._containing(checked.path)
        for at, construct in enumerate(everything):
            if isinstance(construct, iam.CfnPolicy) and at not in owners:
                paths[at] = construct.node.path
                owners[at] = self._containing(paths[at])
        checked_at = sorted(at for at, owning in owners.items() if owning)
        values: dict[str, Any] = {}
        for at in checked_at:
            cfn_policy = everything[at]
            assert isinstance(cfn_policy, iam.CfnPolicy)
            values[f"d{at}"] = cfn_policy.policy_document
        # Keys, not positions: resolve() drops what resolves to nothing (an empty document).
        resolved = self._stack.resolve(values) if values else {}
        found: dict[int, list[str]] = {}
        for at in checked_at:
            document = resolved.get(f"d{at}")
            statements = document.get("Statement", []) if isinstance(document, dict) else []
            for statement in statements:
                if statement.get("Effect") != "Allow":
                    continue
                actions = statement.get("Action", [])
                actions = [actions] if isinstance(actions, str) else actions
                bad = [a for a in actions if isinstance(a, str) and is_ecr_action(a)]
                if not bad:
                    continue
                path = paths.get(at)
                if path is None:
                    path = paths[at] = everything[at].node.path
                for index in owners[at]:
                    found.setdefault(index, []).append(
                        f"the execution role is granted {bad} by "
                        f"{path}: the Lambda service pulls the image through the "
                        "repository policy; an execution role never needs an ecr: action. "
                        "Remove the grant (or pass role= to use a role of your own)."
                    )
        for index, checked in enumerate(self.functions):
            messages = found.get(index, [])
            if messages and checked.findings is None:
                checked.node.add_validation(_EcrFindings(checked))
            checked.findings = messages
        return []


def _identity(construct: Any) -> Any:
    """The JavaScript object behind a jsii proxy (jsii may give one object two proxies: one per
    request that returns it, for an object JavaScript made)."""
    reference = getattr(construct, "__jsii_ref__", None)
    return getattr(reference, "ref", None) or id(construct)


@jsii.implements(IValidation)
class _EcrFindings:
    """What the stack's :class:`OwnRolesCheck` found on one function, reported under the
    function's path."""

    def __init__(self, checked: Checked) -> None:
        self._checked = checked

    def validate(self) -> list[str]:
        return list(self._checked.findings or [])
