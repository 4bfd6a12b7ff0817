"""Reading policies the way IAM does: does a repository policy let one function pull its image?

:func:`evaluate_pull` answers, for one function, whether a policy (any policy, not only ours) lets
its account create the function and lets the Lambda service pull the image. The logic follows the
IAM user guide (policy evaluation logic, condition operators, NotPrincipal, policy variables; see
DOMAIN.md "IAM evaluation"):

* an explicit Deny beats any Allow; no matching Allow is an implicit deny;
* ``Effect`` is exactly ``Allow`` or ``Deny``; anything else makes the policy invalid (ECR rejects
  it), as do a statement with both or neither of ``Principal``/``NotPrincipal`` or
  ``Action``/``NotAction``, both ``Resource`` and ``NotResource``, an unknown condition
  operator, or an element outside the policy grammar (``"Condtion"``, ``"Resources"``, an
  unknown top-level key): :func:`policy_problems` lists them and :func:`evaluate_pull` answers
  :attr:`Access.INVALID`;
* a wildcard in the service or the resource type of a ``Resource`` ARN (``...:*/app``), which
  AWS's ARN reference does not allow, is neither a match nor a miss: unknown;
* a Bool, Date, Numeric, IP or Binary operator on a key of another documented data type
  (``Bool`` on ``aws:SourceAccount``, ``DateNotEquals`` on ``aws:SourceArn``) is unknown;
* ``Deny`` + ``NotPrincipal`` denies every principal not listed, service principals included;
  ``Allow`` + ``NotPrincipal`` (which AWS does not support) is never taken as a grant;
* ``Arn*`` operators match each of the six colon-separated ARN components on its own (``*`` never
  spans a ``:``); ``StringLike`` globs the whole string;
* a condition on a key absent from the request: plain operators are false, negated ones true,
  ``...IfExists`` true, ``ForAnyValue`` false, ``ForAllValues`` true; ``Null`` tests presence;
* keys are case-insensitive, values case-sensitive (except ``...IgnoreCase``); policy variables
  (``${aws:SourceAccount}``) are substituted in Version ``2012-10-17`` policies, their values
  taken literally, a default only in the documented form ``${key, 'default'}`` (any other form
  is unknown); a variable inside an ARN pattern (``Arn*`` operators, ``Resource``) makes the
  answer unknown, since AWS does not document whether the ARN is cut at its colons before or
  after substitution (the independent simulator cuts first).

The request each side makes is written down once, in :func:`lambda_pull_request` (the Lambda
service re-fetching the image) and :func:`deployer_request` (the consumer account's deployer
creating the function). A key the request carries with a value not known here (an organization
that was not given; ``aws:PrincipalType`` and ``aws:userid``, present in every signed request with
values AWS does not document for Lambda's pull) makes a condition on it unknown, and so the
answer ``UNKNOWN``: never a guess. An ``UNKNOWN`` answer names the statements and what makes each
undecidable (the condition operator and key, the resource pattern or the principal). See
docs/evaluator.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any

from ..validation import is_unresolved
from .build import ECR_PULL_ACTIONS, LAMBDA_SERVICE_PRINCIPAL, root_arn


class Access(Enum):
    """The answer of :func:`evaluate_pull` for one side (root or service).

    ``INVALID``: the policy is not a valid IAM policy (ECR rejects it at deploy), so nothing is
    granted; :func:`policy_problems` says why.
    """

    GRANTED = "granted"
    MISSING = "missing"
    DENIED = "denied"
    UNKNOWN = "unknown"
    NOT_NEEDED = "not-needed"
    INVALID = "invalid"


@dataclass(frozen=True)
class Grant:
    access: Access
    detail: str = ""
    statements: tuple[str, ...] = field(default=())
    """Sids (or positions ``#N``) of the statements that decided it."""

    @property
    def ok(self) -> bool:
        return self.access in (Access.GRANTED, Access.NOT_NEEDED)


@dataclass(frozen=True)
class PullAccess:
    root: Grant
    service: Grant

    @property
    def ok(self) -> bool:
        return self.root.ok and self.service.ok


# --------------------------------------------------------------------------------------------
# The request context of each side
# --------------------------------------------------------------------------------------------


class _Value(Enum):
    UNKNOWN = "present, value not known"
    MAYBE = "may be absent, value not known"


UNKNOWN_VALUE = _Value.UNKNOWN
"""A key the request carries, with a value not known here."""
MAYBE_PRESENT = _Value.MAYBE
"""A key the request may or may not carry."""

ContextValue = str | tuple[str, ...] | _Value


@dataclass(frozen=True)
class Request:
    """What IAM sees when one side asks for the pull actions.

    ``keys``: lower-case condition key -> value (a string, a tuple for a multi-valued key,
    :data:`UNKNOWN_VALUE` or :data:`MAYBE_PRESENT`). ``absent``: keys (lower case) this request
    never carries; a key that ends with ``/`` stands for every key with that prefix. Any other
    key may or may not be carried (:data:`MAYBE_PRESENT`).
    """

    side: str
    """``service`` (lambda.amazonaws.com) or ``deployer`` (the function account's deployer)."""
    account: str
    """The function's account."""
    partition: str
    service: str | None
    keys: Mapping[str, ContextValue]
    absent: frozenset[str]

    def value(self, key: str) -> ContextValue | None:
        """The value of a key (None when the request does not carry it)."""
        k = key.lower()
        if k in self.keys:
            return self.keys[k]
        if k in self.absent or any(a.endswith("/") and k.startswith(a) for a in self.absent):
            return None
        return MAYBE_PRESENT


_PRINCIPAL_KEYS = frozenset(
    {
        "aws:principalaccount",
        "aws:principalarn",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principaltag/",
        "aws:username",
        "aws:sourceidentity",
        "aws:federatedprovider",
        "aws:tokenissuetime",
        "aws:multifactorauthpresent",
        "aws:multifactorauthage",
        "aws:requesttag/",
        "aws:tagkeys",
    }
)
_SOURCE_KEYS = frozenset(
    {
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourceowner",
    }
)


def lambda_pull_request(
    *,
    function_arn: str,
    function_account: str,
    partition: str = "aws",
    organization_id: str | None = None,
) -> Request:
    """The Lambda service pulling the image for one function (DOMAIN.md, "IAM evaluation").

    Principal ``lambda.amazonaws.com``; ``aws:SourceArn`` (the function ARN),
    ``aws:SourceAccount``, ``aws:PrincipalIsAWSService`` = true, ``aws:PrincipalServiceName``.
    ``aws:SourceOrgID`` is the function account's organization only as a third party reports it:
    when ``organization_id`` is given it is taken as carried, otherwise it is unknown. A service
    principal carries none of the ``aws:Principal*`` account, ARN and organization keys;
    ``aws:PrincipalType`` and ``aws:userid`` are in every signed request (IAM user guide), with
    values AWS does not document for this request.
    """
    return Request(
        side="service",
        account=function_account,
        partition=partition,
        service=LAMBDA_SERVICE_PRINCIPAL,
        keys={
            "aws:sourcearn": function_arn,
            "aws:sourceaccount": function_account,
            "aws:principalisawsservice": "true",
            "aws:principalservicename": LAMBDA_SERVICE_PRINCIPAL,
            "aws:sourceorgid": organization_id if organization_id else MAYBE_PRESENT,
            "aws:sourceorgpaths": MAYBE_PRESENT,
            # present in every signed request (IAM user guide, global condition keys), with
            # values AWS does not document for a service principal
            "aws:principaltype": UNKNOWN_VALUE,
            "aws:userid": UNKNOWN_VALUE,
        },
        absent=_PRINCIPAL_KEYS,
    )


def deployer_request(
    *, function_account: str, partition: str = "aws", organization_id: str | None = None
) -> Request:
    """The consumer account's deployer (for CDK the CloudFormation execution role) creating or
    updating the function: a principal of ``function_account`` whose exact ARN is not known here.

    ``aws:PrincipalAccount``, ``aws:PrincipalArn`` (value not known), ``aws:PrincipalIsAWSService``
    = false, ``aws:PrincipalOrgID`` (the organization when given; otherwise the account may or may
    not be in one); no ``aws:Source*`` keys.
    """
    return Request(
        side="deployer",
        account=function_account,
        partition=partition,
        service=None,
        keys={
            "aws:principalaccount": function_account,
            "aws:principalarn": UNKNOWN_VALUE,
            "aws:principalisawsservice": "false",
            "aws:principalorgid": organization_id if organization_id else MAYBE_PRESENT,
            "aws:principalorgpaths": MAYBE_PRESENT,
            "aws:principaltype": UNKNOWN_VALUE,
            "aws:userid": UNKNOWN_VALUE,
        },
        absent=_SOURCE_KEYS | {"aws:principalservicename"},
    )


# --------------------------------------------------------------------------------------------
# Tri-state logic: True, False, or None (depends on something not known here)
# --------------------------------------------------------------------------------------------

Tri = bool | None


def _and(values: Sequence[Tri]) -> Tri:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _or(values: Sequence[Tri]) -> Tri:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _not(value: Tri) -> Tri:
    return None if value is None else not value


class InvalidPolicy(ValueError):
    """A policy IAM (and so ECR's SetRepositoryPolicy) rejects."""


# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _glob_pattern(pattern: str) -> str:
    """The regular expression of an IAM wildcard pattern: ``*`` any run, ``?`` one character."""
    return "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )


def _glob_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(_glob_pattern(pattern), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's ``StringLike`` match: ``*`` any run of characters, ``?`` exactly one."""
    return _glob_regex(pattern, ignore_case).fullmatch(value) is not None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_KEY_NAME = re.compile(r"[^\s,'{}$]+")
# the documented default: the key, a comma and a space, the default in single quotes
# (IAM user guide, "Policy variables": "Specifying default values")
_DEFAULT = re.compile(r"([^\s,'{}$]+), '([^']*)'")


def _substitute(value: str, request: Request, variables: bool) -> list[tuple[str, bool]] | None:
    """``value`` as (text, is_literal) pieces with policy variables substituted (their values are
    literal, never wildcards); None when a variable's value is not known here."""
    if not variables or "${" not in value:
        return [(value, False)]
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in _VARIABLE.finditer(value):
        pieces.append((value[position : match.start()], False))
        position = match.end()
        inner = match.group(1)
        if inner in ("*", "?", "$"):
            pieces.append((inner, True))
            continue
        default_match = _DEFAULT.fullmatch(inner)
        if default_match:
            key, default = default_match.group(1), default_match.group(2)
        elif _KEY_NAME.fullmatch(inner):
            key, default = inner, None
        else:
            return None  # not a documented form (a default without ", ", spaces): unknown
        found = request.value(key)
        if isinstance(found, str):
            pieces.append((found, True))
        elif found is None and default is not None:
            pieces.append((default, True))
        else:
            return None  # absent without a default, multi-valued, or not known here
    pieces.append((value[position:], False))
    return pieces


def _pieces_regex(
    pieces: list[tuple[str, bool]], wildcard: bool, ignore_case: bool
) -> re.Pattern[str]:
    out = []
    for text, literal in pieces:
        if literal or not wildcard:
            out.append(re.escape(text))
        else:
            out.append(_glob_pattern(text))
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _arn_parts(value: str) -> list[str] | None:
    """The six colon-separated components of an ARN (the last keeps its colons), or None."""
    parts = value.split(":", 5)
    return parts if len(parts) == 6 and parts[0] == "arn" else None


def _arn_match(pattern: list[str], value: str) -> bool:
    """ArnLike/ArnEquals: each of the six components globbed on its own."""
    parts = _arn_parts(value)
    return parts is not None and all(glob_match(pattern[i], parts[i]) for i in range(6))


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _date(value: str) -> float | None:
    import calendar  # rare operators: imported when used
    from datetime import datetime

    text = value.strip()
    try:
        return float(int(text))
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))  # "Z": Python 3.10
    except ValueError:
        return None
    return float(calendar.timegm(parsed.utctimetuple()))  # naive times are UTC, as in IAM


def _compare(kind: str, a: float, b: float) -> bool:
    if kind == "equals":
        return a == b
    if kind == "lessthan":
        return a < b
    if kind == "lessthanequals":
        return a <= b
    if kind == "greaterthan":
        return a > b
    return a >= b  # greaterthanequals


def _ip_match(expected: str, actual: str) -> bool:
    import ipaddress  # rare operators: imported when used

    try:
        return ipaddress.ip_address(actual) in ipaddress.ip_interface(expected).network
    except ValueError:
        return False


def _string_match(
    expected: str, actual: str, request: Request, variables: bool, wildcard: bool, ignore_case: bool
) -> Tri:
    pieces = _substitute(expected, request, variables)
    if pieces is None:
        return None
    return _pieces_regex(pieces, wildcard, ignore_case).fullmatch(actual) is not None


def _arn_matcher(expected: str, actual: str, variables: bool) -> Tri:
    pattern = _arn_parts(expected)
    if pattern is None:
        return None  # not an ARN pattern: IAM's answer is not documented
    if variables and "${" in expected:
        # a policy variable (${aws:SourceAccount}, ${*}) in an ARN: AWS does not document
        # whether it is substituted before or after the ARN is cut at its colons (the
        # independent simulator cuts first), so the answer is not known here
        return None
    return _arn_match(pattern, actual)


def _ordered_match(
    expected: str, actual: str, kind: str, parse: Callable[[str], float | None]
) -> Tri:
    """Numeric and Date operators: None when the policy value is not a number (or date)."""
    b = parse(expected)
    if b is None:
        return None
    a = parse(actual)
    if a is None:
        return False
    return _compare(kind, a, b)


def _bool_match(expected: str, actual: str, request: Request, variables: bool) -> Tri:
    pieces = _substitute(expected, request, variables)
    if pieces is None:
        return None
    return "".join(t for t, _ in pieces).lower() == actual.lower()


def _binary_match(expected: str, actual: str) -> bool:
    import base64  # rare operators: imported when used

    try:
        return base64.b64decode(expected, validate=True) == base64.b64decode(actual, validate=True)
    except ValueError:
        return expected == actual


# operator (lower case, without IfExists) -> (negated, family, option)
_OPERATORS: dict[str, tuple[bool, str, str]] = {
    "stringequals": (False, "string", ""),
    "stringnotequals": (True, "string", ""),
    "stringequalsignorecase": (False, "string", "ignorecase"),
    "stringnotequalsignorecase": (True, "string", "ignorecase"),
    "stringlike": (False, "string", "like"),
    "stringnotlike": (True, "string", "like"),
    "arnequals": (False, "arn", ""),
    "arnlike": (False, "arn", ""),
    "arnnotequals": (True, "arn", ""),
    "arnnotlike": (True, "arn", ""),
    "bool": (False, "bool", ""),
    "binaryequals": (False, "binary", ""),
    "ipaddress": (False, "ip", ""),
    "notipaddress": (True, "ip", ""),
    "numericnotequals": (True, "numeric", "equals"),
    "datenotequals": (True, "date", "equals"),
    **{
        f"{family}{kind}": (False, family, kind)
        for family in ("numeric", "date")
        for kind in ("equals", "lessthan", "lessthanequals", "greaterthan", "greaterthanequals")
    },
}


def _matches(
    family: str, option: str, expected: str, actual: str, request: Request, variables: bool
) -> Tri:
    """One policy value against one request value; None when the policy value holds a variable
    (or is a number, date) not known here."""
    if family == "string":
        return _string_match(
            expected, actual, request, variables, option == "like", option == "ignorecase"
        )
    if family == "arn":
        return _arn_matcher(expected, actual, variables)
    if family == "numeric":
        return _ordered_match(expected, actual, option, _number)
    if family == "date":
        return _ordered_match(expected, actual, option, _date)
    if family == "bool":
        return _bool_match(expected, actual, request, variables)
    if family == "binary":
        return _binary_match(expected, actual)
    return _ip_match(expected, actual)


CONDITION_OPERATORS: frozenset[str] = frozenset({*_OPERATORS, "null"})
"""Every IAM condition operator (lower case, without ``ForAnyValue:``/``ForAllValues:`` and
``IfExists``)."""


@dataclass(frozen=True)
class _Operator:
    qualifier: str  # "", "foranyvalue", "forallvalues"
    base: str
    if_exists: bool


@lru_cache(maxsize=1024)
def _parse_operator(operator: str) -> _Operator:
    """The parts of a condition operator; raises InvalidPolicy for one IAM does not know."""
    text = operator
    qualifier = ""
    if ":" in text:
        prefix, text = text.split(":", 1)
        qualifier = prefix.lower()
        if qualifier not in ("foranyvalue", "forallvalues"):
            raise InvalidPolicy(f"unknown condition operator {operator!r}")
    base = text.lower()
    if_exists = base.endswith("ifexists")
    if if_exists:
        base = base[: -len("ifexists")]
    if base not in CONDITION_OPERATORS or (base == "null" and (if_exists or qualifier)):
        raise InvalidPolicy(f"unknown condition operator {operator!r}")
    return _Operator(qualifier, base, if_exists)


# The data type of the global condition keys the two requests carry (IAM user guide, "AWS global
# condition context keys": each key names the operators it works with). A key not listed here
# keeps whatever operator the policy uses.
_KEY_TYPES: dict[str, str] = {
    **dict.fromkeys(("aws:sourcearn", "aws:principalarn"), "arn"),
    **dict.fromkeys(
        (
            "aws:sourceaccount",
            "aws:sourceorgid",
            "aws:sourceorgpaths",
            "aws:sourceowner",
            "aws:principalaccount",
            "aws:principalorgid",
            "aws:principalorgpaths",
            "aws:principalservicename",
            "aws:principalservicenameslist",
            "aws:principaltype",
            "aws:userid",
            "aws:username",
            "aws:sourceidentity",
            "aws:federatedprovider",
            "aws:sourcevpc",
            "aws:sourcevpce",
            "aws:requestedregion",
            "aws:resourceaccount",
            "aws:resourceorgid",
            "aws:resourceorgpaths",
            "aws:calledvia",
            "aws:calledviafirst",
            "aws:calledvialast",
            "aws:tagkeys",
        ),
        "string",
    ),
    **dict.fromkeys(
        (
            "aws:principalisawsservice",
            "aws:securetransport",
            "aws:multifactorauthpresent",
            "aws:viaawsservice",
        ),
        "bool",
    ),
    **dict.fromkeys(("aws:currenttime", "aws:tokenissuetime"), "date"),
    "aws:epochtime": "date numeric",
    "aws:multifactorauthage": "numeric",
    "aws:sourceip": "ip",
}
_TAG_PREFIXES = ("aws:principaltag/", "aws:requesttag/", "aws:resourcetag/")
_TYPED_FAMILIES = frozenset({"bool", "date", "numeric", "ip", "binary"})


def _key_type(key: str) -> str | None:
    k = key.lower()
    if k.startswith(_TAG_PREFIXES):
        return "string"
    return _KEY_TYPES.get(k)


def _type_mismatch(family: str, key: str) -> str | None:
    """Why a Bool, Date, Numeric, IP or Binary operator does not fit ``key``'s documented data
    type (None when it fits, or the key's type is not known here)."""
    key_type = _key_type(key)
    if family not in _TYPED_FAMILIES or key_type is None or family in key_type.split():
        return None
    return f"the IAM docs define {key_type.replace(' ', ' or ')} operators for {key}, not {family}"


def _condition_reason(
    operator: str, key: str, expected: Any, request: Request, variables: bool
) -> str | None:
    """Why one key of one condition operator cannot be decided here; None when it can."""
    if _condition(operator, key, expected, request, variables) is not None:
        return None
    return f"{operator} on {key}: {_unknown_reason(operator, key, expected, request)}"


def _unknown_reason(operator: str, key: str, expected: Any, request: Request) -> str:
    """Why a condition cannot be decided here (only called when it cannot)."""
    op = _parse_operator(operator)
    if any(is_unresolved(_scalar(v)) for v in _as_list(expected)):
        return "its value is not resolved at synth time"
    mismatch = None if op.base == "null" else _type_mismatch(_OPERATORS[op.base][1], key)
    if mismatch is not None:
        return mismatch
    actual = request.value(key)
    if actual is MAYBE_PRESENT:
        return f"the {request.side}'s request may or may not carry {key}"
    if actual is UNKNOWN_VALUE:
        return f"the {request.side}'s request carries {key} with a value not known here"
    return "a policy variable or pattern in its value that cannot be read here"


def _condition(operator: str, key: str, expected: Any, request: Request, variables: bool) -> Tri:
    """One key of one condition operator, tri-state."""
    op = _parse_operator(operator)
    values = [_scalar(v) for v in _as_list(expected)]
    if any(is_unresolved(v) for v in values):
        return None
    if op.base != "null" and _type_mismatch(_OPERATORS[op.base][1], key) is not None:
        return None  # an operator the key's data type does not document: undecidable
    actual = request.value(key)
    if op.base == "null":
        if isinstance(actual, _Value) and actual is MAYBE_PRESENT:
            return None
        wanted = "false" if actual is not None else "true"
        return any(v.lower() == wanted for v in values)
    negated, family, option = _OPERATORS[op.base]
    if actual is None:
        return _absent_result(op, negated)
    if isinstance(actual, _Value):
        return None  # a value not known here (or a key that may be absent)
    request_values = list(actual) if isinstance(actual, tuple) else [str(actual)]
    if op.base.startswith("arn") and any(_arn_parts(v) is None for v in request_values):
        return False  # an ARN operator on a value that is not an ARN matches nothing, negated too

    def matches(one: str) -> Tri:
        return _or([_matches(family, option, v, one, request, variables) for v in values])

    if op.qualifier == "forallvalues":
        # every request value matches some policy value (negated: none of them does)
        results = [matches(one) for one in request_values]
        return _and([_not(r) if negated else r for r in results])
    if op.qualifier == "foranyvalue":
        results = [matches(one) for one in request_values]
        return _or([_not(r) if negated else r for r in results])
    if len(request_values) != 1:
        return False  # a multi-valued key needs ForAnyValue/ForAllValues
    result = matches(request_values[0])
    return _not(result) if negated else result


def _absent_result(op: _Operator, negated: bool) -> Tri:
    if op.qualifier == "forallvalues":
        return True
    if op.qualifier == "foranyvalue":
        return False
    return op.if_exists or negated


def _scalar(value: Any) -> str:
    """A condition value as IAM reads it: text, JSON true/false and numbers as their text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _conditions(conditions: Any, request: Request, variables: bool) -> Tri:
    """Every key of every operator must hold (a valid policy: see _check_statement)."""
    results: list[Tri] = []
    for operator, block in (conditions or {}).items():
        for key, expected in block.items():
            results.append(_condition(str(operator), str(key), expected, request, variables))
            if results[-1] is False:
                return False
    return _and(results)


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(
            glob_match(str(p), action, ignore_case=True) for p in _as_list(statement["NotAction"])
        )
    return any(
        glob_match(str(p), action, ignore_case=True) for p in _as_list(statement.get("Action"))
    )


def _resource_matches(statement: Mapping[str, Any], resource: str | None, variables: bool) -> Tri:
    if "Resource" not in statement and "NotResource" not in statement:
        return True  # a repository policy applies to its repository
    negate = "NotResource" in statement
    patterns = [str(p) for p in _as_list(statement["NotResource" if negate else "Resource"])]
    results: list[Tri] = []
    for pattern in patterns:
        if pattern == "*":
            results.append(True)
        elif (
            resource is None
            or is_unresolved(pattern)
            or is_unresolved(resource)
            or _misplaced_wildcard(pattern) is not None
        ):
            results.append(None)
        else:
            results.append(_arn_matcher(pattern, resource, variables))
    found = _or(results)
    return _not(found) if negate else found


def _misplaced_wildcard(pattern: str) -> str | None:
    """Where a resource ARN pattern has a wildcard AWS does not allow, or None.

    The IAM user guide allows ``*`` and ``?`` within the segments of a resource ARN, but not in
    the service segment ("Resource" element) nor in the resource type (IAM identifiers: "don't
    use a wildcard in the ``user/`` ... part of the ARN", ``arn:aws:iam::123456789012:u*`` "is
    not allowed"). What IAM does with such a pattern is not documented: never a match, never a
    miss. A resource part that is exactly ``*`` is every resource, as documented.
    """
    parts = _arn_parts(pattern)
    if parts is None:
        return None
    if any(char in parts[2] for char in "*?"):
        return "service"
    resource = parts[5]
    kind = re.split("[/:]", resource)[0]
    if resource != "*" and any(char in kind for char in "*?"):
        return "resource type"
    return None


_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_PRINCIPAL_ARN = re.compile(
    r"arn:(?P<partition>[^:]+):(?:iam|sts)::(?P<account>[^:]*):(?P<rest>.+)"
)


def _aws_principal_match(value: str, request: Request) -> Tri:
    """Does the AWS principal ``value`` name the deployer (a principal of the function account)?"""
    if is_unresolved(value):
        return None
    if _ACCOUNT_ID.fullmatch(value):
        return value == request.account
    match = _PRINCIPAL_ARN.fullmatch(value)
    if (
        match is None
        or match["account"] != request.account
        or match["partition"] != request.partition
    ):
        return False
    if match["rest"] == "root":
        return True
    return None  # a role or user of the account: the deployer may or may not be it


def _principal(statement: Mapping[str, Any], request: Request) -> Tri:
    """Whether the statement's Principal (or NotPrincipal) applies to the request."""
    negate = "NotPrincipal" in statement
    principal = statement["NotPrincipal" if negate else "Principal"]
    listed = _listed(principal, request, negate)
    return _not(listed) if negate else listed


def _listed(principal: Any, request: Request, negate: bool) -> Tri:
    """Whether the request's principal is among those listed (a valid policy's "*" or object)."""
    if principal == "*":
        return True
    results: list[Tri] = []
    for kind, values in principal.items():
        for value in map(str, _as_list(values)):
            if kind == "AWS" and value == "*":
                results.append(True)
            elif kind == "Service" and request.side == "service":
                results.append(None if is_unresolved(value) else value == request.service)
            elif kind == "AWS" and request.side == "deployer":
                found = _aws_principal_match(value, request)
                if negate and found is True:
                    # NotPrincipal names the account (or its root). The IAM user guide asks to
                    # list the account *and* a role's ARNs to exempt the role, without saying
                    # whether the account alone exempts its roles; the deployer's role is not
                    # known here either: unknown, never a guess.
                    found = None
                results.append(found)
            else:
                results.append(None if is_unresolved(value) else False)
    return _or(results)


# --------------------------------------------------------------------------------------------
# Policies and statements
# --------------------------------------------------------------------------------------------

_VERSIONS = ("2012-10-17", "2008-10-17")


def _statements_of(policy: Mapping[str, Any] | None) -> list[Any]:
    if policy is None:
        return []
    if not isinstance(policy, Mapping):
        raise InvalidPolicy("the policy is not a JSON object")
    statements = policy.get("Statement")
    if statements is None:
        raise InvalidPolicy("the policy has no Statement")
    return _as_list(statements)


# The policy grammar (IAM user guide, "IAM JSON policy language grammar"): a policy holds
# Version, Id and Statement; a statement Sid, Effect, (Not)Principal, (Not)Action, (Not)Resource
# and Condition. Element names are case-sensitive; any other element makes the policy invalid
# (IAM Access Analyzer: "Error - Invalid policy element").
_POLICY_ELEMENTS = ("Version", "Id", "Statement")
_STATEMENT_ELEMENTS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)


def _unknown_element(document: Mapping[Any, Any], allowed: tuple[str, ...]) -> str | None:
    return next((str(k) for k in document if k not in allowed), None)


def _check_statement(statement: Any, name: str) -> None:
    if not isinstance(statement, Mapping):
        raise InvalidPolicy(f"statement {name} is not an object")
    unknown = _unknown_element(statement, _STATEMENT_ELEMENTS)
    if unknown is not None:
        raise InvalidPolicy(
            f"statement {name} has the element {unknown!r}, which the IAM policy grammar does "
            f"not know (a statement holds only {', '.join(_STATEMENT_ELEMENTS)})"
        )
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise InvalidPolicy(
            f'statement {name} has Effect {effect!r}: IAM accepts exactly "Allow" or "Deny"'
        )
    if ("Principal" in statement) == ("NotPrincipal" in statement):
        raise InvalidPolicy(
            f"statement {name} must have exactly one of Principal and NotPrincipal "
            "(a repository policy is a resource-based policy)"
        )
    if ("Action" in statement) == ("NotAction" in statement):
        raise InvalidPolicy(f"statement {name} must have exactly one of Action and NotAction")
    if "Resource" in statement and "NotResource" in statement:
        raise InvalidPolicy(f"statement {name} has both Resource and NotResource")
    for element in ("Action", "NotAction"):
        for action in _as_list(statement.get(element)):
            if not isinstance(action, str) or (action != "*" and ":" not in action):
                raise InvalidPolicy(f"statement {name}: {element} {action!r} is not service:action")
    condition = statement.get("Condition")
    if condition is not None:
        if not isinstance(condition, Mapping):
            raise InvalidPolicy(f"statement {name}: Condition is not an object")
        for operator, block in condition.items():
            try:
                _parse_operator(str(operator))
            except InvalidPolicy as error:
                raise InvalidPolicy(f"statement {name}: {error}") from None
            if not isinstance(block, Mapping):
                raise InvalidPolicy(f"statement {name}: condition {operator} is not an object")
            for value in (v for values in block.values() for v in _as_list(values)):
                if not isinstance(value, (str, int, float, bool)):
                    raise InvalidPolicy(
                        f"statement {name}: condition value {value!r} is not a string"
                    )
    principal = statement.get("Principal", statement.get("NotPrincipal"))
    if principal != "*" and not isinstance(principal, Mapping):
        raise InvalidPolicy(
            f'statement {name}: Principal {principal!r} is neither "*" nor an object'
        )
    if isinstance(principal, Mapping):
        for kind in principal:
            if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
                raise InvalidPolicy(f"statement {name}: unknown principal type {kind!r}")


def policy_problems(policy: Mapping[str, Any] | None) -> list[str]:
    """Why IAM (and ECR's SetRepositoryPolicy) would reject the policy; empty when valid."""
    if policy is None:
        return []
    try:
        statements = _statements_of(policy)
        unknown = _unknown_element(policy, _POLICY_ELEMENTS)
        if unknown is not None:
            raise InvalidPolicy(
                f"the policy has the element {unknown!r}, which the IAM policy grammar does not "
                f"know (a policy holds only {', '.join(_POLICY_ELEMENTS)})"
            )
        version = policy.get("Version")
        if version is not None and version not in _VERSIONS:
            raise InvalidPolicy(f"Version {version!r} is not 2012-10-17 or 2008-10-17")
        for index, statement in enumerate(statements):
            _check_statement(statement, _statement_name(statement, index))
    except InvalidPolicy as error:
        return [str(error)]
    return []


def _statement_name(statement: Any, index: int) -> str:
    sid = statement.get("Sid") if isinstance(statement, Mapping) else None
    return str(sid) if sid else f"#{index}"


@dataclass(frozen=True)
class Decision:
    """The answer for one request: the access and the statements that decided it."""

    access: Access
    statements: tuple[str, ...] = ()
    problem: str = ""
    """Why the policy is invalid (INVALID), or which statements cannot be decided here and why:
    the condition key and operator, the principal or the resource pattern (UNKNOWN)."""


def evaluate_request(
    policy: Mapping[str, Any] | None,
    request: Request,
    *,
    actions: Sequence[str] = ECR_PULL_ACTIONS,
    resource: str | None = None,
) -> Decision:
    """IAM's answer, from the resource policy alone, for ``request`` asking every action.

    GRANTED when an Allow applies to every action and no Deny can; DENIED when a Deny surely
    applies; MISSING when some action has no Allow that can apply; UNKNOWN when the answer
    depends on a value not known here; INVALID for a policy IAM rejects.
    """
    problems = policy_problems(policy)
    if problems:
        return Decision(Access.INVALID, (), problems[0])
    statements = _statements_of(policy)
    variables = policy is not None and policy.get("Version") == "2012-10-17"
    per_action: list[Access] = []
    names: dict[Access, list[str]] = {a: [] for a in Access}
    undecided: dict[str, Mapping[str, Any]] = {}  # statements that may or may not apply
    for action in actions:
        allows: list[tuple[str, Tri]] = []  # (statement name, applies: True or None)
        denies: list[tuple[str, Tri]] = []
        candidates: dict[str, Mapping[str, Any]] = {}
        for index, statement in enumerate(statements):
            if not _action_matches(statement, action):
                continue
            applies = _principal(statement, request)
            if applies is not False:
                applies = _and([applies, _resource_matches(statement, resource, variables)])
            if applies is not False:
                applies = _and(
                    [applies, _conditions(statement.get("Condition"), request, variables)]
                )
            if applies is False:
                continue
            name = _statement_name(statement, index)
            candidates[name] = statement
            if statement["Effect"] == "Deny":
                denies.append((name, applies))
            else:
                if "NotPrincipal" in statement:
                    applies = None  # Allow + NotPrincipal: AWS does not support it
                allows.append((name, applies))
        deny, allow = _or([d for _, d in denies]), _or([a for _, a in allows])
        if deny is True:
            access = Access.DENIED
            names[access] += [n for n, d in denies if d]
        elif allow is False:
            access = Access.MISSING
        elif deny is None or allow is None:
            access = Access.UNKNOWN
            names[access] += [n for n, _ in [*allows, *denies]]
            undecided.update((n, candidates[n]) for n, a in [*allows, *denies] if a is None)
        else:
            access = Access.GRANTED
            names[access] += [n for n, a in allows if a]
        per_action.append(access)
    for access in (Access.DENIED, Access.MISSING, Access.UNKNOWN, Access.GRANTED):
        if access in per_action:
            ordered = (
                tuple(sorted(set(names[access])))
                if access is not Access.DENIED
                else tuple(dict.fromkeys(names[access]))
            )
            why = ""
            if access is Access.UNKNOWN:
                why = "; ".join(
                    f"statement {n}: {_statement_reason(st, request, resource, variables)}"
                    for n, st in undecided.items()
                )
            return Decision(access, ordered, why)
    return Decision(Access.GRANTED)


def _statement_reason(
    statement: Mapping[str, Any], request: Request, resource: str | None, variables: bool
) -> str:
    """Why a statement may or may not apply to ``request``: the first element that cannot be
    decided here (its principal, its resource pattern, or a condition key and operator)."""
    if _principal(statement, request) is None:
        element = "NotPrincipal" if "NotPrincipal" in statement else "Principal"
        return (
            f"whether its {element} names the {request.side} cannot be told here (a principal "
            "not resolved at synth time, or a role or user of the account)"
        )
    if _resource_matches(statement, resource, variables) is None:
        return _resource_reason(statement, resource)
    for operator, block in (statement.get("Condition") or {}).items():
        for key, expected in block.items():
            why = _condition_reason(str(operator), str(key), expected, request, variables)
            if why is not None:
                return why
    return "Allow with NotPrincipal, which AWS does not support in a resource policy"


def _resource_reason(statement: Mapping[str, Any], resource: str | None) -> str:
    element = "NotResource" if "NotResource" in statement else "Resource"
    for pattern in map(str, _as_list(statement[element])):
        where = _misplaced_wildcard(pattern)
        if where is not None:
            return (
                f"{element} {pattern} has a wildcard in the {where}, where AWS's ARN reference "
                "does not allow one"
            )
    if resource is None:
        return f"{element} is matched against the repository's ARN, which is not known here"
    return f"{element} holds a value not resolved at synth time, or a policy variable in an ARN"


def evaluate_pull(
    policy: Mapping[str, Any] | None,
    *,
    function_arn: str,
    function_account: str,
    repository_account: str,
    partition: str = "aws",
    organization_id: str | None = None,
    repository_arn: str | None = None,
    actions: Sequence[str] = ECR_PULL_ACTIONS,
) -> PullAccess:
    """Whether ``policy`` lets one function run an image from the repository.

    Two grants are needed (DOMAIN.md): the function's account (its root principal, or ``*``
    limited to its organization) when it is not the repository's account, and the Lambda
    service principal with a source condition that matches the function's ARN. In the
    repository's own account the deployer's identity policy suffices, unless a Deny of the
    repository policy applies to it. ``organization_id`` is the function account's organization
    when known; conditions on it are otherwise UNKNOWN. ``repository_arn``, when known, is
    matched against ``Resource``/``NotResource`` elements. ``actions``: what each side must be
    allowed (default: the two pull actions).
    """
    deployer = deployer_request(
        function_account=function_account, partition=partition, organization_id=organization_id
    )
    decision = evaluate_request(policy, deployer, actions=actions, resource=repository_arn)
    if decision.access is Access.INVALID:
        root = Grant(Access.INVALID, f"the repository policy is invalid: {decision.problem}")
    elif function_account == repository_account:
        # the deployer's identity policy grants; only a Deny of the repository policy can block
        own = evaluate_request(
            _denies_only(policy), deployer, actions=actions, resource=repository_arn
        )
        if own.access is Access.GRANTED:
            root = Grant(Access.NOT_NEEDED, "the function is in the repository's account")
        else:
            detail = _root_detail(own.access, function_account, partition, own.problem)
            root = Grant(own.access, detail, own.statements)
    else:
        detail = _root_detail(decision.access, function_account, partition, decision.problem)
        root = Grant(decision.access, detail, decision.statements)
    service_request = lambda_pull_request(
        function_arn=function_arn,
        function_account=function_account,
        partition=partition,
        organization_id=organization_id,
    )
    decision = evaluate_request(policy, service_request, actions=actions, resource=repository_arn)
    if decision.access is Access.INVALID:
        service = Grant(Access.INVALID, f"the repository policy is invalid: {decision.problem}")
    else:
        service = Grant(
            decision.access,
            _service_detail(decision.access, function_arn, decision.problem),
            decision.statements,
        )
    return PullAccess(root=root, service=service)


def _denies_only(policy: Mapping[str, Any] | None) -> dict[str, Any]:
    """The policy's Deny statements after an Allow of everything: what a principal whose identity
    policy grants the pull meets in the repository policy."""
    statements = [s for s in _statements_of(policy) if s.get("Effect") == "Deny"]
    return {**(policy or {}), "Statement": [*statements, _ALLOW_ALL]}


_ALLOW_ALL = {"Sid": "identity", "Effect": "Allow", "Principal": "*", "Action": "*"}


def _root_detail(access: Access, account: str, partition: str, reason: str) -> str:
    actions = " and ".join(ECR_PULL_ACTIONS)
    if access is Access.GRANTED:
        return f"account {account} may pull ({actions})"
    if access is Access.DENIED:
        return f"a Deny statement blocks account {account}: remove it or exclude the account"
    if access is Access.UNKNOWN:
        return (
            f"whether account {account} may pull cannot be checked here ({reason}): make sure "
            "the account meets the policy"
        )
    return (
        f"the repository policy does not allow {root_arn(account, partition)} to {actions}: "
        "add the account to the repository policy (CrossAccountImageRepo consumers=[...])"
    )


def _service_detail(access: Access, function_arn: str, reason: str) -> str:
    if access is Access.GRANTED:
        return f"lambda.amazonaws.com may pull for {function_arn}"
    if access is Access.DENIED:
        return f"a Deny statement blocks lambda.amazonaws.com for {function_arn}"
    if access is Access.UNKNOWN:
        return (
            f"whether lambda.amazonaws.com may pull for {function_arn} cannot be checked here "
            f"({reason})"
        )
    return (
        f"no statement allows lambda.amazonaws.com to pull with an aws:SourceArn matching "
        f"{function_arn}: add it to the statement's StringLike aws:SourceArn list"
    )


def unconditioned_service_statements(policy: Mapping[str, Any] | None) -> list[str]:
    """Names of Allow statements for a service principal with no source condition.

    Such a statement lets any account's resources use the service to reach the repository
    (the confused-deputy problem); ECR's guidance is to add ``aws:SourceArn`` or
    ``aws:SourceAccount``.
    """
    found = []
    for index, statement in enumerate(_as_list((policy or {}).get("Statement"))):
        if not isinstance(statement, Mapping) or str(statement.get("Effect")).lower() != "allow":
            continue
        principal = statement.get("Principal")
        if not (isinstance(principal, Mapping) and principal.get("Service")):
            continue
        keys = {
            str(k).lower()
            for block in _mapping(statement.get("Condition")).values()
            if isinstance(block, Mapping)
            for k in block
        }
        if not keys & _SOURCE_KEYS:
            found.append(_statement_name(statement, index))
    return found
