"""What ``deploygate verdict`` needs of the project, remembered while nothing it came from
changes: the gate's spec (its items with deploygate.yaml's evidence overrides applied) and
three settings of deploygate.yaml (version, waivers, conditions).

Deploy jobs call verdict often, and loading the spec (YAML, schema, every check's parameters)
cost most of it. What a successful load produced is kept in the private cache
(:mod:`pytest_deploygate.core.private_cache`: a folder only this user can write), under the
SHA-256 of everything it was derived from: this format, the package's code, the spec's path
and bytes, and deploygate.yaml's path and bytes (or its absence). Any doubt recomputes:

- nothing is kept for a refused spec or deploygate.yaml: it is loaded, and refused with its
  message, every time;
- nothing is used or kept with ``--plugin`` or when installed plugins' kinds were needed
  (third-party code judged the spec);
- an input over the size limit, unreadable, or changed during the load is not kept;
- an entry that is not exactly what this module writes is ignored.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from pytest_deploygate.core.limits import DEFAULT_DOCUMENT_BYTES

if TYPE_CHECKING:
    from pytest_deploygate.cli.workspace import Workspace
    from pytest_deploygate.evidence.config import ProjectConfig
    from pytest_deploygate.spec.model import Criterion, GateSpec

_FORMAT = "deploygate verdict inputs 1"
_NAMESPACE = "verdict-inputs"
_CONFIG_FILE = "deploygate.yaml"
T = TypeVar("T")


class Settings(NamedTuple):
    """What verdict reads of deploygate.yaml."""

    version: str | None
    waivers_enabled: bool
    conditions: Mapping[str, object]


def project_settings(workspace: Workspace) -> Settings:
    """deploygate.yaml's version, waiver switch and conditions (a malformed file is the
    workspace's refusal, as for every command)."""
    config_path = workspace.root / _CONFIG_FILE
    key = _key(workspace, ("settings", config_path))
    stored = _read(key, _settings_from)
    if stored is not None:
        return stored
    config = _config(workspace)
    settings = Settings(config.version, config.waivers_enabled, dict(config.conditions))
    data = {"version": settings.version, "waivers_enabled": settings.waivers_enabled,
            "conditions": dict(settings.conditions)}
    if _round_trips(data, _settings_from, settings):
        _store(key, data, workspace, ("settings", config_path))
    return settings


def gate_inputs(workspace: Workspace, expression: str
                ) -> tuple[GateSpec, tuple[Criterion, ...]]:
    """The gate ``expression`` names and its items with the project's evidence overrides
    (refusals as :meth:`Workspace.gate` and :meth:`Workspace.items` make them)."""
    path = workspace.gate_path(expression)
    inputs = ("spec", path, workspace.root / _CONFIG_FILE)
    key = _key(workspace, inputs)
    from pytest_deploygate.spec.stored import from_data

    found = _read(key, from_data)
    if found is not None:
        return found
    spec = workspace.load_gate(path)
    _config(workspace)  # (loaded here, so that what it was loaded from is known)
    items = workspace.items(spec)
    if key is not None and _builtin_kinds_only(workspace):
        from pytest_deploygate.spec.stored import to_data

        data = to_data(spec, items)
        # The spec's own sha256 is of the bytes the loader read: the ones the key names.
        if data is not None and _digest(path) == spec.sha256:
            _store(key, data, workspace, inputs)
    return spec, items


# -- the cache ----------------------------------------------------------------------------------

#: The SHA-256 of the bytes of deploygate.yaml each workspace parsed (None: not known),
#: beside the workspace itself (compared by identity: an id may be reused).
_LOADED_CONFIG: dict[int, tuple[Workspace, str | None]] = {}


def _config(workspace: Workspace) -> ProjectConfig:
    """The workspace's deploygate.yaml, remembering which bytes it was loaded from: an entry
    is stored only under the digest of the deploygate.yaml its content came from (the file
    may change between two loads of one run)."""
    known = _LOADED_CONFIG.get(id(workspace))
    if known is None or known[0] is not workspace:
        config = workspace.config  # (loads it, or raises the refusal)
        # The digest of the bytes the loader parsed: the same digest before and after the
        # load does not say those bytes were parsed (a file swapped there and back).
        loaded = "absent" if config.source is None else config.source_sha256
        _LOADED_CONFIG[id(workspace)] = (workspace, loaded)
    return workspace.config

def _key(workspace: Workspace, inputs: tuple[Any, ...]) -> str | None:
    """The SHA-256 naming an entry derived from ``inputs`` (the files among them by path and
    content); None when nothing may be cached."""
    if workspace.plugins:
        return None
    from pytest_deploygate.core.code_digest import package_code_digest

    parts = [_FORMAT, package_code_digest()]
    for value in inputs:
        if isinstance(value, Path):
            digest = _digest(value)
            if digest is None:
                return None
            parts += [str(value), digest]
        else:
            parts.append(str(value))
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _digest(path: Path) -> str | None:
    """SHA-256 of the file's bytes, "absent" when there is none, None when it cannot be used
    (unreadable, a directory, over the size limit: the loader refuses those every time)."""
    if not path.exists():
        return "absent"
    try:
        with path.open("rb") as handle:
            data = handle.read(DEFAULT_DOCUMENT_BYTES + 1)
    except OSError:
        return None
    if len(data) > DEFAULT_DOCUMENT_BYTES:
        return None
    return hashlib.sha256(data).hexdigest()


def _read(key: str | None, parse: Callable[[dict[str, Any]], T]) -> T | None:
    """The entry stored under ``key``, parsed; None when there is none or it is not what
    this module writes."""
    if key is None:
        return None
    from pytest_deploygate.core.private_cache import read_entry

    raw = read_entry(_NAMESPACE, key)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        return parse(data) if isinstance(data, dict) else None
    except (KeyError, TypeError, ValueError):
        return None


def _store(key: str | None, data: Mapping[str, Any], workspace: Workspace,
           inputs: tuple[Any, ...]) -> None:
    # Kept only when the inputs are still the ones the key names (none changed meanwhile),
    # and the deploygate.yaml loaded is the one the key names.
    known = _LOADED_CONFIG.get(id(workspace))
    loaded = known[1] if known is not None and known[0] is workspace else None
    if key is None or loaded is None or loaded != _digest(workspace.root / _CONFIG_FILE) or \
            _key(workspace, inputs) != key:
        return
    from pytest_deploygate.core.private_cache import write_entry

    write_entry(_NAMESPACE, key, json.dumps(data, allow_nan=False).encode("utf-8"))


def _settings_from(data: Mapping[str, Any]) -> Settings:
    version, waivers, conditions = data["version"], data["waivers_enabled"], data["conditions"]
    if not (version is None or isinstance(version, str)) or not isinstance(waivers, bool) or \
            not isinstance(conditions, dict):
        raise TypeError("not a stored settings entry")
    return Settings(version, waivers, conditions)


def _round_trips(data: Mapping[str, Any], back: Any, original: Settings) -> bool:
    try:
        again = back(json.loads(json.dumps(data, allow_nan=False)))
    except (TypeError, ValueError, KeyError):
        return False
    return bool(again == original and type(again.version) is type(original.version))


def _builtin_kinds_only(workspace: Workspace) -> bool:
    from pytest_deploygate.checks import BUILTIN_MODULES

    return set(workspace.kinds) <= set(BUILTIN_MODULES)
