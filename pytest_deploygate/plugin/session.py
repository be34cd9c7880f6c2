"""The hooks of an active gate run: thin glue between pytest and :class:`GateRun`.

Registered only when ``--gate`` is given, so nothing here runs (or is imported) otherwise.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from pytest_deploygate.checks import build_registry
from pytest_deploygate.core.atomic import write_atomic
from pytest_deploygate.core.errors import SelectionError
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
from pytest_deploygate.gate.plan import ConfigError, GatePlan
from pytest_deploygate.gate.run import GateRun
from pytest_deploygate.gate.settings import Settings
from pytest_deploygate.gate.sign_records import RecordSigner
from pytest_deploygate.isdlc.layout import layout_of
from pytest_deploygate.plugin.items import GateCollector, GateItem
from pytest_deploygate.plugin.user_items import (
    UserMember,
    criterion_fields,
    criterion_from_fields,
    join_user_items,
)
from pytest_deploygate.records.content import RecordContent, RecordItem
from pytest_deploygate.records.junit import render_junit
from pytest_deploygate.records.markdown import render_markdown
from pytest_deploygate.records.summary import write_summary
from pytest_deploygate.records.verify import REPLAY_PROPERTY
from pytest_deploygate.signing import SigningError
from pytest_deploygate.spec.model import Criterion

REPORT_KEY = "deploygate"
#: pytest-xdist: where a worker leaves the user criteria it collected (before ``-k`` and
#: ``--deselect`` removed any), so the controller knows the full expected set.
EXPECTED_KEY = "deploygate_user_criteria"


class DeployGatePlugin:
    """Per-session state of a gate run."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self.run: GateRun | None = None
        self.book = OutcomeBook()
        self.user_members: dict[str, UserMember] = {}
        self.user_criteria: dict[str, list[Criterion]] = {}
        self.results: list[tuple[GatePlan, Decision, list[Path]]] = []
        self.write_errors: list[str] = []
        #: Shown as errors but not failing the run by themselves (the items they concern are
        #: evaluated as if the waiver did not exist).
        self.waiver_errors: list[str] = []
        #: pytest-xdist controller: how many workers sent their expected user criteria.
        self.workers_with_expected_set = 0
        self.signer = RecordSigner(None)

    # -- set-up -----------------------------------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Select gates, load specs and state, evaluate prerequisites (once per process)."""
        groups = self.config.hook.pytest_deploygate_check_kinds(config=self.config)
        try:
            kinds = build_registry(groups)
            self.signer = RecordSigner.load(self.settings.sign_key)
            self.run = GateRun.prepare(self.settings, kinds)
        except ConfigError as exc:
            # One line per problem, naming file and line; the previous record stays as it is.
            problems = str(exc).splitlines()
            more = (f" (+{len(problems) - 1} more: 'deploygate validate' lists them)"
                    if len(problems) > 1 else "")
            pytest.exit(f"deploygate: {problems[0]}{more}", returncode=pytest.ExitCode.INTERRUPTED)
        except (SelectionError, ValueError) as exc:
            raise pytest.UsageError(f"deploygate: {exc}") from None

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        """Which phase layout the project follows and where each gate's spec comes from."""
        if self.run is None:
            return []
        lines = []
        for slot in self.run.slots:
            if slot.layout is None:
                continue
            where = f" @{slot.id}" if slot.id else ""
            lines.append(f"deploygate{where}: {slot.layout.describe()}")
            for plan in self.run.plans:
                if plan.slot is slot and plan.stage == self.settings.stage:
                    source = plan.spec_file.source_words().replace(
                        str(self.settings.root) + "/", "")
                    lines.append(f"deploygate{where}: {plan.gate_id} from {source}")
        return lines

    def plan_for(self, record_name: str) -> GatePlan | None:
        """The plan whose record has this name."""
        assert self.run is not None
        return next((p for p in self.run.plans if p.record_name == record_name), None)

    # -- collection -------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        """Add the gates' items in front, join users' gate-marked tests, apply skips.

        Runs before ``-k``/``-m``/``--deselect``/``--lf`` filter the list, so those see gate
        items like any others (and a filtered-out criterion makes the gate INCOMPLETE).
        """
        assert self.run is not None
        gate_items: list[pytest.Item] = []
        for plan in self.run.plans:
            source = plan.spec.source if plan.spec else plan.spec_file.path
            collector = GateCollector.from_parent(session, name=plan.node_name,
                                                  nodeid=plan.node_name, path=source,
                                                  plan=plan, run=self.run)
            gate_items.extend(session.genitems(collector))
        kept, dropped, refused = join_user_items(items, self.run.plans, self.user_members,
                                                 self.user_criteria)
        for item, problem in refused:
            # A collection error (pytest stops before running anything, as for a broken
            # spec): the test names no one gate, so it can be neither joined nor run.
            report = pytest.CollectReport(item.nodeid, "failed", f"deploygate: {problem}", [])
            config.hook.pytest_collectreport(report=report)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = self._gate_order(gate_items + kept)
        for item in items:
            plan = self._plan_of(item)
            if plan is not None and plan.skip_reason:
                item.add_marker(pytest.mark.skip(reason=plan.skip_reason))
        workeroutput = getattr(config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[EXPECTED_KEY] = {
                record: [criterion_fields(c) for c in criteria]
                for record, criteria in self.user_criteria.items()}

    def _gate_order(self, items: list[pytest.Item]) -> list[pytest.Item]:
        """Each gate's items (its users' tests included) before the next gate's, the rest last.

        A gate whose prerequisite is an earlier gate of this run is decided when its first
        item runs: every item of the earlier gate must have run by then.
        """
        assert self.run is not None
        order = {plan.record_name: index for index, plan in enumerate(self.run.plans)}

        def position(item: pytest.Item) -> int:
            plan = self._plan_of(item)
            return order[plan.record_name] if plan is not None else len(order)

        return sorted(items, key=position)

    def _plan_of(self, item: pytest.Item) -> GatePlan | None:
        if isinstance(item, GateItem):
            return item.gate_collector.plan
        member = self.user_members.get(item.nodeid)
        return self.plan_for(member.record) if member else None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        """Before the items run, start every selected item's network evidence."""
        if self.run is None or self.config.option.collectonly:
            return
        for slot in self.run.slots:
            if slot.project is not None:
                slot.project.services.progress.show = self._show_progress
        if any(plan.deferred for plan in self.run.plans):
            # Other plugins may have reordered the items since collection (randomisers).
            session.items[:] = self._gate_order(session.items)
        for item in session.items:
            if isinstance(item, GateItem):
                self.run.prefetch(item.gate_collector.plan, item.criterion)

    def _show_progress(self, line: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None or hasattr(self.config, "workerinput"):
            return
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(f"deploygate: {line}")

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Decide same-run prerequisites before a gate's first item; fail bad markers."""
        member = self.user_members.get(item.nodeid)
        if member is not None and member.problem:
            pytest.fail(member.problem, pytrace=False)
        plan = self._plan_of(item)
        if plan is not None and plan.deferred and self.run is not None:
            self.run.resolve_deferred(plan, lambda earlier: self._decide(earlier)[2].status)
        if plan is not None and plan.skip_reason and not item.get_closest_marker("skip"):
            pytest.skip(plan.skip_reason)

    # -- outcomes ---------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]
                                  ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Attach the item's outcome (status, message, evidence) to its report."""
        report = yield
        data = None
        if isinstance(item, GateItem):
            if report.skipped and isinstance(report.longrepr, tuple):
                # An N/A criterion points at its line in the spec, not at plugin code.
                path, line, _ = item.location
                report.longrepr = (path, (line or 0) + 1, report.longrepr[2])
            data = _gate_item_data(item, call, report)
            if report.when == "call":
                item.result = None  # copied into the report's data: free it (big gates)
            if data is not None:
                data.update(record=item.gate_collector.plan.record_name, id=item.criterion.id)
        elif item.nodeid in self.user_members:
            member = self.user_members[item.nodeid]
            data = _user_item_data(item, call, report, self._plan_of(item))
            if data is not None:
                data.update(record=member.record, id=member.criterion.id,
                            criterion=criterion_fields(member.criterion))
        if data is not None:
            setattr(report, REPORT_KEY, data)
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_report_to_serializable(self, report: Any) -> Generator[None, Any, Any]:
        """Carry the outcome across pytest-xdist workers."""
        data = yield
        if data is not None and hasattr(report, REPORT_KEY):
            data[REPORT_KEY] = getattr(report, REPORT_KEY)
        return data

    @pytest.hookimpl(wrapper=True)
    def pytest_report_from_serializable(self, data: Any) -> Generator[None, Any, Any]:
        """Restore the outcome on the controller."""
        report = yield
        if report is not None and isinstance(data, dict) and REPORT_KEY in data:
            setattr(report, REPORT_KEY, data[REPORT_KEY])
        return report

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
        if hasattr(self.config, "workerinput"):
            return  # pytest-xdist sends the report, data included, to the controller
        data = getattr(report, REPORT_KEY, None)
        if data:
            self.book.add(data["record"], data["id"], data, report.duration)
            # The book holds it now; pytest keeps every report until the end of the session.
            delattr(report, REPORT_KEY)

    # -- decision and records ---------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Decide each gate, write its records (controller only), fail the run if needed."""
        for slot in self.run.slots if self.run is not None else []:
            if slot.project is not None:
                slot.project.network.shutdown()
        if self.run is None or hasattr(self.config, "workerinput"):
            return
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
        if problem and self.run is not None:
            self.run.warnings.append(problem)

    def _decide(self, plan: GatePlan) -> tuple[list[Criterion], list[Any], Decision]:
        """The plan's criteria, their outcomes so far, and the decision they make."""
        criteria = [*plan.items, *self._user_criteria(plan)]
        outcomes = [self.book.get(plan.record_name, c.id) for c in criteria]
        rows = plan.spec.rows_with_other() if plan.spec else ()
        fed = {i.decision for i in plan.spec.items} | {c.decision for c in criteria} \
            if plan.spec else None
        error = plan.error or self._expected_set_missing()
        decision = decide(criteria, outcomes, rows, plan.skip_reason,
                          [error] if error else [], fed)
        if error:
            decision = Decision(INCOMPLETE, decision.rows, decision.reasons, decision.counts)
        return criteria, outcomes, decision

    def _expected_set_missing(self) -> str | None:
        """Under pytest-xdist, why the expected criteria are unknown (no worker sent them)."""
        distributed = not self.settings.same_run_prerequisites
        if not distributed or hasattr(self.config, "workerinput") or \
                self.workers_with_expected_set:
            return None
        if self.config.pluginmanager.get_plugin("dsession") is None:
            return None  # -n given, but pytest-xdist did not distribute this run
        return ("no pytest-xdist worker reported the criteria it collected: the expected set "
                "is unknown")

    def _content(self, plan: GatePlan) -> RecordContent:
        assert self.run is not None
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
            next_phase=_next_phase(plan, self.run.continuation(plan) if self.run else None),
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
        assert self.run is not None
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
        if decision.status == "PASS" and self.run is not None:
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
        warnings = self.run.warnings if self.run else []
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


def _gate_item_data(item: GateItem, call: pytest.CallInfo[None], report: pytest.TestReport
                    ) -> dict[str, Any] | None:
    if report.when == "setup":
        if report.skipped:
            plan = item.gate_collector.plan
            status = "skipped_prereq" if plan.skip_reason else "skipped"
            return {"status": status, "message": _skip_reason(report), "evidence": []}
        if report.failed:
            return {"status": "error", "message": _exc_line(call), "evidence": []}
        return None
    if report.when == "teardown":
        return ({"status": "error", "message": _exc_line(call), "evidence": []}
                if report.failed else None)
    result = item.result
    if result is None:
        return {"status": "error", "message": _exc_line(call), "evidence": []}
    data = {"status": result.status, "message": result.message,
            "evidence": [e.to_dict() for e in result.evidence]}
    if result.measurement is not None:
        data["measurement"] = result.measurement.to_dict()
    return data


def _user_item_data(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport,
                    plan: GatePlan | None) -> dict[str, Any] | None:
    message = ""
    if report.when == "call":
        if report.passed:
            status, message = "met", "the test passed"
        elif report.skipped:
            status = "skipped"
            message = "skipped by the test itself: " + _skip_reason(report)
        else:
            status, message = "not_met", _exc_line(call)
    elif report.failed:
        status, message = "error", _exc_line(call)
    elif report.when == "setup" and report.skipped:
        prereq = plan is not None and plan.skip_reason is not None
        status = "skipped_prereq" if prereq else "skipped"
        message = _skip_reason(report)
    else:
        return None
    return {"status": status, "message": message, "evidence": [
        {"kind": "test", "ref": item.nodeid}]}


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


def _exc_line(call: pytest.CallInfo[None]) -> str:
    if call.excinfo is None:
        return "failed"
    text = call.excinfo.exconly().strip().splitlines()
    return " ".join(text[:3])[:500] if text else "failed"


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

