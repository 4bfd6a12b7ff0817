"""What ECR does around a repository, in pure Python (no jsii, no AWS call).

* :mod:`.image_ref`: :class:`ImageRef`, the one image-URI parser of the package;
* :mod:`.replication`: replication rules (``PREFIX_MATCH``), destinations, registry policies;
* :mod:`.templates`: repository creation templates (namespace prefixes, ``ROOT``, ``AppliedFor``).

Shared by the constructs (``CrossAccountImageRepo.add_replica``) and the audit.
"""
