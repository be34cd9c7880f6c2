"""Where a CA file named in a spec (``http``'s ``ca_file``) or in deploygate.yaml
(``prometheus.ca_file``) is: relative to the project root, like every other path there.

Never relative to the directory pytest runs in: a gate run from the checkout's parent
(``--gate-root=app``) would trust another file, or none. A relative path must stay inside the
root (no ``..``, no link out); an absolute one names a CA the machine provides (a CI runner's
``/etc/ssl/...``) and is used as given. Missing, outside or unreadable is one line naming
the file, never a pass (the reading itself, once a request, is evidence/http.py's).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os

from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.core.paths import OutsideRoot, inside_root
from pytest_deploygate.core.results import CheckResult


def ca_file_path(named: str | None, ctx: EvalContext) -> str | CheckResult | None:
    """The path to hand the HTTP client for ``named`` (None when none is named), or missing
    evidence saying why there is none. Resolved once per run and name."""
    if not named:
        return None
    project = ctx.project
    key = ("ca-file", named)
    if key not in project.memo:
        project.memo[key] = _resolve(named, ctx)
    found: str | CheckResult = project.memo[key]
    return found


def _resolve(named: str, ctx: EvalContext) -> str | CheckResult:
    if os.path.isabs(named):
        return named
    root = ctx.project.root
    try:
        path = inside_root(root, named)
    except OutsideRoot as exc:
        return CheckResult.missing(f"CA file {exc}")
    if not (path.exists() or path.is_symlink()):
        return CheckResult.missing(f"CA file {named!r}: not found under the project root "
                                   f"({root}); paths are relative to it")
    return str(path)
