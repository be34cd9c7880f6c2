"""``deploygate show``: a gate's criteria as a tree, before running it.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import argparse

from pytest_deploygate.cli.workspace import Workspace, say
from pytest_deploygate.spec.library import builtin_spec_dir
from pytest_deploygate.spec.model import Criterion


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    parser = sub.add_parser(
        "show", help="show a gate's criteria",
        description="Print the gate's items by stage and section: id, text, check kind, the "
                    "evidence it reads, whether it can be waived, who may sign. Exit 0, or 2 "
                    "when the gate cannot be loaded.")
    parser.add_argument("gate")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, workspace: Workspace) -> int:
    """Print the tree."""
    spec = workspace.gate(args.gate)
    items = workspace.items(spec)
    builtin = spec.source.parent.resolve() == builtin_spec_dir().resolve()
    source = "built-in" if builtin else "project"
    say(f"{spec.id} {spec.title} (phase {spec.phase}; {len(items)} items; "
        f"source: {spec.source} [{source}])")
    for stage in ("pre", "post"):
        mine = [i for i in items if i.stage == stage]
        if not mine:
            continue
        say(f"  stage {stage}")
        section = None
        for item in mine:
            if item.section_title != section:
                section = item.section_title
                say(f"    {section}")
            say(f"      {item.id}: {item.render_text(spec.thresholds)}")
            say(f"        {_describe(item, workspace)}")
    if spec.next:
        say(f"  next: gate {spec.next.gate} {spec.next.title}"
            + (f" ({spec.next.handler})" if spec.next.handler else ""))
    for branch in spec.branches:
        condition = " ".join(f"{k}={v}" for k, v in branch.when.params.items() if k != "kind")
        say(f"  after PASS, when {branch.when.kind} {condition}: {branch.describe()}")
    return 0


def _describe(item: Criterion, workspace: Workspace) -> str:
    parts = []
    if item.check is not None:
        kind = workspace.kinds.get(item.check.kind)
        reads = kind.reads if kind else "unknown kind"
        parts.append(f"{item.check.kind}: {reads}")
        roles = item.check.params.get("roles")
        if item.check.kind == "attestation":
            parts.append("signed by " + (" or ".join(roles) if roles else "any approver"))
        if item.check.params.get("window"):
            window = item.check.params["window"]
            parts.append(f"window {window['count']} x {window['interval']}")
    if item.when:
        parts.append("when " + ", ".join(
            f"{c.kind} {c.params.get('name') or c.params.get('path', '')}".strip()
            for c in item.when))
    parts.append("waivable" if item.waivable else "not waivable")
    if item.role == "trigger":
        parts.append("rollback trigger: passes while the condition is absent")
    return "; ".join(parts)
