"""Command-line options and ini settings, and turning them into a checked settings object.

Registering options is all this module does at import time; it imports nothing heavy, so an
installed plugin costs nothing when ``--gate`` is not given.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import pytest

from pytest_deploygate.signing.options import add_signing_options

STAGES = ("pre", "post", "all")


def add_options(parser: pytest.Parser) -> None:
    """Register the ``deploygate`` option group and ini settings."""
    group = parser.getgroup("deploygate", "deployment gates (pytest-deploygate)")
    group.addoption("--gate", metavar="SPEC", default=None,
                    help="Run gate(s): 12, GATE-12, 12-production, 10,11,12, current, all.")
    # (Checked by read_settings, not by argparse's choices: pytest's own parse stops before
    # the plugin can remove the earlier records of a command with --gate-stage=bogus.)
    group.addoption("--gate-stage", metavar="{pre,post,all}", default="all",
                    help="pre: what must hold before the deploy; post: what the deploy must "
                         "show (needs a PASS pre record); all: the whole gate (default).")
    group.addoption("--gate-root", metavar="DIR", default=None,
                    help="The gated project's root (default: pytest's rootdir).")
    group.addoption("--gate-state", metavar="PATH", default=None,
                    help="state.json to read (default: <root>/.isdlc/state.json).")
    group.addoption("--gate-project", metavar="ID", action="append", default=[],
                    help="Monorepo: gate the project .isdlc/projects/ID (repeatable; 'all' for "
                         "every project).")
    group.addoption("--gate-record-dir", metavar="DIR", default=None,
                    help="Where gate records are written (default: <root>/gate-records).")
    group.addoption("--gate-now", metavar="ISO-8601", default=None,
                    help="Evaluation clock for every time-dependent check (default: now).")
    group.addoption("--gate-pre-record", metavar="PATH", default=None,
                    help="The pre-stage record a post stage is bound to (default: found in "
                         "the record dir).")
    group.addoption("--gate-version", metavar="VERSION", default=None,
                    help="The release version being gated (default: deploygate.yaml, "
                         "pyproject.toml or package.json).")
    group.addoption("--gate-threshold", metavar="NAME=VALUE", action="append", default=[],
                    help="Override a named threshold (repeatable).")
    group.addoption("--gate-prometheus", metavar="URL", default=None,
                    help="Prometheus base URL for metric criteria (default: deploygate.yaml).")
    group.addoption("--gate-health-url", metavar="URL", action="append", default=[],
                    help="A health endpoint to check (repeatable; adds to deploygate.yaml).")
    group.addoption("--gate-watch", metavar="DURATION", default=None,
                    help="Post stage: keep measuring windowed rollback triggers this long "
                         "(e.g. 15m), deciding ROLLBACK the moment one fires.")
    group.addoption("--gate-update-state", action="store_true", default=False,
                    help="After a decision, write phases.<key>.gate_passed and a "
                         "gate_validation block into state.json (locked, atomic).")
    group.addoption("--gate-validation-record", action="store_true", default=False,
                    help="Also write the framework's docs/.validations/gate-NN-<phase>.json.")
    group.addoption("--gate-no-waivers", action="store_true", default=False,
                    help="Ignore every waiver: evaluate each criterion as if none existed.")
    group.addoption("--gate-allow-commands", action="store_true", default=False,
                    help="Allow 'command' checks to run commands (off: a spec from a pull "
                         "request must not run code on CI by itself).")
    add_signing_options(group)
    parser.addini("deploygate_specs", "Directory of your own gate specs (overrides built-in "
                  "specs of the same gate).", default="gate_specs")
    parser.addini("deploygate_record_dir", "Where gate records are written.", default=None)
    parser.addini("deploygate_max_spec_size", "Largest gate spec, deploygate.yaml or approvers "
                  "file read, in bytes (default 2 MiB).", default=None)
    parser.addini("deploygate_max_evidence_size", "Largest evidence file, state.json, log or "
                  "record read, in bytes (default 64 MiB).", default=None)


















