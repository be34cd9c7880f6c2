"""A gate run, independent of pytest's nodes: which gates, which items, prerequisites, results.

Built once per session (on the controller and on every pytest-xdist worker alike), so the
records written by the controller and the items run by workers come from the same plan.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from pytest_deploygate.checks.context import CheckKind, EvalContext, evaluate_item
from pytest_deploygate.checks.project import Project
from pytest_deploygate.core.errors import DeployGateError, SelectionError, StateError
from pytest_deploygate.core.results import CheckResult, Evidence, unchanged_by_cleaning
from pytest_deploygate.core.run_scope import RunScope
from pytest_deploygate.core.value_class import replace
from pytest_deploygate.evidence.config import (
    ProjectConfig,
    load_config,
    refuse_config_of_another_project,
)
from pytest_deploygate.evidence.gate_definition import bind_definition
from pytest_deploygate.gate.plan import ConfigError, GatePlan, ProjectSlot
from pytest_deploygate.gate.prerequisites import (
    SameRunPrerequisites,
    same_run_targets,
    unmet_line,
    xdist_warnings,
)
from pytest_deploygate.gate.project_dirs import (
    DeclaredPaths,
    config_dir,
    project_dir,
    refuse_another_projects_state,
    shown_folder,
)
from pytest_deploygate.gate.settings import Settings, command_line_sources, reviewed_effects
from pytest_deploygate.isdlc.layout import Layout, layout_of, remember_layout
from pytest_deploygate.isdlc.state import load_state
from pytest_deploygate.spec.library import SpecFile, open_library, spec_source
from pytest_deploygate.spec.loader import apply_overrides, load_spec
from pytest_deploygate.spec.model import OTHER_ROW_ID, Check, Criterion, GateSpec
from pytest_deploygate.spec.record_rules import binding_item, may_be_not_applicable, stage_items


class GateRun:
    """Everything one pytest session knows about the gates it runs."""

    def __init__(self, settings: Settings, kinds: Mapping[str, CheckKind]) -> None:
        self.settings = settings
        self.kinds = kinds
        self.slots: list[ProjectSlot] = []
        self.plans: list[GatePlan] = []
        self.warnings: list[str] = []
        #: Problems of deploygate.yaml files: the run stops once every gate is selected.
        self.config_errors: list[str] = []
        #: What this run owns: its size limits and what it has read (never the next run's).
        self.scope = RunScope(settings.limits)
        #: What the run learns of same-run prerequisites while it goes on (plans are frozen).
        self.prerequisites = SameRunPrerequisites()
        #: Whether every kind the run can evaluate is the package's own (see _booked_copy).
        self._own_kinds_only = _own_kinds_only(kinds)
        #: See :meth:`prepare`.
        self._before_evaluation: Callable[[GatePlan], None] | None = None
        #: The other projects' project.path, each state read once for the whole run.
        self._declared_paths = DeclaredPaths()

    @property
    def project(self) -> Project | None:
        """The project of a single-project run (the first one of a monorepo run)."""
        return next((s.project for s in self.slots if s.project is not None), None)

    @classmethod
    def prepare(cls, settings: Settings, kinds: Mapping[str, CheckKind], *,
                before_evaluation: Callable[[GatePlan], None] | None = None) -> GateRun:
        """Read state and config, select gates, load specs, evaluate prerequisites.

        Raises :class:`SelectionError` when ``--gate`` or ``--gate-project`` names nothing;
        every other problem is kept on the plan it affects and reported there.
        ``before_evaluation``: called with each plan before anything of it is evaluated
        (its prerequisites are, here): the run removes that gate's earlier records then, so
        a run killed while a prerequisite is evaluated leaves no earlier PASS either.
        """
        run = cls(settings, kinds)
        run._before_evaluation = before_evaluation
        run.slots = [run._open(slot) for slot in project_slots(settings)]
        run._share_attestation_stores()
        checklists = settings.root / ".isdlc" / "checklists"
        for slot in run.slots:
            state = slot.project.state if slot.project else None
            if state is None and "current" in settings.expression.lower():
                if run.config_errors:
                    raise ConfigError("\n".join(dict.fromkeys(run.config_errors)),
                                      plans=tuple(run.plans), every_gate_known=False)
                raise SelectionError(f"--gate=current: {slot.error}")
            slot.library = open_library(settings.spec_dir, checklists,
                                        state.data if state else None)
            if slot.project is not None:
                remember_layout(slot.project, slot.library.layout)
            for warning in slot.library.warnings:
                if warning not in run.warnings:
                    run.warnings.append(warning)
            selected = slot.library.select(settings.expression, state)
            run._check_threshold_names(selected)
            record_dir = _record_dir(settings, slot)
            for spec_file in selected:
                run.plans.append(run._plan(spec_file, slot, record_dir))
            run._defer_same_run_prerequisites(slot)
        if run.config_errors:
            # Raised once every project's gates are selected: the run removes their earlier
            # records before it stops (a project whose config is fine has the same release).
            raise ConfigError("\n".join(dict.fromkeys(run.config_errors)),
                              plans=tuple(run.plans))
        run._check_override_names()
        return run

    def plan_for(self, record_name: str) -> GatePlan | None:
        """The plan whose record has this name."""
        return next((p for p in self.plans if p.record_name == record_name), None)

    def _defer_same_run_prerequisites(self, slot: ProjectSlot) -> None:
        """Prerequisites an earlier gate of this run decides wait for that gate's decision
        (each plan is replaced by one that defers them); under pytest-xdist, a warning."""
        plans = [p for p in self.plans if p.slot is slot and p.spec is not None]
        if not self.settings.same_run_prerequisites:
            self.warnings.extend(xdist_warnings(plans))
            return
        for position, plan in enumerate(plans):
            deferred = same_run_targets(plan, plans[:position])
            if deferred:
                self.plans[self.plans.index(plan)] = plans[position] = _deferring(plan, deferred)

    def skip_reason(self, plan: GatePlan) -> str | None:
        """Why every item of the plan is skipped, when a prerequisite is unmet so far."""
        return plan.skip_reason(self.prerequisites.unmet(plan))

    def prerequisites_pending(self, plan: GatePlan) -> bool:
        """True while a same-run prerequisite of the plan waits for an earlier gate."""
        return self.prerequisites.pending(plan)

    def resolve_deferred(self, plan: GatePlan, decision_of: Callable[[GatePlan], str]) -> None:
        """Decide deferred prerequisites from this run's decisions of the earlier gates."""
        self.prerequisites.resolve(plan, self._plan_named, decision_of)

    def _plan_named(self, record_name: str) -> GatePlan:
        plan = self.plan_for(record_name)
        assert plan is not None, record_name
        return plan

    def _share_attestation_stores(self) -> None:
        # A monorepo's projects usually share the root's sign-off log and approvers: one
        # parsed store serves every project that reads the same files the same way.
        shared: dict[tuple[Path, str, str, bool, bool, bool], Project] = {}
        for slot in self.slots:
            project = slot.project
            if project is None:
                continue
            config = project.config
            key = (project.root, config.attestation_log, config.approvers,
                   config.verify_authorship, config.require_signed_commits,
                   config.forbid_self_approval)
            if key in shared:
                project.share_attestations(shared[key])
            else:
                shared[key] = project

    def _open(self, slot: ProjectSlot) -> ProjectSlot:
        settings = self.settings
        try:
            if slot.state_path.is_relative_to(settings.root):
                _refuse_escape(settings.root, slot.state_path)
            refuse_another_projects_state(settings.root, slot.id, slot.state_path)
            state = load_state(slot.state_path, settings.limits.evidence_bytes)
            slot.root = project_dir(settings.root, slot.id, slot.state_path, state,
                                    settings.limits.evidence_bytes, self._declared_paths)
        except DeployGateError as exc:
            slot.error = str(exc)
            return slot
        try:
            config = load_config(config_dir(settings.root, slot.root), self.scope)
            refuse_config_of_another_project(config, slot.id,
                                             shown_folder(settings.root, slot.root))
        except DeployGateError as exc:
            # Not a gate outcome: the run stops before anything is evaluated or recorded
            # (once every project's gates are known: see prepare).
            self.config_errors.append(str(exc))
            slot.error = str(exc)
            return slot
        # What defines this project's gate outside its folder (the root's checklists, spec
        # folder and configuration) is its release content, before anything asks for it.
        bind_definition(slot.root, settings.root, settings.spec_dir, settings.ini_path)
        effects = reviewed_effects(settings)
        chosen = command_line_sources(settings, config) if effects else []
        if chosen:
            # As --gate-threshold: evidence measured where the command line (or PYTEST_ADDOPTS)
            # says, not where the reviewed config does, is neither written back nor signed.
            raise SelectionError(f"{', '.join(chosen)} replaces the evidence source of "
                                 f"{config.display_name}: it cannot be used with "
                                 f"{', '.join(effects)}; name it in deploygate.yaml")
        named = _named_version(config, slot.root) if effects and settings.version else None
        if named is not None and named[0] != settings.version:
            # Nor a release gated as another version than its files name (the changelog, the
            # tag and the release binding all follow the version).
            raise SelectionError(f"--gate-version={settings.version} is not the version "
                                 f"{named[0]} of {named[1]}: it cannot be used with "
                                 f"{', '.join(effects)}; gate the release as its files name it")
        slot.project = Project(slot.root, state, config, settings.now, settings.version,
                               prometheus_url_override=settings.prometheus_url,
                               extra_health_urls=settings.health_urls,
                               allow_commands=settings.allow_commands,
                               waivers_disabled=settings.no_waivers,
                               watch_seconds=settings.watch_seconds,
                               record_dir=_record_dir(settings, slot),
                               spec_dir=settings.spec_dir,
                               scope=self.scope)
        return slot

    def _check_override_names(self) -> None:
        # A misspelt override cannot pass anything (the spec's own check still runs), so it is
        # a warning, not an error: one config serves specs with different criteria.
        for slot in self.slots:
            if slot.project is None:
                continue
            plans = [p for p in self.plans if p.slot is slot]
            known = {i.id for p in plans if p.spec for i in p.spec.items}
            unknown = sorted(set(slot.project.config.evidence) - known)
            if unknown and all(p.spec for p in plans):
                message = (f"{slot.project.config.display_name}: evidence: no criterion "
                           f"{', '.join(unknown)} in the selected gates; those overrides do "
                           "nothing")
                if message not in self.warnings:
                    self.warnings.append(message)

    def _plan(self, spec_file: SpecFile, slot: ProjectSlot, record_dir: Path) -> GatePlan:
        """The frozen plan of one gate: its spec, items and prerequisites evaluated now (or
        the one error that keeps it from running)."""
        plan = GatePlan(spec_file, self.settings.stage, slot, record_dir)
        try:
            spec = self._spec(spec_file)
        except (DeployGateError, ValueError) as exc:
            return replace(plan, error=str(exc))
        if spec_file.key and slot.layout is not None:
            # Today's layout: the file name selects the phase; the spec must be about it.
            phase = slot.layout.canonical(spec.phase)
            if phase != spec_file.key:
                return replace(plan, spec=spec, error=(
                    f"{spec.source}: phase {spec.phase!r} is not the phase {spec_file.key} its "
                    "file name selects; name the file after its phase key"))
            if phase != spec.phase:
                spec = replace(spec, phase=phase)
        project = slot.project
        if project is None:
            return replace(plan, spec=spec, error=slot.error)
        thresholds = {**spec.thresholds,
                      **{k: v for k, v in project.config.thresholds.items()
                         if k in spec.thresholds},
                      **{k: v for k, v in self.settings.thresholds.items()
                         if k in spec.thresholds}}
        try:
            items = apply_overrides(spec, project.config, self.kinds)
        except DeployGateError as exc:
            self.config_errors.append(str(exc))  # deploygate.yaml's evidence: is broken
            return replace(plan, spec=spec, error=str(exc))
        if self.config_errors:
            return replace(plan, spec=spec, error=self.config_errors[-1])  # (not evaluated)
        stage = self.settings.stage
        staged = tuple(stage_items(items, stage))
        if stage == "post":
            staged += (binding_item(spec),)
        plan = replace(plan, spec=spec, thresholds=MappingProxyType(thresholds),
                                   spec_items=tuple(items), items=staged)
        if self._before_evaluation is not None:
            self._before_evaluation(plan)
        results = {item.id: self.evaluate(plan, item)
                   for item in items if item.role == "prerequisite"}
        unmet = tuple(unmet_line(item, results[item.id]) for item in items
                      if item.role == "prerequisite" and results[item.id].status != "met")
        return replace(plan, prerequisite_results=MappingProxyType(results),
                                   unmet=unmet)

    def _spec(self, spec_file: SpecFile) -> GateSpec:
        # Parsed and validated once per run, however many plans or projects use it.
        limit = self.settings.limits.document_bytes
        info = spec_file.path.stat()
        # The change time too: a rewrite can keep its modification time (os.utime, a checkout),
        # never its ctime, so changed content is parsed and validated again.
        key = (str(spec_file.path), info.st_mtime_ns, info.st_ctime_ns, info.st_size,
               info.st_ino, id(self.kinds), spec_file.layout, limit)
        # The run's cache: a later run (pytester, an IDE) parses again under its own kinds.
        specs: dict[tuple[object, ...], tuple[Mapping[str, CheckKind], GateSpec]] = \
            self.scope.cache("specs")
        cached = specs.get(key)
        if cached is None or cached[0] is not self.kinds:
            path, data = spec_source(spec_file, self.settings.cache_dir)
            cached = specs[key] = (self.kinds, load_spec(path, self.kinds,
                                                         self.settings.cache_dir, limit, data))
        return cached[1]

    def _check_threshold_names(self, selected: list[SpecFile]) -> None:
        if not self.settings.thresholds:
            return
        known: set[str] = set()
        for spec_file in selected:
            try:
                known |= set(self._spec(spec_file).thresholds)
            except DeployGateError:
                continue
        unknown = sorted(set(self.settings.thresholds) - known)
        if unknown:
            raise SelectionError(f"--gate-threshold: unknown threshold(s) {', '.join(unknown)}; "
                                 f"the selected gates define: {', '.join(sorted(known)) or 'none'}")

    def context(self, plan: GatePlan, item: Criterion) -> EvalContext:
        """The evaluation context of one item."""
        assert plan.spec is not None and plan.project is not None
        return EvalContext(plan.project, plan.spec, item, plan.thresholds, self.kinds)

    def prefetch(self, plan: GatePlan, item: Criterion) -> None:
        """Start the item's network evidence in the background (no-op for other kinds)."""
        if plan.project is None or plan.spec is None or item.check is None or \
                self.skip_reason(plan):
            return
        kind = self.kinds.get(item.check.kind)
        if kind is None or kind.prefetch is None:
            return
        try:
            kind.prefetch(item.check.params, self.context(plan, item))
        except Exception:  # evaluation will report the same problem on the item itself
            return

    def evaluate(self, plan: GatePlan, item: Criterion) -> CheckResult:
        """Evaluate one item, honouring a waiver that governs it."""
        project = plan.project
        assert plan.spec is not None and project is not None
        if item.role in ("prerequisite", "binding"):
            return self._evaluate(plan, item)
        waivers = project.waivers
        if not waivers.enabled:  # (the common case: nothing to decide, no phase start to read)
            return self._evaluate(plan, item)
        layout = layout_of(project)
        ruling = waivers.decide(plan.spec, layout, item, project.now,
                                run_phase_start(project, plan.spec.phase, layout),
                                project.release, project.bookkeeping)
        if ruling.waiver is not None and ruling.applies:
            waiver = ruling.waiver
            shown = waivers.evidence(waiver)
            if not waiver.run:
                return CheckResult("waived", f"{waiver.describe()} (run: false, not evaluated)",
                                   (shown,))
            result = self._evaluate(plan, item)
            if result.status in ("met", "not_applicable"):
                return CheckResult(result.status, f"{result.message} (waiver not needed)",
                                   result.evidence, result.measurement)
            return CheckResult("waived", f"{waiver.describe()} (run: true, evaluated: "
                                         f"{result.message})", (*result.evidence, shown),
                               result.measurement)
        result = self._evaluate(plan, item)
        if ruling.note:
            return CheckResult(result.status, f"{result.message}; {ruling.note}",
                               result.evidence, result.measurement)
        return result

    def continuation(self, plan: GatePlan) -> str | None:
        """What follows a PASS: the first branch whose condition holds, else ``next``."""
        spec = plan.spec
        if spec is None:
            return None
        for branch in spec.branches:
            probe = Criterion(id="branch", text="branch", role="criterion", section_id="next",
                              section_title="Next", stage="post", decision=OTHER_ROW_ID,
                              check=branch.when, waivable=False)
            if plan.project is not None and self._evaluate(plan, probe).status == "met":
                return branch.describe()
        if spec.branches:
            return "no branch applies: " + "; ".join(
                f"{b.when.kind} {b.when.params.get('path', '')}".strip() for b in spec.branches)
        if spec.next is None:
            return None
        text = f"Advance to Phase {spec.next.gate}: {spec.next.title}"
        return text + (f" ({spec.next.handler})" if spec.next.handler else "")

    def reviewer(self, plan: GatePlan) -> str | None:
        """Who reviewed the gate: a counting ``gate-review`` sign-off by a release manager."""
        if plan.project is None or plan.spec is None:
            return None
        from pytest_deploygate.trust.signoffs import REVIEW_CRITERION

        review = Criterion(id=REVIEW_CRITERION, text="Gate review", role="criterion",
                           section_id="review", section_title="Review", stage="post",
                           decision=OTHER_ROW_ID, waivable=False,
                           check=Check("attestation", {"kind": "attestation",
                                                       "roles": ["release-manager"]}))
        result = self._evaluate(plan, review)
        if result.status != "met":
            return None
        return result.message.removeprefix("signed off by ")

    def _evaluate(self, plan: GatePlan, item: Criterion) -> CheckResult:
        """Evaluate one item; an exception inside a check kind is missing evidence, never a pass."""
        known = self.prerequisites.result(plan, item.id) \
            if item.role == "prerequisite" else None
        if known is not None:
            return known
        assert plan.spec is not None and plan.project is not None
        if item.role == "binding":
            from pytest_deploygate.gate.stages import check_pre_record

            return check_pre_record(self.settings, plan, plan.project)
        try:
            result = evaluate_item(self.context(plan, item))
        except StateError as exc:
            return CheckResult.missing(str(exc))
        except Exception as exc:  # a broken or third-party kind must not turn into a pass
            kind = item.check.kind if item.check else "?"
            return CheckResult.missing(f"check kind '{kind}' failed: {type(exc).__name__}: {exc}")
        kind = item.check.kind if item.check else "?"
        shaped = result if self._own_kinds_only and _booked_already(result) \
            else _booked_copy(result)
        if isinstance(shaped, str):
            return CheckResult.missing(f"check kind '{kind}' returned {shaped}")
        result = shaped
        if result.status not in _KIND_STATUSES:
            # A waiver is recorded (approver, justification, expiry) and applied above, never
            # returned by a kind: a third-party kind reporting "waived" passed the gate.
            return CheckResult.missing(f"check kind '{kind}' reported {result.status!r}: only "
                                       "a recorded waiver waives a criterion", *result.evidence)
        if result.status == "not_applicable" and \
                not may_be_not_applicable(item, plan.spec, plan.project.config.conditions):
            # The rule `deploygate verdict` applies to records: N/A needs a reason in the spec.
            return CheckResult.missing(f"reported N/A ({result.message}), but the spec gives "
                                       f"{item.id} no condition under which it is N/A",
                                       *result.evidence)
        return result


#: What a check kind may report (``waived`` is the waiver store's to give).
_KIND_STATUSES = frozenset({"met", "not_met", "missing", "not_applicable"})


def _booked_copy(result: object) -> CheckResult | str:
    """A kind's result rebuilt from its parts, or what is wrong with it. A (third-party)
    kind's own subclass of the result or of its evidence can hand over anything (a
    ``to_dict`` of numbers failed half-way through writing the record), and what the kind
    still holds it could change once the item is booked: the records are written from
    plain values of text, made here. (Read by their fields, not by class: a kind may have
    imported the package's classes anew.)"""
    status, message = getattr(result, "status", None), getattr(result, "message", None)
    if not isinstance(status, str) or not isinstance(message, str):
        return "no status and message as text"
    given = getattr(result, "evidence", None) or ()
    if not isinstance(given, (tuple, list)):
        return "evidence that is not text"
    evidence = []
    for one in given:
        # (Unrolled, once per criterion: kind and ref text, the other three text or None.)
        kind, ref = getattr(one, "kind", None), getattr(one, "ref", None)
        sha256 = getattr(one, "sha256", None)
        modified = getattr(one, "modified", None)
        detail = getattr(one, "detail", None)
        if not isinstance(kind, str) or not isinstance(ref, str) or \
                (sha256 is not None and not isinstance(sha256, str)) or \
                (modified is not None and not isinstance(modified, str)) or \
                (detail is not None and not isinstance(detail, str)):
            return "evidence that is not text"
        evidence.append(Evidence(kind, ref, sha256, modified, detail))
    measured = getattr(result, "measurement", None)
    if measured is not None:
        # The same for what a metric kind measured: its plain form, read back (a to_dict of
        # anything else stopped the records half-way).
        from pytest_deploygate.core.measurements import Measurement

        try:
            measured = Measurement.from_dict(measured.to_dict())
        except Exception:
            measured = None
        if measured is None:
            return "a measurement that is not one"
    return CheckResult(status, message, tuple(evidence),  # type: ignore[arg-type]
                       measured)


def _own_kinds_only(kinds: Mapping[str, CheckKind]) -> bool:
    """True when ``kinds`` is a read-only registry (:class:`KindRegistry`, built once) of
    the package's declared built-in kinds only: then every result and piece of evidence an
    item's evaluation returns (its check, its conditions, nested checks) was made by the
    package's own code, which builds frozen values and never changes one it handed over."""
    from pytest_deploygate.checks import KindRegistry, declared_kind
    from pytest_deploygate.checks.declared import DECLARED

    if type(kinds) is not KindRegistry:
        return False
    return all(name in DECLARED and kind is declared_kind(name) for name, kind in kinds.items())


def _booked_already(result: CheckResult) -> bool:
    """Whether :func:`_booked_copy` would rebuild ``result`` into an equal value (so the
    value itself may be booked), for a result of the package's own kinds only (see
    _own_kinds_only: nothing else holds it to change it later).

    Provably the same: the exact classes (no subclass with its own attributes), a tuple of
    evidence (the copy's is one), no measurement (that is rebuilt from its plain form), and
    every text field either None or a ``str`` that _booked_copy accepts and that cleaning
    returns unchanged (:func:`unchanged_by_cleaning`, the test cleaning itself uses), so the
    rebuilt fields are these very strings. Anything else takes the copy."""
    if type(result) is not CheckResult or result.measurement is not None or \
            not isinstance(result.status, str):
        return False
    message, evidence = result.message, result.evidence
    if type(message) is not str or not unchanged_by_cleaning(message) or \
            type(evidence) is not tuple:
        return False
    for one in evidence:
        if type(one) is not Evidence:
            return False
        if type(one.kind) is not str or not unchanged_by_cleaning(one.kind) or \
                type(one.ref) is not str or not unchanged_by_cleaning(one.ref):
            return False
        for value in (one.sha256, one.modified, one.detail):
            if value is not None and (type(value) is not str or
                                      not unchanged_by_cleaning(value)):
                return False
    return True


def _deferring(plan: GatePlan, deferred: dict[str, str]) -> GatePlan:
    """The plan with these prerequisites left to the earlier gates of this run: their
    results from state.json no longer count."""
    kept = {k: v for k, v in plan.prerequisite_results.items() if k not in deferred}
    items = {item.id: item for item in plan.spec_items}
    unmet = tuple(unmet_line(items[item_id], result)
                  for item_id, result in kept.items() if result.status != "met")
    return replace(plan, prerequisite_results=MappingProxyType(kept), unmet=unmet,
                               deferred=MappingProxyType(deferred))


def project_slots(settings: Settings) -> list[ProjectSlot]:
    """The projects this run gates: the repository's own, or monorepo projects by id."""
    if not settings.projects:
        return [ProjectSlot(None, settings.state_path, settings.root)]
    base = settings.root / ".isdlc" / "projects"
    found = sorted(p.parent.name for p in base.glob("*/state.json")) if base.is_dir() else []
    wanted = found if "all" in settings.projects else list(dict.fromkeys(settings.projects))
    if not wanted:
        raise SelectionError(f"--gate-project=all: no projects under {base} "
                             "(.isdlc/projects/<id>/state.json)")
    unknown = [w for w in wanted if w not in found]
    if unknown:
        raise SelectionError(f"--gate-project: no project {', '.join(unknown)} in {base}; "
                             f"projects: {', '.join(found) or 'none'}")
    return [ProjectSlot(pid, base / pid / "state.json", settings.root) for pid in wanted]


def _record_dir(settings: Settings, slot: ProjectSlot) -> Path:
    """Where a project's records go: the record directory, per project in a monorepo."""
    return settings.record_dir / slot.id if slot.id else settings.record_dir


def _refuse_escape(root: Path, state_path: Path) -> None:
    # The default state.json is part of the project: a symlink that leads out of the project
    # would let the repository point the gate at someone else's state.
    from pytest_deploygate.core.paths import OutsideRoot, inside_root

    try:
        inside_root(root, state_path.relative_to(root).as_posix())
    except OutsideRoot as exc:
        raise StateError(f"{state_path}: {exc}") from None


def _named_version(config: ProjectConfig, root: Path) -> tuple[str, str] | None:
    """The version the project's files name, and which file (None when none does)."""
    if config.version:
        return config.version, config.display_name
    from pytest_deploygate.evidence.release import manifest_version

    found = manifest_version(root)
    return (found, "the project's manifest") if found else None


def run_phase_start(project: Project, phase: str, layout: Layout | None = None
                    ) -> datetime | None:
    """The waiver store's phase start (:func:`~pytest_deploygate.trust.waivers.phase_start`)
    of ``project``, read once per run and phase: every item of a gate with waivers asks."""
    from pytest_deploygate.trust.waivers import phase_start  # loaded with the store

    key = ("waiver-phase-start", phase, layout)
    if key not in project.memo:
        project.memo[key] = phase_start(project.state, phase, layout)
    started: datetime | None = project.memo[key]
    return started
