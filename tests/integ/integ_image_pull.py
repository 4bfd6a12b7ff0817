"""Integration test: a function runs an image from a CrossAccountImageRepo (one account).

Deploys (only with ``integ-runner --update-on-failed`` and AWS credentials) a registry stack
with a ``CrossAccountImageRepo``, pushes ``image/`` into it, deploys a ``ContainerFunction`` that
runs the image, invokes it and expects its answer. The stacks are environment-agnostic: a real
run deploys them to the account and Region of the credentials. ``make integ`` only synthesizes
this app and compares it with the committed ``integ_image_pull.py.snapshot/`` (offline).
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import integ_tests_alpha as integ
from image_support import ANSWER, image_stack, registry

from ecr_lambda_access import ContainerFunction

REPOSITORY_NAME = "ecr-lambda-access-integ/image-pull"
FUNCTION_NAME = "ecr-lambda-access-integ-image-pull"

app = cdk.App()
registry_stack, images = registry(app, "ImagePullRegistry", repository_name=REPOSITORY_NAME)
pushed, tag = image_stack(
    app, "ImagePullImage", registry_stack=registry_stack, repository_name=REPOSITORY_NAME
)
workload = cdk.Stack(app, "ImagePullWorkload")
workload.add_stack_dependency(pushed, "the function runs the image that stack pushes")
worker = ContainerFunction(
    workload, "Worker", repository=images, tag_or_digest=tag, function_name=FUNCTION_NAME
)

test = integ.IntegTest(
    app,
    "ImagePull",
    test_cases=[registry_stack, pushed, workload],
    diff_assets=False,
)
test.assertions.invoke_function(function_name=worker.function.function_name).expect(
    integ.ExpectedResult.object_like({"StatusCode": 200, "Payload": json.dumps(ANSWER)})
)

app.synth()
