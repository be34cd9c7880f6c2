"""``deploygate waive``: add a governed, expiring waiver of a criterion.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from pytest_deploygate.cli.workspace import Refusal, Workspace, say
from pytest_deploygate.core.timeutil import format_instant, now_utc, parse_instant


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    parser = sub.add_parser(
        "waive", help="waive a criterion until a date",
        description="Append a waiver to the waivers file. Waivers are off unless deploygate.yaml "
                    "enables them; prerequisites, rollback triggers and criteria the spec marks "
                    "waivable: false cannot be waived. The approver is the author of the commit "
                    "that adds the line. Exit 0 when recorded, 2 when refused.")
    parser.add_argument("gate", help="as for attest: a number, or the phase key on today's "
                                     "layout")
    parser.add_argument("criterion")
    parser.add_argument("--justification", required=True, help="why, in a sentence")
    parser.add_argument("--expires", required=True,
                        help="ISO 8601 with a timezone, at most max_days (default 90) ahead")
    run_group = parser.add_mutually_exclusive_group(required=True)
    run_group.add_argument("--run", dest="run_check", action="store_true",
                           help="evaluate and report the criterion; a failure does not fail")
    run_group.add_argument("--no-run", dest="run_check", action="store_false",
                           help="do not evaluate the criterion at all")
    parser.add_argument("--ticket", help="a reference to the tracking ticket")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, workspace: Workspace) -> int:
    """Validate and append."""
    config = workspace.config
    if not config.waivers_enabled:
        raise Refusal(f"waivers are off for this project (gate failures are fixed, not "
                      f"waived); enable them with 'waivers: {{enabled: true}}' in "
                      f"{config.display_name} if your process allows it")
    spec = workspace.gate(args.gate)
    item = next((i for i in workspace.items(spec) if i.id == args.criterion), None)
    if item is None:
        raise Refusal(f"{spec.id} has no criterion {args.criterion!r}")
    if not item.waivable:
        what = {"prerequisite": "a prerequisite", "trigger": "a rollback trigger",
                "binding": "the stage binding"}.get(item.role, "marked waivable: false")
        raise Refusal(f"{spec.id} {item.id} cannot be waived: it is {what}")
    justification = args.justification.strip()
    if len(justification) < 10:
        raise Refusal("--justification must say why (at least 10 characters)")
    try:
        expires = parse_instant(args.expires)
    except ValueError as exc:
        raise Refusal(f"--expires: {exc}") from None
    now = now_utc()
    if expires <= now:
        raise Refusal(f"--expires {args.expires} is not in the future")
    if expires - now > timedelta(days=config.waiver_max_days):
        raise Refusal(f"--expires {args.expires} is more than {config.waiver_max_days} days "
                      "ahead")
    entry: dict[str, object] = {"gate": workspace.log_gate(spec), "criterion": item.id,
                                "justification": justification,
                                "expires": format_instant(expires), "run": args.run_check,
                                "at": format_instant(now)}
    if args.ticket:
        entry["ticket"] = args.ticket
    number = workspace.append_to_log(config.waivers_file, "waivers file", entry)
    say(f"waiver of {spec.id} {item.id} recorded at {config.waivers_file}:{number} (run: "
        f"{str(args.run_check).lower()}, expires {format_instant(expires)}); commit it: the "
        "commit's author is its approver")
    return 0
