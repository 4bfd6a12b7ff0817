"""What every check module declares: its rule (id, kind, severity, texts, help link)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "RepositoryFacts",
    "Rule",
    "DOCS_URI",
    "docs_uri",
    "HELP_URI",
    "help_uri",
    "ERROR",
    "WARNING",
    "NOTE",
]

ERROR = "error"
WARNING = "warning"
NOTE = "note"

DOCS_URI = "https://github.com/ecr-lambda-access/ecr-lambda-access/blob/main/docs/"
"""Where the guides (the repository's ``docs/*.md``) are published."""


def docs_uri(page: str, anchor: str = "") -> str:
    """The link to a guide of ``docs/`` (``audit.md``), at a heading's or ``<a id>``'s anchor."""
    return f"{DOCS_URI}{page}" + (f"#{anchor}" if anchor else "")


HELP_URI = docs_uri("audit.md", "the-pipeline-check")
"""Where every status and finding is documented. The one place to change: every rule's help link
(SARIF ``helpUri``, JUnit, the plugin) comes from :func:`help_uri`."""


def help_uri(rule_id: str) -> str:
    """The help link of a status or finding (today one section documents every id)."""
    del rule_id
    return HELP_URI


@dataclass(frozen=True)
class Rule:
    """One status or finding kind: its id, what it means (``text``) and what to do (``help``)."""

    id: str
    kind: str
    """``status`` (a verdict on one function) or ``finding`` (a repository or a role)."""
    text: str
    help: str
    severity: str
    """For a status: ``error`` when it fails the check, ``warning`` when only ``--strict`` fails
    on it, ``note`` for ``ok``. For a finding: its severity. Written here only: the failing
    status sets, SARIF levels and JUnit failures are derived from it."""
    help_uri: str = ""

    def __post_init__(self) -> None:
        if not self.help_uri:
            object.__setattr__(self, "help_uri", help_uri(self.id))


@dataclass(frozen=True)
class RepositoryFacts:
    """What the repository checks look at: one repository of the model, its policy measured."""

    path: str
    size: int
    """The estimated length of its policy (0 without one)."""
    limit: int
    problems: tuple[str, ...]
    """Why ECR rejects the policy (empty when valid or absent)."""
    unconditioned: tuple[str, ...]
    """Statements allowing a service principal with no source condition."""
    admits_every_account: Callable[[], bool]
    """True when a stranger's account surely gets a pull action (computed on demand)."""
