"""``command``: a command exits 0 within a timeout; only with ``--gate-allow-commands``.

A gate spec can come from a pull request, so running code is opt-in per invocation. The
command runs in the project root with ``argv`` (no shell) unless ``shell: true`` and a string
is given. Its output tail is kept as evidence.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from typing import Any

from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.core.redaction import command_secrets, redact_command, redact_text
from pytest_deploygate.core.results import CheckResult, Evidence

_TAIL = 400


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Run the command; met on exit 0."""
    command = params["run"]
    shell = bool(params.get("shell", False))
    # Shown redacted everywhere (records, terminal): option values and env assignments are
    # hidden, see pytest_deploygate.core.redaction.
    shown = redact_command(command)
    if not ctx.project.allow_commands:
        return CheckResult.missing(f"command checks are disabled ({shown!r}); pass "
                                   "--gate-allow-commands to run them")
    if isinstance(command, str) and not shell:
        return CheckResult.missing("a command string needs shell: true; give a list otherwise")
    timeout = float(params.get("timeout", 60))
    try:
        done = subprocess.run(command, shell=shell, cwd=ctx.project.root, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        return CheckResult.missing(f"{shown!r} did not finish within {timeout:g}s")
    except OSError as exc:
        return CheckResult.missing(f"{shown!r} could not start: {exc.strerror or exc}")
    # The command's own secrets are scrubbed before the tail is cut (a secret cut in half at
    # the start of the tail would no longer match).
    tail = redact_text((done.stdout + done.stderr).strip(), command_secrets(command))[-_TAIL:]
    evidence = Evidence("command", shown, detail=f"exit={done.returncode}")
    if done.returncode == 0:
        return CheckResult.met(f"{shown!r} exited 0", evidence)
    return CheckResult.not_met(f"{shown!r} exited {done.returncode}: {tail}", evidence)


KIND = builtin_kind("command", evaluate)
