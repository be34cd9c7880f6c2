"""``deploygate verdict``: read a gate record, verify it, print the table, exit with the decision.

Exit codes: 0 PASS, 1 FAIL, 2 ROLLBACK, 3 SKIPPED, 5 INCOMPLETE, 4 when the file is not a
trustworthy gate record of what is being deployed: unreadable, not a gate record, made by a
spec that is not the project's, criteria missing, outcomes the spec does not allow, claims the
testcases do not make, or a record of another gate, stage or release. A deploy job can depend
on it: only 0 means deploy.

The verification is :func:`pytest_deploygate.records.verify.verify_record`, the one the post
stage applies to its pre record; the decision is recomputed by the plugin's own function.
The spec it verifies against, and deploygate.yaml, are loaded and validated afresh by every
verdict, as every command loads them. Nothing is remembered between verdicts: a cache in the
private cache folder was forged by the red team as the deploying job's own user (a record of
another spec then passed; tests/test_attack_fastverdict.py).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

from pytest_deploygate.cli.verdict_project import RecordProject, record_project
from pytest_deploygate.cli.verdict_signing import (
    add_signing_arguments,
    expected_project,
    signature_problem,
)
from pytest_deploygate.cli.workspace import Refusal, Workspace, complain, say
from pytest_deploygate.core.value_class import replace
from pytest_deploygate.decision.decide import EXIT_CODES
from pytest_deploygate.evidence.release import (
    ReleaseIdentity,
    bookkeeping_paths,
    release_identity,
    release_tree,
)
from pytest_deploygate.records.reader import GateRecord, RecordError, read_record
from pytest_deploygate.records.verify import (
    RECORD_NAME,
    STAGES,
    Expected,
    Verification,
    verify_record,
)

NOT_TRUSTED = 4
_NAME_PREFIX = "deploygate.row."
#: What ``--commit`` is when it is a commit id or an abbreviation of one.
_HEX = re.compile(r"[0-9a-fA-F]{4,64}")
#: ``GATE-12.xml``, ``GATE-12-pre.xml``, ``GATE-12-post.xml``: what the plugin names records.


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    parser = sub.add_parser(
        "verdict", help="verify a gate record of the release being deployed and exit with "
                        "its decision",
        description="Verify the record against the project's spec for its gate (same sha256, "
                    "every criterion present with an outcome the spec allows), recompute its "
                    "decision, bind it to the release being deployed (by default this "
                    "project's commit and version; gate and stage from the file name), print "
                    "the Gate Decision table. Exit 0 PASS, 1 FAIL, 2 ROLLBACK, 3 SKIPPED, "
                    "5 INCOMPLETE, 4 not a trustworthy record of this release.")
    parser.add_argument("record", type=Path)
    parser.add_argument("--commit", default=None,
                        help="the commit being deployed (default: this project's release)")
    parser.add_argument("--version", default=None, dest="release_version",
                        help="the version being deployed (default: this project's version)")
    parser.add_argument("--gate", default=None,
                        help="the gate the record must be of (default: from the file name)")
    parser.add_argument("--stage", choices=STAGES, default=None,
                        help="the stage the record must be of (default: from the file name, "
                             "'all' when it names none)")
    parser.add_argument("--allow-replay", action="store_true", default=False,
                        help="accept a record of a replay (--gate-now): for audits, never "
                             "for a deploy")
    parser.add_argument("--max-age", type=max_age, default=None, metavar="DURATION",
                        help="refuse (exit 4) a record evaluated longer ago than this "
                             "(30m, 12h, 7d; default: any age), or dated ahead of this "
                             "machine's clock")
    add_signing_arguments(parser)
    parser.set_defaults(run=run)


def max_age(text: str) -> timedelta:
    """``30m``, ``12h``, ``7d`` or ``90s`` as a duration (argparse says what is wrong)."""
    found = re.fullmatch(r"([0-9]{1,9})([smhd])", text.strip())
    if found is None or int(found.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration: give a positive number "
                                         "and a unit, s, m, h or d (e.g. 24h)")
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[found.group(2)]
    return timedelta(seconds=int(found.group(1)) * unit)


def run(args: argparse.Namespace, workspace: Workspace) -> int:
    """Verify the record and return its decision's exit code (4 when it is not trusted)."""
    try:
        record = read_record(args.record, workspace.limits.evidence_bytes)
    except RecordError as exc:
        complain(str(exc))
        return NOT_TRUSTED
    project = record_project(workspace, expected_project(
        args.record, workspace.root, getattr(args, "project", None))[0])
    release = _release(args, workspace, record, project)
    unsigned = signature_problem(args, record, workspace, release)
    if unsigned is not None:
        complain(f"{args.record}: {unsigned}")
        return NOT_TRUSTED
    checked = _verify(args, record, workspace, release, project)
    _show(record)
    if checked.problems:
        for problem in checked.problems:
            complain(f"{args.record}: {problem}")
        complain(f"{args.record}: not a trustworthy gate record of the release being deployed")
        return NOT_TRUSTED
    assert checked.decision is not None
    shadowed = _checkout_code(workspace)
    if shadowed:
        complain(f"{args.record}: {shadowed}")
        _leave_refused()
    return EXIT_CODES[checked.decision.status]


def _leave_refused() -> NoReturn:
    """Leave at once with exit 4, the refusal printed. The code the refusal found ran in
    this very process and may have registered an ``atexit`` handler, wrapped ``sys.exit`` or
    ``SystemExit`` that turns any exit into 0 (the red team's did): ``os._exit`` runs none of
    them. This only raises the bar for an honest misconfiguration; the control is the
    recipes' ``python -I`` (docs/ci-recipes.md), under which such code never runs."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed stream still exits 4
            stream.flush()
    os._exit(NOT_TRUSTED)


def _checkout_code(workspace: Workspace) -> str | None:
    """Why this verdict cannot be trusted to be the installed code's: code of the checkout
    could run in this process. Checked last, so that a module the verification imported
    counts. A module can hide itself (delete itself from ``sys.modules``, take its folder off
    ``sys.path``), so what it cannot undo is asked first: how the interpreter was started
    (``PYTHON*`` variables, the user site folder), then ``sys.path``, then the modules."""
    from pytest_deploygate.core.checkout_code import imported_from, path_entry_in
    from pytest_deploygate.core.startup_steering import startup_problem

    checkout = _checkout(workspace)
    run_it = ("run python -I -m pytest_deploygate verdict (docs/ci-recipes.md), which no "
              "PYTHON* variable, user site folder or current folder can steer")
    steered = startup_problem(checkout)
    if steered is not None:
        return f"{steered}: {run_it}"
    entry = path_entry_in(checkout)
    if entry is not None:
        return (f"sys.path holds {entry}, inside the checkout, so a module of the repository "
                f"may have been imported in place of an installed one: {run_it}")
    tracked = _tracked_interpreter(workspace, checkout)
    if tracked is not None:
        return tracked
    found = imported_from(workspace.root)
    if found is None:
        return None
    name, where = found
    return (f"module {name} was imported from {where}, inside the project, in place of the "
            f"installed one: {run_it}")


def _checkout(workspace: Workspace) -> Path:
    """The git work tree the project is in (a monorepo's projects share it): its code is
    the repository's, whichever project it belongs to."""
    if workspace.top is not None:  # (main asked git already, with the same controlled git)
        return workspace.top
    code, top = workspace.git("rev-parse", "--show-toplevel", as_the_gate=True)
    return Path(top).resolve() if code == 0 and top else workspace.root.resolve()


def _tracked_interpreter(workspace: Workspace, checkout: Path) -> str | None:
    """This interpreter's own folders (a virtual environment) inside the checkout are pip's
    work only when the repository holds none of their files: a committed ``.venv/`` is
    release content, and a CI that creates its environment over it (``python -m venv .venv``
    keeps what is there; pip keeps a package it finds installed) runs the committed code."""
    from pytest_deploygate.core.checkout_code import interpreter_folders_in

    folders = interpreter_folders_in(checkout)
    if not folders:
        return None
    code, listed = workspace.git("ls-files", "-z", "--", *(str(f) for f in folders),
                                 as_the_gate=True)
    if code != 0:
        return (f"the interpreter's folder {folders[0]} is inside the checkout and git cannot "
                f"say whether the repository holds it ({listed[:200]}): create the CI's "
                "virtual environment outside the checkout")
    first = listed.split("\0", 1)[0]
    if not first:
        return None
    return (f"the interpreter's folder {folders[0]} is inside the checkout and the repository "
            f"holds files of it ({first}): that is committed code, not what pip installed; "
            "create the CI's virtual environment outside the checkout (or untracked, fresh)")


def _verify(args: argparse.Namespace, record: GateRecord, workspace: Workspace,
            release: ReleaseIdentity, project: RecordProject) -> Verification:
    named = RECORD_NAME.fullmatch(args.record.name)
    gate = args.gate or (named.group("gate") if named else None)
    stage = args.stage or ((named.group("stage") or "all") if named else None)
    if gate is None or stage is None:
        return Verification([f"the file name {args.record.name!r} does not say which gate and "
                             "stage it is (GATE-NN[-pre|-post].xml): pass --gate and --stage"])
    try:
        # Read afresh by every verdict: nothing that decides a deploy is remembered in a folder
        # the deploying job's own user can write (the red team forged such an entry).
        spec = workspace.gate(gate)
        items = workspace.items(spec)
        if project.config is None:
            raise Refusal(project.problem)
        config = project.config  # (the project's own: a monorepo project's in its folder)
    except Refusal as exc:
        return Verification([f"no spec to verify it against: {exc}"])
    from pytest_deploygate.core.timeutil import now_utc

    expected = Expected(gate_id=spec.id, stage=stage, release=release,
                        allow_replay=args.allow_replay, max_age=args.max_age, now=now_utc())
    checked = verify_record(record, spec, items, expected,
                            waivers_enabled=config.waivers_enabled,
                            conditions=config.conditions)
    checked.problems += _project_problems(args, record, workspace)
    return checked


def _project_problems(args: argparse.Namespace, record: GateRecord, workspace: Workspace
                      ) -> list[str]:
    """A monorepo's projects share commit, tree and version: one project's PASS record must
    not stand in for another's (``--project`` was read only with a signature before)."""
    project, _ = expected_project(args.record, workspace.root, getattr(args, "project", None))
    recorded = record.properties.get("deploygate.project_id")
    if recorded == project:
        return []
    if project is None:
        return [f"it is a record of monorepo project {recorded!r}, and it is not in a directory "
                f"of that name: pass --project {recorded} if it is the one to deploy"]
    return [f"it is a record of project {recorded!r}, not {project!r}"]


def _release(args: argparse.Namespace, workspace: Workspace, record: GateRecord,
             project: RecordProject) -> ReleaseIdentity:
    """What is being deployed: --commit / --version, else this project's release (a
    monorepo project's in its folder, its gate definition at the root included)."""
    identity = release_identity(project.root, record_dir=record.path.parent,
                                version=args.release_version or project.version(),
                                spec_dir=workspace.spec_dir)
    if args.commit is None:
        return identity
    code, resolved = workspace.git("rev-parse", "--verify", "--quiet",
                                   f"{args.commit}^{{commit}}", as_the_gate=True)
    commit = resolved if code == 0 and resolved else args.commit
    if _HEX.fullmatch(args.commit) and code == 0 and \
            not resolved.lower().startswith(args.commit.lower()):
        # git prefers a ref to an abbreviated object id: a tag or branch named like the
        # abbreviation of the commit being deployed chose another release (one with a PASS).
        return replace(identity, commit=None, tree=None, dirty=False, changed=(),
                       problem=f"--commit {args.commit} is a ref (tag or branch) of that name, "
                               f"which git resolves to {resolved[:12]}, not a commit whose id "
                               "starts so: pass the full commit id")
    # The tree of the named commit's release content, by the same rules (bookkeeping out).
    tree = release_tree(project.root, commit,
                        bookkeeping=bookkeeping_paths(project.root, record.path.parent),
                        prefix=identity.prefix or None)
    return replace(identity, commit=commit, tree=tree, dirty=False, changed=(),
                   problem=None if tree else f"git knows no commit {args.commit!r}")


def _show(record: GateRecord) -> None:
    props = record.properties
    replay = " (replay)" if props.get("deploygate.replay") == "true" else ""
    say(f"{props.get('deploygate.gate', '?')} {props.get('deploygate.title', '')} "
        f"(stage {props.get('deploygate.stage', '?')}): {props.get('deploygate.decision')}"
        f"{replay}")
    for name, value in props.items():
        if name.startswith(_NAME_PREFIX):
            say(f"  {name.removeprefix(_NAME_PREFIX):<26} {value}")
    for key in ("deploygate.commit", "deploygate.version", "deploygate.evaluated_at"):
        if key in props:
            say(f"  {key.removeprefix('deploygate.')}: {props[key]}")
