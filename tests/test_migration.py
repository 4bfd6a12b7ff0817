"""Adopting the library in a deployed app replaces nothing.

The "before" app is what teams deploy without the library: an ``aws_ecr.Repository`` and
``aws_lambda.DockerImageFunction``s (one named, one named by CloudFormation) in a registry
account, and a function in a workload account. The "after" app is the README's migration of
it. Every stateful resource (repository, functions, log groups) must keep its logical id, and
every property whose change makes CloudFormation replace the resource must keep its value.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_lambda as lambda_
from support import DIGEST, REGISTRY, WORKLOAD, env, new_app

from ecr_lambda_access import ContainerFunction, CrossAccountImageRepo, ImagePullPolicy

pytestmark = pytest.mark.synth

REPLACING = {
    # CloudFormation reference: properties whose update requires replacement.
    "AWS::ECR::Repository": ("RepositoryName", "EncryptionConfiguration"),
    "AWS::Lambda::Function": ("FunctionName", "PackageType"),
    "AWS::Logs::LogGroup": ("LogGroupName",),
}
STATEFUL = tuple(REPLACING)


def before(app: cdk.App) -> list[cdk.Stack]:
    registry = cdk.Stack(app, "Registry", env=env(REGISTRY))
    images = ecr.Repository(registry, "Images", repository_name="shared/orders")
    lambda_.DockerImageFunction(
        registry,
        "Indexer",
        code=lambda_.DockerImageCode.from_ecr(images, tag_or_digest=DIGEST),
        function_name="orders-indexer",
    )
    lambda_.DockerImageFunction(
        registry,
        "Cleaner",  # named by CloudFormation
        code=lambda_.DockerImageCode.from_ecr(images, tag_or_digest=DIGEST),
    )
    workload = cdk.Stack(app, "Workload", env=env(WORKLOAD))
    imported = ecr.Repository.from_repository_attributes(
        workload,
        "Images",
        repository_arn=f"arn:aws:ecr:us-east-1:{REGISTRY}:repository/shared/orders",
        repository_name="shared/orders",
    )
    lambda_.DockerImageFunction(
        workload,
        "Worker",
        code=lambda_.DockerImageCode.from_ecr(imported, tag_or_digest=DIGEST),
        function_name="orders-worker",
    )
    return [registry, workload]


def after(app: cdk.App, *, keep_generated_name: bool = True) -> list[cdk.Stack]:
    """The README's migration, step for step."""
    registry = cdk.Stack(app, "Registry", env=env(REGISTRY))
    images = CrossAccountImageRepo(
        registry,
        "Images",  # same construct id: same logical id
        repository_name="shared/orders",  # same physical name
        consumers=[WORKLOAD],
    )
    ContainerFunction(
        registry, "Indexer", repository=images, image_digest=DIGEST, function_name="orders-indexer"
    )
    ContainerFunction(
        registry,
        "Cleaner",
        repository=images,
        image_digest=DIGEST,
        cloudformation_generated_name=keep_generated_name,  # keep CloudFormation's name
    )
    workload = cdk.Stack(app, "Workload", env=env(WORKLOAD))
    ContainerFunction(
        workload,
        "Worker",
        repository=images,  # the object: the workload registers itself on the registry
        image_digest=DIGEST,
        function_name="orders-worker",
    )
    return [registry, workload]


def after_keeping_the_repository(app: cdk.App) -> list[cdk.Stack]:
    """The other way in: keep the ecr.Repository, give it the library's pull policy."""
    registry = cdk.Stack(app, "Registry", env=env(REGISTRY))
    images = ecr.Repository(registry, "Images", repository_name="shared/orders")
    ImagePullPolicy(registry, "ImagesPullPolicy", repository=images, consumers=[WORKLOAD])
    ContainerFunction(
        registry, "Indexer", repository=images, image_digest=DIGEST, function_name="orders-indexer"
    )
    ContainerFunction(
        registry,
        "Cleaner",
        repository=images,
        image_digest=DIGEST,
        cloudformation_generated_name=True,
    )
    workload = cdk.Stack(app, "Workload", env=env(WORKLOAD))
    ContainerFunction(
        workload,
        "Worker",
        repository=images,
        image_digest=DIGEST,
        function_name="orders-worker",
    )
    return [registry, workload]


def stateful(stacks: list[cdk.Stack]) -> dict[tuple[str, str], dict[str, Any]]:
    """(stack, logical id) -> resource, for the stateful resources of the synthesized app."""
    assembly = cdk.Stage.of(stacks[0]).synth()  # type: ignore[union-attr]
    found = {}
    for stack in stacks:
        template = assembly.get_stack_by_name(stack.stack_name).template
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] in STATEFUL:
                found[(stack.stack_name, logical_id)] = resource
    return found


def replaced(old: dict[tuple[str, str], Any], new: dict[tuple[str, str], Any]) -> list[str]:
    """What CloudFormation would replace (or orphan) going from ``old`` to ``new``."""
    problems = []
    for key, resource in old.items():
        if key not in new:
            problems.append(f"{key} ({resource['Type']}) is gone: deleted or orphaned")
            continue
        if new[key]["Type"] != resource["Type"]:
            problems.append(f"{key} changes type")
            continue
        for prop in REPLACING[resource["Type"]]:
            was = resource.get("Properties", {}).get(prop)
            now = new[key].get("Properties", {}).get(prop)
            if was != now:
                problems.append(f"{key}.{prop}: {was!r} -> {now!r} (replacement)")
    return problems


@pytest.mark.parametrize("migration", [after, after_keeping_the_repository])
def test_adopting_the_library_replaces_no_stateful_resource(migration: Any) -> None:
    old = stateful(before(new_app()))
    new = stateful(migration(new_app()))
    assert replaced(old, new) == []
    # The stateful resources of the old app are all there (and nothing was renamed).
    types = sorted(r["Type"] for r in old.values())
    assert types == sorted(
        ["AWS::ECR::Repository"] + ["AWS::Lambda::Function"] * 3 + ["AWS::Logs::LogGroup"] * 3
    )


def test_the_comparison_catches_a_replacement() -> None:
    """The check above can fail: without cloudformation_generated_name the function CloudFormation
    named gets a literal name, which replaces it."""
    old = stateful(before(new_app()))
    new = stateful(after(new_app(), keep_generated_name=False))
    (problem,) = replaced(old, new)
    assert "Cleaner" in problem and "FunctionName: None -> 'Registry-Cleaner-" in problem
