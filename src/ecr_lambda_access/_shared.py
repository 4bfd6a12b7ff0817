"""What the construct modules share, below all of them, so that none imports another upward.

``function.py`` imports ``sources.py`` and ``sqs.py``; ``sources.py`` imports ``repository.py``;
``repository.py`` imports ``replication.py``. None of them imports back (not even for type
checking, not inside a function): what a lower module must know of a higher one is here.

* :func:`literal_name`: a repository's literal physical name (``sources.py`` resolves repositories
  with it, ``repository.py``'s pull policy names them with it).
* :class:`ImagePullingFunction`: what ``sources.register`` reads of the function that registers
  itself on its repository (``ContainerFunction`` is one), as a protocol.
* :func:`registers_itself`: whether a Lambda function is such a function, by its class's marker
  (``repository.py`` warns only about the *other* functions that run its images).
"""

from __future__ import annotations

from typing import Any, Protocol

from aws_cdk import Token
from aws_cdk import aws_ecr as ecr
from constructs import IConstruct

from .policy import LambdaConsumer

__all__ = ["REGISTERS_ITSELF", "ImagePullingFunction", "literal_name", "registers_itself"]


def literal_name(repository: ecr.IRepository) -> str | None:
    """The repository's physical name when the app states it literally, else None."""
    cfn = repository.node.default_child
    if isinstance(cfn, ecr.CfnRepository):
        name = cfn.repository_name
        if isinstance(name, str) and not Token.is_unresolved(name):
            return name
    return None


class ImagePullingFunction(IConstruct, Protocol):
    """A function that registers itself on the construct that writes its repository's policy."""

    @property
    def literal_function_name(self) -> str | None:
        """Its name as a plain string, None when CloudFormation names it."""
        ...

    def required_repository_policy(self) -> dict[str, Any]:
        """The repository policy its repository's owner must have, when nothing here writes it."""
        ...

    def _consumer(self) -> LambdaConsumer:
        """The consumer it registers (its account, and its name when literal)."""
        ...


REGISTERS_ITSELF = "_registers_on_its_repository"
"""The class attribute (True) that marks a function class as registering itself."""


def registers_itself(construct: object) -> bool:
    """True when ``construct``'s class is marked as registering itself on its repository."""
    return getattr(type(construct), REGISTERS_ITSELF, False) is True
