"""``deploygate validate``: schema-check specs, config, sign-offs, approvers and waivers.

For pre-commit hooks and CI lint stages: every problem is listed with file and line, and the
exit code is 1 when there is any (0 when all is well).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from pytest_deploygate.cli.workspace import Refusal, Workspace, complain, say
from pytest_deploygate.core.documents import load_checked_yaml
from pytest_deploygate.core.errors import DeployGateError
from pytest_deploygate.core.run_scope import RunScope
from pytest_deploygate.core.timeutil import parse_instant
from pytest_deploygate.evidence.config import CONFIG_FILE, ProjectConfig
from pytest_deploygate.spec.library import scan
from pytest_deploygate.spec.loader import load_spec
from pytest_deploygate.spec.model import Criterion, GateSpec
from pytest_deploygate.trust.jsonl_log import read_jsonl
from pytest_deploygate.trust.signoffs import APPROVERS_SCHEMA, ATTESTATION_SCHEMA, REVIEW_CRITERION
from pytest_deploygate.trust.waivers import WAIVER_SCHEMA


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    parser = sub.add_parser(
        "validate", help="check specs, config, sign-offs, approvers and waivers",
        description="Schema-check the given files, or, without paths, the project's gate "
                    "specs, deploygate.yaml, attestation log, approvers file and waivers file. "
                    "Every problem is printed with file and line. Exit 0 when all are valid, "
                    "1 when any problem was found.")
    parser.add_argument("paths", nargs="*", type=Path)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, workspace: Workspace) -> int:
    """Check every file; print problems; exit 1 on any."""
    problems: list[str] = []
    checked = 0
    workspace.kinds  # noqa: B018 (kinds that clash refuse the whole command, once, up front)
    for path, kind in _targets(args.paths, workspace):
        checked += 1
        problems += _check(path, kind, workspace)
    for problem in problems:
        complain(problem)
    say(f"{checked} file(s) checked, {len(problems)} problem(s)")
    return 1 if problems else 0


def _targets(paths: list[Path], workspace: Workspace) -> list[tuple[Path, str]]:
    if paths:
        return [(p if p.is_absolute() else Path.cwd() / p, _kind_of(p)) for p in paths]
    root = workspace.root
    try:
        config = workspace.config
    except Refusal:
        # A broken deploygate.yaml is a problem to list (exit 1), like any other file's; the
        # other files are found where the defaults put them.
        config = ProjectConfig()
    targets = [(spec.path, "spec") for spec in scan(workspace.spec_dir, "user")]
    for relative, kind in ((CONFIG_FILE, "config"), (config.approvers, "approvers"),
                           (config.attestation_log, "attestations"),
                           (config.waivers_file, "waivers")):
        if (root / relative).is_file():
            targets.append((root / relative, kind))
    return targets


def _kind_of(path: Path) -> str:
    name = path.name
    if name == CONFIG_FILE:
        return "config"
    if "approver" in name:
        return "approvers"
    if name.endswith(".jsonl"):
        return "waivers" if "waiver" in name else "attestations"
    return "spec"


def _not_a_file(path: Path) -> str | None:
    """Why ``path`` is no file to check (it said "not found" of a folder, a pipe and a link to
    /dev/zero), or None."""
    if path.is_file():
        return None
    if path.is_dir():
        return f"{path}: a folder, not a file; name the files in it"
    if path.exists():
        return f"{path}: not a regular file (a device, a pipe or a socket); name a file"
    if path.is_symlink():
        return f"{path}: a link to {os.readlink(path)}, which is not there"
    return f"{path}: not found"


def _check(path: Path, kind: str, workspace: Workspace) -> list[str]:
    unusable = _not_a_file(path)
    if unusable:
        return [unusable]
    try:
        if kind == "spec":
            load_spec(path, workspace.kinds, max_bytes=workspace.limits.document_bytes)
        elif kind == "config":
            load_checked_yaml(path, "project-config.schema.json", RunScope(workspace.limits))
        elif kind == "approvers":
            load_checked_yaml(path, APPROVERS_SCHEMA, RunScope(workspace.limits))
        else:
            return _check_log(path, kind, workspace)
    except DeployGateError as exc:
        return str(exc).splitlines()
    return []


def _check_log(path: Path, kind: str, workspace: Workspace) -> list[str]:
    schema_name = WAIVER_SCHEMA if kind == "waivers" else ATTESTATION_SCHEMA
    log = read_jsonl(path.parent, path.name, schema_name, with_origins=False)
    shown = str(path)
    problems = [p.replace(path.name + ":", shown + ":", 1) for p in log.line_problems]
    if log.problem:
        problems.append(f"{shown}: {log.problem}")
    specs: dict[str, tuple[GateSpec | None, str]] = {}
    # Lines naming a gate whose spec cannot be read, by gate: said once with their numbers
    # (one broken spec was a problem per sign-off line, each repeating the spec's refusal).
    unread: dict[str, tuple[str, list[int]]] = {}
    for line in log.lines:
        where = f"{shown}:{line.number}"
        data = line.data
        for key in ("at", "expires"):
            if key in data:
                try:
                    parse_instant(data[key])
                except ValueError as exc:
                    problems.append(f"{where}: {key}: {exc}")
        spec, refused = _spec_for(data["gate"], specs, workspace)
        if spec is None:
            unread.setdefault(refused, (where, []))[1].append(line.number)
            continue
        if kind == "attestations" and data["criterion"] == REVIEW_CRITERION:
            continue
        item = next((i for i in _items(spec, workspace) if i.id == data["criterion"]), None)
        if item is None:
            problems.append(f"{where}: {spec.id} has no criterion {data['criterion']!r}")
        elif kind == "waivers" and not item.waivable:
            problems.append(f"{where}: {spec.id} {item.id} cannot be waived ({item.role}); "
                            "the gate run ignores this waiver")
        elif kind == "attestations" and (item.check is None or item.check.kind != "attestation"):
            problems.append(f"{where}: {spec.id} {item.id} is not answered by sign-off")
    for refused, (where, numbers) in unread.items():
        if len(numbers) == 1:
            problems.append(f"{where}: {refused}; the gate run ignores this line")
            continue
        listed = ", ".join(map(str, numbers[:10])) + (", ..." if len(numbers) > 10 else "")
        problems.append(f"{where}: {refused}; the gate run ignores this line and the "
                        f"{len(numbers) - 1} other(s) naming that gate (lines {listed})")
    return problems


def _spec_for(gate: int | str, cache: dict[str, tuple[GateSpec | None, str]],
              workspace: Workspace) -> tuple[GateSpec | None, str]:
    """The gate a line names (a number, GATE-NN or a phase key), or why it names none (on
    today's layout an ambiguous number names none: the gate run would ignore the line)."""
    name = str(gate)
    if name not in cache:
        try:
            cache[name] = workspace.gate(name), ""
        except Refusal as exc:
            cache[name] = None, f"gate {gate!r}: {exc}"
    return cache[name]


def _items(spec: GateSpec, workspace: Workspace) -> tuple[Criterion, ...]:
    try:
        return workspace.items(spec)
    except Refusal:
        return spec.items
