"""What a check kind is, what it may read, and evaluating one gate item with it.

A kind is a name, a JSON Schema for its parameters, and a function from (parameters, context)
to a :class:`~pytest_deploygate.core.results.CheckResult`. Kinds get an :class:`EvalContext`
rather than globals, so the same criterion evaluates the same way in a pytest item, under
pytest-xdist, or from the ``deploygate`` command.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pytest_deploygate.core.results import CheckResult
from pytest_deploygate.core.value_class import value_class

if TYPE_CHECKING:  # annotations only: a kind's module (and verdict) need not load them
    from pytest_deploygate.checks.project import Project
    from pytest_deploygate.checks.services import EvidenceServices
    from pytest_deploygate.spec.model import Check, Criterion, GateSpec


@value_class
class EvalContext:
    """What a check kind may read while evaluating one item."""

    project: Project
    spec: GateSpec
    criterion: Criterion
    thresholds: Mapping[str, float]
    kinds: Mapping[str, CheckKind]

    @property
    def services(self) -> EvidenceServices:
        """What reads the project's evidence (git, network, progress, stores, the run's
        limits and caches); ``project`` keeps the same services under their old names."""
        return self.project.services

    def number(self, value: Any) -> float:
        """A literal number, or the value of ``{threshold: name}``."""
        if isinstance(value, Mapping):
            return float(self.thresholds[value["threshold"]])
        return float(value)

    def describe_number(self, value: Any) -> str:
        """``5`` or ``p99_ms=2000`` for messages."""
        if isinstance(value, Mapping):
            return f"{value['threshold']}={self.number(value):g}"
        return f"{float(value):g}"

    def expand(self, dotted: str) -> str:
        """Replace ``{phase}`` in a state path with the gate's phase key."""
        return dotted.replace("{phase}", self.spec.phase)

    def evaluate(self, check: Check) -> CheckResult:
        """Evaluate a (nested) check, such as a condition."""
        kind = self.kinds.get(check.kind)
        if kind is None:
            return CheckResult.missing(f"check kind '{check.kind}' is not installed")
        return kind.evaluate(check.params, self)


def evaluate_item(ctx: EvalContext) -> CheckResult:
    """Decide applicability from the item's ``when`` conditions, then run its check."""
    for condition in ctx.criterion.when:
        result = ctx.evaluate(condition)
        if result.status == "not_met":
            return CheckResult.not_applicable(f"N/A: {result.message}", *result.evidence)
        if result.status != "met":
            return result
    if ctx.criterion.check is None:
        return CheckResult.missing("no check defined and no sign-off possible")
    return ctx.evaluate(ctx.criterion.check)


Evaluate = Callable[[Mapping[str, Any], "EvalContext"], CheckResult]


Prefetch = Callable[[Mapping[str, Any], "EvalContext"], None]


@value_class(frozen=True)
class CheckKind:
    """A registered check kind.

    ``params_schema`` validates the check's mapping (``kind`` included) when a spec loads, so
    a typo in a parameter is a spec error with a line number, not a surprise at run time.
    ``reads`` says in a few words what evidence the kind reads (shown by ``deploygate show``).
    ``prefetch``, for network kinds, starts the item's requests in the background before the
    items run, so their waits overlap.
    """

    name: str
    reads: str
    params_schema: Mapping[str, Any]
    evaluate: Evaluate
    prefetch: Prefetch | None = None
