"""The ``deploygate:`` lines of pytest's report header: what this gate run is about.

Gates selected, the phase layout and why, where each gate's spec comes from, the clock the
run evaluates at (a replayed one is said to be), and whether records are signed. A reviewer
reading a CI log sees them before any outcome.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_deploygate.core.timeutil import format_instant

if TYPE_CHECKING:
    from pytest_deploygate.gate.run import GateRun
    from pytest_deploygate.gate.settings import Settings
    from pytest_deploygate.gate.sign_records import RecordSigner

PREFIX = "deploygate"


def header_lines(run: GateRun, settings: Settings, signer: RecordSigner) -> list[str]:
    """Every header line of a gate run, in reading order."""
    return [*_gates(run, settings), *_layouts_and_sources(run, settings), _clock(settings),
            *_signing(run, settings, signer)]


def _gates(run: GateRun, settings: Settings) -> list[str]:
    names = ", ".join(plan.record_name for plan in run.plans) or "none"
    return [f"{PREFIX}: --gate={settings.expression} selects {names} (stage {settings.stage})"]


def _layouts_and_sources(run: GateRun, settings: Settings) -> list[str]:
    lines = []
    for slot in run.slots:
        if slot.layout is None:
            continue
        where = f" @{slot.id}" if slot.id else ""
        lines.append(f"{PREFIX}{where}: {slot.layout.describe()}")
        for plan in run.plans:
            if plan.slot is slot and plan.stage == settings.stage:
                source = plan.spec_file.source_words().replace(str(settings.root) + "/", "")
                lines.append(f"{PREFIX}{where}: {plan.gate_id} from {source}")
    return lines


def _clock(settings: Settings) -> str:
    if settings.replay:
        return f"{PREFIX}: clock replayed at {format_instant(settings.now)} (--gate-now)"
    return f"{PREFIX}: clock real time, {format_instant(settings.now)}"


def _signing(run: GateRun, settings: Settings, signer: RecordSigner) -> list[str]:
    if signer.key is not None:
        lines = [f"{PREFIX}: signing records with key {signer.key.public.keyid} "
                 f"({settings.sign_key})"]
    else:
        lines = [f"{PREFIX}: signing off (records are unsigned)"]
    if settings.stage != "post":
        return lines
    for slot in run.slots:
        verifier = _post_stage_signers(settings, slot.project.config.signing_allowed_signers
                                       if slot.project is not None else None)
        if verifier is not None:
            where = f" @{slot.id}" if slot.id else ""
            lines.append(f"{PREFIX}{where}: the pre record must be signed by {verifier}")
    return lines


def _post_stage_signers(settings: Settings, configured: str | None) -> str | None:
    """Who may sign the pre record, in the order ``post_stage_verifier`` looks (None: the
    post stage binds by hash alone)."""
    if settings.allowed_signers is not None:
        return f"allowed signers {settings.allowed_signers} (--gate-allowed-signers)"
    if configured:
        return f"allowed signers {configured} (deploygate.yaml signing.allowed_signers)"
    if settings.sign_key is not None:
        return f"the public half of {settings.sign_key}"
    return None
