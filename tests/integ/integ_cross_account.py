"""Integration test: a function in one account runs an image from a repository in another.

Two accounts (and one Region) from environment variables, with offline placeholders so that
``make integ`` synthesizes the same app every time:

* ``ECR_LAMBDA_ACCESS_INTEG_REGISTRY_ACCOUNT`` (default 111111111111): the repository's account;
* ``ECR_LAMBDA_ACCESS_INTEG_WORKLOAD_ACCOUNT`` (default 222222222222): the function's account;
* ``ECR_LAMBDA_ACCESS_INTEG_REGION`` (default us-east-1).

A real run (``integ-runner --update-on-failed`` with credentials) needs both accounts bootstrapped,
the workload account trusting the one that deploys (``cdk bootstrap --trust``). The function's
account pulls through the documented pair of statements the ``CrossAccountImageRepo`` writes.
"""

from __future__ import annotations

import json
import os

import aws_cdk as cdk
from aws_cdk import integ_tests_alpha as integ
from image_support import ANSWER, image_stack, registry

from ecr_lambda_access import ContainerFunction

REGISTRY_ACCOUNT = os.environ.get("ECR_LAMBDA_ACCESS_INTEG_REGISTRY_ACCOUNT", "111111111111")
WORKLOAD_ACCOUNT = os.environ.get("ECR_LAMBDA_ACCESS_INTEG_WORKLOAD_ACCOUNT", "222222222222")
REGION = os.environ.get("ECR_LAMBDA_ACCESS_INTEG_REGION", "us-east-1")
REPOSITORY_NAME = "ecr-lambda-access-integ/cross-account"
FUNCTION_NAME = "ecr-lambda-access-integ-cross-account"

app = cdk.App()
registry_env = cdk.Environment(account=REGISTRY_ACCOUNT, region=REGION)
workload_env = cdk.Environment(account=WORKLOAD_ACCOUNT, region=REGION)
registry_stack, images = registry(
    app, "CrossAccountRegistry", repository_name=REPOSITORY_NAME, env=registry_env
)
pushed, tag = image_stack(
    app,
    "CrossAccountImage",
    registry_stack=registry_stack,
    repository_name=REPOSITORY_NAME,
    env=registry_env,
)
workload = cdk.Stack(app, "CrossAccountWorkload", env=workload_env)
workload.add_stack_dependency(pushed, "the function runs the image that stack pushes")
worker = ContainerFunction(
    workload, "Worker", repository=images, tag_or_digest=tag, function_name=FUNCTION_NAME
)

test = integ.IntegTest(
    app,
    "CrossAccount",
    test_cases=[registry_stack, pushed, workload],
    diff_assets=False,
    # the assertions (a Lambda invoke) run in the function's account
    assertion_stack=cdk.Stack(app, "CrossAccountAssertions", env=workload_env),
)
test.assertions.invoke_function(function_name=FUNCTION_NAME).expect(
    integ.ExpectedResult.object_like({"StatusCode": 200, "Payload": json.dumps(ANSWER)})
)

app.synth()
