"""The function status ``missing-service-grant``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import ERROR, Rule

ID = "missing-service-grant"

RULE: Rule = Rule(
    ID,
    "status",
    "no lambda.amazonaws.com statement whose condition matches the function",
    (
        "Allow lambda.amazonaws.com ecr:BatchGetImage and ecr:GetDownloadUrlForLayer with"
        " an aws:SourceArn condition matching the function."
    ),
    ERROR,
)
