"""The package as users get it: sdist and wheel build and pass the checks PyPI cares about, the
wheel installs in a fresh venv and works there (the command, a synth), and the API reference builds.

One build (sdist, then the wheel from the sdist, as a release does) serves every test here; the
fresh venvs reuse pip's cache and skip byte-compiling, so they take seconds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
import tomllib
from support import ROOT

import ecr_lambda_access

PIP_QUIET = ["--quiet", "--disable-pip-version-check", "--no-compile"]
BIN = Path(sys.executable).parent


def run(*command: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(c) for c in command],
        capture_output=True,
        text=True,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )
    assert result.returncode == 0, f"{command}: {result.stdout}\n{result.stderr}"
    return result  # type: ignore[no-any-return]


class Built:
    def __init__(self, outdir: Path) -> None:
        run(
            sys.executable,
            "-m",
            "build",
            "--outdir",
            outdir,
            ROOT,
            env={**os.environ, "PIP_CONSTRAINT": str(ROOT / "constraints.txt")},
        )
        (self.sdist,) = outdir.glob("*.tar.gz")
        (self.wheel,) = outdir.glob("*.whl")

    def fresh_venv(self, where: Path, *pip_args: str) -> Path:
        """A new venv (no pip of its own) with the wheel installed by this venv's pip."""
        run(sys.executable, "-m", "venv", "--without-pip", where)
        python = where / "bin" / "python"
        run(
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            *PIP_QUIET,
            "-c",
            ROOT / "constraints.txt",
            *pip_args,
            self.wheel,
        )
        return where / "bin"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(tmp_path_factory.mktemp("dist"))


def test_version_has_one_source() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    dynamic = pyproject["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "ecr_lambda_access._version.__version__"}
    from ecr_lambda_access import _version

    assert ecr_lambda_access.__version__ is _version.__version__  # the facade re-exports it
    assert re.fullmatch(r"\d+\.\d+\.\d+", ecr_lambda_access.__version__)
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog
    assert f"## [{ecr_lambda_access.__version__}] - " in changelog


def test_license_is_the_apache_2_text() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_sdist_and_wheel_pass_twine_check(built: Built) -> None:
    run(BIN / "twine", "check", "--strict", built.sdist, built.wheel)


def test_wheel_passes_check_wheel_contents(built: Built) -> None:
    result = run(BIN / "check-wheel-contents", built.wheel)
    assert ": OK" in result.stdout


def test_wheel_metadata_and_files(built: Built) -> None:
    version = ecr_lambda_access.__version__
    assert built.wheel.name == f"ecr_lambda_access-{version}-py3-none-any.whl"
    with zipfile.ZipFile(built.wheel) as wheel:
        names = wheel.namelist()
        info = f"ecr_lambda_access-{version}.dist-info"
        metadata = wheel.read(f"{info}/METADATA").decode()
    assert f"{info}/licenses/LICENSE" in names
    assert "ecr_lambda_access/py.typed" in names
    assert not [n for n in names if n.startswith(("tests/", "examples/", "bench/"))]
    assert f"Version: {version}" in metadata
    assert "License-Expression: Apache-2.0" in metadata
    assert "Requires-Dist: aws-cdk-lib<3,>=2.274" in metadata


def test_wheel_in_a_fresh_venv_prints_its_version_and_synthesizes(
    built: Built, tmp_path: Path
) -> None:
    bin_dir = built.fresh_venv(tmp_path / "venv")
    result = run(bin_dir / "ecr-lambda-access", "--version")
    assert result.stdout.strip() == f"ecr-lambda-access {ecr_lambda_access.__version__}"
    app = tmp_path / "app.py"
    app.write_text(
        textwrap.dedent(
            """
            import json, sys
            import ecr_lambda_access
            from aws_cdk import App, Environment, Stack
            from ecr_lambda_access import ContainerFunction, CrossAccountImageRepo

            assert ecr_lambda_access.__file__.startswith(sys.prefix), ecr_lambda_access.__file__
            app = App(outdir=sys.argv[1])
            env = Environment(account="111111111111", region="us-east-1")
            images = CrossAccountImageRepo(
                Stack(app, "Registry", env=env), "Images", repository_name="shared/orders"
            )
            ContainerFunction(
                Stack(app, "Workload", env=Environment(account="222222222222", region="us-east-1")),
                "Worker",
                repository=images,
                tag_or_digest="sha256:" + "ab" * 32,
                function_name="orders-worker",
            )
            app.synth()
            """
        )
    )
    outdir = tmp_path / "cdk.out"
    run(bin_dir / "python", app, outdir, cwd=tmp_path)
    registry = json.loads((outdir / "Registry.template.json").read_text())
    assert "arn:aws:iam::222222222222:root" in json.dumps(registry)
    # and the command audits what the installed library synthesized
    audit = run(bin_dir / "ecr-lambda-access", "audit", outdir, "--strict")
    assert "passed: 1 function(s): 1 ok" in audit.stdout


def test_audit_runs_from_the_wheel_without_its_dependencies(built: Built, tmp_path: Path) -> None:
    # What ImagePullAuditStep installs (`pip install --no-deps`): the audit needs no aws-cdk-lib.
    bin_dir = built.fresh_venv(tmp_path / "venv", "--no-deps")
    assert not list((tmp_path / "venv").glob("lib/python*/site-packages/aws_cdk"))
    # a real assembly (the committed integ snapshot: a registry and a cross-account function)
    assembly = ROOT / "tests" / "integ" / "integ_cross_account.py.snapshot"
    result = run(bin_dir / "python", "-m", "ecr_lambda_access", "audit", assembly, "--strict")
    assert "passed: 1 function(s): 1 ok" in result.stdout
    sarif = tmp_path / "audit.sarif"
    run(bin_dir / "ecr-lambda-access", "audit", assembly, "--format", "sarif", "--output", sarif)
    assert json.loads(sarif.read_text())["version"] == "2.1.0"


def test_api_reference_documents_every_public_name(tmp_path: Path) -> None:
    # In this process (one jsii kernel): pdoc imports the package, constructs included.
    import pdoc
    import pdoc.render

    pdoc.render.configure(docformat="numpy")
    pdoc.pdoc("ecr_lambda_access", output_directory=tmp_path)
    page = (tmp_path / "ecr_lambda_access.html").read_text()
    documented = set(re.findall(r'<section id="([^"]+)"', page))
    assert set(ecr_lambda_access.__all__) <= documented, set(ecr_lambda_access.__all__) - documented
    assert "Lambda function" in page  # docstrings rendered, not only names
