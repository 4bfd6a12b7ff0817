"""The pipeline check: can every container-image Lambda function of a cloud assembly pull its image?

Pure Python: it reads ``manifest.json`` and the templates of a synthesized cloud assembly
(``cdk.out``), nested assemblies of CDK Pipelines stages included, and never imports jsii or
aws-cdk-lib, so ``ecr-lambda-access audit`` runs in a fraction of a second.

The rooms, in the order the data flows:

* :mod:`.load`: manifests, stage assemblies, templates (:func:`load_assembly`);
* :mod:`.resolve`: intrinsics, with values known only at deploy time carried as placeholders
  that only the model reads;
* :mod:`.model`: the one immutable model of the assembly every reader uses (stacks and their
  environments, repositories with their policy parsed once (:mod:`.policy_state`), functions
  with their parsed image reference (``ImageRef``), replication rules, registry policies,
  creation templates, conditions as scenarios); a value known only at deploy time is a
  :class:`.values.Unknown` that carries its reason;
* :mod:`.checks`: one module per status and finding (id, severity, texts, help link, logic);
* :mod:`.stages`: a function's verdict as an ordered list of small stages (image reference,
  Region, locate the repository and its source, policy, environment, evaluate, replication);
* :mod:`.verdicts`: the runner: each function's stages, each repository's checks;
* :mod:`.rules`: the names of every status and finding kind (declared in :mod:`.checks`);
* :mod:`.report`: the results as plain data;
* :mod:`.formatters`: text and JSON output, one module each.
"""

from __future__ import annotations

from .load import AssemblyError, StackTemplate, load_assembly, stacks_from_template_paths
from .report import AuditReport, Finding, FunctionReport, RepositoryReport
from .rules import *  # noqa: F403 (every status and finding kind, listed in rules.__all__)
from .rules import __all__ as _rules_all
from .verdicts import audit_assembly, audit_stacks

__all__ = [
    "AssemblyError",
    "StackTemplate",
    "FunctionReport",
    "RepositoryReport",
    "Finding",
    "AuditReport",
    *_rules_all,
    "load_assembly",
    "stacks_from_template_paths",
    "audit_assembly",
    "audit_stacks",
]
