"""The gate's ini settings of a project, found as pytest finds them, read without pytest.

``pytest --gate`` reads ``deploygate_specs`` and the size limits from the project's pytest
configuration; the ``deploygate`` commands must read the same ones, or ``deploygate verdict``
checks a record against the built-in spec instead of the project's own (and refuses it), and
refuses a spec the run was allowed to read. Importing pytest for this would cost a verdict more
than the verdict itself, so the configuration file is located here by pytest's rules: from the
root upwards, in each folder the first of :data:`CONFIG_FILES` that holds pytest configuration
(``pytest.toml`` and ``pytest.ini`` always do, ``pyproject.toml`` with ``[tool.pytest]``,
``tox.ini`` with ``[pytest]``, ``setup.cfg`` with ``[tool:pytest]``).

A file is parsed only when it names a ``deploygate_`` setting (the TOML and ini parsers cost
a verdict ~70 M and ~60 M instructions); pytest's own ini parser (``iniconfig``) reads ini
files, so continuation lines and comments mean what they mean to pytest. Whatever this finds,
``deploygate verdict`` still checks the record's spec by its sha256: a spec folder that is not
the run's is a refusal, never a pass. ``-o`` and ``PYTEST_ADDOPTS`` overrides are the run's
alone; ``--specs`` is their counterpart here, and ``--config-file`` that of pytest's ``-c``
(the file the gate ran with is release content where it lies in the repository, so verdict
must bind the same one: evidence/gate_definition.py).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pytest_deploygate.core.errors import DeployGateError
from pytest_deploygate.core.limits import DEFAULT_LIMITS, Limits, ini_size
from pytest_deploygate.core.pytest_config_files import (
    HOLDS_PYTEST,
    MAX_CONFIG_BYTES,
    PYTEST_CONFIG_FILES,
)
from pytest_deploygate.core.value_class import field, value_class

#: pytest's configuration files, in its order of precedence within one folder (the one list
#: the release content of a monorepo project binds too: core/pytest_config_files.py).
CONFIG_FILES = PYTEST_CONFIG_FILES
#: The spec folder's default name: where it is missing, the built-in gates apply.
DEFAULT_SPEC_FOLDER = "gate_specs"
#: Configuration files are small; a bigger one is not read (its settings would be refused).
_MAX_CONFIG_BYTES = MAX_CONFIG_BYTES
_HOLDS_PYTEST = HOLDS_PYTEST


class IniError(DeployGateError):
    """The project's pytest configuration cannot be read (one line: file, place, what to do)."""


@value_class(frozen=True)
class GateIni:
    """The ``deploygate_*`` settings of the project's pytest configuration file."""

    #: The file pytest would read (None: the project has none).
    path: Path | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    #: Whether that file lies inside the project (a file above it is not the project's own).
    inside_project: bool = True

    def folder(self, name: str) -> Path | None:
        """A path setting of the project's own file, relative to that file's folder (pytest's
        rootdir). A file above the project does not choose its folders: a run reading specs
        by such a file may neither write back nor sign (gate/settings.py), and the commands
        must not vouch for its records either, so they keep their defaults and refuse them."""
        value = self.values.get(name, "").strip()
        if not value or self.path is None or not self.inside_project:
            return None
        from pytest_deploygate.core.paths import configured_path, folder_problem

        try:
            path = configured_path(value, self.path.parent)
        except ValueError as exc:
            raise IniError(f"{self.path}: {name} = {value!r}: {exc}") from None
        problem = None if value == DEFAULT_SPEC_FOLDER else folder_problem(path)
        if problem:
            # As pytest --gate refuses it: the gates were silently the built-in ones.
            raise IniError(f"{self.path}: {name} = {value!r}: {problem}; create it or fix "
                           "the setting")
        return path

    def limits(self) -> Limits:
        """The size limits the project's gate runs read with."""
        if not self.values:
            return DEFAULT_LIMITS
        try:
            return Limits.of(ini_size("deploygate_max_spec_size",
                                      self.values.get("deploygate_max_spec_size")),
                             ini_size("deploygate_max_evidence_size",
                                      self.values.get("deploygate_max_evidence_size")))
        except ValueError as exc:
            raise IniError(f"{self.path}: {exc}; fix it, as pytest --gate would refuse it "
                           "too") from None


def read_gate_ini(root: Path, named: Path | None = None) -> GateIni:
    """The gate settings of the pytest configuration file that governs ``root``; or of the
    file ``named`` on the command line (``--config-file``: the gate ran with ``pytest -c``),
    whose folder settings count wherever it lies, as they did for the run."""
    if named is not None:
        if not named.is_file():
            raise IniError(f"--config-file {named}: not a file; name the file the gate ran "
                           "with (pytest -c FILE)")
        text = _text(named)
        return GateIni(named.absolute(), _settings(named, text) if "deploygate_" in text else {})
    for folder in (root, *root.parents):
        for name in CONFIG_FILES:
            path = folder / name
            if not path.is_file():
                continue
            text = _text(path)
            holds = _HOLDS_PYTEST.get(name)
            if holds is not None and not holds.search(text):
                continue  # not pytest's: look further, as pytest does
            inside = path.resolve().is_relative_to(root.resolve())
            if "deploygate_" not in text:
                return GateIni(path, inside_project=inside)
            return GateIni(path, _settings(path, text), inside)
    return GateIni()


def _text(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise IniError(f"{path}: cannot read it ({exc.strerror}); make it readable or pass "
                       "--specs") from None
    if len(data) > _MAX_CONFIG_BYTES:
        raise IniError(f"{path}: over {_MAX_CONFIG_BYTES} bytes, not a configuration file "
                       "this reads; pass --specs")
    from pytest_deploygate.core.utf8 import NotUtf8, decode_utf8

    try:
        return decode_utf8(data, bom=False)
    except NotUtf8 as exc:
        raise IniError(f"{path}:{exc.line}: {exc.detail}") from None


def _settings(path: Path, text: str) -> dict[str, str]:
    table = _toml_table(path, text) if path.suffix == ".toml" else _ini_section(path, text)
    return {key: value for key, value in table.items() if key.startswith("deploygate_")}


def _toml_table(path: Path, text: str) -> dict[str, str]:
    import tomllib

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise IniError(f"{path}: not valid TOML ({exc}); fix it") from None
    if path.name == "pyproject.toml":
        tool = _table(_table(document.get("tool")).get("pytest"))
        table = _table(tool.get("ini_options")) or {k: v for k, v in tool.items()
                                                    if k != "ini_options"}
    else:
        table = _table(document.get("pytest"))
    return {key: _toml_value(path, key, value) for key, value in table.items()
            if key.startswith("deploygate_")}


def _table(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _toml_value(path: Path, key: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise IniError(f"{path}: {key} = {value!r}: expected a string (or a number of bytes)")
    return str(value)


def _ini_section(path: Path, text: str) -> dict[str, str]:
    import iniconfig  # pytest's own ini parser (a dependency of pytest)

    try:
        parsed = iniconfig.IniConfig(str(path), data=text)
    except iniconfig.ParseError as exc:
        raise IniError(f"{exc}; fix it") from None
    section = "tool:pytest" if path.suffix == ".cfg" else "pytest"
    if section not in parsed:
        return {}
    return dict(parsed[section].items())
