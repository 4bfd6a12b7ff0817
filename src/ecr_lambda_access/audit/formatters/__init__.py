"""Output formats of the audit, one module each behind :class:`~.base.Formatter`."""

from __future__ import annotations

from .base import Formatter
from .json import JsonFormatter
from .junit import JunitFormatter
from .markdown import MarkdownFormatter, render_markdown
from .sarif import SarifFormatter
from .text import TextFormatter, render_text

FORMATTERS: dict[str, type[Formatter]] = {
    TextFormatter.name: TextFormatter,
    JsonFormatter.name: JsonFormatter,
    SarifFormatter.name: SarifFormatter,
    JunitFormatter.name: JunitFormatter,
    MarkdownFormatter.name: MarkdownFormatter,
}
"""``--format`` value -> formatter class."""

__all__ = [
    "FORMATTERS",
    "Formatter",
    "JsonFormatter",
    "JunitFormatter",
    "MarkdownFormatter",
    "SarifFormatter",
    "TextFormatter",
    "render_markdown",
    "render_text",
]
