"""Writing a decided gate: its record files (signed when a key is given), the write-back
into the framework's files, and what the run's waivers say for the summary.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
import re
from fnmatch import fnmatchcase
from pathlib import Path

from pytest_deploygate.core.atomic import write_atomic
from pytest_deploygate.core.timeutil import format_instant
from pytest_deploygate.decision.decide import INCOMPLETE
from pytest_deploygate.evidence.release import RECORD_IDS
from pytest_deploygate.gate.plan import GatePlan
from pytest_deploygate.gate.record_folders import RecordFolders
from pytest_deploygate.gate.run import GateRun, run_phase_start
from pytest_deploygate.gate.settings import Settings
from pytest_deploygate.gate.sign_records import RecordSigner
from pytest_deploygate.isdlc.layout import layout_of
from pytest_deploygate.records.content import RecordContent
from pytest_deploygate.records.junit import junit_chunks
from pytest_deploygate.records.markdown import markdown_chunks
from pytest_deploygate.signing import SigningError, envelope_path


def write_records(plan: GatePlan, content: RecordContent, signer: RecordSigner
                  ) -> tuple[list[Path], str | None]:
    """Write the XML, markdown and HTML records (and the attestation when signing): the
    paths written, and the problem that keeps the gate from a (signed) record."""
    from pytest_deploygate.records.html import html_chunks

    base = plan.record_dir / plan.file_stem
    paths = [base.with_suffix(".xml"), base.with_suffix(".md"), base.with_suffix(".html")]
    try:
        # Written piece by piece: a big gate's record is never whole in memory.
        write_atomic(paths[0], junit_chunks(content))
        write_atomic(paths[1], markdown_chunks(content, content.reviewer))
        write_atomic(paths[2], html_chunks(content))
        envelope = signer.sign(plan, content, paths[0])
        if envelope is not None:
            paths.append(envelope)
    except SigningError as exc:
        return paths, f"cannot sign gate record {base}: {exc}"
    except OSError as exc:
        # A gate whose record cannot be written has no record: say so and fail the run, and
        # leave none of an earlier run behind (its XML, page or signed attestation could still
        # say PASS for the same release, to a deploy job or a reviewer).
        left = _remove_what_it_can([*paths, envelope_path(paths[0])])
        # ("File exists" alone did not say that a file stands where the folder should be.)
        return [], (f"cannot write gate record {base}: {exc.strerror or exc}; make "
                    f"{plan.record_dir} a folder this run can write, or pass --gate-record-dir"
                    f"{left}")
    except BaseException:
        _remove_what_it_can([*paths, envelope_path(paths[0])])  # (a bug: the same, then said)
        raise
    return paths, None


def clear_earlier_records(plan: GatePlan) -> None:
    """Remove what an earlier run wrote under this run's record names, before anything is
    evaluated: a run that then dies (killed at a CI timeout, out of memory) leaves no record
    at all, never the last run's PASS for the same release (a withdrawn sign-off or a new
    rollback report does not make a new release) for a deploy job to find."""
    paths = []
    for stage in (plan.stage, *_stale_stages(plan.stage)):
        base = plan.record_dir / (plan.gate_id if stage == "all" else f"{plan.gate_id}-{stage}")
        xml = base.with_suffix(".xml")
        paths += [xml, base.with_suffix(".md"), base.with_suffix(".html"), envelope_path(xml)]
    _remove_records(paths)


def _stale_stages(stage: str) -> tuple[str, ...]:
    """The stages of the same gate whose records a run of ``stage`` makes stale besides its
    own: the stage-all record, when the job's environment chose a pre or post run.

    ``PYTEST_ADDOPTS=--gate-stage=pre`` turned a job's stage-all run into a stage run, which
    passed and left the last stage-all PASS of the same release (no new release) for a deploy
    job, though a stage-all run would now FAIL. A stage named by the command line (a
    pipeline's pre and post jobs) keeps the other records: the command line's own
    ``--gate-stage`` wins over PYTEST_ADDOPTS, so the environment cannot turn a stage run into
    a stage-all run, and a workspace may keep every stage's record."""
    import shlex

    if stage == "all":
        return ()
    try:
        tokens = shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))
    except ValueError:
        tokens = ["--gate-stage"]  # (unreadable: as if it named one)
    return ("all",) if any(token.startswith("--gate-stage") for token in tokens) else ()


def clear_records_of_a_stopped_run(settings: Settings) -> None:
    """Remove every gate record of this run's stage (and those it supersedes) from the
    record folders the run could write (see :func:`clear_stopped_records`)."""
    stages = (settings.stage, *_stale_stages(settings.stage))
    clear_stopped_records(RecordFolders(record_dir=settings.record_dir,
                                        projects=settings.projects, stages=stages))


def clear_stopped_records(where: RecordFolders) -> list[Path]:
    """Remove every gate record of the stages from the record folders the run could
    write (the record folder, and the folder of each project it names, or of every project
    under ``--gate-project=all``), when the run stops before it
    knows which gates it selected: a usage error (``--gate=current`` with a broken or
    phaseless state.json, a state of the other layout making ``--gate=12`` ambiguous, a
    monorepo project removed from ``.isdlc/projects``, an unknown ``--gate-threshold``,
    an option of its own it cannot read) kept the last run's PASS for the same release,
    which ``deploygate verdict`` accepted (a state.json or a project folder is bookkeeping:
    no new release). Other gates' records go too: a run that decided nothing cannot say
    which of them it would have replaced. :class:`StaleRecord` when one cannot go. The
    folders looked in that are there (whose records are now gone)."""
    # (A monorepo run writes in its projects' folders only: record_dir/<id>.)
    folders: list[Path] = []
    for record_dir in (where.record_dir, *where.also):
        # (The folder itself too: a project named by mistake, or by the environment
        # (--gate-project=nope), must not spare the records a single-project run wrote.)
        folders += [record_dir, *(record_dir / pid for pid in where.projects
                                  if pid not in ("all", ".", "..") and "/" not in pid
                                  and "\\" not in pid)]
        if "all" in where.projects:  # (every project's folder: the run never learnt which)
            # A project's record folder that is a link to a folder is cleared through the
            # link, as a named project's is: runs write through it and verdict reads through
            # it, so sparing it kept that project's last PASS (rt16a A07).
            folders += [entry for entry in _entries(record_dir) if entry.is_dir()]
    names = tuple(name for stage in where.stages for name in stage_record_names(stage))
    for folder in dict.fromkeys(folders):
        entries = [entry for entry in _entries(folder)
                   if any(fnmatchcase(entry.name, name) for name in names)]
        # A spec with an id of its own (``12-deploy``, no phase key) names its records
        # after it: an XML file the gate wrote goes, with its page and attestation (never
        # a file of the project's that merely looks like one: 01-create-users.xml).
        for entry in _entries(folder):
            if any(_OWN_ID_RECORD[stage].fullmatch(entry.name) for stage in where.stages) \
                    and _written_by_the_gate(entry):
                stem = entry.name.removesuffix(".xml")
                entries += [folder / f"{stem}.{suffix}"
                            for suffix in ("xml", "md", "html", "intoto.json")]
        _remove_records(entries)
    return [folder for folder in dict.fromkeys(folders) if folder.is_dir()]


def _entries(folder: Path) -> list[Path]:
    """The folder's entries; none when there is no folder. A folder that cannot be listed
    may hold an earlier PASS: :class:`StaleRecord`."""
    try:
        return list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):  # (no folder: no record)
        return []
    except OSError as exc:
        raise StaleRecord(
            f"cannot list the record folder {folder} to remove the earlier gate records: "
            f"{exc.strerror or exc}; make it a folder this run can read and change (or "
            "remove it), then run the gate again") from None


#: The XML record of a gate named by its own spec id (the spec schema's id pattern), by stage.
_OWN_ID_RECORD = {stage: re.compile(
    r"(GATE-[0-9]{2,3}|[0-9]{2,3}-[a-z0-9][a-z0-9-]*)"
    + ("" if stage == "all" else f"-{stage}") + r"\.xml") for stage in ("all", "pre", "post")}


def _written_by_the_gate(path: Path) -> bool:
    """Whether the file begins as the gate's JUnit records begin (read: a few KiB)."""
    from pytest_deploygate.core.regular_files import UnusableFile, open_regular_file

    try:
        descriptor, _ = open_regular_file(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(descriptor, "rb") as handle:
            start = handle.read(4096)
    except (OSError, UnusableFile):
        return False
    return b'<testsuites name="deploygate">' in start and b'"deploygate.gate"' in start


def stage_record_names(stage: str) -> tuple[str, ...]:
    """The file-name patterns of the records a run of ``stage`` writes (every gate)."""
    part = "" if stage == "all" else f"-{stage}"
    return tuple(f"{stem}{part}.{suffix}" for stem in RECORD_IDS
                 for suffix in ("xml", "md", "html", "intoto.json"))


def _remove_what_it_can(paths: list[Path]) -> str:
    """Remove the paths; what stays is said (appended to the line of a failed write)."""
    try:
        _remove_records(paths)
    except StaleRecord as exc:
        return f"; and {exc}"
    return ""


class StaleRecord(Exception):
    """An earlier gate record this run could not remove: the run must fail, never leave it
    silently for a deploy job (its PASS may name the same release)."""


def _remove_records(paths: list[Path]) -> None:
    """Remove each path that is there (all that can go goes); :class:`StaleRecord` names the
    first that stays."""
    stuck: list[tuple[Path, OSError]] = []
    for path in paths:
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            continue  # (no file there: a file where the folder should be holds no record)
        except OSError as exc:
            if path.is_dir() and not path.is_symlink():
                continue  # (a directory standing there is no record)
            stuck.append((path, exc))
    if stuck:
        first, error = stuck[0]
        more = f" (and {len(stuck) - 1} more)" if len(stuck) > 1 else ""
        raise StaleRecord(
            f"cannot remove the earlier gate record {first}{more}: {error.strerror or error}; "
            f"make {first.parent} a folder this run can change (or remove the file), then run "
            "the gate again: a deploy job must not trust it")


def write_back(settings: Settings, plan: GatePlan, content: RecordContent, paths: list[Path]
               ) -> str | None:
    """--gate-update-state and --gate-validation-record, after a decision was reached."""
    if not (settings.update_state or settings.validation_record):
        return None
    if plan.spec is None or content.decision.status == INCOMPLETE or not paths:
        return None
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
        return f"write-back of {plan.record_name}: {exc}"
    return None


def waiver_notes(run: GateRun) -> tuple[list[str], list[str]]:
    """Waivers that were ignored or unreadable (errors of the summary), and those about to
    expire (warnings)."""
    errors: list[str] = []
    warnings: list[str] = []
    for slot in run.slots:
        project = slot.project
        if project is None or not project.waivers.enabled:
            continue
        store = project.waivers
        errors += [f"waivers: {problem}" for problem in store.problems]
        for plan in run.plans:
            if plan.slot is not slot or plan.spec is None:
                continue
            for item in plan.items:
                layout = layout_of(project)
                ruling = store.decide(plan.spec, layout, item, project.now,
                                      run_phase_start(project, plan.spec.phase, layout),
                                      project.release, project.bookkeeping)
                if ruling.note and "ignored" in ruling.note:
                    errors.append(f"{plan.record_name}: {ruling.note}")
        for waiver in store.expiring_soon(project.now):
            warnings.append(
                f"waiver of {waiver.criterion} ({store.name}:{waiver.line}) expires "
                f"{format_instant(waiver.expires)}, within 7 days")
    return errors, warnings
