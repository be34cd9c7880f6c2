"""Where a text names a release version: ``1.4.0`` is not ``11.4.0``, ``1.4.0.1``,
``1.4.0-rc1`` or ``1.4.0+build.7``.

A version followed by more of a version (a digit, a dot and a part, a pre-release or build
suffix, however spelled: ``1.4.0rc1`` in PEP 440, ``1.4.0~rc1`` in Debian, ``1.4.0_beta``)
names another release, so release notes of the candidate or a changelog heading of the
hotfix never stand in for the release gated. So does a version that is the base of a range
(``compare/v1.4.0...v1.4.1``: the next release's notes) or another version's build metadata
(``0.9.0+1.4.0``).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re

#: What may not follow a version that is named whole: more digits or letters (``rc1``),
#: ``.1``, ``-rc1``, ``+b7``, ``~rc1``, ``_beta``, a range's ``..``.
NOT_AFTER = r"(?!\w|[.+~-]\w|\.\.)"
#: What may not come before it: a digit or dot (``11.4.0``, ``2.1.4.0``), a build's ``+``.
NOT_BEFORE = r"(?<![\d.+])"


def version_pattern(version: str) -> str:
    """A regular expression matching ``version`` (without a leading ``v``) named whole."""
    return rf"{NOT_BEFORE}{re.escape(version.removeprefix('v'))}{NOT_AFTER}"
