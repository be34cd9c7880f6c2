"""The gated project's own settings: ``deploygate.yaml`` at the project root.

Optional as a whole; but a condition or setting a spec needs and nobody set is an error at the
item that needs it (fail closed), never a silent default.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_deploygate.core.documents import load_checked_yaml
from pytest_deploygate.core.run_scope import RunScope
from pytest_deploygate.core.value_class import field, value_class

CONFIG_FILE = "deploygate.yaml"
CONFIG_SCHEMA = "project-config.schema.json"
DEFAULT_ATTESTATION_LOG = ".deploygate/attestations.jsonl"
DEFAULT_APPROVERS = ".deploygate/approvers.yaml"
DEFAULT_WAIVERS = ".deploygate/waivers.jsonl"


@value_class(frozen=True)
class ProjectConfig:
    """Validated contents of deploygate.yaml (all optional)."""

    source: Path | None = None
    #: project: the monorepo project this file configures (None: any project it is nearest to)
    project: str | None = None
    #: the line of ``project:`` in the file (for the refusal that names it)
    project_line: int = 0
    version: str | None = None
    tier: str | None = None
    conditions: Mapping[str, bool] = field(default_factory=dict)
    thresholds: Mapping[str, float] = field(default_factory=dict)
    attestation_log: str = DEFAULT_ATTESTATION_LOG
    approvers: str = DEFAULT_APPROVERS
    prometheus: Mapping[str, Any] = field(default_factory=dict)
    health_urls: tuple[str, ...] = ()
    integration_urls: tuple[str, ...] = ()
    reports: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    metrics_file: str | None = None
    evidence: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    evidence_lines: Mapping[str, int] = field(default_factory=dict)
    verify_authorship: bool = True
    require_signed_commits: bool = False
    forbid_self_approval: bool = False
    bind_to_release: bool = True
    waivers_enabled: bool = False
    waivers_file: str = DEFAULT_WAIVERS
    waiver_max_days: int = 90
    waiver_approver_roles: tuple[str, ...] = ()
    #: signing.allowed_signers: the post stage's allowed signers (relative to the root).
    signing_allowed_signers: str | None = None
    #: signing.subjects: deployed artefacts named as extra subjects of each attestation.
    signing_subjects: tuple[Mapping[str, str], ...] = ()

    @property
    def display_name(self) -> str:
        """How messages name the config file."""
        return str(self.source) if self.source else CONFIG_FILE


def load_config(root: Path, scope: RunScope | None = None) -> ProjectConfig:
    """Load ``<root>/deploygate.yaml`` if present; raise SpecError if it is malformed."""
    path = root / CONFIG_FILE
    if not path.exists():
        return ProjectConfig(source=None)
    loaded = load_checked_yaml(path, CONFIG_SCHEMA, scope)
    data: Mapping[str, Any] = loaded.data or {}
    attestations = data.get("attestations") or {}
    evidence = dict(data.get("evidence") or {})
    waivers = data.get("waivers") or {}
    return ProjectConfig(
        source=path,
        project=data.get("project"),
        project_line=loaded.line_of(("project",)) if "project" in data else 0,
        version=data.get("version"),
        tier=data.get("tier"),
        conditions=dict(data.get("conditions") or {}),
        thresholds=dict(data.get("thresholds") or {}),
        attestation_log=attestations.get("log", DEFAULT_ATTESTATION_LOG),
        approvers=attestations.get("approvers", DEFAULT_APPROVERS),
        prometheus=dict(data.get("prometheus") or {}),
        health_urls=tuple(data.get("health_urls") or ()),
        integration_urls=tuple(data.get("integration_urls") or ()),
        reports={k: tuple(v) for k, v in (data.get("reports") or {}).items()},
        metrics_file=data.get("metrics_file"),
        evidence=evidence,
        evidence_lines={k: loaded.line_of(("evidence", k)) for k in evidence},
        verify_authorship=attestations.get("verify_authorship", True),
        require_signed_commits=attestations.get("require_signed_commits", False),
        forbid_self_approval=attestations.get("forbid_self_approval", False),
        bind_to_release=attestations.get("bind_to_release", True),
        waivers_enabled=waivers.get("enabled", False),
        waivers_file=waivers.get("file", DEFAULT_WAIVERS),
        waiver_max_days=waivers.get("max_days", 90),
        waiver_approver_roles=tuple(waivers.get("approver_roles") or ()),
        signing_allowed_signers=(data.get("signing") or {}).get("allowed_signers"),
        signing_subjects=tuple((data.get("signing") or {}).get("subjects") or ()),
    )


def refuse_config_of_another_project(config: ProjectConfig, project_id: str | None,
                                     folder: str) -> None:
    """A deploygate.yaml that names a project (``project: svc-a``) configures that project
    alone, wherever it lies: the root's, a group folder's or a project folder's. The key was
    read only in a project's own folder, and ignored elsewhere: a root or group config naming
    svc-d judged every project without a config of its own all the same. ``folder``: where
    the project is judged, as a refusal names it."""
    if config.project is None or config.project == project_id:
        return
    from pytest_deploygate.core.errors import SpecError

    where = f"{config.display_name}:{config.project_line}"
    if project_id is None:
        raise SpecError([f"{where}: project: {config.project!r} names the monorepo project "
                         "this file configures, but this run gates the repository's single "
                         "project (no --gate-project): remove project:, or gate the project "
                         f"with --gate-project={config.project}"])
    raise SpecError([f"{where}: project: {config.project!r} says this file configures "
                     f"project {config.project} alone, but it is the nearest deploygate.yaml "
                     f"of project {project_id} (judged in {folder}): give {project_id} a "
                     "deploygate.yaml of its own in its folder, or remove project: from this "
                     "one if it is shared"])
