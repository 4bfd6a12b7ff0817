"""The image URI of a Lambda function, read once: the only image-URI parser of the package.

A private Amazon ECR image URI is ``ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`` followed by
``:TAG``, ``@DIGEST`` or ``:TAG@DIGEST`` (``amazonaws.com.cn`` in the China Regions). ECR's FIPS
endpoints (``ACCOUNT.dkr.ecr-fips.REGION.amazonaws.com``) are parsed too, so that their account,
Region and name can be named, but Lambda refuses them; it also refuses every other registry
(``public.ecr.aws``, Docker Hub, GHCR, ...). Lambda developer guide, "Create a Lambda function
using a container image": only private ECR images, in the function's own Region, and no FIPS
endpoint.

The audit's resolver writes values known only at deploy time as placeholders
(``\u27e6N\u27e7``); an account, Region, URL suffix, name, tag or digest may be one. A URI whose
registry host is such a placeholder is neither parsed nor judged foreign: it is unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..policy.size import partition_of_region

__all__ = ["ImageRef", "UnsupportedImage", "read_image", "LAMBDA_IMAGE_RULE"]

LAMBDA_IMAGE_RULE = (
    "Lambda runs only images from a private Amazon ECR repository, pulled through the standard "
    "endpoint (ACCOUNT.dkr.ecr.REGION.amazonaws.com, not the FIPS endpoint dkr.ecr-fips), in the "
    "function's own Region"
)

_UNKNOWN = "\u27e6[0-9]+\u27e7"
"""A placeholder of the audit's resolver for a value known only at deploy time."""

_PRIVATE_ECR = re.compile(
    rf"(?P<account>[0-9]{{12}}|{_UNKNOWN})"
    rf"\.(?P<endpoint>dkr\.ecr|dkr\.ecr-fips)"
    rf"\.(?P<region>[a-z]{{2}}[a-z0-9-]*|{_UNKNOWN})"
    rf"\.(?P<suffix>amazonaws\.com\.cn|amazonaws\.com|{_UNKNOWN})/"
    rf"(?P<name>[^:@\s]+)"
    rf"(?::(?P<tag>[^:@/\s]+))?"
    rf"(?:@(?P<digest>[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{{32,}}|{_UNKNOWN}))?"
)
_UNKNOWN_ONLY = re.compile(_UNKNOWN)


@dataclass(frozen=True)
class ImageRef:
    """A private ECR image: registry account, Region, repository name, tag and/or digest.

    ``endpoint`` is ``dkr.ecr`` (standard) or ``dkr.ecr-fips``; ``url_suffix`` is
    ``amazonaws.com`` or ``amazonaws.com.cn``.
    """

    uri: str
    account: str
    region: str
    repository: str
    tag: str | None
    digest: str | None
    endpoint: str = "dkr.ecr"
    url_suffix: str = "amazonaws.com"

    @classmethod
    def parse(cls, uri: object) -> ImageRef | None:
        """The parts of a private ECR image URI (standard or FIPS endpoint), or None (not a
        string, not private ECR, or its registry is known only at deploy time)."""
        if not isinstance(uri, str):
            return None
        match = _PRIVATE_ECR.fullmatch(uri)
        if match is None:
            return None
        return cls(
            uri=uri,
            account=match["account"],
            region=match["region"],
            repository=match["name"],
            tag=match["tag"],
            digest=match["digest"],
            endpoint=match["endpoint"],
            url_suffix=match["suffix"],
        )

    @property
    def fips(self) -> bool:
        return self.endpoint == "dkr.ecr-fips"

    @property
    def partition(self) -> str:
        return partition_of_region(self.region)

    @property
    def repository_arn(self) -> str:
        return f"arn:{self.partition}:ecr:{self.region}:{self.account}:repository/{self.repository}"

    @property
    def reference(self) -> str:
        """The digest when there is one (what Lambda runs), else the tag (``latest`` if none)."""
        return self.digest or self.tag or "latest"

    @property
    def tag_or_digest(self) -> str | None:
        """The digest when there is one, else the tag; None when the URI names neither."""
        return self.digest or self.tag

    @property
    def unsupported(self) -> UnsupportedImage | None:
        """Why Lambda refuses this URI (a FIPS endpoint), or None."""
        if not self.fips:
            return None
        standard = self.uri.replace(".dkr.ecr-fips.", ".dkr.ecr.", 1)
        return UnsupportedImage(
            uri=self.uri,
            registry=f"the ECR FIPS endpoint {self.account}.dkr.ecr-fips.{self.region}",
            fix=f"use the standard endpoint: {standard}",
        )


@dataclass(frozen=True)
class UnsupportedImage:
    """An image URI Lambda refuses: what registry it names and what to do instead."""

    uri: str
    registry: str
    fix: str

    @property
    def detail(self) -> str:
        return f"the image {self.uri} is in {self.registry}: {LAMBDA_IMAGE_RULE}. Fix: {self.fix}"


_COPY = (
    "copy the image into a private ECR repository of the function's Region (docker pull, tag, "
    "push; or an ECR pull-through cache rule, then refer to the private repository's URI)"
)


def _foreign(uri: str) -> UnsupportedImage | None:
    """The registry a URI that is not private ECR names, or None when it cannot be told."""
    if not uri or any(c.isspace() for c in uri) or _UNKNOWN_ONLY.search(uri.split("/", 1)[0]):
        return None
    first, _, rest = uri.partition("/")
    is_host = bool(rest) and ("." in first or ":" in first or first == "localhost")
    if not is_host:
        return UnsupportedImage(uri, "Docker Hub", _COPY)
    host = first.lower()
    if host == "public.ecr.aws":
        return UnsupportedImage(uri, "Amazon ECR Public (public.ecr.aws)", _COPY)
    if host in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        return UnsupportedImage(uri, "Docker Hub", _COPY)
    if host == "ghcr.io":
        return UnsupportedImage(uri, "GitHub Container Registry (ghcr.io)", _COPY)
    if ".dkr.ecr" in host and host.endswith((".amazonaws.com", ".amazonaws.com.cn")):
        return UnsupportedImage(
            uri,
            f"a registry host that is not a valid private ECR URI ({host})",
            "write the URI as ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME:TAG (or @sha256:...)",
        )
    return UnsupportedImage(uri, f"the registry {host}, not private Amazon ECR", _COPY)


def read_image(uri: object) -> ImageRef | UnsupportedImage | None:
    """One reading of a function's image URI, shared by every consumer.

    An :class:`ImageRef` for a private ECR image Lambda accepts; an :class:`UnsupportedImage` for
    one it refuses (FIPS endpoint, another registry); None when the URI is not a string or its
    registry is known only at deploy time.
    """
    image = ImageRef.parse(uri)
    if image is not None:
        return image.unsupported or image
    return _foreign(uri) if isinstance(uri, str) else None
