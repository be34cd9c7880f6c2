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

from pytest_deploygate.core.atomic import write_atomic
from pytest_deploygate.core.timeutil import format_instant
from pytest_deploygate.decision.decide import (
    FAIL,
    INCOMPLETE,
    ROLLBACK,
    Decision,
    decide,
    item_verdict,
)
from pytest_deploygate.decision.outcomes import OutcomeBook
from pytest_deploygate.gate.plan import GatePlan
from pytest_deploygate.gate.run import GateRun
from pytest_deploygate.gate.settings import Settings
from pytest_deploygate.gate.sign_records import RecordSigner
from pytest_deploygate.isdlc.layout import layout_of
from pytest_deploygate.plugin.header import header_lines
from pytest_deploygate.plugin.report_data import REPORT_KEY
from pytest_deploygate.plugin.runner import EXPECTED_KEY
from pytest_deploygate.plugin.user_items import criterion_from_fields
from pytest_deploygate.records.content import RecordContent, RecordItem
from pytest_deploygate.records.junit import render_junit
from pytest_deploygate.records.markdown import render_markdown
from pytest_deploygate.records.summary import write_summary
from pytest_deploygate.records.verify import REPLAY_PROPERTY
from pytest_deploygate.signing import SigningError
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
        self._note_waivers()
        contents = []
        for plan in self.run.plans:
            content = self._content(plan)
            paths = self._write(plan, content)
            self.results.append((plan, content.decision, paths))
            self._write_back(plan, content, paths)
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
        error = plan.error or self._expected_set_missing()
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

    def _content(self, plan: GatePlan) -> RecordContent:
        criteria, outcomes, decision = self._decide(plan)
        items = tuple(RecordItem(c, c.render_text(plan.thresholds), o, item_verdict(c, o))
                      for c, o in zip(criteria, outcomes, strict=True))
        return RecordContent(
            name=plan.record_name,
            gate_id=plan.gate_id,
            title=plan.spec.title if plan.spec else plan.spec_file.slug,
            stage=plan.stage,
            decision=decision,
            items=items,
            properties=self._properties(plan, decision, len(criteria)),
            evaluated_at=self.settings.now,
            next_phase=_next_phase(plan, self.run.continuation(plan)),
            error=plan.error,
            thresholds=dict(plan.thresholds),
            spec_file=_spec_in_project(plan),
            reviewer=self.run.reviewer(plan),
        )

    def _write_back(self, plan: GatePlan, content: RecordContent, paths: list[Path]) -> None:
        """--gate-update-state and --gate-validation-record, after a decision was reached."""
        settings = self.settings
        if not (settings.update_state or settings.validation_record):
            return
        if plan.spec is None or content.decision.status == INCOMPLETE or not paths:
            return
        from pytest_deploygate.gate.state_writeback import update_state, write_validation_record
        from pytest_deploygate.gate.writeback import WriteBackError

        project = plan.project
        assert project is not None
        try:
            if settings.update_state:
                update_state(plan.slot.state_path, plan, content, paths[0])
            if settings.validation_record:
                written = write_validation_record(project, plan, content)
                paths.append(written)
        except (WriteBackError, OSError) as exc:
            self.write_errors.append(f"write-back of {plan.record_name}: {exc}")

    def _note_waivers(self) -> None:
        """Waivers that were ignored, unreadable or about to expire, for the summary."""
        for slot in self.run.slots:
            project = slot.project
            if project is None or not project.waivers.enabled:
                continue
            store = project.waivers
            self.waiver_errors += [f"waivers: {problem}" for problem in store.problems]
            for plan in self.run.plans:
                if plan.slot is not slot or plan.spec is None:
                    continue
                for item in plan.items:
                    ruling = store.decide(plan.spec, layout_of(project), item, project.now)
                    if ruling.note and "ignored" in ruling.note:
                        self.waiver_errors.append(f"{plan.record_name}: {ruling.note}")
            for waiver in store.expiring_soon(project.now):
                self.run.warnings.append(
                    f"waiver of {waiver.criterion} ({store.name}:{waiver.line}) expires "
                    f"{format_instant(waiver.expires)}, within 7 days")

    def _user_criteria(self, plan: GatePlan) -> list[Criterion]:
        known = list(self.user_criteria.get(plan.record_name, []))
        ids = {c.id for c in known}
        for item_id, fields in self.book.user_criteria(plan.record_name).items():
            if item_id not in ids:
                known.append(criterion_from_fields(fields))
        return known

    def _properties(self, plan: GatePlan, decision: Decision, expected: int) -> dict[str, str]:
        project = plan.project
        props = {
            "deploygate.gate": plan.gate_id,
            "deploygate.gate_number": str(plan.spec_file.gate),
            "deploygate.title": plan.spec.title if plan.spec else plan.spec_file.slug,
            "deploygate.stage": plan.stage,
            "deploygate.decision": decision.status,
            "deploygate.expected_criteria": str(expected),
            "deploygate.waivers": str(decision.waivers),
            "deploygate.evaluated_at": format_instant(self.settings.now),
            **({REPLAY_PROPERTY: "true"} if self.settings.replay else {}),
            "deploygate.spec_source": plan.spec_file.describe(),
            "deploygate.state_path": str(plan.slot.state_path),
        }
        for row in decision.rows:
            props[f"deploygate.row.{row.id}"] = row.status
        if decision.reasons:
            props["deploygate.reason"] = " | ".join(decision.reasons)
        if decision.status == "PASS":
            continuation = self.run.continuation(plan)
            if continuation:
                props["deploygate.next"] = continuation
        if plan.spec:
            props["deploygate.spec_sha256"] = plan.spec.sha256
        props["deploygate.signature"] = self.signer.prepare(plan)
        if plan.slot.id:
            props["deploygate.project_id"] = plan.slot.id
        if project is not None:
            props["deploygate.project"] = project.name
            props["deploygate.state_sha256"] = project.state.sha256
            props.update(project.release.properties())
        return props

    def _write(self, plan: GatePlan, content: RecordContent) -> list[Path]:
        from pytest_deploygate.records.html import render_html

        base = plan.record_dir / plan.file_stem
        paths = [base.with_suffix(".xml"), base.with_suffix(".md"), base.with_suffix(".html")]
        try:
            write_atomic(paths[0], render_junit(content))
            write_atomic(paths[1], render_markdown(content, content.reviewer))
            write_atomic(paths[2], render_html(content))
            envelope = self.signer.sign(plan, content, paths[0])
            if envelope is not None:
                paths.append(envelope)
        except SigningError as exc:
            self.write_errors.append(f"cannot sign gate record {base}: {exc}")
        except OSError as exc:
            # A gate whose record cannot be written has no record: say so and fail the run.
            self.write_errors.append(f"cannot write gate record {base}: {exc.strerror or exc}")
            return []
        return paths

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """The decision table of every gate, and where the records are."""
        warnings = self.run.warnings
        write_summary(terminalreporter, self.results,
                      [*self.waiver_errors, *self.write_errors], Path.cwd(), warnings)


def _spec_in_project(plan: GatePlan) -> str | None:
    """The spec file relative to the project root, when it is one of the project's files."""
    if plan.spec is None or plan.spec_file.origin != "user" or plan.project is None:
        return None
    try:
        return plan.spec.source.resolve().relative_to(plan.project.root.resolve()).as_posix()
    except (ValueError, OSError):
        return None



def _next_phase(plan: GatePlan, continuation: str | None) -> str | None:
    if plan.spec is None:
        return None
    if plan.spec.branches:
        return f"- {continuation}" if continuation else None
    if plan.spec.next is None:
        return None
    nxt = plan.spec.next
    parts = [f"Advance to Phase {nxt.gate}: {nxt.title}"]
    if nxt.agent:
        parts.append(f"Primary Agent: {nxt.agent}")
    if nxt.handler:
        parts.append(f"Next Phase Handler: {nxt.handler}")
    return "\n".join(f"- {p}" for p in parts)

