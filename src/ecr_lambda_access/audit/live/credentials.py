"""Credentials per account (the seam tests replace): a named profile, an assumed role, or the
default credentials, each checked with ``sts:GetCallerIdentity``. boto3 is imported only here,
and only when :class:`AccountCredentials` is made (or :func:`require_boto3` is called).
"""

from __future__ import annotations

import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ...errors import EcrLambdaAccessError

LIVE_EXTRA = "ecr-lambda-access[live]"


_WORKERS = 16
_RETRY_ATTEMPTS = 8


_SESSION_NAME = "ecr-lambda-access-live"


class LiveUnavailableError(EcrLambdaAccessError):
    """``--live`` without boto3 installed (a usage error: exit status 2)."""


def require_boto3() -> None:
    """Raise :class:`LiveUnavailableError` when boto3 cannot be imported."""
    try:
        import boto3  # noqa: F401
        import botocore  # noqa: F401
    except ImportError:
        raise LiveUnavailableError(
            f"--live needs boto3, which is not installed: pip install '{LIVE_EXTRA}' "
            "(the live extra)"
        ) from None


def role_arn_for(template: str, account: str) -> str:
    """The role ARN of ``--assume-role-arn`` for one account (``{account}`` substituted)."""
    return template.replace("{account}", account)


@dataclass(frozen=True)
class AccountAccess:
    """How the check reached one account, or why it could not."""

    account: str
    via: str
    """``profile NAME``, ``role ARN`` or ``default credentials``."""
    identity: str | None = None
    """The caller ARN ``sts:GetCallerIdentity`` returned."""
    error: str | None = None

    @property
    def reachable(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "via": self.via,
            "identity": self.identity,
            "reachable": self.reachable,
            "error": self.error,
        }


_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s\"'<>]*@")
"""A URL's user information: up to the authority's last ``@`` (a password may hold one)."""
_SECRET_VARIABLES = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


def redact(text: str) -> str:
    """``text`` with no credentials in it: the user information of every URL
    (``https://user:SECRET@host`` from ``AWS_ENDPOINT_URL``, a config file or an error message)
    and the values of the environment's AWS secret variables are replaced by ``***``."""
    text = _USERINFO.sub(r"\1***@", text)
    for name in _SECRET_VARIABLES:
        secret = os.environ.get(name)
        if secret and len(secret) >= 8 and secret in text:
            text = text.replace(secret, "***")
    return text


def _error_text(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, Mapping):
        info = response.get("Error") or {}
        code, message = info.get("Code", ""), info.get("Message", "")
        operation = getattr(error, "operation_name", "")
        return redact(f"{operation}: {code}: {message}".strip(": "))
    return redact(f"{type(error).__name__}: {error}")


def _error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, Mapping):
        return str((response.get("Error") or {}).get("Code", ""))
    return ""


class AccountCredentials:
    """Credentials per account: a named profile, an assumed role, or the default credentials.

    ``profiles`` maps an account id to a profile name (``--profile ACCOUNT=PROFILE``);
    ``role_arn_template`` is ``arn:aws:iam::{account}:role/NAME`` (``--assume-role-arn``), used for
    every account without a profile. ``session_factory`` makes boto3 sessions (default
    ``boto3.Session``; called with no argument for the base session, with ``profile_name=`` for a
    profile): tests pass one whose clients are mocked.

    Every client comes from the one base session (service models load once), with the account's
    credentials, the ``standard`` retry mode and a connection pool as large as the thread pool.
    """

    def __init__(
        self,
        *,
        profiles: Mapping[str, str] | None = None,
        role_arn_template: str | None = None,
        session_factory: Callable[..., Any] | None = None,
        max_workers: int = _WORKERS,
    ) -> None:
        require_boto3()
        import boto3
        from botocore.config import Config

        from ..._version import __version__

        self.profiles = dict(profiles or {})
        self.role_arn_template = role_arn_template
        self._factory = session_factory or boto3.Session
        self._base = self._factory()
        self._config = Config(
            retries={"mode": "standard", "max_attempts": _RETRY_ATTEMPTS},
            max_pool_connections=max(10, max_workers),
            connect_timeout=10,
            read_timeout=30,
            user_agent_extra=f"ecr-lambda-access/{__version__}",
        )
        self._lock = threading.Lock()
        self._account_locks: dict[str, threading.Lock] = {}
        self._access: dict[str, AccountAccess] = {}
        self._credentials: dict[str, dict[str, str] | None] = {}
        self._clients: dict[tuple[str | None, str, str], Any] = {}
        self.calls: Counter[str] = Counter()
        """STS operations called (AssumeRole, GetCallerIdentity)."""

    def _count(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] += 1

    def via(self, account: str) -> str:
        if account in self.profiles:
            return f"profile {self.profiles[account]}"
        if self.role_arn_template:
            return f"role {role_arn_for(self.role_arn_template, account)}"
        return "default credentials"

    def _client(self, key: str | None, service: str, region: str) -> Any:
        with self._lock:
            client = self._clients.get((key, service, region))
            if client is None:
                secrets = self._credentials.get(key) if key is not None else None
                client = self._base.client(
                    service, region_name=region, config=self._config, **(secrets or {})
                )
                self._clients[(key, service, region)] = client
            return client

    def _resolve(self, account: str, region: str) -> dict[str, str] | None:
        """The account's credentials (None: the base session's own)."""
        if account in self.profiles:
            session = self._factory(profile_name=self.profiles[account])
            credentials = session.get_credentials()
            if credentials is None:
                raise LookupError(f"profile {self.profiles[account]} has no credentials")
            frozen = credentials.get_frozen_credentials()
            return {
                "aws_access_key_id": frozen.access_key,
                "aws_secret_access_key": frozen.secret_key,
                "aws_session_token": frozen.token,
            }
        if self.role_arn_template:
            sts = self._client(None, "sts", region)
            self._count("sts:AssumeRole")
            role = sts.assume_role(
                RoleArn=role_arn_for(self.role_arn_template, account),
                RoleSessionName=_SESSION_NAME,
            )["Credentials"]
            return {
                "aws_access_key_id": role["AccessKeyId"],
                "aws_secret_access_key": role["SecretAccessKey"],
                "aws_session_token": role["SessionToken"],
            }
        return None

    def access(self, account: str, region: str) -> AccountAccess:
        """Reach the account once (thread-safe); the answer is cached."""
        with self._lock:
            lock = self._account_locks.setdefault(account, threading.Lock())
        with lock:
            known = self._access.get(account)
            if known is not None:
                return known
            via = self.via(account)
            try:
                secrets = self._resolve(account, region)
                with self._lock:
                    self._credentials[account] = secrets
                self._count("sts:GetCallerIdentity")
                identity = self._client(account, "sts", region).get_caller_identity()
                found = str(identity.get("Account"))
                if found != account:
                    hint = (
                        f"map the account to its own profile (--profile {account}=PROFILE) "
                        "or give --assume-role-arn"
                    )
                    access = AccountAccess(
                        account,
                        via,
                        identity.get("Arn"),
                        f"cannot be used: its credentials are for account {found}: {hint}",
                    )
                else:
                    access = AccountAccess(account, via, identity.get("Arn"))
            except Exception as error:  # every failure to reach an account is a reason, not a crash
                access = AccountAccess(
                    account, via, error=f"cannot be reached: {_error_text(error)}"
                )
            self._access[account] = access
            return access

    def client(self, account: str, service: str, region: str) -> Any:
        """A client of a reachable account (call :meth:`access` first)."""
        return self._client(account, service, region)
