"""pytest entry point (``pytest11``: ``deploygate``; disable with ``-p no:deploygate``).

Kept tiny on purpose: without ``--gate`` it registers options, the ``gate`` marker and the
fixtures, and imports nothing else (no YAML, no jsonschema, no network). The real work lives in
:mod:`pytest_deploygate.plugin.session`, started only for a gate run.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import pytest

from pytest_deploygate.plugin import plain_import

# Before the imports below: pytest imports this entry point, and everything it imports, through
# its assertion rewriter (see plain_import). The session's cleanup removes the finder.
plain_import.install()

from pytest_deploygate.plugin.options import add_options  # noqa: E402


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options of the ``deploygate`` group."""
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Make :mod:`pytest_deploygate.plugin.hookspecs` available to other plugins."""
    from pytest_deploygate.plugin import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> Any:
    """A ``--gate`` command that never starts its gate run (``--version``, ``--help``,
    ``--markers``, a usage error of its options) removes the earlier records all the same
    (plugin.session); one that cannot remove one fails, naming it."""
    try:
        result = yield
    except BaseException:
        _clear_at_the_end(config)
        raise
    if _clear_at_the_end(config) and result == 0:
        return pytest.ExitCode.INTERRUPTED
    return result


def _clear_at_the_end(config: pytest.Config) -> bool:
    """Clear the records of a command that never ran its gate; whether one stayed (said)."""
    if config.getoption("gate", None) is None and getattr(config.option, "help", False):
        from pytest_deploygate.plugin.session import parse_options_under_help

        parse_options_under_help(config)
    if not config.getoption("gate", None):
        return False
    from pytest_deploygate.plugin.session import clear_unless_cleared

    problem = clear_unless_cleared(config)
    if problem:
        sys.stderr.write(problem + "\n")
    return problem is not None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str],
                                  parser: pytest.Parser) -> None:
    """The last step before pytest parses the whole command line: a ``--gate`` command that
    parse will stop (an unknown option, ``--gate-sign-kye``) never reaches the plugin's
    configure, so its earlier records go here, from the options parsed so far, before
    pytest says the usage error."""
    known = getattr(early_config, "known_args_namespace", None)
    if known is None or not getattr(known, "gate", None):
        return
    import copy

    try:
        parser.parse(list(args), namespace=copy.copy(early_config.option))
    except pytest.UsageError:
        from pytest_deploygate.gate.record_files import StaleRecord, clear_stopped_records
        from pytest_deploygate.gate.record_folders import record_folders

        try:
            clear_stopped_records(record_folders(
                early_config, lambda name: getattr(known, name, None)))
        except StaleRecord as exc:
            sys.stderr.write(f"deploygate: {exc}\n")
    except Exception:  # (--help raises PrintHelp: pytest's own parse deals with it)
        return


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
