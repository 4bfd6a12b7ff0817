"""``python -m ecr_lambda_access``: the ``ecr-lambda-access`` command line."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
