"""One timed process: build a CDK app and ``app.synth()`` it into an output directory.

Run by ``bench/run.py`` once per measurement (whole-process timing: interpreter and jsii kernel
start-up are part of what a user pays on every ``cdk synth``)::

    python bench/synth_app.py ours OUTDIR           # examples/cross_account.py, our constructs
    python bench/synth_app.py hand OUTDIR           # bench/hand_written.py, plain aws-cdk-lib
    python bench/synth_app.py empty OUTDIR          # one stack, one resource: what any app pays
    python bench/synth_app.py consumers OUTDIR N    # one CrossAccountImageRepo, N consumer accounts
    python bench/synth_app.py fleet OUTDIR N        # 1 registry + N-1 workload stacks (audit input)
    python bench/synth_app.py scale OUTDIR N A      # N ContainerFunctions in A workload accounts
    python bench/synth_app.py scale-hand OUTDIR N A # the same resources wired by hand
    python bench/synth_app.py scale-same OUTDIR N A # by hand, the same templates as ``scale``

The app gets cdk.json's context (feature flags and the examples' accounts), as ``cdk synth``
gives it. The last line on stdout is a JSON object with the phases measured inside the process:
``import_s`` (aws_cdk with the jsii kernel start, and the modules that build the app),
``build_s`` (constructing the app), ``synth_s`` (``app.synth()``). The ``scale`` cases add
``jsii_build``/``jsii_synth`` (requests to the jsii kernel in each phase, see :func:`count_jsii`)
and ``jsii_unit`` (the requests of one more function, built and counted on its own).
"""

from __future__ import annotations

import time

_START = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REGISTRY_ACCOUNT = "111111111111"
REGION = "us-east-1"
CASES = ("ours", "hand", "empty", "consumers", "fleet", "scale", "scale-hand", "scale-same")
SCALE_FUNCTIONS_PER_REPOSITORY = 100
"""Functions per registry repository in the scale cases (each names its functions: 100 exact
function ARNs fit ECR's 10,240 characters, 500 do not)."""
SCALE_FUNCTIONS_PER_STACK = 25
"""Functions per workload stack in the scale cases (CloudFormation's 500 resources a stack)."""

JSII_REQUESTS = (
    "create", "get", "set", "sget", "sset", "invoke", "sinvoke", "delete", "begin", "sbegin",
    "end", "callbacks", "complete", "sync_complete",
)  # fmt: skip
"""The request methods of the jsii kernel's provider (``sync_complete``: a callback's answer)."""
JSII_COUNTS: dict[str, int] = {}
UNIT: dict[str, int] = {}

Builder = Callable[[Any, int], None]


def consumer_accounts(count: int) -> list[str]:
    """``count`` distinct 12-digit account ids, none of them the registry's."""
    return [f"{200_000_000_000 + index:012d}" for index in range(count)]


def fleet_accounts(stacks: int) -> list[str]:
    """The workload accounts of a ``fleet`` of ``stacks`` stacks: three workloads per account."""
    return consumer_accounts(max(1, (stacks - 1 + 2) // 3))


def count_jsii() -> None:
    """Count every request the Python side sends to the jsii kernel (one Node round trip each),
    by wrapping the request methods of the kernel's provider."""
    import jsii

    provider = jsii.kernel.provider
    for name in JSII_REQUESTS:
        method = getattr(provider, name, None)
        if method is None:
            continue

        def counted(*args: Any, _method: Any = method, _name: str = name, **kwargs: Any) -> Any:
            JSII_COUNTS[_name] = JSII_COUNTS.get(_name, 0) + 1
            return _method(*args, **kwargs)

        setattr(provider, name, counted)


def jsii_total() -> int:
    return sum(JSII_COUNTS.values())


def scale_layout(count: int, accounts: int) -> list[tuple[str, int, int]]:
    """(account, stack index within the account, repository index) of each of ``count``
    functions spread evenly over ``accounts`` workload accounts."""
    ids = consumer_accounts(accounts)
    per_account = max(1, -(-count // accounts))
    return [
        (
            ids[index // per_account],
            (index % per_account) // SCALE_FUNCTIONS_PER_STACK,
            index // SCALE_FUNCTIONS_PER_REPOSITORY,
        )
        for index in range(count)
    ]


def scale_function_name(index: int) -> str:
    return f"scale-fn-{index:04d}"


def _context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


def _load(case: str) -> Builder:
    """Import what the case needs (timed as start-up) and return the function that builds it."""
    from aws_cdk import Duration, Environment, Stack

    if case == "ours":
        from examples import cross_account
        from examples.settings import Settings

        def ours(app: Any, count: int) -> None:
            cross_account.build(app, Settings.from_context(app))

        return ours
    if case == "hand":
        import hand_written

        from examples.settings import Settings

        def hand(app: Any, count: int) -> None:
            hand_written.build(app, Settings.from_context(app))

        return hand
    if case == "empty":
        from aws_cdk import CfnWaitConditionHandle

        def empty(app: Any, count: int) -> None:
            # CloudFormation (and cdk.json's default validation rules) want one resource.
            stack = Stack(app, "Empty", env=Environment(account=REGISTRY_ACCOUNT, region=REGION))
            CfnWaitConditionHandle(stack, "Placeholder")

        return empty
    if case == "consumers":
        from ecr_lambda_access import CrossAccountImageRepo

        def consumers(app: Any, count: int) -> None:
            stack = Stack(app, "Registry", env=Environment(account=REGISTRY_ACCOUNT, region=REGION))
            CrossAccountImageRepo(
                stack,
                "Images",
                repository_name="shared/orders",
                consumers=consumer_accounts(count),
            )

        return consumers
    if case == "fleet":
        from ecr_lambda_access import ContainerFunction, CrossAccountImageRepo
        from examples.queues import work_queue
        from examples.settings import EXAMPLE_DIGEST

        def fleet(app: Any, count: int) -> None:
            # One registry and count - 1 workload stacks (three per account, so that the
            # registry's policy, which names every function, stays under ECR's limit).
            registry = Stack(
                app, "Registry", env=Environment(account=REGISTRY_ACCOUNT, region=REGION)
            )
            images = CrossAccountImageRepo(registry, "Images", repository_name="shared/fleet")
            accounts = fleet_accounts(count)
            for index in range(count - 1):
                stack = Stack(
                    app,
                    f"Workload{index:03d}",
                    env=Environment(account=accounts[index // 3], region=REGION),
                )
                timeout = Duration.seconds(30)
                worker = ContainerFunction(
                    stack,
                    "Worker",
                    repository=images,
                    tag_or_digest=EXAMPLE_DIGEST,
                    timeout=timeout,
                    function_name=f"w{index:03d}",
                )
                worker.add_sqs_source(work_queue(stack, "Jobs", function_timeout=timeout))

        return fleet
    if case in ("scale", "scale-hand"):
        return _scale(case == "scale")
    if case == "scale-same":
        return _scale_same()
    raise SystemExit(f"unknown case {case!r}: one of {', '.join(CASES)}")


def _scale(ours: bool) -> Builder:
    """N image functions (no event source) in A workload accounts, pulling from the registry
    account's repositories (one per 100 functions): ours with ``ContainerFunction`` on
    ``CrossAccountImageRepo``; by hand with ``ecr.Repository`` + the documented pair
    (``add_to_resource_policy``), ``DockerImageFunction`` + ``DockerImageCode.from_ecr``, a
    one-month log group and X-Ray, and one stack dependency per workload stack."""
    from aws_cdk import Environment, RemovalPolicy, Stack
    from aws_cdk import aws_ecr as ecr
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_logs as logs

    from ecr_lambda_access import ContainerFunction, CrossAccountImageRepo
    from examples.settings import EXAMPLE_DIGEST

    pull = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]

    def build(app: Any, count: int, accounts: int = 1, *, unit: bool = False) -> None:
        layout = scale_layout(count, accounts)
        registry = Stack(app, "Registry", env=Environment(account=REGISTRY_ACCOUNT, region=REGION))
        repositories: list[Any] = []
        names = [f"shared/scale{r}" for r in range(layout[-1][2] + 1)]
        for r, name in enumerate(names):
            if ours:
                repositories.append(
                    CrossAccountImageRepo(registry, f"Images{r}", repository_name=name)
                )
                continue
            repository = ecr.Repository(
                registry,
                f"Images{r}",
                repository_name=name,
                image_tag_mutability=ecr.TagMutability.IMMUTABLE,
                image_scan_on_push=True,
                removal_policy=RemovalPolicy.RETAIN,
            )
            served = [i for i, (_, _, rr) in enumerate(layout) if rr == r]
            roots = sorted({layout[i][0] for i in served})
            repository.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="CrossAccountPermission",
                    actions=pull,
                    principals=[iam.ArnPrincipal(f"arn:aws:iam::{a}:root") for a in roots],
                )
            )
            repository.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="LambdaECRImageCrossAccountRetrievalPolicy",
                    actions=pull,
                    principals=[iam.ServicePrincipal("lambda.amazonaws.com")],
                    conditions={
                        "StringLike": {
                            "aws:SourceArn": [
                                f"arn:aws:lambda:{REGION}:{layout[i][0]}:function:"
                                f"{scale_function_name(i)}"
                                for i in served
                            ]
                        }
                    },
                )
            )
            repositories.append(repository)
        stacks: dict[tuple[str, int], Any] = {}
        imported: dict[tuple[str, int, int], Any] = {}
        for index, (account, stack_index, r) in enumerate(layout):
            # With ``unit``, the last function's requests are counted alone (its stack and, by
            # hand, its imported repository are made before the count starts).
            key = (account, stack_index)
            stack = _workload_stack(app, stacks, key, None if ours else registry)
            name = scale_function_name(index)
            if ours:
                if unit and index == len(layout) - 1:
                    UNIT["start"] = jsii_total()
                ContainerFunction(
                    stack,
                    f"Fn{index}",
                    repository=repositories[r],
                    tag_or_digest=EXAMPLE_DIGEST,
                    function_name=name,
                )
            else:
                repo = _imported_repository(imported, stack, key, r, names[r])
                if unit and index == len(layout) - 1:
                    UNIT["start"] = jsii_total()
                lambda_.DockerImageFunction(
                    stack,
                    f"Fn{index}",
                    code=lambda_.DockerImageCode.from_ecr(repo, tag_or_digest=EXAMPLE_DIGEST),
                    function_name=name,
                    tracing=lambda_.Tracing.ACTIVE,
                    log_group=logs.LogGroup(
                        stack,
                        f"Fn{index}Logs",
                        retention=logs.RetentionDays.ONE_MONTH,
                        removal_policy=RemovalPolicy.RETAIN,
                    ),
                )
            if unit and index == len(layout) - 1:
                UNIT["requests"] = jsii_total() - UNIT["start"]

    return build  # type: ignore[return-value]


CHECKOV_AES256 = (
    "AES-256 (ECR's default) on purpose: AWS does not document what a cross-account Lambda pull "
    "needs from a KMS key policy (ecr-lambda-access README, KMS)."
)
ACK_XRAY = (
    "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
    "X-Ray's xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level "
    "permissions: AWS requires Resource '*'. This policy holds only those two actions.",
)
ACK_LOG_STREAMS = (
    "logs:CreateLogStream and logs:PutLogEvents on the function's own log group "
    "(/aws/lambda/<function name>): Lambda names the log streams at run time, so the ARN ends "
    "with ':*' (the streams of that one group, nothing else)."
)


def _scale_same() -> Builder:
    """The ``scale`` app's templates written with plain aws-cdk-lib, the way a careful user who
    counts jsii requests would: what ``ContainerFunction`` and ``CrossAccountImageRepo`` write
    (the execution role without the managed policy, the exact logs statement in the role's
    default policy, X-Ray in a policy of its own that the function depends on, the one-month
    log group, the cdk-nag acknowledgements, the repository policy and its checkov skip, one
    stack dependency per workload stack) without the library's checks: no ``ecr:`` validation,
    no Python code object (``DockerImageCode.from_ecr``), the managed policy removed by a
    property override rather than on the L1 (so cdk-nag would still see it), every
    construct ``DockerImageFunction`` makes found with one ``node.find_all()``.

    ``bench/check_same.py`` checks that its templates and acknowledgements equal ``scale``'s.
    """
    from aws_cdk import Acknowledgment, Duration, Environment, RemovalPolicy, Stack, Validations
    from aws_cdk import aws_ecr as ecr
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_logs as logs

    from examples.settings import EXAMPLE_DIGEST

    pull = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]

    def build(app: Any, count: int, accounts: int = 1, *, unit: bool = False) -> None:
        layout = scale_layout(count, accounts)
        registry = Stack(app, "Registry", env=Environment(account=REGISTRY_ACCOUNT, region=REGION))
        names = [f"shared/scale{r}" for r in range(layout[-1][2] + 1)]
        for r, name in enumerate(names):
            repository = ecr.Repository(
                registry,
                f"Images{r}",
                repository_name=name,
                image_tag_mutability=ecr.TagMutability.IMMUTABLE,
                image_scan_on_push=True,
                removal_policy=RemovalPolicy.RETAIN,
            )
            served = [i for i, (_, _, rr) in enumerate(layout) if rr == r]
            roots = [f"arn:aws:iam::{a}:root" for a in sorted({layout[i][0] for i in served})]
            functions = [
                f"arn:aws:lambda:{REGION}:{layout[i][0]}:function:{scale_function_name(i)}"
                for i in served
            ]
            cfn_repository = repository.node.default_child
            cfn_repository.repository_policy_text = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "CrossAccountPermission",
                        "Effect": "Allow",
                        "Principal": {"AWS": roots[0] if len(roots) == 1 else roots},
                        "Action": pull,
                    },
                    {
                        "Sid": "LambdaECRImageCrossAccountRetrievalPolicy",
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": pull,
                        "Condition": {
                            "StringLike": {
                                "aws:SourceArn": functions[0] if len(functions) == 1 else functions
                            }
                        },
                    },
                ],
            }
            cfn_repository.add_metadata(
                "checkov", {"skip": [{"id": "CKV_AWS_136", "comment": CHECKOV_AES256}]}
            )
        stacks: dict[tuple[str, int], Any] = {}
        imported: dict[tuple[str, int, int], Any] = {}
        timeout = Duration.seconds(30)
        xray_ack = Acknowledgment(id=ACK_XRAY[0], reason=ACK_XRAY[1])
        for index, (account, stack_index, r) in enumerate(layout):
            key = (account, stack_index)
            stack = _workload_stack(app, stacks, key, registry)
            repo = _imported_repository(imported, stack, key, r, names[r])
            if unit and index == len(layout) - 1:
                UNIT["start"] = jsii_total()
            name = scale_function_name(index)
            logs_arn = f"arn:aws:logs:{REGION}:{account}:log-group:/aws/lambda/{name}:*"
            function = lambda_.DockerImageFunction(
                stack,
                f"Fn{index}",
                code=lambda_.DockerImageCode.from_ecr(repo, tag_or_digest=EXAMPLE_DIGEST),
                function_name=name,
                timeout=timeout,
                memory_size=512,
                initial_policy=[
                    iam.PolicyStatement(
                        sid="WriteLogs",
                        actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                        resources=[logs_arn],
                    )
                ],
            )
            made: dict[type, Any] = {}
            for construct in function.node.find_all():
                made.setdefault(type(construct), construct)
            cfn_function = made[lambda_.CfnFunction]
            cfn_function.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
            made[iam.CfnRole].add_property_deletion_override("ManagedPolicyArns")
            made[logs.CfnLogGroup].retention_in_days = 30
            Validations.of(made[iam.Policy]).acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{logs_arn}]",
                    reason=ACK_LOG_STREAMS,
                )
            )
            tracing = iam.Policy(
                function,
                "TracingPolicy",
                statements=[
                    iam.PolicyStatement(
                        sid="WriteTraces",
                        actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                        resources=["*"],
                    )
                ],
                roles=[made[iam.Role]],
            )
            Validations.of(tracing).acknowledge(xray_ack)
            cfn_function.node.add_dependency(tracing)
            if unit and index == len(layout) - 1:
                UNIT["requests"] = jsii_total() - UNIT["start"]

    return build  # type: ignore[return-value]


def _workload_stack(
    app: Any, stacks: dict[tuple[str, int], Any], key: tuple[str, int], registry: Any
) -> Any:
    """The workload stack ``key`` (account, index), made on first use; with ``registry``, it
    depends on the registry stack (by hand: the repository policy comes first)."""
    from aws_cdk import Environment, Stack

    stack = stacks.get(key)
    if stack is None:
        account, stack_index = key
        stack = Stack(
            app, f"W{account}S{stack_index}", env=Environment(account=account, region=REGION)
        )
        if registry is not None:
            stack.add_stack_dependency(registry, "the repository policy comes first")
        stacks[key] = stack
    return stack


def _imported_repository(
    imported: dict[tuple[str, int, int], Any], stack: Any, key: tuple[str, int], r: int, name: str
) -> Any:
    """Repository ``r`` of the registry imported once in the workload stack ``key``."""
    from aws_cdk import aws_ecr as ecr

    repo = imported.get((*key, r))
    if repo is None:
        repo = imported[(*key, r)] = ecr.Repository.from_repository_arn(
            stack, f"Images{r}", f"arn:aws:ecr:{REGION}:{REGISTRY_ACCOUNT}:repository/{name}"
        )
    return repo


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in CASES:
        print(__doc__, file=sys.stderr)
        return 2
    case, outdir = argv[0], argv[1]
    count = int(argv[2]) if len(argv) > 2 else 1
    scale = case.startswith("scale")
    accounts = int(argv[3]) if scale and len(argv) > 3 else 1

    import aws_cdk as cdk

    build = _load(case)
    imported = time.perf_counter()
    if scale:
        count_jsii()

    app = cdk.App(context=_context(), outdir=outdir)
    if scale:
        build(app, count, accounts)  # type: ignore[call-arg]
    else:
        build(app, count)
    built = time.perf_counter()
    jsii_built = jsii_total()

    app.synth()
    synthesized = time.perf_counter()
    phases = {
        "import_s": imported - _START,
        "build_s": built - imported,
        "synth_s": synthesized - built,
    }
    if scale:
        phases["jsii_build"] = jsii_built
        phases["jsii_synth"] = jsii_total() - jsii_built
        # One more function in an app of its own, its requests counted alone.
        unit_app = cdk.App(context=_context(), outdir=outdir + "-unit")
        build(unit_app, 2, 1, unit=True)  # type: ignore[call-arg]
        phases["jsii_unit"] = UNIT["requests"]
    print(json.dumps(phases))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
