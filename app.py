#!/usr/bin/env python3
"""The examples as one CDK app: `make synth` (or `cdk synth`) writes them all to cdk.out/.

Accounts and Region come from cdk.json's context; override them on the command line, e.g.
`cdk synth -c registry_account=123456789012 -c workload_account=210987654321 -c region=eu-west-1`.
"""

from __future__ import annotations

from aws_cdk import App

from examples import (
    cross_account,
    foreign_repository,
    monitoring,
    multi_region,
    pipeline,
    same_account,
)
from examples.settings import Settings


def build(app: App) -> App:
    settings = Settings.from_context(app)
    same_account.build(app, settings)
    registry, workloads = cross_account.build(app, settings)
    foreign_repository.build(app, settings)
    pipeline.build(app, settings)
    replicas = multi_region.build(app, settings)
    source = replicas["MultiRegionRegistry"]
    assert isinstance(source, multi_region.SourceRegistryStack)
    monitoring.build(app, settings, cross_account=(registry, workloads), multi_region=source)
    return app


if __name__ == "__main__":
    build(App()).synth()
