"""``deploygate import``: markdown gate checklists to gate specs, or a drift report.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_deploygate.cli.workspace import Refusal, Workspace, complain, say
from pytest_deploygate.core.atomic import write_atomic
from pytest_deploygate.core.documents import schema_problems
from pytest_deploygate.core.errors import DeployGateError
from pytest_deploygate.core.yaml_lines import load_yaml
from pytest_deploygate.importer import ChecklistError, import_checklist
from pytest_deploygate.importer.emit import to_yaml
from pytest_deploygate.isdlc.layout import CURRENT, LEGACY, checklist_layout
from pytest_deploygate.spec.loader import load_spec


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    parser = sub.add_parser(
        "import", help="turn gate checklists into gate specs",
        description="Import markdown gate checklists (NN-name-gate.md) into gate specs "
                    "(NN-name.yaml) in -o DIR (default: the spec directory). With --check, "
                    "write nothing and report drift between each checklist and its spec. "
                    "Exit 0 when done (or no drift), 1 on drift, 2 when a checklist cannot be "
                    "imported.")
    parser.add_argument("checklists", nargs="+", type=Path)
    parser.add_argument("-o", "--output", type=Path, help="where the specs are written")
    parser.add_argument("--check", action="store_true",
                        help="compare each checklist with its existing spec instead")
    parser.add_argument("--layout", choices=(LEGACY, CURRENT), default=None,
                        help="the framework layout the checklists belong to (default: today's "
                             f"{CURRENT} layout when any file name is one only it has, else "
                             f"{LEGACY})")
    parser.set_defaults(run=run)


#: A checklist, the spec imported from it and that spec's YAML text.
_Imported = tuple[Path, dict[str, Any], str]


def _refuse_a_folder_link_out_of_the_root(out_dir: Path, root: Path) -> None:
    """A spec folder inside the project (``gate_specs/``) is in the repository: a committed
    link from it to a folder elsewhere must not receive the specs. (A folder named outside
    the project with --output is the user's choice.)"""
    from pytest_deploygate.core.paths import OutsideRoot, inside_root

    if not out_dir.is_absolute():
        out_dir = Path.cwd() / out_dir
    if not out_dir.is_relative_to(root.absolute()):
        return
    try:
        inside_root(root, out_dir.relative_to(root.absolute()).as_posix())
    except OutsideRoot as exc:
        raise Refusal(f"spec folder {exc}") from None


def run(args: argparse.Namespace, workspace: Workspace) -> int:
    """Import each checklist (all are checked before anything is written)."""
    out_dir = args.output or workspace.spec_dir
    results: list[_Imported] = []
    layout = args.layout or _batch_layout(args.checklists)
    for path in args.checklists:
        try:
            spec = import_checklist(path, layout=layout)
        except ChecklistError as exc:
            raise Refusal(f"{path.parent / str(exc)}" if path.parent != Path(".")
                          else str(exc)) from None
        text = to_yaml(spec)
        problems = schema_problems(load_yaml(text), Path(spec["slug"] + ".yaml"),
                                   "gate-spec.schema.json")
        if problems:  # an importer bug, never the user's: say so plainly
            raise Refusal(f"{path}: the imported spec is not valid: {problems[0]}")
        results.append((path, spec, text))
    if args.check:
        return _check(results, out_dir, workspace)
    # (The default folder as named, not as resolved: gate_specs may be the link.)
    _refuse_a_folder_link_out_of_the_root(
        args.output or getattr(args, "specs", None) or workspace.root / "gate_specs",
        workspace.root)
    _make_folder(out_dir)
    for path, spec, text in results:
        target = out_dir / f"{spec['slug']}.yaml"
        # Replaced, never written into: the spec there may be a committed named pipe (the
        # import would wait for a reader) or a link to a file outside the project.
        try:
            write_atomic(target, text.encode("utf-8"))
        except OSError as exc:
            raise Refusal(f"{target}: cannot write the spec there ({exc.strerror or exc}); "
                          "remove what is in the way or name another folder with -o") from None
        count = _count(spec)
        say(f"{path} -> {target} ({count} items, {len(spec['decision'])} decision rows)")
    return 0


def _make_folder(out_dir: Path) -> None:
    """The spec folder, made if missing; a refusal saying what is in the way ("File exists"
    alone did not say that the folder named is a file)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise Refusal(f"spec folder {out_dir}: not a folder (a file is there); name a folder "
                      "with -o") from None
    except OSError as exc:
        raise Refusal(f"spec folder {out_dir}: cannot make it ({exc.strerror or exc}); name "
                      "a folder with -o") from None


def _batch_layout(paths: list[Path]) -> str:
    # 01-requirements-gate.md is in both layouts: its batch says which one it belongs to.
    names = {path.name.removesuffix("-gate.md") for path in paths}
    return CURRENT if any(checklist_layout(name) == CURRENT for name in names) else LEGACY


def _count(spec: Mapping[str, Any]) -> int:
    return (len(spec.get("prerequisites", [])) + len(spec.get("artifacts", []))
            + sum(len(s["criteria"]) for s in spec["sections"])
            + len((spec.get("rollback") or {}).get("triggers", [])))


def _check(results: list[_Imported], out_dir: Path, workspace: Workspace) -> int:
    drift = 0
    for path, spec, _ in results:
        target = out_dir / f"{spec['slug']}.yaml"
        if not target.is_file() and (out_dir / f"{spec['phase']}.yaml").is_file():
            target = out_dir / f"{spec['phase']}.yaml"  # today's specs are named by phase key
        if not target.is_file():
            complain(f"{path}: no spec at {target}")
            drift += 1
            continue
        try:
            existing = load_spec(target, workspace.kinds,
                                 max_bytes=workspace.limits.document_bytes)
        except DeployGateError as exc:
            complain(str(exc))
            drift += 1
            continue
        theirs = {i.id: i.text for i in existing.items}
        mine = _items(spec)
        for item_id, (text, line) in mine.items():
            if item_id not in theirs:
                complain(f"{path}:{line}: {item_id!r} ({text}) is not in {target.name}")
                drift += 1
            elif _norm(theirs[item_id]) != _norm(text):
                complain(f"{path}:{line}: {item_id!r} reads {text!r} in the checklist, "
                         f"{theirs[item_id]!r} in {target.name}")
                drift += 1
        for item_id in theirs.keys() - mine.keys():
            complain(f"{target}: {item_id!r} is not in the checklist {path.name}")
            drift += 1
    say(f"{len(results)} checklist(s) compared, {drift} difference(s)")
    return 1 if drift else 0


def _items(spec: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
    out: dict[str, tuple[str, int]] = {}
    for prerequisite in spec.get("prerequisites", []):
        out[prerequisite["id"]] = (prerequisite["text"], prerequisite["source_line"])
    for artifact in spec.get("artifacts", []):
        out[artifact["id"]] = (f"{artifact['name']} present", artifact["source_line"])
    for section in spec["sections"]:
        for criterion in section["criteria"]:
            out[criterion["id"]] = (criterion["text"], criterion["source_line"])
    for trigger in (spec.get("rollback") or {}).get("triggers", []):
        out[trigger["id"]] = (trigger["text"], trigger["source_line"])
    return out


def _norm(text: str) -> str:
    return " ".join(text.lower().split())
