"""The names of pytest's configuration files: one list for everything that looks for them.

``deploygate`` reads the gate's ini settings from the file pytest would choose
(cli/project_ini.py), and a monorepo project's release content holds those files at the root
and in every folder above the project (evidence/gate_definition.py). Two lists kept by hand
drifted: pytest 9 reads ``pytest.toml`` first, the ini reader knew it, the release content did
not, so a root ``pytest.toml`` committed after the sign-offs named a weaker spec folder while
the release, its sign-offs and its records kept binding. Both import this one.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re
from pathlib import Path

#: pytest's configuration files, in its order of precedence within one folder (pytest 9's
#: ``_pytest.config.findpaths.CONFIG_LOADERS_BY_NAME``; older pytest reads a subset).
PYTEST_CONFIG_FILES = ("pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini",
                       "pyproject.toml", "tox.ini", "setup.cfg")

#: Whether a file that is not always pytest's holds pytest configuration (its table/section).
HOLDS_PYTEST = {
    "pyproject.toml": re.compile(r"^\s*\[\s*tool\s*\.\s*pytest\s*[.\]]", re.MULTILINE),
    "tox.ini": re.compile(r"^\[pytest\]", re.MULTILINE),
    "setup.cfg": re.compile(r"^\[tool:pytest\]", re.MULTILINE),
}
#: More than a configuration file holds: read no further.
MAX_CONFIG_BYTES = 1024 * 1024


def holds_pytest_configuration(path: Path) -> bool:
    """Whether the file holds pytest configuration (by pytest's rules, as read here; an
    unreadable, oversized or undecodable one is taken to hold it)."""
    holds = HOLDS_PYTEST.get(path.name)
    if holds is None:
        return True
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            return True
        from pytest_deploygate.core.utf8 import NotUtf8, decode_utf8

        text = decode_utf8(data, bom=False)
    except (OSError, NotUtf8):
        return True
    return holds.search(text) is not None
