"""Example CDK apps for ecr-lambda-access, synthesized by the top-level app.py (`make synth`).

Each module builds its stacks into an App it is given, with placeholder accounts and Region read
from cdk.json's context (override with `cdk synth -c registry_account=... -c region=...`).
"""
