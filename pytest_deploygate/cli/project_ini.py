"""The gate's ini settings of a project, found as pytest finds them, read without pytest.

``pytest --gate`` reads ``deploygate_specs`` and the size limits from the project's pytest
configuration; the ``deploygate`` commands must read the same ones, or ``deploygate verdict``
checks a record against the built-in spec instead of the project's own (and refuses it), and
refuses a spec the run was allowed to read. Importing pytest for this would cost a verdict more
than the verdict itself, so the configuration file is located here by pytest's rules: from the
root upwards, in each folder the first of :data:`CONFIG_FILES` that holds pytest configuration,
decided and read by pytest's own parsers and rules (core/pytest_config_files.py: a regex of the
table header missed ``[tool."pytest".ini_options]`` and dotted keys, which pytest reads). A file
is parsed only where it could hold pytest's table (it spells ``pytest``); one pytest would stop
on is refused in one line. Whatever this finds, ``deploygate verdict`` still checks the
record's spec by its sha256: a spec folder that is not the run's is a refusal, never a pass.
``-o`` and ``PYTEST_ADDOPTS`` overrides are the run's alone; ``--specs`` is their counterpart
here, and ``--config-file`` that of pytest's ``-c`` (the file the gate ran with is release
content where it lies in the repository, so verdict must bind the same one:
evidence/gate_definition.py). A file outside the repository is refused unless
``--config-file`` names it, as pytest --gate refuses it unless ``-c`` does.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pytest_deploygate.core.errors import DeployGateError
from pytest_deploygate.core.limits import DEFAULT_LIMITS, Limits, ini_size
from pytest_deploygate.core.pytest_config_files import (
    MAX_CONFIG_BYTES,
    PYTEST_CONFIG_FILES,
    PytestRefusesIt,
    pytest_settings,
    pytest_text,
)
from pytest_deploygate.core.value_class import field, value_class

#: pytest's configuration files, in its order of precedence within one folder (the one list
#: the release content of a monorepo project binds too: core/pytest_config_files.py).
CONFIG_FILES = PYTEST_CONFIG_FILES
#: The spec folder's default name: where it is missing, the built-in gates apply.
DEFAULT_SPEC_FOLDER = "gate_specs"
#: Configuration files are small; a bigger one is not read (its settings would be refused).
_MAX_CONFIG_BYTES = MAX_CONFIG_BYTES


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
        settings = _pytest_settings(named, _text(named))
        return GateIni(named.absolute(), _gate_settings(named, settings or {}))
    for folder in (root, *root.parents):
        for name in CONFIG_FILES:
            path = folder / name
            if not path.is_file():
                continue
            settings = _pytest_settings(path, _text(path))
            if settings is None:
                continue  # not pytest's: look further, as pytest does
            inside = path.resolve().is_relative_to(root.resolve())
            return GateIni(path, _gate_settings(path, settings), inside)
    return GateIni()


def outside_repository_problem(ini: GateIni, top: Path, named: bool) -> str | None:
    """Why the commands may not read the configuration file ``ini`` came from (None when they
    may): pytest --gate refuses one outside the repository at ``top`` unless its command line
    named it (``-c``), and one a link of the repository leads out to whoever named it
    (gate/definition_sources.py); ``named``: ``--config-file`` named it. Its size limits
    decide which spec, evidence and record files the commands read; a file no review covers
    must not decide that for the deploy job, nor the commands vouch for a run that could not
    have read it."""
    if ini.path is None:
        return None
    from pytest_deploygate.evidence.gate_definition import way_out

    outside, link = way_out(ini.path, top)
    if not outside or (named and link is None):
        return None
    how = f"through {link}, a link in it" if link is not None else \
        "(found in a folder above it, as pytest finds it)"
    instead = "name the file itself with --config-file FILE (the gate run's -c FILE)" \
        if link is not None else "name it with --config-file FILE, as the gate run named " \
        "it with -c FILE"
    return (f"pytest's configuration file {ini.path} is outside the repository {top} {how}: "
            "it configures the gate (deploygate_specs, the size limits) and is no release "
            "content, so pytest --gate refuses it too; put pytest's configuration in the "
            f"repository, or {instead}")


def _text(path: Path) -> str:
    """The file as pytest reads it (one line naming it when it cannot be read)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise IniError(f"{path}: cannot read it ({exc.strerror}); make it readable or pass "
                       "--specs") from None
    if len(data) > _MAX_CONFIG_BYTES:
        raise IniError(f"{path}: over {_MAX_CONFIG_BYTES} bytes, not a configuration file "
                       "this reads; pass --specs")
    from pytest_deploygate.core.utf8 import NotUtf8

    try:
        return pytest_text(data)
    except NotUtf8 as exc:
        raise IniError(f"{path}:{exc.line}: {exc.detail}") from None


def _pytest_settings(path: Path, text: str) -> dict[str, object] | None:
    """What pytest takes from the file (None: not its configuration); a file pytest stops
    on is refused here too, in one line."""
    try:
        return pytest_settings(path, text)
    except PytestRefusesIt as exc:
        raise IniError(str(exc)) from None


def _gate_settings(path: Path, settings: Mapping[str, object]) -> dict[str, str]:
    """The ``deploygate_`` settings, as the strings the gate reads them as."""
    return {key: _value(path, key, value) for key, value in settings.items()
            if key.startswith("deploygate_")}


def _value(path: Path, key: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise IniError(f"{path}: {key} = {value!r}: expected a string (or a number of bytes)")
    return str(value)
