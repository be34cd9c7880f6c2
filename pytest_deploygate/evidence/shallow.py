"""What to do about a shallow clone, in the terms of the CI system the run is in.

A shallow clone (GitHub's actions/checkout fetches one commit by default, GitLab 20) may not
hold the release commit, the tag or who added a sign-off: the gate and ``deploygate verdict``
then refuse, and the one line that says so names the option that fetches the history in the
CI system at hand. The CI is recognised by the variables each sets in its jobs; the variables
only choose the wording of the advice, never what is decided.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: (variable the CI system sets in every job, how its checkout is told to fetch everything).
_CI_OPTIONS = (
    ("GITHUB_ACTIONS", "GitHub Actions: 'with: {fetch-depth: 0}' on actions/checkout"),
    ("GITLAB_CI", "GitLab CI: the variable GIT_DEPTH: \"0\""),
    ("JENKINS_URL", "Jenkins: no shallow clone in the job's checkout (CloneOption shallow: "
                    "false)"),
)


def fetch_history_hint(command: str = "git fetch --tags --unshallow",
                       environ: Mapping[str, str] | None = None) -> str:
    """``fetch the whole history (<the CI's option>) or run '<command>' before the gate and
    deploygate verdict``: the end of a refusal that a shallow clone caused."""
    env = os.environ if environ is None else environ
    option = next((text for name, text in _CI_OPTIONS if env.get(name)), None)
    where = f" ({option})" if option else ""
    return (f"fetch the whole history{where} or run '{command}' before the gate and "
            "deploygate verdict")
