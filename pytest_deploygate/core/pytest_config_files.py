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

#: pytest's configuration files, in its order of precedence within one folder (pytest 9's
#: ``_pytest.config.findpaths.CONFIG_LOADERS_BY_NAME``; older pytest reads a subset).
PYTEST_CONFIG_FILES = ("pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini",
                       "pyproject.toml", "tox.ini", "setup.cfg")
