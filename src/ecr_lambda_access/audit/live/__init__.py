"""The live check (``ecr-lambda-access audit PATH --live``): what is deployed, against what the
functions of a cloud assembly need.

The static audit judges what ``cdk synth`` produced. What breaks later comes from what changed
after deploy: a repository policy replaced outside CloudFormation, an image deleted by a lifecycle
rule, a digest that never replicated, a function gone ``Failed`` or ``Inactive``. For every
container-image function of the assembly this package asks AWS, read-only:

* ``ecr:GetRepositoryPolicy``: the repository's **deployed** policy, evaluated for the function
  with :func:`ecr_lambda_access.policy.evaluate_pull`, the evaluator of the static check. A pull the
  synthesized policy allows and the deployed one does not is ``drifted``; a difference that still
  lets the function pull is a warning.
* ``ecr:DescribeImages``: the synthesized tag or digest, and the digest the deployed function was
  resolved to, must be in the repository (``image-missing`` otherwise). For a replica whose source
  is known, ``ecr:DescribeImageReplicationStatus`` on the source says where replication stands.
* ``lambda:GetFunction``: ``State``/``StateReasonCode`` and ``LastUpdateStatus``/
  ``LastUpdateStatusReasonCode``; ``Failed`` or ``Inactive`` for an image reason is
  ``function-failed`` (with AWS's reason code). A deployed ``ImageUri`` other than the
  synthesized one is a warning.
* ``cloudformation:DescribeStackResource``: only for functions without a ``FunctionName``, to
  learn the name CloudFormation generated.

Credentials come per account (:class:`AccountCredentials`): a named profile, a role assumed in
the account (``sts:AssumeRole``), or the default credentials. Each is checked with
``sts:GetCallerIdentity`` (which needs no permission). An account that cannot be reached makes
what depends on it ``unverifiable``, with the reason; nothing here raises for an AWS error.

Calls run on a bounded thread pool, with botocore's ``standard`` retry mode (throttling retried
with backoff); each repository's policy and images, each account's credentials and each client
are fetched once. boto3 is imported only when a check runs (the ``[live]`` extra).
"""

# The modules, in the order a check runs:
#   targets.py      what to check (ImageRef, LiveTarget) from a static report
#   assembly.py     from a cloud assembly: the static audit, its targets, replication rules
#   credentials.py  credentials per account (AccountCredentials; boto3 imported only there)
#   fetch.py        the AWS calls, each answer as plain data (Fetch), and Snapshot: one run's data
#   engine.py       LiveCheck: the pool, the order of the calls, a verdict per function
#   judge.py        pure: a verdict per function from a Snapshot (shared with ImagePullMonitor)
#   verdicts.py     what AWS said (observations) and the helpers of the judgement
#   report.py       the live statuses, LiveFunctionReport, LiveReport, render_text
#   iam_policy.py   the IAM policy the check needs (`ecr-lambda-access live-policy`)

from __future__ import annotations

from .assembly import ReplicationRule, audit_with_targets, replica_source, replication_rules
from .credentials import (
    LIVE_EXTRA,
    AccountAccess,
    AccountCredentials,
    LiveUnavailableError,
    redact,
    require_boto3,
    role_arn_for,
)
from .engine import DEFAULT_TIMEOUT, LiveCheck
from .iam_policy import caller_policy, policy_gaps, required_policy
from .report import (
    DRIFTED,
    FUNCTION_FAILED,
    IMAGE_MISSING,
    IMAGE_REASON_CODES,
    LIVE_FAILING_STATUSES,
    LIVE_RULES,
    LIVE_STATUSES,
    LiveFunctionReport,
    LiveReport,
    render_text,
)
from .targets import ImageRef, LiveTarget, parse_image_uri, targets_from_report
from .verdicts import _pull_verdict as _pull_verdict  # tests/test_live.py

__all__ = [
    "DRIFTED",
    "IMAGE_MISSING",
    "FUNCTION_FAILED",
    "LIVE_RULES",
    "LIVE_STATUSES",
    "LIVE_FAILING_STATUSES",
    "IMAGE_REASON_CODES",
    "LiveUnavailableError",
    "ImageRef",
    "LiveTarget",
    "AccountAccess",
    "AccountCredentials",
    "LiveFunctionReport",
    "LiveReport",
    "LiveCheck",
    "parse_image_uri",
    "policy_gaps",
    "replica_source",
    "replication_rules",
    "ReplicationRule",
    "require_boto3",
    "role_arn_for",
    # not in live.py's __all__, but imported by the CLI, the tests and bench/
    "DEFAULT_TIMEOUT",
    "LIVE_EXTRA",
    "audit_with_targets",
    "caller_policy",
    "redact",
    "render_text",
    "required_policy",
    "targets_from_report",
]
