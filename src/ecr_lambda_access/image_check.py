"""Has every function's image arrived in its repository? Check before deploying the functions.

ECR replicates only images pushed *after* the replication configuration is deployed, and it does
so asynchronously: a function pinned to a digest that has not reached its Region's replica fails
at ``CreateFunction``. Run this between deploying the registry stacks and the function stacks::

    python -m ecr_lambda_access.image_check cdk.out          # prints the AWS CLI calls
    python -m ecr_lambda_access.image_check cdk.out --run    # makes them (needs boto3)

Without ``--run`` it only prints one ``aws ecr describe-images`` command per image (account,
Region, repository, digest or tag), for the pipeline or a person to run; it needs no credentials
and makes no AWS call. With ``--run`` it calls ``DescribeImages`` through boto3 (``pip install
'ecr-lambda-access[live]'``, the live check's extra; credentials that can read each registry,
e.g. ``--profile``), prints each image as ``present`` or ``missing`` and exits 1 when one is
missing. Pushing (or re-pushing) an image after the replication configuration is deployed
replicates it.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from typing import Any

from .audit import AssemblyError, audit_assembly

__all__ = ["Image", "images_of_assembly", "describe_images_command", "main"]


@dataclass(frozen=True, order=True)
class Image:
    """One image a function of the assembly runs."""

    account: str
    region: str
    repository: str
    digest: str | None
    tag: str | None

    @property
    def image_id(self) -> str:
        return f"imageDigest={self.digest}" if self.digest else f"imageTag={self.tag}"


def images_of_assembly(path: str) -> tuple[list[Image], list[str]]:
    """The images of every container-image function of the assembly, and what was skipped.

    Each image is the model's reading of the function's URI (the report's ``image_ref``): a
    URI that is not a private ECR image Lambda accepts, or with a part known only at deploy
    time, is skipped, as is one that names neither a tag nor a digest."""
    report = audit_assembly(path)
    images: set[Image] = set()
    skipped = []
    for function in report.functions:
        image = function.image_ref
        if image is None or not (image.digest or image.tag):
            skipped.append(f"{function.function}: image {function.image!r} cannot be checked")
            continue
        images.add(Image(image.account, image.region, image.repository, image.digest, image.tag))
    # a tag-only and a digest-only image of one repository: None and text do not compare
    return sorted(images, key=lambda i: (*astuple(i)[:3], i.digest or "", i.tag or "")), skipped


def describe_images_command(image: Image, profile: str | None = None) -> str:
    """The AWS CLI call that fails (ImageNotFoundException) until the image is there."""
    command = [
        "aws",
        "ecr",
        "describe-images",
        "--registry-id",
        image.account,
        "--region",
        image.region,
        "--repository-name",
        image.repository,
        "--image-ids",
        image.image_id,
    ]
    if profile:
        command += ["--profile", profile]
    return shlex.join(command)


def _run(images: Sequence[Image], profile: str | None) -> int:
    try:
        import boto3
    except ImportError:
        print(
            "--run needs boto3: pip install 'ecr-lambda-access[live]' "
            "(or run the printed commands)",
            file=sys.stderr,
        )
        return 2
    session = boto3.Session(profile_name=profile)
    missing = 0
    for image in images:
        client = session.client("ecr", region_name=image.region)
        image_id: dict[str, Any] = (
            {"imageDigest": image.digest} if image.digest else {"imageTag": image.tag}
        )
        try:
            client.describe_images(
                registryId=image.account, repositoryName=image.repository, imageIds=[image_id]
            )
            state = "present"
        except client.exceptions.ImageNotFoundException:
            state, missing = "missing", missing + 1
        except client.exceptions.RepositoryNotFoundException:
            state, missing = "missing (no repository)", missing + 1
        print(f"{state}: {image.account}/{image.region} {image.repository} {image.image_id}")
    return 1 if missing else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ecr_lambda_access.image_check",
        description="Check that every function's image is in its repository (replicas!) "
        "before deploying the functions.",
    )
    parser.add_argument("assembly", nargs="?", default="cdk.out")
    parser.add_argument("--run", action="store_true", help="call DescribeImages (boto3)")
    parser.add_argument("--profile", help="AWS profile for --run, or added to the commands")
    args = parser.parse_args(argv)
    try:
        images, skipped = images_of_assembly(args.assembly)
    except AssemblyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in skipped:
        print(f"# skipped: {line}")
    if args.run:
        return _run(images, args.profile)
    for image in images:
        print(describe_images_command(image, args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
