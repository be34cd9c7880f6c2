"""What ``deploygate verdict`` needs of the project, read afresh by every verdict: the gate's
spec (its items with deploygate.yaml's evidence overrides applied) and three settings of
deploygate.yaml (version, waivers, conditions).

Nothing here is remembered between verdicts. For a while the loaded spec was kept in the
private cache (a folder only this user can write) to spare repeated verdicts the spec's load;
the red team forged an entry as that same user, which is what a compromised job runs as, and
verdict passed a record made by another spec (tests/test_attack_fastverdict.py). What decides
a deploy comes only from the repository, the record and the installed package.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from pytest_deploygate.cli.workspace import Workspace
    from pytest_deploygate.spec.model import Criterion, GateSpec


class Settings(NamedTuple):
    """What verdict reads of deploygate.yaml."""

    version: str | None
    waivers_enabled: bool
    conditions: Mapping[str, object]


def project_settings(workspace: Workspace) -> Settings:
    """deploygate.yaml's version, waiver switch and conditions (a malformed file is the
    workspace's refusal, as for every command)."""
    config = workspace.config
    return Settings(config.version, config.waivers_enabled, dict(config.conditions))


def gate_inputs(workspace: Workspace, expression: str
                ) -> tuple[GateSpec, tuple[Criterion, ...]]:
    """The gate ``expression`` names and its items with the project's evidence overrides
    (refusals as :meth:`Workspace.gate` and :meth:`Workspace.items` make them)."""
    spec = workspace.load_gate(workspace.gate_path(expression))
    return spec, workspace.items(spec)
