"""What the stages of one function's verdict learn, in order (image, then repository)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..checks.context import AuditContext
from ..model import Environment, ImageReading, ModelFunction, ModelImage, ModelRepository
from ..results import FunctionReport
from ..values import Unknown, Value

if TYPE_CHECKING:
    from ..load import StackTemplate

__all__ = ["Draft", "Stage"]


class Draft:
    """One way a function's values go (its image URI, its name), and what the stages found."""

    def __init__(
        self,
        audit: AuditContext,
        function: ModelFunction,
        uri: Any,
        raw_name: Any,
        reading: ImageReading,
    ) -> None:
        self.audit = audit
        self.function = function
        self.uri = uri
        self.reading = reading
        """The image as the model read it: private ECR, one Lambda refuses, or None."""
        if isinstance(raw_name, (int, float)) and not isinstance(raw_name, bool):
            raw_name = str(raw_name)  # CloudFormation reads a number as its text
        self.name: Value | None = raw_name if isinstance(raw_name, (str, Unknown)) else None
        self.index = function.index
        self.env: Environment = audit.model.environment(function.index)
        stack = self.stack
        self.base: dict[str, Any] = {
            "function": function.path,
            "stack": stack.display_name,
            "account": stack.account,
            "region": stack.region,
            "logical_id": function.logical_id,
            "template_path": stack.template_path,
            "function_name": self.name if isinstance(self.name, str) else None,
        }
        self.image: ModelImage | None = None
        self.repository: ModelRepository | None = None
        self.bootstrap = False
        self.evaluated: tuple[str, str] | None = None
        """The policy's verdict, when it admits the function (the replication stage goes on)."""

    @property
    def stack(self) -> StackTemplate:
        return self.audit.model.stacks[self.index]

    @property
    def ref(self) -> ModelImage:
        assert self.image is not None, "the image stage runs first"
        return self.image

    @property
    def repo(self) -> ModelRepository:
        assert self.repository is not None, "the locate stage runs first"
        return self.repository

    def report(self, status: str, detail: str, **extra: Any) -> FunctionReport:
        uri = self.uri
        fields: dict[str, Any] = {
            "image": str(uri) if isinstance(uri, (str, Unknown)) else None,
            "image_ref": self.image.ref if self.image is not None else None,
            "repository": None,
        }
        fields.update(extra)
        return FunctionReport(status=status, detail=detail, **self.base, **fields)


Stage = Callable[[AuditContext, Draft], "FunctionReport | None"]
"""A stage of a function's verdict: a report when it decides, None to go on."""
