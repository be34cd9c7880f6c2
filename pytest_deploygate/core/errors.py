"""Exception types that carry one clear, user-facing line each.

Every error the plugin shows to a release engineer names the file, the place in it and what to
do; these classes keep that message intact so hooks can print it without a traceback.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations


class DeployGateError(Exception):
    """Base class: ``str(error)`` is the complete message shown to the user."""


class SpecError(DeployGateError):
    """A gate spec (or another reviewed input file) is malformed.

    ``problems`` holds one line per problem, each starting with ``file:line:``.
    """

    def __init__(self, problems: list[str]) -> None:
        from pytest_deploygate.core.redaction import redact_text

        # A problem quotes the offending value; a URL in it is shown redacted.
        problems = [redact_text(problem) for problem in problems]
        self.problems = problems
        super().__init__("\n".join(problems))


class StateError(DeployGateError):
    """state.json is missing, unreadable or not a JSON object: the gate evaluated nothing."""


class SelectionError(DeployGateError):
    """``--gate`` names no gate that exists, or cannot be resolved."""
