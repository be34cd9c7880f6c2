"""pytest's configuration files: their names, and what pytest takes from each, as it decides.

``deploygate`` reads the gate's ini settings from the file pytest would choose
(cli/project_ini.py), and a monorepo project's release content holds those files at the root
and in every folder above the project (evidence/gate_definition.py). Two lists kept by hand
drifted: pytest 9 reads ``pytest.toml`` first, the ini reader knew it, the release content did
not, so a root ``pytest.toml`` committed after the sign-offs named a weaker spec folder while
the release, its sign-offs and its records kept binding. Both import this one.

Whether a ``pyproject.toml``, ``tox.ini`` or ``setup.cfg`` holds pytest configuration was a
regex of its table header: ``[tool."pytest".ini_options]``, a dotted key
(``tool.pytest.ini_options.addopts = ...``) or an inline table is the same table to TOML and to
pytest, and none of them matched, so an edited pyproject.toml was "no configuration" and never
compared with the commit (rt15c A04). So the files are parsed here by pytest's own parsers
(``tomllib``, ``iniconfig``), after pytest's reading of the bytes (UTF-8, universal newlines),
by the rules of pytest 9's ``_pytest.config.findpaths.load_config_dict_from_file`` (pytest 8's
are a subset: only ``[tool.pytest.ini_options]``, which pytest 9 reads too). A file is parsed
only where it could hold pytest's table: TOML spells the key ``pytest`` only as those letters
or through a backslash escape of a quoted key, an ini file only as those letters.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from pathlib import Path

#: pytest's configuration files, in its order of precedence within one folder (pytest 9's
#: ``_pytest.config.findpaths.CONFIG_LOADERS_BY_NAME``; older pytest reads a subset).
PYTEST_CONFIG_FILES = ("pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini",
                       "pyproject.toml", "tox.ini", "setup.cfg")
#: The files pytest takes as its configuration even without its table (even empty).
ALWAYS_PYTEST = frozenset({"pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini"})
#: More than a configuration file holds: read no further.
MAX_CONFIG_BYTES = 1024 * 1024


class PytestRefusesIt(ValueError):
    """pytest stops on this file (it cannot parse it, or its pytest table is one pytest
    refuses): ``str()`` is one line naming the file, the place and what is wrong."""


def pytest_text(data: bytes) -> str:
    """The bytes of a configuration file as pytest reads them (UTF-8 without dropping a byte
    order mark, universal newlines). Raise :class:`~pytest_deploygate.core.utf8.NotUtf8`."""
    from pytest_deploygate.core.utf8 import decode_utf8

    return decode_utf8(data, bom=False).replace("\r\n", "\n").replace("\r", "\n")


def pytest_settings(path: Path, text: str) -> dict[str, object] | None:
    """The settings pytest takes from the file ``path`` holding ``text``; None when pytest
    does not take the file as its configuration (and looks further up). By the suffix, as
    pytest: ``.ini`` its ``[pytest]`` section (``pytest.ini`` counts without one), ``.cfg``
    its ``[tool:pytest]`` section, ``.toml`` its ``[pytest]`` table (``pytest.toml``) or
    ``[tool.pytest]`` with or without ``.ini_options``. Raise :class:`PytestRefusesIt` where
    pytest would stop (the file does not parse; a ``[pytest]`` section in a ``.cfg``;
    ``[tool.pytest]`` settings beside ``[tool.pytest.ini_options]``)."""
    if path.suffix == ".ini":
        return _ini_settings(path, text)
    if path.suffix == ".cfg":
        return _cfg_settings(path, text)
    if path.suffix == ".toml":
        return _toml_settings(path, text)
    return None


def holds_pytest_configuration(path: Path) -> bool:
    """Whether pytest takes the file as its configuration, by :func:`pytest_settings`; a
    file pytest would stop on, or one that cannot be read (unreadable, oversized, not UTF-8),
    is taken to hold it (the callers then refuse it or require it committed: never "no
    configuration" by a file this could not judge)."""
    if path.name not in PYTEST_CONFIG_FILES or path.name in ALWAYS_PYTEST:
        return True  # (a file named with -c: pytest's configuration, whatever it holds)
    from pytest_deploygate.core.utf8 import NotUtf8

    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            return True
        return pytest_settings(path, pytest_text(data)) is not None
    except (OSError, NotUtf8, PytestRefusesIt):
        return True


def _ini_settings(path: Path, text: str) -> dict[str, object] | None:
    always: dict[str, object] | None = {} if path.name in ALWAYS_PYTEST else None
    if "pytest" not in text:
        return always  # (no [pytest] section can be there: nothing to parse)
    sections = _ini_sections(path, text)
    return dict(sections["pytest"]) if "pytest" in sections else always


def _cfg_settings(path: Path, text: str) -> dict[str, object] | None:
    if "pytest" not in text:
        return None
    sections = _ini_sections(path, text)
    if "tool:pytest" in sections:
        return dict(sections["tool:pytest"])
    if "pytest" in sections:
        raise PytestRefusesIt(f"{path}: a [pytest] section, which pytest refuses in a "
                              f"{path.suffix} file; name it [tool:pytest]")
    return None


def _ini_sections(path: Path, text: str) -> dict[str, dict[str, str]]:
    import iniconfig  # pytest's own ini parser (a dependency of pytest)

    try:
        parsed = iniconfig.IniConfig(str(path), data=text)
    except iniconfig.ParseError as exc:
        raise PytestRefusesIt(f"{exc} (pytest cannot read it); fix it") from None
    return {name: dict(parsed[name].items()) for name in parsed.sections}


def _toml_settings(path: Path, text: str) -> dict[str, object] | None:
    always: dict[str, object] | None = {} if path.name in ALWAYS_PYTEST else None
    if "pytest" not in text and "\\" not in text:
        return always  # (no key spells "pytest", plainly or escaped: nothing to parse)
    import tomllib

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PytestRefusesIt(f"{path}: not valid TOML ({exc}), so pytest cannot read it; "
                              "fix it") from None
    if always is not None:
        table = document.get("pytest", {})
        return dict(_table(path, "[pytest]", table)) if table else {}
    tool = _table(path, "tool", document.get("tool", {}))
    pytest_table = _table(path, "tool.pytest", tool.get("pytest", {}))
    native = {key: value for key, value in pytest_table.items() if key != "ini_options"}
    if native:
        if pytest_table.get("ini_options"):
            raise PytestRefusesIt(f"{path}: both [tool.pytest] settings and "
                                  "[tool.pytest.ini_options], which pytest refuses; keep one")
        return native
    if "ini_options" in pytest_table:  # (even an empty one: pytest stops looking there)
        return dict(_table(path, "tool.pytest.ini_options", pytest_table["ini_options"]))
    return None  # (no [tool.pytest], or an empty one: no configuration to pytest)


def _table(path: Path, key: str, value: object) -> dict[str, object]:
    """A TOML table pytest reads as one (a key that is no table stops pytest)."""
    if not isinstance(value, dict):
        raise PytestRefusesIt(f"{path}: {key} is a {type(value).__name__}, not a table, so "
                              "pytest cannot read its configuration; make it a table")
    return value
