"""Mutants that survive `make mutation` because they cannot change behaviour, each with the reason.

`make mutation` runs mutmut over the pure policy, validation and evaluation modules, the
registry layer, the assembly model, the checks and the function verdict's stages
([tool.mutmut] in pyproject.toml) and then this module as a script on `mutmut results`: it
fails when a mutant survives that is not listed here, so every behaviour-changing survivor has
to be killed by a test (or, if it really cannot change behaviour, listed below with why). The
tests below keep the list honest: each entry names a function that exists.

mutmut numbers mutants per function, so editing a listed function can renumber them: rerun
`make mutation` and update the list from its report.
"""

from __future__ import annotations

import importlib
import re
import sys

EQUIVALENT: dict[str, str] = {
    "ecr_lambda_access.policy.evaluate.x__substitute__mutmut_7": (
        "`position = None` instead of 0: value[None:i] is value[0:i]"
    ),
    "ecr_lambda_access.policy.evaluate.x__date__mutmut_10": (
        "the 'Z' -> '+00:00' replacement is for Python 3.10; from 3.11 on datetime.fromisoformat "
        "reads 'Z' itself, so changing the replaced text changes nothing where the tests run"
    ),
    "ecr_lambda_access.policy.evaluate.x__date__mutmut_11": (
        "as _date__mutmut_10: replacing 'z' (never in an ISO date) instead of 'Z'"
    ),
    "ecr_lambda_access.policy.evaluate.x_evaluate_pull__mutmut_47": (
        "the partition is read only by the 'missing' detail, and the same-account deployer's "
        "answer is never missing (its Deny statements are evaluated after an Allow of everything)"
    ),
    "ecr_lambda_access.policy.evaluate.x_evaluate_pull__mutmut_79": (
        "the Lambda service's request never compares principal ARNs (a service principal has "
        "none), so the partition passed to lambda_pull_request is never read"
    ),
    "ecr_lambda_access.policy.evaluate.x_evaluate_pull__mutmut_83": (
        "as evaluate_pull__mutmut_79: lambda_pull_request's default partition is never read either"
    ),
    "ecr_lambda_access.policy.size.xǁ_Boundsǁvalue__mutmut_2": (
        "substituting tokens in a text that holds none returns the same text"
    ),
    "ecr_lambda_access.registry.image_ref.x__foreign__mutmut_9": (
        "uri.split('/') instead of uri.split('/', 1): only element [0] is read, the text before "
        "the first '/', whatever the number of splits"
    ),
    "ecr_lambda_access.registry.image_ref.x__foreign__mutmut_12": (
        "as _foreign__mutmut_9: maxsplit 2 instead of 1 leaves element [0] unchanged"
    ),
    "ecr_lambda_access.registry.replication.x__pack__mutmut_8": (
        "the sort key's tie-breaker: two groups can only tie on equal name lists (by_destination); "
        "each group is created at its first name, in sorted destination order, so the stable sort "
        "keeps the destination order the original key gives"
    ),
    "ecr_lambda_access.registry.replication.x_rules_replicating__mutmut_1": (
        "`unknown = None` instead of False: it is only read for its truth value"
    ),
    "ecr_lambda_access.registry.replication.x_registry_policy_allows__mutmut_16": (
        "`allowed = maybe_allowed = maybe_denied = None` instead of False: each is only read "
        "for its truth value (in `or` and `if`), and the function returns an enum member"
    ),
    "ecr_lambda_access.registry.replication.x_registry_policy_allows__mutmut_70": (
        "`undecided = None` instead of False: it is only read for its truth value"
    ),
    "ecr_lambda_access.audit.model.xǁ_Builderǁregistry_resource__mutmut_15": (
        "`value = ''` instead of None for a resource created under an unknown condition: the "
        "empty string is then read as JSON text, fails to parse and becomes None all the same"
    ),
    "ecr_lambda_access.audit.model.xǁ_Builderǁfunction__mutmut_62": (
        "zip's strict flag: `opened` and `bits` always have the same length (bits come from "
        "itertools.product(..., repeat=len(opened))), so strict never fires"
    ),
    "ecr_lambda_access.audit.model.xǁ_Builderǁfunction__mutmut_65": (
        "as _Builderǁfunction__mutmut_62: zip without strict, on sequences of equal length"
    ),
    "ecr_lambda_access.audit.model.xǁ_Builderǁfunction__mutmut_66": (
        "as _Builderǁfunction__mutmut_62: strict=False, on sequences of equal length"
    ),
    "ecr_lambda_access.audit.model.xǁ_Builderǁfunction__mutmut_107": (
        "a string Fn::GetAtt split on every '.' instead of the first: only element [0], the text "
        "before the first '.', is read"
    ),
    "ecr_lambda_access.audit.model.xǁ_Builderǁfunction__mutmut_110": (
        "as _Builderǁfunction__mutmut_107: maxsplit 2 instead of 1 leaves element [0] unchanged"
    ),
    "ecr_lambda_access.audit.checks.base.xǁRuleǁ__post_init____mutmut_10": (
        "help_uri(None) instead of help_uri(self.id): help_uri ignores its argument (one section "
        "of docs/audit.md documents every id), so every rule gets the same link either way"
    ),
    "ecr_lambda_access.audit.checks.execution_role_ecr_actions.x__ecr_actions__mutmut_15": (
        "the default of a statement's missing Effect: str(None).lower() is 'none', like '' it is "
        "not 'allow', so the statement is skipped either way"
    ),
    "ecr_lambda_access.audit.checks.execution_role_ecr_actions.x__ecr_actions__mutmut_17": (
        "as _ecr_actions__mutmut_15: .get('Effect') without a default is None, not 'allow'"
    ),
    "ecr_lambda_access.audit.checks.execution_role_ecr_actions.x__ecr_actions__mutmut_21": (
        "as _ecr_actions__mutmut_15: a default of 'XXXX' is not 'allow' either"
    ),
    "ecr_lambda_access.audit.checks.execution_role_ecr_actions.x__policy_name__mutmut_9": (
        "'XXXX' instead of '' for an ARN whose last part is unknown: no ECR managed policy is "
        "named either, so neither is reported"
    ),
    "ecr_lambda_access.audit.checks.execution_role_ecr_actions.x__policy_name__mutmut_13": (
        "arn.rsplit('/') instead of rsplit('/', 1): element [-1], the text after the last '/', "
        "is the same whatever the number of splits"
    ),
    "ecr_lambda_access.audit.checks.execution_role_ecr_actions.x__policy_name__mutmut_16": (
        "as _policy_name__mutmut_13: maxsplit 2 leaves element [-1] unchanged"
    ),
    "ecr_lambda_access.audit.checks.replica.x_replicating_sources__mutmut_2": (
        "the second value returned (whether a rule depends on deploy-time values) is discarded by "
        "both callers (`sources, _` in created_by_replication, `outgoing, _` in "
        "unreached_replica): its initial value None instead of False is invisible"
    ),
    "ecr_lambda_access.audit.checks.replica.x_replicating_sources__mutmut_3": (
        "as replicating_sources__mutmut_2: the discarded flag starting True"
    ),
    "ecr_lambda_access.audit.checks.replica.x_replicating_sources__mutmut_24": (
        "as replicating_sources__mutmut_2: the discarded flag's update"
    ),
    "ecr_lambda_access.audit.checks.replica.x_replicating_sources__mutmut_25": (
        "as replicating_sources__mutmut_2: the discarded flag set to None"
    ),
    "ecr_lambda_access.audit.checks.replica.x_replicating_sources__mutmut_26": (
        "as replicating_sources__mutmut_2: the discarded flag set to False"
    ),
    "ecr_lambda_access.audit.checks.replica.x_created_by_replication__mutmut_2": (
        "`name or (account and region)`: with a known name and one of account and Region unknown "
        "it goes on to replicating_sources, where an unknown never equals a rule's destination "
        "(plain text or CDK-token text), so no source is found and it returns None as before"
    ),
    "ecr_lambda_access.audit.checks.replica.x_created_by_replication__mutmut_40": (
        "`template.known` for `not template.known`: the test is reached only when the template "
        "is None or unknown, and an unknown template is itself in `doubtful`, so the first "
        "operand already decides"
    ),
    "ecr_lambda_access.audit.checks.replica.x_created_by_replication__mutmut_46": (
        "the model gives every template that is not known an unknown_reason (known is `not "
        "doubts`, the reason their join), so the test of unknown_reason is always true here"
    ),
    "ecr_lambda_access.audit.checks.replica.x_created_by_replication__mutmut_47": (
        "as created_by_replication__mutmut_46: the empty alternative is never taken"
    ),
    "ecr_lambda_access.audit.checks.replica.x_created_by_replication__mutmut_94": (
        "the index of the ModelRepository standing for a repository replication creates: it is "
        "only passed to evaluate, which never reads a repository's index"
    ),
    "ecr_lambda_access.audit.checks.replica.x_created_by_replication__mutmut_95": (
        "as created_by_replication__mutmut_94: the stand-in's logical_id (None) is never read"
    ),
    "ecr_lambda_access.audit.checks.replica.x_created_by_replication__mutmut_110": (
        "as created_by_replication__mutmut_94: the stand-in's logical_id ('XXXX') is never read"
    ),
    "ecr_lambda_access.audit.checks.replica.x_created_by_replication__mutmut_96": (
        "as created_by_replication__mutmut_94: evaluate never reads the stand-in's name"
    ),
    "ecr_lambda_access.audit.checks.replica.x_created_by_replication__mutmut_99": (
        "as created_by_replication__mutmut_94: evaluate never reads the stand-in's region"
    ),
    "ecr_lambda_access.audit.checks.replica.x_created_by_replication__mutmut_100": (
        "the stand-in's path is read by evaluate only for an INVALID policy, and the stand-in's "
        "policy is always VALID (the template's parsed document)"
    ),
    "ecr_lambda_access.audit.checks.replica.x_created_by_replication__mutmut_148": (
        "NOT_REPLICATED is never chosen for a repository replication creates: replica_verdict is "
        "called with declared=False and the source replicating_sources found sending the name "
        "there, so its only verifiable failure ('no rule sends it') cannot occur and every other "
        "failure is unverifiable"
    ),
    "ecr_lambda_access.audit.checks.replica.x_created_by_replication__mutmut_131": (
        "declared=None instead of False: replica_verdict reads `declared` only as `if declared`"
    ),
    "ecr_lambda_access.audit.stages.generated_name.x_source_arn_patterns__mutmut_6": (
        "the default of a statement's missing Effect: str(None).lower() is 'none', like '' it "
        "is not 'allow', so the statement is skipped either way"
    ),
    "ecr_lambda_access.audit.stages.generated_name.x_source_arn_patterns__mutmut_8": (
        "as source_arn_patterns__mutmut_6: .get('Effect') without a default is None, not 'allow'"
    ),
    "ecr_lambda_access.audit.stages.generated_name.x_source_arn_patterns__mutmut_12": (
        "as source_arn_patterns__mutmut_6: a default of 'XXXX' is not 'allow' either"
    ),
    "ecr_lambda_access.audit.stages.x_run_stages__mutmut_7": (
        "the message of an AssertionError no input reaches: stage_replication, the last stage, "
        "always returns a report"
    ),
    "ecr_lambda_access.audit.stages.x_run_stages__mutmut_8": (
        "as run_stages__mutmut_7: the unreachable assertion's message"
    ),
    "ecr_lambda_access.audit.stages.x_run_stages__mutmut_9": (
        "as run_stages__mutmut_7: the unreachable assertion's message"
    ),
    "ecr_lambda_access.audit.stages.replication.x_stage_replication__mutmut_2": (
        "the message of an assertion that always holds: stage_evaluate sets draft.evaluated "
        "before it returns None, the only way to reach this stage"
    ),
    "ecr_lambda_access.audit.stages.replication.x_stage_replication__mutmut_3": (
        "as stage_replication__mutmut_2: the message of an assertion that always holds"
    ),
    "ecr_lambda_access.audit.stages.locate.x_bootstrap_repository__mutmut_13": (
        "the bootstrap stand-in's logical_id is only part of a consumers key, and stage_locate "
        "never appends a consumer for the bootstrap: the key's list stays empty, as absent "
        "(repository_reports reads .get(key, ()))"
    ),
    "ecr_lambda_access.audit.stages.locate.x_bootstrap_repository__mutmut_28": (
        "as bootstrap_repository__mutmut_13: the stand-in's logical_id 'XXXX' keys an empty "
        "consumers list"
    ),
    "ecr_lambda_access.audit.stages.locate.x_find_repository__mutmut_2": (
        "`target is not None or not parts`: an Unknown with parts (Unknown.partial) never has a"
        " target (only whole resolver marks do), and a whole one without a target looks up "
        "by_target[None], never present, so both fall through as before"
    ),
    "ecr_lambda_access.audit.stages.locate.x_find_repository__mutmut_8": (
        "the second value, why not found, is read by stage_locate only when the repository is "
        "None; here a repository is returned"
    ),
    "ecr_lambda_access.audit.stages.locate.x_find_repository__mutmut_20": (
        "as find_repository__mutmut_8: a repository is returned, its why-not text is never read"
    ),
    "ecr_lambda_access.audit.stages.external.x_external_or_unverifiable__mutmut_20": (
        "reasons(image.account, None): this text is used only when why_not is empty, and "
        "find_repository always explains an unknown repository name, so image.repository is "
        "known here and adds no reason"
    ),
    "ecr_lambda_access.audit.stages.external.x_external_or_unverifiable__mutmut_22": (
        "as external_or_unverifiable__mutmut_20: reasons without image.repository, which is "
        "known (a plain string) wherever this text is used"
    ),
    "ecr_lambda_access.audit.stages.draft.xǁDraftǁ__init____mutmut_34": (
        "the repository's initial value '' instead of None: stage_locate assigns "
        "draft.repository before any stage reads it (repo, finish)"
    ),
    "ecr_lambda_access.audit.stages.draft.xǁDraftǁ__init____mutmut_35": (
        "bootstrap's initial value None instead of False: stage_locate assigns it before "
        "finish, its only reader"
    ),
    "ecr_lambda_access.audit.stages.draft.xǁDraftǁ__init____mutmut_36": (
        "as Draft.__init____mutmut_35: bootstrap starting True is overwritten by stage_locate "
        "before finish reads it"
    ),
    "ecr_lambda_access.audit.stages.draft.xǁDraftǁ__init____mutmut_37": (
        "evaluated's initial value '' instead of None: stage_evaluate assigns it before "
        "stage_replication, its only reader"
    ),
    "ecr_lambda_access.audit.repositories.x_admits_every_account__mutmut_13": (
        "only .root is read, and the root's (deployer's) request never holds the function ARN: "
        "evaluate_pull passes it to the service's request alone"
    ),
    "ecr_lambda_access.audit.repositories.x_admits_every_account__mutmut_15": (
        "repository_account is only compared with function_account, the stranger, chosen "
        "different from the repository's account: None differs from it as well"
    ),
    "ecr_lambda_access.audit.verdicts.xǁ_Auditǁcheck_function_every_way__mutmut_48": (
        "status=UNVERIFIABLE left out of dataclasses.replace(first, ...): this line is reached "
        "only when first.status is already UNVERIFIABLE"
    ),
    "ecr_lambda_access.audit.stages.evaluate.x_evaluate__mutmut_27": (
        "render(v, None) instead of render(v, keep) for the function's account, Region, "
        "partition or the repository's account: keep holds every unknown of these four values, "
        "and render with None keeps every unknown as the same literal"
    ),
    "ecr_lambda_access.audit.stages.evaluate.x_evaluate__mutmut_29": (
        "as evaluate__mutmut_27: every unknown of this value is in keep, so render with or "
        "without keep writes the same text"
    ),
    "ecr_lambda_access.audit.stages.evaluate.x_evaluate__mutmut_34": (
        "as evaluate__mutmut_27: every unknown of this value is in keep, so render with or "
        "without keep writes the same text"
    ),
    "ecr_lambda_access.audit.stages.evaluate.x_evaluate__mutmut_36": (
        "as evaluate__mutmut_27: every unknown of this value is in keep, so render with or "
        "without keep writes the same text"
    ),
    "ecr_lambda_access.audit.stages.evaluate.x_evaluate__mutmut_38": (
        "as evaluate__mutmut_27: every unknown of this value is in keep, so render with or "
        "without keep writes the same text"
    ),
    "ecr_lambda_access.audit.stages.evaluate.x_evaluate__mutmut_40": (
        "as evaluate__mutmut_27: every unknown of this value is in keep, so render with or "
        "without keep writes the same text"
    ),
    "ecr_lambda_access.audit.stages.evaluate.x_evaluate__mutmut_59": (
        "as evaluate__mutmut_27: every unknown of this value is in keep, so render with or "
        "without keep writes the same text"
    ),
    "ecr_lambda_access.audit.stages.evaluate.x_evaluate__mutmut_61": (
        "as evaluate__mutmut_27: every unknown of this value is in keep, so render with or "
        "without keep writes the same text"
    ),
    "ecr_lambda_access.audit.stages.evaluate.x_evaluate__mutmut_63": (
        "as evaluate__mutmut_27: every unknown of this value is in keep, so render with or "
        "without keep writes the same text"
    ),
    "ecr_lambda_access.audit.stages.evaluate.x_evaluate__mutmut_65": (
        "as evaluate__mutmut_27: every unknown of this value is in keep, so render with or "
        "without keep writes the same text"
    ),
    "ecr_lambda_access.audit.stages.evaluate.x_evaluate__mutmut_67": (
        "as evaluate__mutmut_27: every unknown of this value is in keep, so render with or "
        "without keep writes the same text"
    ),
    "ecr_lambda_access.audit.stages.evaluate.x_evaluate__mutmut_69": (
        "as evaluate__mutmut_27: every unknown of this value is in keep, so render with or "
        "without keep writes the same text"
    ),
    "ecr_lambda_access.audit.stages.evaluate.x_evaluate__mutmut_12": (
        "keep without repository.account: past the environment stage an unknown repository "
        "account is the function's own (any other pairing returned unverifiable), and a "
        "repository replication creates has a known account, so `account` already puts its "
        "unknowns in keep"
    ),
    "ecr_lambda_access.audit.stages.evaluate.x_evaluate__mutmut_16": (
        "keep without repository.account: past the environment stage an unknown repository "
        "account is the function's own (any other pairing returned unverifiable), and a "
        "repository replication creates has a known account, so `account` already puts its "
        "unknowns in keep"
    ),
}
"""mutant name -> why it cannot change what the code does."""

_NAME = re.compile(r"^(?P<module>[\w.]+)\.x(?:_|ǁ)(?P<function>.+?)__mutmut_\d+$")


def unlisted(results: str) -> list[str]:
    """The survivors in `mutmut results` output that are not listed as equivalent."""
    found = []
    for line in results.splitlines():
        name, _, status = line.strip().partition(": ")
        if status.strip() == "survived" and name not in EQUIVALENT:
            found.append(name)
    return found


def _target(name: str) -> tuple[str, str]:
    match = _NAME.match(name)
    assert match is not None, name
    return match["module"], match["function"]


def test_every_equivalent_mutant_names_an_existing_function() -> None:
    for name in EQUIVALENT:
        module_name, function = _target(name)
        module = importlib.import_module(module_name)
        if "ǁ" in function:
            class_name, method = function.split("ǁ")
            assert hasattr(getattr(module, class_name), method), name
        else:
            assert hasattr(module, function), name


def test_every_reason_is_written_out() -> None:
    assert all(len(reason) > 30 for reason in EQUIVALENT.values())


def test_unlisted_survivors_are_found() -> None:
    report = "\n".join(
        [
            "    ecr_lambda_access.policy.evaluate.x__substitute__mutmut_7: survived",
            "    ecr_lambda_access.policy.evaluate.x__substitute__mutmut_8: survived",
            "    ecr_lambda_access.policy.evaluate.x__substitute__mutmut_9: killed",
        ]
    )
    assert unlisted(report) == ["ecr_lambda_access.policy.evaluate.x__substitute__mutmut_8"]


if (
    __name__ == "__main__"
):  # make mutation: mutmut results | python tests/test_mutation_equivalents.py
    survivors = unlisted(sys.stdin.read())
    for survivor in survivors:
        print(f"behaviour-changing survivor (kill it with a test, or list it here): {survivor}")
    sys.exit(1 if survivors else 0)
