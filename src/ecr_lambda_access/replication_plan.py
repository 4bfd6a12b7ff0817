"""Compatibility path: the replication arithmetic is
:mod:`ecr_lambda_access.registry.replication` now."""

from __future__ import annotations

from .registry.replication import *  # noqa: F403
from .registry.replication import FILTER_TYPE, __all__  # noqa: F401
