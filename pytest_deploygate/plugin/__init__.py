"""pytest entry point (``pytest11``: ``deploygate``; disable with ``-p no:deploygate``).

Kept tiny on purpose: without ``--gate`` it registers options, the ``gate`` marker and the
fixtures, and imports nothing else (no YAML, no jsonschema, no network). The real work lives in
:mod:`pytest_deploygate.plugin.session`, started only for a gate run.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Sequence
from typing import Any

import pytest

from pytest_deploygate.plugin import plain_import

# Before the imports below: pytest imports this entry point, and everything it imports, through
# its assertion rewriter (see plain_import). The session's cleanup removes the finder.
plain_import.install()

from pytest_deploygate.plugin.gate_command import is_gate_command  # noqa: E402
from pytest_deploygate.plugin.options import add_options  # noqa: E402
from pytest_deploygate.plugin.stash import MAIN_KEY  # noqa: E402


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options of the ``deploygate`` group."""
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Make :mod:`pytest_deploygate.plugin.hookspecs` available to other plugins."""
    from pytest_deploygate.plugin import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_plugin_registered(plugin: object) -> None:
    """pytest registers its :class:`~pytest.Config` as a plugin before any other (this hook
    is replayed for this plugin): a ``--gate`` command that pytest's parse stops after this
    plugin loaded (an unknown option, ``--gate-sign-kye``, ``-o required_plugins=...``, a
    conftest.py that fails to import) never reaches the hooks below, so its earlier records
    go when pytest closes its config, after pytest's own parse failed. (Not from a parse of
    the plugin's own before pytest's: that one cannot know the options an initial conftest.py
    adds, and removed the pre record of an honest post stage run with one.)"""
    if isinstance(plugin, pytest.Config):
        plugin.add_cleanup(functools.partial(_clear_if_stopped_in_the_parse, plugin))


def _clear_if_stopped_in_the_parse(config: pytest.Config) -> None:
    """Remove every stage's earlier records of a ``--gate`` command that never reached
    ``pytest_cmdline_main`` (pytest exits 4 on its own error); say so, or what stayed."""
    if config.stash.get(MAIN_KEY, False) or not is_gate_command(config):
        return
    from pytest_deploygate.gate.record_files import StaleRecord
    from pytest_deploygate.plugin.session import clear_every_stage

    try:
        line = clear_every_stage(config, "pytest stopped it before its session")
    except StaleRecord as exc:
        line = f"deploygate: {exc}"
    sys.stderr.write(line + "\n")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> Any:
    """A ``--gate`` command that never starts its gate run (``--version``, ``--help``,
    ``--markers``, a usage error of its options) removes the earlier records all the same
    (plugin.session); one that cannot remove one, or whose options cannot be read or name no
    gate, fails, saying so."""
    config.stash[MAIN_KEY] = True
    try:
        _refuse_unsafe_signing(config)
        result = yield
    except BaseException:
        _clear_at_the_end(config)
        raise
    if _clear_at_the_end(config) and result == 0:
        return pytest.ExitCode.INTERRUPTED
    return result


def _refuse_unsafe_signing(config: pytest.Config) -> None:
    """A signing gate run takes its options from its command line alone and starts no
    pytest-xdist worker (signing.options): refused here, before the debugging plugin's
    ``pytest_configure`` imports a ``--pdbcls`` module by name, and before xdist's own
    ``pytest_cmdline_main`` starts ``--looponfail``'s worker, which ran the session outside
    this process."""
    if not config.getoption("gate", None):
        return
    from pytest_deploygate.signing.options import (
        KEY_ENV,
        borrowed_options_problem,
        distribution_problem,
    )

    source = "--gate-sign-key" if config.getoption("gate_sign_key", None) else \
        f"${KEY_ENV}" if os.environ.get(KEY_ENV) else None
    problem = (borrowed_options_problem(config) or distribution_problem(config)) if source \
        else None
    if problem:
        raise pytest.UsageError(f"deploygate: {source}: {problem}")


def _clear_at_the_end(config: pytest.Config) -> bool:
    """Clear the records of a command that never ran its gate; whether the command must
    not exit 0 (said). A ``--gate`` command is known by its tokens, never by the options
    parsed (see plugin.gate_command)."""
    if not (is_gate_command(config) or config.getoption("gate", None)):
        return False
    from pytest_deploygate.plugin.session import clear_unless_cleared

    problem = clear_unless_cleared(config)
    if problem:
        sys.stderr.write(problem + "\n")
    return problem is not None


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; start a gate run when ``--gate`` is given."""
    # Installed when this module was imported (or again for a later session in the same
    # process); removed when this session ends.
    config.add_cleanup(plain_import.install())
    config.addinivalue_line(
        "markers",
        "gate(number, section=None, id=None, stage=None): make this test a criterion of a "
        "deployment gate (pytest-deploygate); it joins the gate's record and decision.",
    )
    if config.getoption("gate", None):
        from pytest_deploygate.gate.settings import read_settings
        from pytest_deploygate.plugin.session import start_gate_run

        start_gate_run(config, read_settings(config))


def pytest_deploygate_check_kinds(config: pytest.Config) -> Sequence[Any]:
    """The built-in check kinds (each kind's module is imported when a spec names it)."""
    from pytest_deploygate.checks import builtin_kinds

    return builtin_kinds()


@pytest.fixture
def gate_spec(request: pytest.FixtureRequest) -> Any:
    """The :class:`~pytest_deploygate.spec.model.GateSpec` of the test's gate."""
    from pytest_deploygate.plugin.fixtures import plan_for_request

    return plan_for_request(request).spec


@pytest.fixture
def gate_state(request: pytest.FixtureRequest) -> Any:
    """The gated project's state.json, read-only, with ``gate_state["a.b.c"]`` lookups."""
    from pytest_deploygate.plugin.fixtures import StateView, plan_for_request

    plan = plan_for_request(request)
    assert plan.project is not None
    return StateView(plan.project.state)


@pytest.fixture
def gate_artifacts(request: pytest.FixtureRequest) -> Any:
    """Artifact paths of the test's gate: ``gate_artifacts["release-notes"]`` is a Path."""
    from pytest_deploygate.plugin.fixtures import ArtifactPaths, plan_for_request

    plan = plan_for_request(request)
    assert plan.project is not None and plan.spec is not None
    return ArtifactPaths(plan.project.root, plan.spec)


@pytest.fixture
def rollback_thresholds(request: pytest.FixtureRequest) -> dict[str, float]:
    """The gate's named thresholds after deploygate.yaml and --gate-threshold overrides."""
    from pytest_deploygate.plugin.fixtures import plan_for_request

    return dict(plan_for_request(request).thresholds)
