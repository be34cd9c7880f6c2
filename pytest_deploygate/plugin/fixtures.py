"""Support objects for the documented fixtures (defined in :mod:`pytest_deploygate.plugin`).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from pytest_deploygate.core.paths import OutsideRoot, inside_root
from pytest_deploygate.gate.plan import GatePlan
from pytest_deploygate.gate.run import GateRun
from pytest_deploygate.isdlc.state import StateDoc
from pytest_deploygate.plugin.stash import gate_run
from pytest_deploygate.plugin.user_items import names_plan
from pytest_deploygate.spec.model import GateSpec


def run_for_request(request: pytest.FixtureRequest) -> GateRun:
    """The active gate run, or a clear failure when the session is not a gate run."""
    run = gate_run(request.config)
    if run is None:
        pytest.fail(f"fixture {request.fixturename!r} needs a gate run: pytest --gate=N",
                    pytrace=False)
    return run


def plan_for_request(request: pytest.FixtureRequest) -> GatePlan:
    """The plan of the test's ``gate`` marker, or the only gate of the run."""
    run = run_for_request(request)
    marker = request.node.get_closest_marker("gate")
    plans = [p for p in run.plans if p.spec is not None]
    if marker and marker.args:
        plans = [p for p in plans if names_plan(marker.args[0], p)]
    if len({(p.spec_file.key or p.spec_file.gate, p.slot.id) for p in plans}) != 1:
        pytest.fail(f"fixture {request.fixturename!r}: mark the test with "
                    "@pytest.mark.gate(N) or @pytest.mark.gate('PHASE-KEY') naming one gate "
                    "of this run (of one project)", pytrace=False)
    plan = plans[0]
    if plan.project is None:
        pytest.fail(f"deploygate: {plan.slot.error}", pytrace=False)
    return plan


class StateView:
    """Read-only access to state.json: ``view["phases.12-production.status"]``.

    Values are copies, so a test cannot change what the gate's own checks read.
    """

    def __init__(self, state: StateDoc) -> None:
        self._state = state

    @property
    def path(self) -> Path:
        """Where state.json was read from."""
        return self._state.path

    def __getitem__(self, dotted: str) -> Any:
        found = self._state.lookup(dotted)
        if not found.found:
            raise KeyError(found.problem)
        return copy.deepcopy(found.value)

    def get(self, dotted: str, default: Any = None) -> Any:
        """The value at ``dotted``, or ``default``."""
        try:
            return self[dotted]
        except KeyError:
            return default

    def __contains__(self, dotted: object) -> bool:
        return isinstance(dotted, str) and self._state.lookup(dotted).found


class ArtifactPaths:
    """Resolves an artifact id of the gate to its file, or fails listing the paths tried."""

    def __init__(self, root: Path, spec: GateSpec) -> None:
        self._root = root
        self._spec = spec

    def __getitem__(self, artifact_id: str) -> Path:
        from pytest_deploygate.checks.artifact import locate

        artifact = self._spec.artifacts.get(artifact_id)
        if artifact is None:
            pytest.fail(f"{self._spec.id} has no artifact {artifact_id!r}; artifacts: "
                        + ", ".join(self._spec.artifacts), pytrace=False)
        found, tried = locate(self._root, self._spec, artifact)
        if found is None:
            pytest.fail(f"{artifact.name} not found; tried: {', '.join(tried)}", pytrace=False)
        try:
            return inside_root(self._root, found)
        except OutsideRoot as exc:
            pytest.fail(f"{artifact.name}: {exc}", pytrace=False)

    def __iter__(self) -> Any:
        return iter(self._spec.artifacts)
