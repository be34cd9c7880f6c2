"""``deploygate attest``: append a sign-off to the project's attestation log.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import argparse

from pytest_deploygate.cli.workspace import Refusal, Workspace, say
from pytest_deploygate.core.timeutil import format_instant, now_utc, parse_instant
from pytest_deploygate.core.trust_rules import UntrustedIdentity, identity
from pytest_deploygate.spec.model import GateSpec
from pytest_deploygate.trust.signoffs import REVIEW_CRITERION, AttestationStore

REVIEW_ROLE = "release-manager"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the subcommand."""
    parser = sub.add_parser(
        "attest", help="record a sign-off on a criterion",
        description="Append a sign-off to the attestation log. The signer is git's user.email "
                    "in the gated project; commit the line so git records who added it. "
                    f"Criterion {REVIEW_CRITERION!r} (role {REVIEW_ROLE}) names the reviewer "
                    "of the gate record. Exit 0 when recorded, 2 when refused.")
    parser.add_argument("gate", help="12, GATE-12 or 12-production; on today's layout the "
                                     "phase key (13-production), a number only where one "
                                     "phase has it")
    parser.add_argument("criterion", help="the criterion id (see 'deploygate show GATE')")
    parser.add_argument("--role", required=True, help="the role you sign in")
    parser.add_argument("--evidence", help="a link to the evidence (ticket, report, dashboard)")
    parser.add_argument("--expires", help="ISO 8601 with a timezone; from then on it does not "
                                          "count")
    parser.add_argument("--note", help="free text shown in the record")
    parser.add_argument("--present", action="store_true",
                        help="rollback triggers only: the condition occurred (fires ROLLBACK)")
    parser.add_argument("--commit", action="store_true",
                        help="also commit the line (git add + git commit, as you)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, workspace: Workspace) -> int:
    """Validate, append, optionally commit."""
    spec = workspace.gate(args.gate)
    roles, trigger = _accepted_roles(args.criterion, spec, workspace)
    if args.present and not trigger:
        raise Refusal("--present is for rollback triggers judged by people; "
                      f"{args.criterion} is not one")
    signer = _signer(workspace)
    _check_role(args.role, signer, roles, f"{spec.id} {args.criterion}", workspace)
    entry = _entry(args, workspace.log_gate(spec), signer)
    config = workspace.config
    number = workspace.append_to_log(config.attestation_log, "attestation log", entry)
    say(f"recorded {spec.id} {args.criterion} by {signer} ({args.role}) at "
        f"{config.attestation_log}:{number}")
    if args.commit:
        _commit(workspace, f"attest: {spec.id} {args.criterion} ({args.role})")
    else:
        say(f"commit it so git records who signed: git add {config.attestation_log} && "
            "git commit")
    return 0


def _accepted_roles(criterion: str, spec: GateSpec, workspace: Workspace
                    ) -> tuple[list[str], bool]:
    """The roles that may sign ``criterion`` (empty: any), and whether it is a trigger."""
    if criterion == REVIEW_CRITERION:
        return [REVIEW_ROLE], False
    item = {item.id: item for item in workspace.items(spec)}.get(criterion)
    if item is None:
        raise Refusal(f"{spec.id} has no criterion {criterion!r}; see "
                      f"'deploygate show {spec.gate}'")
    if item.check is None or item.check.kind != "attestation":
        kind = item.check.kind if item.check else "nothing"
        raise Refusal(f"{spec.id} {item.id} is answered by '{kind}' evidence, not by a "
                      "sign-off")
    return list(item.check.params.get("roles") or []), item.role == "trigger"


def _signer(workspace: Workspace) -> str:
    """Who signs: git's user.email in the gated project, as the gate would read it."""
    code, signer = workspace.git("config", "user.email")
    if code != 0 or not signer:
        raise Refusal("git user.email is not set in the gated project: the signer is who git "
                      "says you are (git config user.email you@example.com)")
    try:
        return identity(signer)
    except UntrustedIdentity as exc:
        raise Refusal(f"git user.email {exc}: the gate would refuse this sign-off") from None


def _check_role(role: str, signer: str, roles: list[str], what: str,
                workspace: Workspace) -> None:
    """Refuse unless the approvers file gives ``signer`` the ``role`` the criterion needs."""
    config = workspace.config
    store = AttestationStore.load(workspace.root, config)
    if store.approvers_problem:
        raise Refusal(store.approvers_problem)
    held = store.roles_by_signer.get(signer)
    if held is None:
        raise Refusal(f"{signer} is not in {config.approvers}")
    if role not in held:
        raise Refusal(f"{signer} does not hold role {role!r} in {config.approvers} "
                      f"(holds: {', '.join(sorted(held))})")
    if roles and role not in roles:
        raise Refusal(f"{what} needs a sign-off by {' or '.join(roles)}, not {role}")


def _entry(args: argparse.Namespace, gate: int | str, signer: str) -> dict[str, object]:
    """The log line: who signed what, when, and the optional expiry, evidence and note."""
    now = now_utc()
    entry: dict[str, object] = {"gate": gate, "criterion": args.criterion,
                                "signer": signer, "role": args.role, "at": format_instant(now)}
    if args.expires:
        try:
            expires = parse_instant(args.expires)
        except ValueError as exc:
            raise Refusal(f"--expires: {exc}") from None
        if expires <= now:
            raise Refusal(f"--expires {args.expires} is not in the future")
        entry["expires"] = format_instant(expires)
    for key in ("evidence", "note"):
        if getattr(args, key):
            entry[key] = getattr(args, key)
    if args.present:
        entry["present"] = True
    return entry


def _commit(workspace: Workspace, message: str) -> None:
    """git add and commit the attestation log, as the signer."""
    log = workspace.config.attestation_log
    for command in (["add", "--", log], ["commit", "-q", "-m", message, "--", log]):
        code, out = workspace.git(*command)
        if code != 0:
            raise Refusal(f"git {command[0]} failed: {out}")
    say("committed")
