"""``git_tag``: the release version is tagged in the gated project's repository.

Looks for ``v<version>`` or ``<version>`` and, unless ``at_commit: false``, requires the tag
to be on the gated release: its commit carries the same release content (the tag may sit on
the release commit or on a later commit that only adds sign-offs). A shallow clone without
tags is missing evidence with the command that fetches them, never a pass.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.core.results import CheckResult, Evidence
from pytest_deploygate.evidence.release import tag_release
from pytest_deploygate.evidence.shallow import fetch_history_hint


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Met when a tag of the version exists (on the gated release, by default)."""
    project = ctx.project
    version = project.version
    if not version:
        return CheckResult.missing("release version unknown: pass --gate-version or set "
                                   f"version in {project.config.display_name}")
    release = project.release
    if not release.known:
        return CheckResult.missing(f"no release to find a tag of: {release.problem}")
    names = [f"{prefix}{version.removeprefix('v')}" for prefix in params.get(
        "prefixes", ["v", ""])]
    for name in names:
        code, target = project.git("rev-parse", "--verify", "-q", f"refs/tags/{name}^{{commit}}")
        if code == 0 and target:
            evidence = Evidence("git", f"refs/tags/{name}", detail=f"commit={target}")
            if params.get("at_commit", True):
                # A tag on a later sign-off commit of the same release content is the same
                # release; a tag whose release content differs is another release.
                differs = tag_release(project.root, release, target,
                                      record_dir=project.record_dir)
                if differs:
                    return CheckResult.not_met(f"tag {name} (commit {target[:12]}) is on another "
                                               f"release: {differs}", evidence)
            return CheckResult.met(f"tag {name} at {target[:12]}, release commit "
                                   f"{(release.commit or '')[:12]}", evidence)
    code, shallow = project.git("rev-parse", "--is-shallow-repository")
    if shallow == "true":
        return CheckResult.missing(f"no tag {' or '.join(names)} in a shallow clone: "
                                   f"{fetch_history_hint()}")
    return CheckResult.not_met(f"no tag {' or '.join(names)} in the repository")


KIND = builtin_kind("git_tag", evaluate)
