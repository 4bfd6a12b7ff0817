"""The policy arithmetic, in pure Python: plain data in, statement dicts or answers out.

Nothing here imports jsii or aws-cdk-lib, so it is tested on its own and shared by the constructs
(which call it at synth time) and the audit (which reads policies from templates).

* :mod:`.build`: writing the repository policy AWS documents for Lambda functions that run images
  from a private ECR repository (:func:`repository_policy_statements`, :func:`repository_policy`);
* :mod:`.evaluate`: reading any policy the way IAM does (:func:`evaluate_pull`);
* :mod:`.size`: ECR's 10,240-character limit on the policy text.

Every name below is importable from ``ecr_lambda_access.policy`` (tools outside the repository
use ``evaluate_pull``, ``Access``, ``PullAccess``, ``Grant``, ``repository_policy_statements``,
``LambdaConsumer``, ``as_consumer``, ``root_arn``, ``ECR_PULL_ACTIONS``).
"""

from __future__ import annotations

from .build import (
    ECR_PULL_ACTIONS,
    LAMBDA_SERVICE_PRINCIPAL,
    OUR_SIDS,
    POLICY_VERSION,
    SID_ORG_ROOT,
    SID_ORG_SERVICE,
    SID_ROOT,
    SID_SERVICE,
    LambdaConsumer,
    as_consumer,
    check_consumer,
    consumer_patterns,
    function_arn_pattern,
    replica_consumers,
    repository_policy,
    repository_policy_statements,
    root_arn,
)
from .evaluate import (
    Access,
    Grant,
    PullAccess,
    evaluate_pull,
    evaluate_request,
    glob_match,
    policy_problems,
    unconditioned_service_statements,
)
from .size import (
    ECR_POLICY_MAX_CHARS,
    check_policy_size,
    partition_of_region,
    policy_length,
    policy_length_bound,
    policy_text,
)

__all__ = [
    "ECR_PULL_ACTIONS",
    "LAMBDA_SERVICE_PRINCIPAL",
    "ECR_POLICY_MAX_CHARS",
    "POLICY_VERSION",
    "SID_ROOT",
    "SID_SERVICE",
    "SID_ORG_ROOT",
    "SID_ORG_SERVICE",
    "OUR_SIDS",
    "LambdaConsumer",
    "as_consumer",
    "check_consumer",
    "consumer_patterns",
    "repository_policy",
    "repository_policy_statements",
    "policy_text",
    "policy_length",
    "policy_length_bound",
    "partition_of_region",
    "check_policy_size",
    "root_arn",
    "function_arn_pattern",
    "Access",
    "Grant",
    "PullAccess",
    "evaluate_pull",
    "evaluate_request",
    "policy_problems",
    "glob_match",
    "unconditioned_service_statements",
]
__all__ += ["replica_consumers"]
