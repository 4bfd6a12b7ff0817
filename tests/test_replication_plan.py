"""Pure replication arithmetic (no jsii): rules within ECR's limits, registry policies, replicas."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecr_lambda_access import ReplicationLimitError
from ecr_lambda_access.policy import (
    ECR_POLICY_MAX_CHARS,
    LambdaConsumer,
    check_policy_size,
    evaluate_pull,
    policy_length,
    repository_policy,
    unconditioned_service_statements,
)
from ecr_lambda_access.replication_plan import (
    MAX_CROSS_ACCOUNT_DESTINATIONS,
    MAX_DESTINATIONS_PER_RULE,
    MAX_FILTERS_PER_RULE,
    MAX_RULES,
    Destination,
    Replication,
    ReplicationRule,
    check_replication_limits,
    over_matches,
    parse_replication_configuration,
    registry_policy,
    registry_policy_allows,
    replica_consumers,
    replication_configuration,
    replication_rules,
    rules_replicating,
)

SOURCE = "111111111111"
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1"]

accounts = st.from_regex(r"[0-9]{12}", fullmatch=True)
regions = st.sampled_from(REGIONS)
destinations = st.builds(Destination, st.one_of(st.just(SOURCE), accounts), regions)
names = st.from_regex(r"[a-z]{1,6}(/[a-z]{1,6})?", fullmatch=True)


def test_repositories_with_the_same_destinations_share_a_rule() -> None:
    eu, b = Destination(SOURCE, "eu-west-1"), Destination("222222222222", "ap-southeast-2")
    rules = replication_rules(
        {"shared/orders": [eu, b], "shared/payments": [b, eu], "team/x": [eu]},
        source_account=SOURCE,
    )
    assert rules == [
        ReplicationRule((eu, b), ("shared/orders", "shared/payments")),
        ReplicationRule((eu,), ("team/x",)),
    ]
    assert replication_configuration(rules)["Rules"][1] == {
        "Destinations": [{"Region": "eu-west-1", "RegistryId": SOURCE}],
        "RepositoryFilters": [{"Filter": "team/x", "FilterType": "PREFIX_MATCH"}],
    }


def test_eleven_destination_sets_are_over_the_rule_limit() -> None:
    repositories = {
        f"repo{i}": [
            Destination(SOURCE, "eu-west-1"),
            Destination(f"2222222222{i:02d}", "eu-west-1"),
        ]
        for i in range(MAX_RULES + 1)
    }
    with pytest.raises(ReplicationLimitError) as caught:
        replication_rules(repositories, source_account=SOURCE)
    message = str(caught.value)
    assert "11 replication rules" in message and "limit of 10" in message
    assert "share one rule" in message  # the fix


def test_many_destination_sets_over_few_destinations_get_one_rule_per_destination() -> None:
    from itertools import combinations

    four = [Destination(SOURCE, r) for r in REGIONS[1:]]
    subsets = [c for size in (1, 2, 3, 4) for c in combinations(four, size)][:11]
    repositories = {f"repo{i:02d}": list(subset) for i, subset in enumerate(subsets)}
    rules = replication_rules(repositories, source_account=SOURCE)
    assert len(rules) == 4  # 11 destination sets would be 11 rules, over the limit of 10
    for name, destinations in repositories.items():
        for destination in destinations:
            assert rules_replicating(rules, name, destination) is Replication.YES
        for destination in set(four) - set(destinations):
            assert rules_replicating(rules, name, destination) is Replication.NO


def test_twenty_six_cross_account_destinations_are_over_the_limit() -> None:
    repositories = {
        "shared/orders": [Destination(f"2222222222{i:02d}", "eu-west-1") for i in range(26)]
    }
    with pytest.raises(ReplicationLimitError) as caught:
        replication_rules(repositories, source_account=SOURCE)
    message = str(caught.value)
    assert "26 cross-account destinations" in message and "limit of 25" in message
    assert "222222222200/eu-west-1" in message  # the values
    assert "replica in the source account" in message  # the fix


def test_same_account_destinations_do_not_count_against_the_cross_account_limit() -> None:
    rules = replication_rules(
        {"a": [Destination(SOURCE, region) for region in REGIONS[1:]]}, source_account=SOURCE
    )
    assert check_replication_limits(rules, source_account=SOURCE) == []


def test_a_rule_over_the_filter_and_destination_limits_is_reported() -> None:
    rule = ReplicationRule(
        tuple(Destination(SOURCE, f"r{i}") for i in range(MAX_DESTINATIONS_PER_RULE + 1)),
        tuple(f"p{i}" for i in range(MAX_FILTERS_PER_RULE + 1)),
    )
    found = check_replication_limits([rule], source_account=SOURCE)
    assert len(found) == 2
    assert all(cls is ReplicationLimitError for cls, _ in found)


def test_prefix_match_over_matching_is_found() -> None:
    eu, ap = Destination(SOURCE, "eu-west-1"), Destination(SOURCE, "ap-southeast-2")
    rules = replication_rules(
        {"shared/orders": [eu], "shared/orders-legacy": [ap]}, source_account=SOURCE
    )
    assert over_matches(rules, ["shared/orders", "shared/orders-legacy"]) == [
        ("shared/orders", "shared/orders-legacy", (eu,))
    ]
    same = replication_rules(
        {"shared/orders": [eu], "shared/orders-legacy": [eu]}, source_account=SOURCE
    )
    assert over_matches(same, ["shared/orders", "shared/orders-legacy"]) == []


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(names, st.lists(destinations, min_size=1, max_size=6), max_size=30))
def test_rules_replicate_exactly_what_was_asked_within_ecr_limits(
    repositories: dict[str, list[Destination]],
) -> None:
    try:
        rules = replication_rules(repositories, source_account=SOURCE)
    except ReplicationLimitError:
        sets = {frozenset(d) for d in repositories.values()}
        every = {d for ds in repositories.values() for d in ds}
        cross = {d for d in every if d.account != SOURCE}
        assert min(len(sets), len(every)) > MAX_RULES or len(cross) > MAX_CROSS_ACCOUNT_DESTINATIONS
        return
    assert len(rules) <= MAX_RULES
    for rule in rules:
        assert 1 <= len(rule.destinations) <= MAX_DESTINATIONS_PER_RULE
        assert len(rule.prefixes) <= MAX_FILTERS_PER_RULE
    assert check_replication_limits(rules, source_account=SOURCE) == []
    for name, wanted_destinations in repositories.items():
        for destination in wanted_destinations:
            assert rules_replicating(rules, name, destination) is Replication.YES
    # Anything else a rule replicates is a prefix over-match, which over_matches reports.
    reported = {(name, d) for _, name, extra in over_matches(rules, repositories) for d in extra}
    for name in repositories:
        for region in REGIONS:
            for account in {SOURCE, *(d.account for ds in repositories.values() for d in ds)}:
                destination = Destination(account, region)
                if destination in repositories[name]:
                    continue
                if rules_replicating(rules, name, destination) is Replication.YES:
                    assert (name, destination) in reported
    # The rendered configuration reads back as the same rules.
    assert parse_replication_configuration(replication_configuration(rules)) == rules


def test_registry_policy_admits_the_source_on_the_replicated_repositories_only() -> None:
    document = registry_policy(
        {SOURCE: ["shared/orders", "shared/payments"]}, account="222222222222", region="eu-west-1"
    )
    assert document is not None
    (statement,) = document["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{SOURCE}:root"}
    assert statement["Action"] == "ecr:ReplicateImage"
    arn = "arn:aws:ecr:eu-west-1:222222222222:repository/"
    assert statement["Resource"] == [arn + "shared/orders", arn + "shared/payments"]
    allows = registry_policy_allows
    assert allows(document, source_account=SOURCE, repository_arn=arn + "shared/orders") is (
        Replication.YES
    )
    assert allows(document, source_account=SOURCE, repository_arn=arn + "other") is Replication.NO
    assert (
        allows(document, source_account="999999999999", repository_arn=arn + "shared/orders")
        is Replication.NO
    )
    assert allows(None, source_account=SOURCE, repository_arn=arn + "x") is Replication.NO


def test_registry_policy_reading_handles_deny_and_conditions() -> None:
    arn = "arn:aws:ecr:eu-west-1:222222222222:repository/shared/orders"
    allow = {
        "Effect": "Allow",
        "Principal": {"AWS": SOURCE},
        "Action": ["ecr:*"],
        "Resource": "arn:aws:ecr:eu-west-1:222222222222:repository/*",
    }
    deny = {**allow, "Effect": "Deny"}
    conditioned_deny = {**deny, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-x"}}}

    def answer(*statements: dict[str, object]) -> Replication:
        document = {"Version": "2012-10-17", "Statement": list(statements)}
        return registry_policy_allows(document, source_account=SOURCE, repository_arn=arn)

    assert answer(allow) is Replication.YES
    assert answer(allow, deny) is Replication.DENIED
    assert answer(allow, conditioned_deny) is Replication.UNKNOWN
    assert answer({**allow, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}) is (
        Replication.UNKNOWN
    )
    assert answer({**allow, "NotPrincipal": {"AWS": "x"}}) is Replication.UNKNOWN


def test_a_replica_in_another_account_never_admits_the_sources_other_consumers() -> None:
    source_consumers = ["333333333333", LambdaConsumer("444444444444", function_name="f")]
    assert (
        replica_consumers(source_consumers, source_account=SOURCE, replica_account="222222222222")
        == []
    )
    assert replica_consumers(
        source_consumers, source_account=SOURCE, replica_account=SOURCE, consumers=["555555555555"]
    ) == [
        LambdaConsumer("333333333333"),
        LambdaConsumer("444444444444", function_name="f"),
        LambdaConsumer("555555555555"),
    ]


consumer_lists = st.lists(
    st.one_of(
        accounts,
        st.builds(
            LambdaConsumer,
            accounts,
            function_name=st.from_regex(r"[a-z][a-z0-9-]{0,40}", fullmatch=True),
        ),
    ),
    max_size=140,
)


@settings(max_examples=150, deadline=None)
@given(consumer_lists, consumer_lists, regions, st.sampled_from([SOURCE, "222222222222"]))
def test_policy_of_every_replica_is_conditioned_within_the_limit_and_admits_only_its_consumers(
    source_consumers: list[LambdaConsumer | str],
    own: list[LambdaConsumer | str],
    region: str,
    replica_account: str,
) -> None:
    consumers = replica_consumers(
        source_consumers, source_account=SOURCE, replica_account=replica_account, consumers=own
    )
    document = repository_policy(consumers, repository_account=replica_account, region=region)
    # The size check the constructs raise on agrees with the real length.
    assert bool(check_policy_size(document, "replica")) == (
        policy_length(document) > ECR_POLICY_MAX_CHARS
    )
    assert unconditioned_service_statements(document) == []
    if replica_account != SOURCE:
        admitted = {LambdaConsumer(c) if isinstance(c, str) else c for c in own}
        for consumer in source_consumers:
            account = consumer if isinstance(consumer, str) else consumer.account
            if account == replica_account or any(a.account == account for a in admitted):
                continue
            access = evaluate_pull(
                document,
                function_arn=f"arn:aws:lambda:{region}:{account}:function:anything",
                function_account=account,
                repository_account=replica_account,
            )
            assert not access.ok


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(accounts, st.lists(names, min_size=1, max_size=5), min_size=1, max_size=4),
    accounts,
    names,
)
def test_registry_policy_admits_exactly_each_source_on_its_own_repositories(
    sources: dict[str, list[str]], stranger: str, other_name: str
) -> None:
    destination, region = "222222222222", "eu-west-1"
    document = registry_policy(sources, account=destination, region=region)
    assert document is not None
    for statement in document["Statement"]:
        assert statement["Action"] == "ecr:ReplicateImage"  # never CreateRepository or "*"
        assert statement["Principal"]["AWS"].endswith(":root")

    def arn(name: str) -> str:
        return f"arn:aws:ecr:{region}:{destination}:repository/{name}"

    for source, source_names in sources.items():
        for name in source_names:
            assert (
                registry_policy_allows(document, source_account=source, repository_arn=arn(name))
                is Replication.YES
            )
        if other_name not in source_names:
            assert (
                registry_policy_allows(
                    document, source_account=source, repository_arn=arn(other_name)
                )
                is Replication.NO
            )
    if stranger not in sources:
        for source_names in sources.values():
            assert (
                registry_policy_allows(
                    document, source_account=stranger, repository_arn=arn(source_names[0])
                )
                is Replication.NO
            )
