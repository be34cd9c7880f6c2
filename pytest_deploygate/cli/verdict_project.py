"""The project a record is verified as, for ``deploygate verdict``: the repository's own, or
a monorepo project in its own folder, found as the gate found it.

A monorepo run gates a project in its folder (``<id>/`` or state's ``project.path``), under
the nearest deploygate.yaml, with its gate definition at the root bound into its release
(evidence/gate_definition.py). verdict bound every record to the whole repository's release
and read the root's config: the record of an honest monorepo release was always refused.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from pathlib import Path

from pytest_deploygate.cli.workspace import Refusal, Workspace
from pytest_deploygate.core.errors import DeployGateError
from pytest_deploygate.core.run_scope import RunScope
from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.evidence.config import (
    ProjectConfig,
    load_config,
    refuse_config_of_another_project,
)
from pytest_deploygate.evidence.gate_definition import bind_definition
from pytest_deploygate.evidence.release import manifest_version


@value_class(frozen=True)
class RecordProject:
    """The gated project's folder and config (``problem``: why it cannot be told)."""

    root: Path
    config: ProjectConfig | None
    problem: str | None = None

    def version(self) -> str | None:
        """deploygate.yaml's version, else the project's manifest's (as the gate's)."""
        declared = self.config.version if self.config is not None else None
        return declared or manifest_version(self.root)


def record_project(workspace: Workspace, project_id: str | None) -> RecordProject:
    """The project ``project_id`` of the monorepo at the workspace root (None: the
    repository's own project), with its gate definition outside its folder bound."""
    if project_id is None:
        ini = workspace.ini_path
        if ini is not None and not ini.resolve().is_relative_to(workspace.root.resolve()):
            # pytest's configuration file above the project, in its repository, is bound
            # as the gate binds it (inside the project it is release content already).
            bind_definition(workspace.root, workspace.root,
                            workspace.spec_dir_as_named or workspace.spec_dir, ini)
        try:
            refuse_config_of_another_project(workspace.config, None, "the repository root")
            return RecordProject(workspace.root, workspace.config)
        except (Refusal, DeployGateError) as exc:
            return RecordProject(workspace.root, None, str(exc))
    from pytest_deploygate.gate.project_dirs import (
        config_dir,
        project_dir,
        refuse_another_projects_state,
        shown_folder,
    )
    from pytest_deploygate.isdlc.state import load_state

    state_path = workspace.root / ".isdlc" / "projects" / project_id / "state.json"
    try:
        refuse_another_projects_state(workspace.root, project_id, state_path)
        state = load_state(state_path, workspace.limits.evidence_bytes)
        folder = project_dir(workspace.root, project_id, state_path, state,
                             workspace.limits.evidence_bytes)
    except DeployGateError as exc:
        return RecordProject(workspace.root, None, f"project {project_id}: {exc}")
    # (As named: a link on the way to the spec folder is bound as the gate binds it.)
    bind_definition(folder, workspace.root, workspace.spec_dir_as_named or workspace.spec_dir,
                    workspace.ini_path)
    try:
        config = load_config(config_dir(workspace.root, folder), RunScope(workspace.limits))
        refuse_config_of_another_project(config, project_id, shown_folder(workspace.root, folder))
    except DeployGateError as exc:
        return RecordProject(folder, None, str(exc))
    return RecordProject(folder, config)
