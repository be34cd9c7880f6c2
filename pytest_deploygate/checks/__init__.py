"""Built-in check kinds, and the registry that merges them with plugins' kinds.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pytest_deploygate.checks.context import CheckKind
from pytest_deploygate.core.results import CheckResult, Evidence


def builtin_kinds() -> list[CheckKind]:
    """The kinds shipped with the plugin."""
    from pytest_deploygate.checks import (
        artifact,
        attestation,
        changelog,
        command,
        condition,
        constitution,
        coverage,
        gate_passed,
        git_tag,
        http_check,
        junit_reports,
        metrics_file,
        prometheus,
        prometheus_rules,
        sarif,
        scope,
        state_value,
    )
    from pytest_deploygate.checks import (
        iteration as test_iteration,
    )

    return [state_value.KIND, gate_passed.KIND, artifact.KIND, constitution.KIND,
            attestation.KIND, condition.KIND, prometheus.KIND, prometheus_rules.KIND,
            metrics_file.KIND, http_check.KIND, junit_reports.KIND, sarif.KIND, git_tag.KIND,
            changelog.KIND, command.KIND, scope.KIND, test_iteration.KIND, coverage.KIND]


def build_registry(groups: Iterable[Iterable[CheckKind]]) -> Mapping[str, CheckKind]:
    """Merge kinds by name; a name registered twice is an error, not a silent override."""
    registry: dict[str, CheckKind] = {}
    for group in groups:
        for kind in group or ():
            if kind.name in registry and registry[kind.name] is not kind:
                raise ValueError(f"check kind '{kind.name}' is registered twice")
            registry[kind.name] = kind
    return registry


__all__ = ["CheckKind", "CheckResult", "Evidence", "build_registry", "builtin_kinds"]
