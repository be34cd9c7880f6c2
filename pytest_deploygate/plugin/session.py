"""Start of a gate run: prepare it once, keep its facts in ``config.stash``, and register the
objects of this process's role.

pytest's own plugins work this way (``junitxml`` registers its ``LogXML`` only when a file is
asked for, and not on xdist workers): the role is decided once, here, instead of in each hook.

- a plain session runs and decides: :class:`ItemRunner` and :class:`RunController`;
- a pytest-xdist worker only runs items: :class:`ItemRunner`;
- the pytest-xdist controller only decides: :class:`RunController`.

Registered only when ``--gate`` is given, so nothing here runs (or is imported) otherwise.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from pytest_deploygate.checks import build_registry
from pytest_deploygate.core.errors import SelectionError
from pytest_deploygate.decision.outcomes import ItemOutcome, OutcomeBook
from pytest_deploygate.gate.plan import ConfigError, GatePlan
from pytest_deploygate.gate.record_files import StaleRecord
from pytest_deploygate.gate.run import GateRun
from pytest_deploygate.gate.settings import Settings
from pytest_deploygate.gate.sign_records import RecordSigner
from pytest_deploygate.plugin.controller import RunController
from pytest_deploygate.plugin.report_data import REPORT_KEY
from pytest_deploygate.plugin.runner import ItemRunner
from pytest_deploygate.plugin.stash import BOOK_KEY, CLEARED_KEY, RUN_KEY, SETTINGS_KEY
from pytest_deploygate.spec.model import Criterion

RUNNER_NAME = "deploygate-runner"
CONTROLLER_NAME = "deploygate-controller"


class GateSession:
    """Prepares the run on every process and carries outcomes across pytest-xdist."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Select gates, load specs and state, evaluate prerequisites (once per process),
        then register what this process does with them."""
        config = self.config
        settings = config.stash[SETTINGS_KEY]
        # (--collect-only too: it decides nothing, and a PYTEST_ADDOPTS=--co run exiting 0
        # left the last PASS for a deploy job to find.)
        decides = not hasattr(config, "workerinput")
        config.stash[CLEARED_KEY] = decides
        try:
            groups = config.hook.pytest_deploygate_check_kinds(config=config)
            kinds = build_registry(groups)
            signer = RecordSigner.load(settings.sign_key)
            run = GateRun.prepare(settings, kinds,
                                  before_evaluation=_clearing if decides else None)
        except StaleRecord as exc:
            _stop_on(exc)
        except ConfigError as exc:
            # One line per problem, naming file and line. The earlier records of every gate
            # the run selected go (a broken config of one project of a monorepo is no new
            # release of another, whose last PASS must not outlive a run that did not decide).
            if decides:
                _clear_after_a_stop(settings, exc.plans if exc.every_gate_known else None)
            problems = str(exc).splitlines()
            more = (f" (+{len(problems) - 1} more: 'deploygate validate' lists them)"
                    if len(problems) > 1 else "")
            pytest.exit(f"deploygate: {problems[0]}{more}", returncode=pytest.ExitCode.INTERRUPTED)
        except (SelectionError, ValueError) as exc:
            if decides:
                _clear_after_a_stop(settings, None)
            raise pytest.UsageError(f"deploygate: {exc}") from None
        except BaseException:
            if decides:  # (interrupted, or a bug: no earlier PASS outlives it either)
                _clear_after_a_stop(settings, None)
            raise
        config.stash[RUN_KEY] = run
        if decides:
            try:
                for plan in run.plans:
                    _clearing(plan)
            except StaleRecord as exc:
                _stop_on(exc)
        _register_roles(config, settings, run, signer)

    @pytest.hookimpl(wrapper=True)
    def pytest_report_to_serializable(self, report: Any) -> Generator[None, Any, Any]:
        """Carry the outcome across pytest-xdist (workers to controller)."""
        data = yield
        reported = getattr(report, REPORT_KEY, None)
        if data is not None and isinstance(reported, ItemOutcome):
            data[REPORT_KEY] = reported.to_dict()
        return data

    @pytest.hookimpl(wrapper=True)
    def pytest_report_from_serializable(self, data: Any) -> Generator[None, Any, Any]:
        """Restore the outcome on the controller."""
        report = yield
        if report is not None and isinstance(data, dict) and REPORT_KEY in data:
            setattr(report, REPORT_KEY, ItemOutcome.from_dict(data[REPORT_KEY]))
        return report

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Stop the network evidence threads of every project (before the controller's
        ``trylast`` decision, as before: records never wait on the network)."""
        run = self.config.stash.get(RUN_KEY, None)
        for slot in run.slots if run is not None else []:
            if slot.project is not None:
                slot.project.network.shutdown()


def _clearing(plan: GatePlan) -> None:
    from pytest_deploygate.gate.record_files import clear_earlier_records

    clear_earlier_records(plan)


def _stop_on(problem: StaleRecord) -> NoReturn:
    """An earlier record that could not be removed stops the run before it decides: it
    writes no record next to the stale one, and exits non-zero with the one line."""
    pytest.exit(f"deploygate: {problem}", returncode=pytest.ExitCode.INTERRUPTED)


def _clear_after_a_stop(settings: Settings, plans: tuple[GatePlan, ...] | None) -> None:
    """A run that stopped before deciding leaves no earlier record: those of the gates it
    selected, or, when it stopped before it knew them (None), every record of its stage."""
    from pytest_deploygate.gate.record_files import clear_records_of_a_stopped_run

    try:
        if plans is None:
            clear_records_of_a_stopped_run(settings)
            return
        for plan in plans:
            _clearing(plan)
    except StaleRecord as exc:
        _stop_on(exc)


def clear_unless_cleared(config: pytest.Config) -> str | None:
    """At the end of a ``--gate`` command that never started its gate run (``--version``,
    ``--help``, ``--markers``, a usage error of its own options or of pytest's after
    configuration): every record of its stage goes, as for a run stopped before it knew its
    gates. Such a command exits 0 or stops before the plugin's session, and the last run's
    PASS for the same release stayed for a deploy job's verdict (PYTEST_ADDOPTS=--version is
    the job's environment, not its options). The line to say when the command must not exit
    0: an earlier record stayed, or its options could not be read or named no gate."""
    if hasattr(config, "workerinput") or config.stash.get(CLEARED_KEY, False):
        return None
    config.stash[CLEARED_KEY] = True
    from pytest_deploygate.gate.record_files import (
        clear_records_of_a_stopped_run,
        clear_stopped_records,
    )
    from pytest_deploygate.gate.record_folders import record_folders

    # --help stops pytest's parse where it stands: the options (and the settings read from
    # them at configure time) are those before it, not the job's (PYTEST_ADDOPTS='--gate=12
    # --help' kept the PASS of the job's --gate-record-dir): they are parsed again, whole.
    under_help = bool(getattr(config.option, "help", False))
    options = _options_without_help(config) if under_help else config.option
    settings = None if under_help else config.stash.get(SETTINGS_KEY, None)
    try:
        if options is None or not getattr(options, "gate", None):
            return clear_every_stage(config, "its options could not be read" if options is None
                                     else "its options name no gate")
        if settings is not None:
            clear_records_of_a_stopped_run(settings)
        else:
            # The settings could not be read (the usage error that stopped the command):
            # the record folders are worked out from the record options alone.
            clear_stopped_records(record_folders(
                config, lambda name: getattr(options, name, None)))
    except StaleRecord as exc:
        return f"deploygate: {exc}"
    return None


def clear_every_stage(config: pytest.Config, why: str) -> str:
    """Remove the earlier records of every stage from the record folders of a ``--gate``
    command that decided nothing and whose options cannot be trusted; the line that says so
    (the command must exit non-zero), naming the folders cleared. :class:`StaleRecord` when
    one cannot go."""
    from pytest_deploygate.gate.record_files import clear_stopped_records
    from pytest_deploygate.gate.record_folders import record_folders

    cleared: list[Path] = []
    for options in _record_options(config):
        cleared += clear_stopped_records(record_folders(config, options))
    folders = ", ".join(str(folder) for folder in dict.fromkeys(cleared))
    done = f"every earlier gate record in {folders} was removed" if folders else \
        "no record folder it names is there"
    return (f"deploygate: the --gate command decided nothing ({why}): {done} (check the "
            "job's options, the ini's addopts and PYTEST_ADDOPTS)")


def _options_without_help(config: pytest.Config) -> argparse.Namespace | None:
    """The options as pytest's full parse reads them without ``--help`` (the ini's addopts,
    PYTEST_ADDOPTS, the command line); None when they cannot be read (a usage error, or a
    help pytest's parse would stop on again: ``-qh``)."""
    from pytest_deploygate.plugin.gate_command import command_tokens

    tokens = [token for token in command_tokens(config) if token not in ("-h", "--help")]
    try:
        return config._parser.parse(tokens, namespace=argparse.Namespace())
    except (Exception, SystemExit):  # (UsageError, PrintHelp, ...: said by the caller)
        return None


def _record_options(config: pytest.Config) -> list[Callable[[str], object]]:
    """The record options (``--gate-record-dir``, ``--gate-root``, ``--gate-project``) of a
    command whose options cannot be read whole: its tokens parsed leniently, without ``--``
    (a ``--`` of PYTEST_ADDOPTS must not turn the job's own ``--gate-record-dir`` into a file
    name: pytest's full parse reads it as the option on Python < 3.12.8). When that parse
    fails on the same bad words that stopped pytest (``--gate-watch`` without its value),
    every value the tokens give each option, read word by word: one lookup for each
    record folder and gate root named (rt16a A04: the job's own --gate-record-dir kept its
    PASS, as the early namespace holds no option of the plugin)."""
    from pytest_deploygate.plugin.gate_command import RECORD_OPTIONS, command_tokens, named_values

    tokens = [token for token in command_tokens(config) if token not in ("--", "-h", "--help")]
    try:
        known: object = config._parser.parse_known_args(tokens)
    except (Exception, SystemExit):
        known = None
    if known is not None:
        return [lambda name: getattr(known, name, None)]
    named = {dest: named_values(tokens, option) for dest, option in RECORD_OPTIONS.items()}
    projects = named["gate_project"]
    lookups: list[Callable[[str], object]] = []
    for record_dir in [*named["gate_record_dir"], None]:
        for root in [*named["gate_root"], None]:
            values = {"gate_record_dir": record_dir, "gate_root": root,
                      "gate_project": projects}
            lookups.append(lambda name, values=values: values.get(name))  # type: ignore[misc]
    return lookups


def start_gate_run(config: pytest.Config, settings: Settings) -> None:
    """Called at configure time with ``--gate``: the run starts with the session."""
    config.stash[SETTINGS_KEY] = settings
    config.pluginmanager.register(GateSession(config), "deploygate-run")


def _register_roles(config: pytest.Config, settings: Settings, run: GateRun,
                    signer: RecordSigner) -> None:
    worker = hasattr(config, "workerinput")
    # pytest-xdist registers its distributing session at configure time, not under
    # --collect-only or -n 0: then this process collects and runs the items itself.
    xdist_controller = config.pluginmanager.get_plugin("dsession") is not None
    user_criteria: dict[str, list[Criterion]] = {}
    controller = None
    if not worker:
        book = config.stash[BOOK_KEY] = OutcomeBook()
        controller = RunController(config, settings, run, signer, book, user_criteria,
                                   distributed=xdist_controller)
        config.pluginmanager.register(controller, CONTROLLER_NAME)
    if not xdist_controller:
        runner = ItemRunner(config, run, user_criteria,
                            controller.decision_of if controller is not None else None,
                            worker=worker)
        config.pluginmanager.register(runner, RUNNER_NAME)
