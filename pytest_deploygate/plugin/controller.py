"""What decides a gate run: outcomes gathered from reports, the decision of each gate, its
records, the report header and the terminal summary.

Registered on the process that sees every report: a plain pytest session, or the
pytest-xdist controller (not on xdist workers, which only run items).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pytest_deploygate.decision.decide import (
    FAIL,
    INCOMPLETE,
    ROLLBACK,
    Decision,
    decide,
)
from pytest_deploygate.decision.outcomes import OutcomeBook
from pytest_deploygate.gate.plan import GatePlan
from pytest_deploygate.gate.record_content import record_content
from pytest_deploygate.gate.record_files import waiver_notes, write_back, write_records
from pytest_deploygate.gate.run import GateRun
from pytest_deploygate.gate.settings import Settings
from pytest_deploygate.gate.sign_records import RecordSigner
from pytest_deploygate.plugin.header import header_lines
from pytest_deploygate.plugin.report_data import REPORT_KEY
from pytest_deploygate.plugin.runner import EXPECTED_KEY, INTERRUPTED_KEY
from pytest_deploygate.plugin.user_items import criterion_from_fields
from pytest_deploygate.records.content import RecordContent
from pytest_deploygate.records.summary import write_summary
from pytest_deploygate.spec.model import Criterion


class RunController:
    """Gathers the outcomes of a gate run, decides each gate and writes its records."""

    def __init__(self, config: pytest.Config, settings: Settings, run: GateRun,
                 signer: RecordSigner, book: OutcomeBook,
                 user_criteria: dict[str, list[Criterion]], distributed: bool) -> None:
        self.config = config
        self.settings = settings
        self.run = run
        self.signer = signer
        self.book = book
        #: Users' criteria by record: collected here, or sent by xdist workers.
        self.user_criteria = user_criteria
        #: True on the pytest-xdist controller, which learns the expected set from workers.
        self.distributed = distributed
        self.results: list[tuple[GatePlan, Decision, list[Path]]] = []
        self.write_errors: list[str] = []
        #: Shown as errors but not failing the run by themselves (the items they concern are
        #: evaluated as if the waiver did not exist).
        self.waiver_errors: list[str] = []
        #: Why the run did not end as a run (interrupted, pytest's internal error): set once
        #: pytest is finishing, so same-run prerequisites decided before are not affected.
        self.stopped: str | None = None
        #: pytest interrupted the run (here or on a pytest-xdist worker): a KeyboardInterrupt
        #: or ``pytest.exit``, whatever return code it was given (``returncode=0`` too).
        self.interrupted = False
        #: pytest-xdist controller: how many workers sent their expected user criteria.
        self.workers_with_expected_set = 0

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        """Gates, layout, spec sources, clock and signing of this run."""
        return header_lines(self.run, self.settings, self.signer)

    # -- outcomes ---------------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """pytest-xdist controller: learn the user criteria a worker collected, deselected
        ones included (the controller collects nothing itself)."""
        if getattr(node, "workeroutput", {}).get(INTERRUPTED_KEY):
            self.interrupted = True
        expected = getattr(node, "workeroutput", {}).get(EXPECTED_KEY)
        if not isinstance(expected, dict):
            return
        self.workers_with_expected_set += 1
        for record, fields_list in expected.items():
            known = self.user_criteria.setdefault(record, [])
            ids = {c.id for c in known}
            for fields in fields_list:
                if fields["id"] not in ids:
                    known.append(criterion_from_fields(fields))
                    ids.add(fields["id"])

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """pytest calls this for a KeyboardInterrupt and for ``pytest.exit`` alike, before
        the session finishes; the exit status alone does not tell: ``pytest.exit(msg,
        returncode=0)`` in a user test ends the run with exit 0."""
        self.interrupted = True

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Record each item's outcome, worst phase wins."""
        reported = getattr(report, REPORT_KEY, None)
        if reported is not None:
            self.book.add(reported, report.duration)
            # The book holds it now; pytest keeps every report until the end of the session.
            delattr(report, REPORT_KEY)

    def decision_of(self, plan: GatePlan) -> str:
        """The status an earlier gate of this run was decided with (same-run prerequisites)."""
        return self._decide(plan)[2].status

    # -- decision and records ---------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Decide each gate, write its records, fail the run if needed."""
        if self.config.option.collectonly:
            return  # nothing was evaluated: keep whatever record a real run left
        self.stopped = _stopped_early(exitstatus, self.interrupted)
        errors, warnings = waiver_notes(self.run)
        self.waiver_errors += errors
        self.run.warnings += warnings
        contents = []
        for plan in self.run.plans:
            criteria, outcomes, decision = self._decide(plan)
            content = record_content(self.run, plan, criteria, outcomes, decision, self.signer)
            paths, problem = write_records(plan, content, self.signer)
            self.results.append((plan, content.decision, paths))
            problems = [problem, write_back(self.settings, plan, content, paths)]
            self.write_errors += [p for p in problems if p]
            contents.append(content)
        self._github_summary(contents)
        bad = {FAIL, ROLLBACK, INCOMPLETE}
        failed = self.write_errors or any(d.status in bad for _, d, _ in self.results)
        if failed and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _github_summary(self, contents: list[RecordContent]) -> None:
        """On GitHub Actions, the decisions and failing criteria in the job's summary."""
        target = os.environ.get("GITHUB_STEP_SUMMARY")
        if not target or not contents:
            return
        from pytest_deploygate.records.summary import append_step_summary, step_summary

        text = step_summary(contents, [paths for _, _, paths in self.results], Path.cwd())
        problem = append_step_summary(target, text)
        if problem:
            self.run.warnings.append(problem)

    def _decide(self, plan: GatePlan) -> tuple[list[Criterion], list[Any], Decision]:
        """The plan's criteria, their outcomes so far, and the decision they make."""
        criteria = [*plan.items, *self._user_criteria(plan)]
        outcomes = [self.book.get(plan.record_name, c.id) for c in criteria]
        rows = plan.spec.rows_with_other() if plan.spec else ()
        fed = {i.decision for i in plan.spec.items} | {c.decision for c in criteria} \
            if plan.spec else None
        error = plan.error or self._expected_set_missing() or self.stopped
        decision = decide(criteria, outcomes, rows, self.run.skip_reason(plan),
                          [error] if error else [], fed)
        if error:
            decision = Decision(INCOMPLETE, decision.rows, decision.reasons, decision.counts)
        return criteria, outcomes, decision

    def _expected_set_missing(self) -> str | None:
        """Under pytest-xdist, why the expected criteria are unknown (no worker sent them)."""
        if self.settings.same_run_prerequisites or not self.distributed or \
                self.workers_with_expected_set:
            return None  # this process collected the items itself
        return ("no pytest-xdist worker reported the criteria it collected: the expected set "
                "is unknown")

    def _user_criteria(self, plan: GatePlan) -> list[Criterion]:
        known = list(self.user_criteria.get(plan.record_name, []))
        ids = {c.id for c in known}
        for item_id, fields in self.book.user_criteria(plan.record_name).items():
            if item_id not in ids:
                known.append(criterion_from_fields(fields))
        return known

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """The decision table of every gate, and where the records are."""
        warnings = self.run.warnings
        write_summary(terminalreporter, self.results,
                      [*self.waiver_errors, *self.write_errors], Path.cwd(), warnings)


def _stopped_early(exitstatus: int, interrupted: bool = False) -> str | None:
    """Why a run that pytest ended abnormally decides nothing: a KeyboardInterrupt (or a
    stop signal pytest turns into one) or pytest's internal error may come after every
    criterion was judged, in a test no criterion joins, and a PASS record of a run that
    never finished would be read as a finished gate. The exit status alone does not tell:
    ``pytest.exit(reason, returncode=0)`` ends the run with exit 0 (``interrupted``)."""
    if interrupted or exitstatus == pytest.ExitCode.INTERRUPTED:
        return (f"the pytest run was interrupted before it finished (exit {int(exitstatus)}): "
                "nothing it judged is a decision; run the gate again")
    if exitstatus == pytest.ExitCode.INTERNAL_ERROR:
        return ("pytest stopped with an internal error (exit 3): nothing the run judged is a "
                "decision; fix the error and run the gate again")
    return None
