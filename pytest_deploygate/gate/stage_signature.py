"""The post stage's binding to the pre stage when signing is configured.

Signing is configured for a post stage when it has allowed signers (``--gate-allowed-signers``
or deploygate.yaml ``signing.allowed_signers``) or a signing key (whose public half is then
the only allowed signer). The pre stage then counts only through its verified attestation:
signed by an allowed signer, for this gate, stage pre, decision PASS, this release and this
spec, and the pre record beside it byte for byte the one signed. Record properties are never
read for it.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pytest_deploygate.core.results import CheckResult, Evidence
from pytest_deploygate.signing import SigningError

if TYPE_CHECKING:
    from pytest_deploygate.checks.project import Project
    from pytest_deploygate.gate.plan import GatePlan
    from pytest_deploygate.gate.settings import Settings
    from pytest_deploygate.signing.verify import Verifier


def signing_configured(settings: Settings, project: Project) -> bool:
    """True when the post stage must bind through a signed attestation."""
    return bool(settings.allowed_signers or settings.sign_key
                or project.config.signing_allowed_signers)


def post_stage_verifier(settings: Settings, project: Project) -> Verifier:
    """Allowed signers from the option, else the project config, else the key in use."""
    from pytest_deploygate.signing.verify import Verifier

    if settings.allowed_signers is not None:
        return _reviewed_verifier(project.root, settings.allowed_signers)
    configured = project.config.signing_allowed_signers
    if configured:
        from pytest_deploygate.core.paths import OutsideRoot, inside_root

        try:
            path = inside_root(project.root, configured)
        except OutsideRoot as exc:
            raise SigningError(f"{project.config.display_name}: signing.allowed_signers "
                               f"{exc}") from None
        return _reviewed_verifier(project.root, path)
    assert settings.sign_key is not None
    from pytest_deploygate.signing.keys import load_private_key

    key = load_private_key(settings.sign_key)
    return Verifier.of_key(key.public, f"the public half of {settings.sign_key}")


def _reviewed_verifier(root: Path, allowed: Path) -> Verifier:
    """The signers of ``allowed``, which must be as committed when it is in the repository
    (deploygate verdict's rule: a key appended in the work tree counted, rt16a A05)."""
    from pytest_deploygate.evidence.committed_path import allowed_signers_problem
    from pytest_deploygate.signing.verify import Verifier

    problem = allowed_signers_problem(root, allowed)
    if problem:
        raise SigningError(problem)
    return Verifier.from_allowed_signers(allowed)


def check_signed_pre_record(settings: Settings, plan: GatePlan, project: Project,
                            record_path: Path) -> CheckResult:
    """Met only when the pre stage's attestation verifies and binds to this run."""
    from pytest_deploygate.evidence.release import release_identity
    from pytest_deploygate.records.reader import RecordError, read_record
    from pytest_deploygate.signing.verify import (
        check_project,
        check_record,
        check_release,
        envelope_path,
        verify_attestation,
    )

    attestation = envelope_path(record_path)
    try:
        verifier = post_stage_verifier(settings, project)
        verified = verify_attestation(attestation, verifier, settings.now,
                                      settings.limits.evidence_bytes)
    except SigningError as exc:
        return CheckResult.missing(f"the pre stage is not bound: {exc}; the post stage "
                                   "accepts only a signed pre-stage attestation")
    evidence = Evidence("attestation", str(attestation), sha256=verified.envelope_sha256,
                        detail=verified.describe())
    predicate = verified.predicate
    release = release_identity(project.root, record_dir=plan.record_dir,
                               version=project.version)
    problems = []
    if predicate["gate"] != plan.gate_id:
        problems.append(f"it attests {predicate['gate']}, not {plan.gate_id}")
    if predicate["stage"] != "pre":
        problems.append(f"it attests stage {predicate['stage']!r}, not 'pre'")
    if predicate["decision"] != "PASS":
        problems.append(f"it attests the decision {predicate['decision']}, not PASS")
    if plan.spec is None or predicate["spec"]["sha256"] != plan.spec.sha256:
        problems.append("it was made with another gate spec (spec sha256 differs)")
    try:
        check_project(verified, plan.slot.id or project.name)  # as the signer names it
        check_release(verified, release)
    except SigningError as exc:
        problems.append(str(exc))
    try:
        check_record(verified, record_path,
                     read_record(record_path, settings.limits.evidence_bytes))
    except (SigningError, RecordError) as exc:
        problems.append(str(exc))
    if problems:
        return CheckResult.not_met(f"signed pre-stage attestation {attestation} does not bind: "
                                   + "; ".join(problems), evidence)
    assert release.commit is not None  # check_release refused an unknown release
    return CheckResult.met(f"pre stage PASS attested for commit {release.commit[:12]} "
                           f"version {release.version}, {verified.describe()}", evidence)
