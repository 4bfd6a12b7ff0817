"""Which repository a function pulls from, and its registration on a ``CrossAccountImageRepo``.

``resolve_repository`` turns what ``ContainerFunction(repository=...)`` accepts into plain
values (:class:`RepositorySource`); ``register`` lists the function on the repository that
manages the policy, or tells the user what the repository's owner must add.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import Annotations, Stack, Stage, Token
from aws_cdk import aws_ecr as ecr
from constructs import Construct, IConstruct

from ._annotations import warn
from ._shared import ImagePullingFunction, literal_name
from ._stack_facts import StackFacts, facts_of, stack_state
from .errors import (
    InvalidFunctionNameError,
    InvalidRepositoryError,
    RegionMismatchError,
    Violation,
)
from .repository import CrossAccountImageRepo, ImagePullPolicy
from .validation import check_repository_arn, is_digest, is_unresolved, parse_repository_arn

__all__ = [
    "RepositoryLike",
    "RepositorySource",
    "resolve_repository",
    "image_uri",
    "register",
]

RepositoryLike = CrossAccountImageRepo | ecr.IRepository | str
"""What ``repository=`` accepts."""

PolicyManager = CrossAccountImageRepo | ImagePullPolicy
"""A construct of this app that writes a repository's pull policy."""


@dataclass(frozen=True)
class RepositorySource:
    """Where the image lives, as plain values (CDK tokens where nothing literal exists)."""

    arn: str
    name: str
    account: str
    region: str
    partition: str
    wired_to: PolicyManager | None
    """The construct of this app that writes the repository's policy, if any."""
    description: str
    owned_in_app: bool = False
    """An ``aws_ecr.Repository`` of this app whose policy no CrossAccountImageRepo manages."""


def find_wrapper(repository: ecr.IRepository) -> PolicyManager | None:
    """The construct of this app that writes ``repository``'s pull policy, if any."""
    if isinstance(repository, CrossAccountImageRepo):
        return repository
    return ImagePullPolicy.of(repository)


def _stack_of_manager(manager: PolicyManager) -> Stack:
    """The stack of the repository ``manager`` writes the policy of (kept by the manager)."""
    return manager._pull_policy.stack


def managed_repository(manager: PolicyManager) -> ecr.Repository:
    return manager if isinstance(manager, CrossAccountImageRepo) else manager.repository


def _managed_by_arn(arn: str, scope: IConstruct) -> CrossAccountImageRepo | None:
    """The CrossAccountImageRepo of this app whose literal ARN is ``arn``, if any."""
    for construct in scope.node.root.node.find_all():
        if not isinstance(construct, CrossAccountImageRepo):
            continue
        stack = Stack.of(construct)
        name = literal_name(construct)
        if name is None or Token.is_unresolved(stack.account) or Token.is_unresolved(stack.region):
            continue
        if arn.endswith(f":ecr:{stack.region}:{stack.account}:repository/{name}"):
            return construct
    return None


def is_repository(value: object) -> bool:
    """Duck-typed IRepository (jsii proxies of imported repositories)."""
    return all(hasattr(value, a) for a in ("repository_arn", "repository_name", "env", "node"))


def replica_for_function(source: CrossAccountImageRepo, stack: Stack) -> CrossAccountImageRepo:
    """The repository a function in ``stack`` runs ``source``'s images from.

    The replica in the function's own account and Region; else, in another Region than the
    source's, the source account's replica in the function's Region; else the source itself
    (``check_region`` then says to add a replica). Another workload account's replica is never
    used: it admits only that account's functions (a workload registry is not a distribution
    point for its neighbours).
    """
    replicas = source._replicas
    if not replicas:
        return source
    mine = facts_of(stack)
    if mine.account_unresolved or mine.region_unresolved:
        return source
    own = source.replica_for(account=mine.account, region=mine.region)
    if own is not None:
        return own
    source_facts = facts_of(_stack_of_manager(source))
    if source_facts.region == mine.region:
        return source
    registry = source.replica_for(account=source_facts.account, region=mine.region)
    return registry if registry is not None else source


def resolve_repository(
    repository: object, stack: Stack, function_name: str | None
) -> tuple[RepositorySource | None, list[Violation]]:
    """The repository ``repository=`` names, as plain values, and every problem found."""
    found: list[Violation] = []
    ref: RepositorySource | None = None
    if isinstance(repository, CrossAccountImageRepo):
        # A replica of the function's own account and Region, else of its Region.
        manager: PolicyManager | None = replica_for_function(repository, stack)
    else:
        manager = find_wrapper(repository) if is_repository(repository) else None  # type: ignore[arg-type]
    if manager is not None:
        pull_policy = manager._pull_policy
        repo_stack = pull_policy.stack
        repo_facts = facts_of(repo_stack)
        mine = facts_of(stack)
        arn, name, literal = pull_policy.names()
        other_stage = repo_facts.stage_path != mine.stage_path
        if literal is not None and repo_facts.path != mine.path:
            # Plain strings across stacks (no export, no cross-stack reference); register()
            # orders the deployments (a stack dependency in one stage). In one stack the Ref
            # keeps the function after the repository (and its policy).
            name = literal
            if not repo_facts.account_unresolved and not repo_facts.region_unresolved:
                arn = (
                    f"arn:{repo_facts.partition}:ecr:{repo_facts.region}:"
                    f"{repo_facts.account}:repository/{literal}"
                )
        ref = RepositorySource(
            arn=arn,
            name=name,
            account=repo_facts.account,
            region=repo_facts.region,
            partition=repo_facts.partition,
            wired_to=manager,
            description=f"{type(manager).__name__} {pull_policy.owner_path}",
        )
        if repo_facts.path != mine.path:
            found += _check_environments(repo_facts, mine)
            if other_stage and literal is None:
                found.append(
                    (
                        InvalidRepositoryError,
                        f"repository {pull_policy.repository_path} is in another Stage and "
                        "has no literal "
                        "repository_name: nothing may cross stages, so the function names the "
                        "repository by its physical name; give it repository_name=... (a "
                        "repository already deployed without a name is replaced by that: keep "
                        "it unnamed, pass the function the repository as deployed, e.g. "
                        "ecr.Repository.from_repository_name(...) of its exported name, and "
                        "list the function's account in the CrossAccountImageRepo's "
                        "consumers=; see docs/adoption.md)",
                    )
                )
            if function_name is not None and is_unresolved(function_name):
                found.append(
                    (
                        InvalidFunctionNameError,
                        f"function_name must be a literal string when the repository "
                        f"({pull_policy.repository_path}) is in another stack, got the token "
                        f"{function_name!r}: its policy names this function; pass a literal "
                        "name or leave function_name unset to generate one",
                    )
                )
    elif isinstance(repository, str):
        found += check_repository_arn(repository, "repository")
        parsed = parse_repository_arn(repository)
        if parsed is not None:
            ref = RepositorySource(
                arn=parsed.arn,
                name=parsed.name,
                account=parsed.account,
                region=parsed.region,
                partition=parsed.partition,
                wired_to=None,
                description=f"repository {parsed.arn}",
            )
        elif is_unresolved(repository):
            found.append(
                (
                    InvalidRepositoryError,
                    f"repository is an unresolved token ({repository!r}): the image URI needs "
                    "the repository's account, Region and name; pass "
                    "aws_ecr.Repository.from_repository_attributes(...) instead",
                )
            )
    elif is_repository(repository):
        imported: ecr.IRepository = repository  # type: ignore[assignment]
        owned_stack = Stack.of(imported) if isinstance(imported, ecr.Repository) else None
        ref = RepositorySource(
            arn=imported.repository_arn,
            name=imported.repository_name,
            account=imported.env.account,
            region=imported.env.region,
            partition=owned_stack.partition if owned_stack is not None else stack.partition,
            wired_to=None,
            description=f"repository {imported.node.path}",
            owned_in_app=owned_stack is not None,
        )
    else:
        found.append(
            (
                InvalidRepositoryError,
                f"repository must be a CrossAccountImageRepo, an aws_ecr.IRepository or an "
                f"ECR repository ARN string, got {repository!r} ({type(repository).__name__})",
            )
        )
    if ref is not None:
        found += check_region(ref, stack)
    return ref, found


def check_environments(repo_stack: Stack, stack: Stack) -> list[Violation]:
    """Two stacks of one app: their accounts/Regions must be both literal or both tokens."""
    return _check_environments(facts_of(repo_stack), facts_of(stack))


def _check_environments(repo_stack: StackFacts, stack: StackFacts) -> list[Violation]:
    found: list[Violation] = []
    for what, mine, theirs in (
        ("account", stack.account_unresolved, repo_stack.account_unresolved),
        ("Region", stack.region_unresolved, repo_stack.region_unresolved),
    ):
        if mine != theirs:
            found.append(
                (
                    InvalidRepositoryError,
                    f"repository: the stack {repo_stack.stack_name} has "
                    f"{'no ' if theirs else ''}explicit {what} and "
                    f"{stack.stack_name} has {'no ' if mine else ''}"
                    f"explicit {what}: the repository policy must name this function's "
                    "account, so give both stacks an explicit env=Environment(account=..., "
                    "region=...)",
                )
            )
    return found


def check_region(ref: RepositorySource, stack: Stack) -> list[Violation]:
    mine = facts_of(stack)
    if mine.region_unresolved or ref.region == mine.region:
        return []
    if Token.is_unresolved(ref.region):
        return []
    if isinstance(ref.wired_to, CrossAccountImageRepo):
        return [
            (
                RegionMismatchError,
                f"repository: {ref.description} is in {ref.region}, the function's stack "
                f"{stack.stack_name} in {stack.region}, and it has no replica there: Lambda "
                "runs images only from its own Region. Add one with "
                f"{ref.wired_to.node.id}.add_replica(<a stack in {stack.region}>) before "
                "creating the function (it then runs from the replica), or deploy the "
                f"function in {ref.region}" + _neighbours(ref.wired_to, stack),
            )
        ]
    return [
        (
            RegionMismatchError,
            f"repository: {ref.description} is in {ref.region}, the function's stack "
            f"{stack.stack_name} in {stack.region}: Lambda runs images only from a "
            f"repository in its own Region (another account is fine). Replicate the "
            f"repository to {stack.region} (ECR replication; repository policies are not "
            "replicated) and use the replica, or deploy the function in "
            f"{ref.region}",
        )
    ]


def _neighbours(source: CrossAccountImageRepo, stack: Stack) -> str:
    """Why another account's replica in the function's Region was not used, if there is one."""
    others = sorted(
        Stack.of(r).account for r in source.replicas if Stack.of(r).region == stack.region
    )
    if not others:
        return ""
    return (
        f". The replica in {stack.region} of account {', '.join(others)} serves that account's "
        f"own functions only: add the replica in account {stack.account} or in the source's "
        f"account ({Stack.of(source).account})"
    )


def same_stage(one: Construct, other: Construct) -> bool:
    mine, theirs = Stage.of(one), Stage.of(other)
    return (mine.node.path if mine else None) == (theirs.node.path if theirs else None)


def image_uri(ref: RepositorySource, stack: Stack, reference: str, *, digest: bool) -> str:
    """``ACCOUNT.dkr.ecr.REGION.URLSUFFIX/NAME@sha256:...`` (or ``:tag``).

    ``digest``: ``reference`` came as ``image_digest`` (literal or token). A ``tag_or_digest``
    is a digest only when it starts with ``sha256:``; a token there stays a tag.
    """
    separator = "@" if digest or is_digest(reference) else ":"
    suffix = facts_of(stack).url_suffix
    return f"{ref.account}.dkr.ecr.{ref.region}.{suffix}/{ref.name}{separator}{reference}"


def _readable(text: str, stack: Stack) -> str:
    """``text`` with the stack's unresolved account and Region written ``${AWS::AccountId}`` and
    ``${AWS::Region}`` (CloudFormation's names) instead of ``${Token[...]}``."""
    for value, name in ((stack.account, "${AWS::AccountId}"), (stack.region, "${AWS::Region}")):
        if Token.is_unresolved(value):
            text = text.replace(value, name)
    return text


def register(function: ImagePullingFunction, ref: RepositorySource, stack: Stack) -> None:
    """List the function on the construct that writes the repository's policy, or say what the
    repository's owner must add."""
    owner = ref.wired_to
    scope: IConstruct = function
    name = function.literal_function_name or f"{function.node.path} (named by CloudFormation)"
    if owner is not None:
        # A CrossAccountImageRepo keeps functions apart from the consumers its replicas inherit.
        getattr(owner, "_register_function", owner.add_consumer)(function._consumer())
        running = getattr(owner, "_functions", None)  # ImagePullMonitor watches these
        if isinstance(running, list):
            running.append(function)
        repo_stack = _stack_of_manager(owner)
        repo_facts, mine = facts_of(repo_stack), facts_of(stack)
        if repo_facts.path == mine.path:
            return
        if repo_facts.stage_path == mine.stage_path:
            # One dependency per pair of stacks (the reason names the first function; CDK keeps
            # the reasons for its cycle error only).
            depended: set[str] = stack_state(stack, "ecr-lambda-access:depends-on", set)
            if repo_facts.path in depended:
                return
            stack.add_stack_dependency(
                repo_stack,
                f"the repository policy of {owner._pull_policy.owner_path} must allow {name} "
                "before Lambda creates it",
            )
            depended.add(repo_facts.path)
            return
        repo_stage = Stage.of(repo_stack)
        if repo_stage is None or repo_stage.node.scope is None:  # the App: a top-level stack
            where, first = (
                f"in the top-level stack {repo_stack.stack_name}, outside this function's Stage",
                f"deploy it before this Stage (cdk deploy {repo_stack.stack_name}; in CDK "
                "Pipelines: the pipeline's own stack or an earlier stage)",
            )
        else:
            where, first = (
                f"in another Stage ({repo_stage.node.path}, stack {repo_stack.stack_name})",
                "deploy the repository's stage first (in CDK Pipelines: an earlier stage or wave)",
            )
        Annotations.of(scope).add_info(
            f"{ref.description} is {where}: the function registered itself on it ({name}), "
            f"and no dependency crosses into a Stage. So {first}, or CreateFunction fails "
            "with 'Lambda does not have permission to access the ECR image'."
        )
        return
    text = json.dumps(function.required_repository_policy(), separators=(",", ":"))
    if ref.owned_in_app:
        warn(
            scope,
            "repositoryPolicyNotManaged",
            f"{ref.description} is defined in this app but nothing here writes its pull "
            "policy, so nothing lets Lambda pull this function's image (CreateFunction fails, "
            "or Lambda adds a broader statement of its own if the deployer may). Give it one: "
            "ImagePullPolicy(scope, id, repository=repository) (the function then registers "
            "itself), or make it a CrossAccountImageRepo; or add this policy to it yourself: "
            f"{text}",
        )
        return
    if ref.account == stack.account:
        where = "in this account"
    else:
        where = f"of account {_readable(ref.account, stack)}"
    if ref.name.startswith("cdk-") and "-container-assets-" in ref.name:
        Annotations.of(scope).add_info(
            f"the image is a CDK image asset in the bootstrap repository "
            f"{_readable(ref.name, stack)} ({where}): `cdk deploy` builds and pushes it, and "
            "the bootstrap template's repository policy already lets Lambda pull for every "
            "function of its own account and Region (aws:SourceArn function:*), so nothing is "
            "added here. A customized bootstrap template may differ; functions of other "
            "accounts cannot pull from it (use a CrossAccountImageRepo)."
        )
        return
    managing = _managed_by_arn(ref.arn, function) if not is_unresolved(ref.arn) else None
    if managing is not None:
        Annotations.of(scope).add_info(
            f"{ref.description} ({where}) is the CrossAccountImageRepo {managing.node.path} of "
            "this app, passed by ARN: this function is not registered on it, so its policy "
            "must already admit the function (a consumer covering this account and name) or "
            "the deploy fails. Pass the CrossAccountImageRepo object itself to register the "
            "function (it works across stages), or check that its consumers include this "
            f"policy's: {text}"
        )
        return
    Annotations.of(scope).add_info(
        f"{ref.description} ({where}) is not managed by a CrossAccountImageRepo or an "
        "ImagePullPolicy of this app, so its policy is not written here. Before deploying, "
        "its owner must add this repository policy "
        "(ContainerFunction.required_repository_policy() returns it): "
        f"{text}"
    )
