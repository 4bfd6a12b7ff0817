"""The finding ``execution-role-ecr-actions``: its id, severity, texts and help link."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..model import as_list
from ..results import Finding
from ..values import Unknown, Value
from .base import WARNING, Rule
from .context import AuditContext

if TYPE_CHECKING:
    from ..model import ModelFunction

ID = "execution-role-ecr-actions"

RULE: Rule = Rule(
    ID,
    "finding",
    "the execution role holds ECR permissions it does not need for the pull",
    "Remove ECR actions from the execution role unless the function's code calls ECR.",
    WARNING,
)


_ECR_MANAGED_POLICIES = (
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonEC2ContainerRegistryPowerUser",
    "AmazonEC2ContainerRegistryFullAccess",
    "EC2InstanceProfileForImageBuilderECRContainerBuilds",
)


def _ecr_actions(document: Any, where: str) -> list[str]:
    actions: list[str] = []
    statements = document.get("Statement") if isinstance(document, Mapping) else None
    for statement in as_list(statements):
        if not isinstance(statement, Mapping):
            continue
        if str(statement.get("Effect", "")).lower() != "allow":
            continue
        actions += [
            str(a) for a in as_list(statement.get("Action")) if str(a).lower().startswith("ecr:")
        ]
    if not actions:
        return []
    return [f"{where}: {', '.join(dict.fromkeys(actions))}"]


def _policy_name(arn: Value) -> str:
    """The text after the last ``/`` of a managed policy ARN (empty when that part is unknown)."""
    if isinstance(arn, Unknown):
        last = arn.parts[-1] if arn.parts else None
        arn = last if isinstance(last, str) else ""
    return arn.rsplit("/", 1)[-1]


def check(audit: AuditContext, function: ModelFunction) -> None:
    index, logical_id = function.index, function.logical_id
    stack = audit.model.stacks[index]
    role_id = function.role_id
    if role_id is None or role_id in audit._checked_roles.setdefault(index, set()):
        return
    audit._checked_roles[index].add(role_id)
    role = audit.model.roles.get((index, role_id))
    if role is None:
        return
    found: list[str] = []
    for policy_name, document in role.inline_policies:
        found += _ecr_actions(document, f"inline policy {policy_name}")
    for target, value in role.managed_policies:
        if target is not None:
            found += _ecr_actions(value, f"managed policy {target}")
            continue
        policy_name = _policy_name(value)
        if policy_name in _ECR_MANAGED_POLICIES:
            found.append(f"AWS managed policy {policy_name}")
    for other_id, document in audit.model.role_policies.get((index, role_id), ()):
        found += _ecr_actions(document, f"policy {other_id}")
    if found:
        audit.findings.append(
            Finding(
                severity=RULE.severity,
                code=RULE.id,
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
