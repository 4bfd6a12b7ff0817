"""Replication arithmetic, in pure Python: which rules, which registry policies, which consumers.

Nothing here imports jsii or aws-cdk-lib: the constructs of :mod:`ecr_lambda_access.replication`
call it at synth time, and the audit calls its reading half on synthesized templates.

Writing:

* :func:`replication_rules` packs every replicated repository of one source registry (account and
  Region) into the rules of its ``AWS::ECR::ReplicationConfiguration``: repositories that go to the
  same destinations share a rule, one ``PREFIX_MATCH`` filter per repository name. ECR's limits are
  checked here: 10 rules per configuration, 100 filters per rule, 25 destinations per rule (the
  ECR API reference's figure; newer CloudFormation pages say 100, we keep the smaller) and 25 unique
  cross-account destinations.
* :func:`registry_policy` is the ``AWS::ECR::RegistryPolicy`` of one destination registry: per
  source account, ``ecr:ReplicateImage`` for that account's root on exactly the replicated
  repositories (ECR creates no repository: CloudFormation creates each replica beforehand, so
  ``ecr:CreateRepository`` is not granted).
* :func:`replica_consumers` (from :mod:`ecr_lambda_access.policy.build`) says whom a replica
  admits.

Reading: :func:`rules_replicating` and :func:`registry_policy_allows` answer the audit's two
questions (does a rule bring this repository to this destination? may the source replicate into
this registry?); :mod:`ecr_lambda_access.audit.replicas` turns the answers into verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..errors import ReplicationLimitError, Violation, raise_if_violations
from ..policy import POLICY_VERSION, glob_match, replica_consumers, root_arn
from ..validation import is_unresolved

__all__ = [
    "MAX_RULES",
    "MAX_FILTERS_PER_RULE",
    "MAX_DESTINATIONS_PER_RULE",
    "MAX_CROSS_ACCOUNT_DESTINATIONS",
    "REPLICATE_ACTION",
    "SID_REPLICATION",
    "Destination",
    "ReplicationRule",
    "replication_rules",
    "check_replication_limits",
    "replication_configuration",
    "over_matches",
    "registry_policy",
    "registry_policy_statements",
    "replica_consumers",
    "Replication",
    "rules_replicating",
    "rules_covering",
    "registry_policy_allows",
    "parse_replication_configuration",
]

MAX_RULES = 10
"""Rules per replication configuration (ECR API ``ReplicationConfiguration.rules``)."""
MAX_FILTERS_PER_RULE = 100
"""Repository filters per rule (ECR service quotas: not adjustable)."""
MAX_DESTINATIONS_PER_RULE = 25
"""Destinations per rule: the ECR API reference's figure (newer CloudFormation pages say 100)."""
MAX_CROSS_ACCOUNT_DESTINATIONS = 25
"""Unique cross-account destinations across all rules (ECR user guide, image replication)."""

REPLICATE_ACTION = "ecr:ReplicateImage"
SID_REPLICATION = "ReplicationFrom"
FILTER_TYPE = "PREFIX_MATCH"


@dataclass(frozen=True, order=True)
class Destination:
    """A registry images are replicated to: an account (registry id) and a Region."""

    account: str
    region: str

    def __str__(self) -> str:
        return f"{self.account}/{self.region}"


@dataclass(frozen=True)
class ReplicationRule:
    """One rule: these destinations get every repository whose name starts with a prefix."""

    destinations: tuple[Destination, ...]
    prefixes: tuple[str, ...]

    def to_cfn(self) -> dict[str, Any]:
        """The rule as ``AWS::ECR::ReplicationConfiguration`` writes it."""
        rule: dict[str, Any] = {
            "Destinations": [
                {"Region": d.region, "RegistryId": d.account} for d in self.destinations
            ]
        }
        if self.prefixes:
            rule["RepositoryFilters"] = [
                {"Filter": prefix, "FilterType": FILTER_TYPE} for prefix in self.prefixes
            ]
        return rule


def _chunks(items: Sequence[Any], size: int) -> list[tuple[Any, ...]]:
    return [tuple(items[i : i + size]) for i in range(0, len(items), size)] or [()]


def _pack(groups: Mapping[tuple[Destination, ...], list[str]]) -> list[ReplicationRule]:
    rules = []
    for destinations, names in sorted(groups.items(), key=lambda item: (item[1], item[0])):
        for prefixes in _chunks(sorted(names), MAX_FILTERS_PER_RULE):
            for chunk in _chunks(destinations, MAX_DESTINATIONS_PER_RULE):
                rules.append(ReplicationRule(destinations=chunk, prefixes=prefixes))
    return rules


def replication_rules(
    repositories: Mapping[str, Iterable[Destination]],
    *,
    source_account: str,
    extra_rules: Sequence[ReplicationRule] = (),
    argument: str = "replication",
) -> list[ReplicationRule]:
    """The rules replicating each repository (name -> destinations) and nothing else we chose.

    Repositories with the same set of destinations share one rule, or, when that takes fewer
    rules, each destination gets one rule listing its repositories; a rule with more than 100
    repositories or 25 destinations is split. ``extra_rules`` (rules the
    registry already has and the user wants kept) come first, unchanged. The result is
    deterministic (sorted), whatever the order repositories were added in.

    Raises :class:`~ecr_lambda_access.ReplicationLimitError` (every limit at once) when the rules
    do not fit ECR's limits.
    """
    # Two exact packings: repositories with the same destinations share a rule, or each
    # destination gets one rule listing its repositories. The one with fewer rules is kept.
    by_set: dict[tuple[Destination, ...], list[str]] = {}
    by_destination: dict[tuple[Destination, ...], list[str]] = {}
    for name, destinations in sorted(repositories.items()):
        key = tuple(sorted(set(destinations)))
        if key:
            by_set.setdefault(key, []).append(name)
        for destination in key:
            by_destination.setdefault((destination,), []).append(name)
    packings = [_pack(by_set), _pack(by_destination)]
    rules = [*extra_rules, *min(packings, key=len)]
    raise_if_violations(
        check_replication_limits(rules, source_account=source_account, argument=argument)
    )
    return rules


def check_replication_limits(
    rules: Sequence[ReplicationRule], *, source_account: str, argument: str = "replication"
) -> list[Violation]:
    """Every ECR limit the rules break, each naming the count, the limit and the fix."""
    found: list[Violation] = []
    if len(rules) > MAX_RULES:
        found.append(
            (
                ReplicationLimitError,
                f"{argument}: the registry of account {source_account} would need {len(rules)} "
                f"replication rules, over ECR's limit of {MAX_RULES} per registry: give "
                "repositories that replicate to the same destinations the same replicas (they "
                "then share one rule), or replicate fewer distinct sets of Regions and accounts",
            )
        )
    for index, rule in enumerate(rules):
        if len(rule.prefixes) > MAX_FILTERS_PER_RULE:
            found.append(
                (
                    ReplicationLimitError,
                    f"{argument}: rule {index} has {len(rule.prefixes)} repository filters, over "
                    f"ECR's limit of {MAX_FILTERS_PER_RULE}: split its repositories over several "
                    "rules",
                )
            )
        if len(rule.destinations) > MAX_DESTINATIONS_PER_RULE:
            found.append(
                (
                    ReplicationLimitError,
                    f"{argument}: rule {index} has {len(rule.destinations)} destinations, over "
                    f"ECR's limit of {MAX_DESTINATIONS_PER_RULE}: split them over several rules",
                )
            )
        if not rule.destinations:
            found.append(
                (
                    ReplicationLimitError,
                    f"{argument}: rule {index} has no destination: give it at least one "
                    "Destination(account, region)",
                )
            )
    cross = sorted({d for rule in rules for d in rule.destinations if d.account != source_account})
    if len(cross) > MAX_CROSS_ACCOUNT_DESTINATIONS:
        found.append(
            (
                ReplicationLimitError,
                f"{argument}: the registry of account {source_account} would replicate to "
                f"{len(cross)} cross-account destinations ({', '.join(map(str, cross))}), over "
                f"ECR's limit of {MAX_CROSS_ACCOUNT_DESTINATIONS}: serve the remaining accounts "
                "from a replica in the source account (one replica per Region can list up to "
                "about 114 consumer accounts), or from a second source registry",
            )
        )
    return found


def replication_configuration(rules: Sequence[ReplicationRule]) -> dict[str, Any]:
    """``ReplicationConfiguration`` of ``AWS::ECR::ReplicationConfiguration``."""
    return {"Rules": [rule.to_cfn() for rule in rules]}


def over_matches(
    rules: Sequence[ReplicationRule], names: Iterable[str]
) -> list[tuple[str, str, tuple[Destination, ...]]]:
    """Repositories a rule's PREFIX_MATCH filter also replicates, though not listed in it.

    ``shared/orders`` also matches ``shared/orders-legacy``: returns (filter, name, the rule's
    destinations the name is not otherwise sent to) for every such name in ``names``.
    """
    names = sorted(set(names))
    wanted: dict[str, set[Destination]] = {}
    for rule in rules:
        for prefix in rule.prefixes:
            wanted.setdefault(prefix, set()).update(rule.destinations)
    found = []
    for rule in rules:
        for prefix in rule.prefixes:
            for name in names:
                if name == prefix or not name.startswith(prefix):
                    continue
                extra = tuple(sorted(set(rule.destinations) - wanted.get(name, set())))
                if extra:
                    found.append((prefix, name, extra))
    return found


def registry_policy_statements(
    sources: Mapping[str, Iterable[str]], *, account: str, region: str, partition: str = "aws"
) -> list[dict[str, Any]]:
    """One statement per source account: its root may ``ecr:ReplicateImage`` into these names.

    ``sources`` maps each source account to the repository names it replicates into this
    registry (``account`` in ``region``). Resources are the exact repository ARNs, not
    ``repository/*``: the registry admits the replicated repositories only.
    """
    statements = []
    for source in sorted(sources):
        names = sorted(set(sources[source]))
        if not names:
            continue
        resources = [f"arn:{partition}:ecr:{region}:{account}:repository/{name}" for name in names]
        statements.append(
            {
                "Sid": f"{SID_REPLICATION}{source}"
                if not is_unresolved(source)
                else SID_REPLICATION,
                "Effect": "Allow",
                "Principal": {"AWS": root_arn(source, partition)},
                "Action": REPLICATE_ACTION,
                "Resource": resources[0] if len(resources) == 1 else resources,
            }
        )
    return statements


def registry_policy(
    sources: Mapping[str, Iterable[str]],
    *,
    account: str,
    region: str,
    partition: str = "aws",
    extra_statements: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any] | None:
    """The whole registry policy document (``extra_statements`` after ours), or None if empty."""
    statements = [
        *[dict(s) for s in extra_statements],
        *registry_policy_statements(sources, account=account, region=region, partition=partition),
    ]
    if not statements:
        return None
    return {"Version": POLICY_VERSION, "Statement": statements}


# --------------------------------------------------------------------------------------------
# Reading (the audit)
# --------------------------------------------------------------------------------------------


class Replication(Enum):
    """The answer of the two reading functions."""

    YES = "yes"
    NO = "no"
    DENIED = "denied"
    UNKNOWN = "unknown"


def parse_replication_configuration(value: Any) -> list[ReplicationRule] | None:
    """The rules of a resolved ``ReplicationConfiguration`` property, or None when unreadable."""
    if not isinstance(value, Mapping):
        return None
    rules = value.get("Rules")
    if not isinstance(rules, list):
        return None
    parsed = []
    for rule in rules:
        if not isinstance(rule, Mapping):
            return None
        destinations = []
        for destination in rule.get("Destinations") or []:
            if not isinstance(destination, Mapping):
                return None
            account, region = destination.get("RegistryId"), destination.get("Region")
            if not isinstance(account, str) or not isinstance(region, str):
                return None
            destinations.append(Destination(account, region))
        prefixes = []
        for repository_filter in rule.get("RepositoryFilters") or []:
            if not isinstance(repository_filter, Mapping):
                return None
            prefix = repository_filter.get("Filter")
            kind = repository_filter.get("FilterType", FILTER_TYPE)
            if not isinstance(prefix, str) or kind != FILTER_TYPE:
                return None
            prefixes.append(prefix)
        parsed.append(ReplicationRule(tuple(destinations), tuple(prefixes)))
    return parsed


def rules_replicating(
    rules: Sequence[ReplicationRule], name: str, destination: Destination
) -> Replication:
    """Does a rule send repository ``name`` to ``destination``? (No filter: every repository.)

    UNKNOWN when a value that decides it is an unresolved marker (``is_unresolved``).
    """
    unknown = False
    for rule in rules:
        covers = not rule.prefixes or any(name.startswith(p) for p in rule.prefixes)
        if not covers:
            continue
        for candidate in rule.destinations:
            if candidate == destination:
                return Replication.YES
            if is_unresolved(candidate.account) or is_unresolved(candidate.region):
                unknown = True
    return Replication.UNKNOWN if unknown else Replication.NO


def rules_covering(rules: Sequence[ReplicationRule], name: str) -> list[ReplicationRule]:
    """The rules whose filters match repository ``name`` (a ``PREFIX_MATCH`` filter is a plain
    string prefix: ``shared/orders`` matches ``shared/orders-legacy``; no filter: every name),
    whatever their destinations."""
    return [r for r in rules if not r.prefixes or any(name.startswith(p) for p in r.prefixes)]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def registry_policy_allows(
    document: Mapping[str, Any] | None,
    *,
    source_account: str,
    repository_arn: str,
    partition: str = "aws",
) -> Replication:
    """May ``source_account``'s root ``ecr:ReplicateImage`` into ``repository_arn``?

    IAM's logic, for the shapes a registry policy takes: an explicit Deny wins (DENIED), an Allow
    whose principal, action and resource match grants (YES); a statement this function cannot
    decide (a condition, NotPrincipal/NotAction/NotResource, an unresolved value) makes the
    answer UNKNOWN unless another statement grants outright.
    """
    statements = [s for s in _as_list((document or {}).get("Statement")) if isinstance(s, Mapping)]
    principals = {source_account, root_arn(source_account, partition), "*"}
    allowed = maybe_allowed = maybe_denied = False
    for statement in statements:
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            continue
        deny = effect == "Deny"
        if any(k in statement for k in ("NotPrincipal", "NotAction", "NotResource")):
            maybe_denied = maybe_denied or deny
            maybe_allowed = maybe_allowed or not deny
            continue
        principal = statement.get("Principal")
        values = (
            ["*"]
            if principal == "*"
            else _as_list(principal.get("AWS"))
            if isinstance(principal, Mapping)
            else []
        )
        undecided = False
        if not any(str(v) in principals for v in values):
            if not any(is_unresolved(v) for v in values):
                continue
            undecided = True
        if not any(
            glob_match(str(a), REPLICATE_ACTION, ignore_case=True)
            for a in _as_list(statement.get("Action"))
        ):
            continue
        resources = [str(r) for r in _as_list(statement.get("Resource"))]
        if not any(glob_match(r, repository_arn) for r in resources):
            if not any(is_unresolved(r) for r in resources):
                continue
            undecided = True
        if statement.get("Condition"):
            undecided = True
        if undecided:
            maybe_denied = maybe_denied or deny
            maybe_allowed = maybe_allowed or not deny
        elif deny:
            return Replication.DENIED
        else:
            allowed = True
    if allowed and not maybe_denied:
        return Replication.YES
    if allowed or maybe_allowed:
        return Replication.UNKNOWN
    return Replication.NO
