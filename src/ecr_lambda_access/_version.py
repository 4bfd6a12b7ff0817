"""The package's version, its one source (pyproject.toml reads it; CHANGELOG.md follows it).

A module of its own, below every other, so that the modules that print or send the version (the
command, the plugin, the SARIF log, the live check's user agent, the pipeline step) import it
without importing the package's lazy public facade (``ecr_lambda_access/__init__.py``), which in
turn names them: no import cycle.
"""

__version__ = "0.1.0"
