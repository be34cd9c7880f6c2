"""Where a text names a release version: ``1.4.0`` is not ``11.4.0``, ``1.4.0.1``,
``1.4.0-rc1`` or ``1.4.0+build.7``.

A version followed by more of a version (a digit, a dot and a part, a pre-release or build
suffix) names another release, so release notes of the candidate or a changelog heading of
the hotfix never stand in for the release gated.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re

#: What may not follow a version that is named whole: more digits, ``.1``, ``-rc1``, ``+b7``.
NOT_AFTER = r"(?![0-9]|[.+-][0-9A-Za-z])"


def version_pattern(version: str) -> str:
    """A regular expression matching ``version`` (without a leading ``v``) named whole."""
    return rf"(?<![0-9.]){re.escape(version.removeprefix('v'))}{NOT_AFTER}"
