"""Accounts and Region for the examples: cdk.json context, overridable with `-c key=value`."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

# A placeholder image digest. Push your image and use its digest:
#   aws ecr describe-images --repository-name shared/orders --query 'imageDetails[].imageDigest'
EXAMPLE_DIGEST = "sha256:" + "0123456789abcdef" * 4


@dataclass(frozen=True)
class Settings:
    registry_account: str
    workload_account: str
    second_workload_account: str
    tools_account: str
    region: str

    @classmethod
    def from_context(cls, scope: Construct) -> Settings:
        def get(key: str) -> str:
            value = scope.node.try_get_context(key)
            if not isinstance(value, str) or not value:
                raise ValueError(
                    f"context {key!r} is missing: set it in cdk.json or pass -c {key}=..."
                )
            return value

        return cls(
            registry_account=get("registry_account"),
            workload_account=get("workload_account"),
            second_workload_account=get("second_workload_account"),
            tools_account=get("tools_account"),
            region=get("region"),
        )
