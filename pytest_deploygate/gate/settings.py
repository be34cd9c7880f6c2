"""The run's settings: command-line options and ini values read once into a checked object.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import math
import os
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_deploygate.core.limits import DEFAULT_LIMITS, Limits, ini_size
from pytest_deploygate.core.value_class import field, value_class
from pytest_deploygate.signing.options import repository_code_problem, signing_paths

if TYPE_CHECKING:
    from pytest_deploygate.evidence.config import ProjectConfig
    from pytest_deploygate.spec.model import RunStage


@value_class(frozen=True)
class Settings:
    """The checked options of one gate run."""

    expression: str
    stage: RunStage
    root: Path
    state_path: Path
    spec_dir: Path
    record_dir: Path
    now: datetime
    pre_record: Path | None
    version: str | None
    thresholds: dict[str, float]
    prometheus_url: str | None = None
    health_urls: tuple[str, ...] = ()
    watch_seconds: float = 0.0
    allow_commands: bool = False
    no_waivers: bool = False
    projects: tuple[str, ...] = ()
    same_run_prerequisites: bool = True
    #: What runs remember (imported checklists, schema-valid marks): see core/private_cache.
    cache_dir: Path = field(default_factory=lambda: _cache_dir(None))
    update_state: bool = False
    validation_record: bool = False
    #: --gate-now was given: the run evaluates the past, and its records say so.
    replay: bool = False
    #: The private key that signs each record (--gate-sign-key / $DEPLOYGATE_SIGNING_KEY).
    sign_key: Path | None = None
    #: The post stage's allowed signers (--gate-allowed-signers).
    allowed_signers: Path | None = None
    #: The byte limits on files read (ini deploygate_max_spec_size / _evidence_size).
    limits: Limits = DEFAULT_LIMITS
    #: The pytest configuration file the run read (pytest's ``config.inipath``): release
    #: content where it lies in the repository (evidence/gate_definition.py).
    ini_path: Path | None = None


def read_settings(config: pytest.Config) -> Settings:
    """Read options into :class:`Settings`; bad values raise ``pytest.UsageError``."""
    from pytest_deploygate.core.timeutil import now_utc, parse_duration, parse_instant

    limits = Limits.of(_size(config, "deploygate_max_spec_size"),
                       _size(config, "deploygate_max_evidence_size"))

    _refuse_empty_options(config)
    from pytest_deploygate.gate.definition_sources import refuse_environment_folders

    refuse_environment_folders(config)
    rootdir = Path(config.rootpath)
    root = _path(config.getoption("gate_root"), Path.cwd(), "--gate-root") or rootdir
    state = (_path(config.getoption("gate_state"), Path.cwd(), "--gate-state")
             or root / ".isdlc" / "state.json")
    record_ini = config.getini("deploygate_record_dir")
    record_dir = (_path(config.getoption("gate_record_dir"), Path.cwd(), "--gate-record-dir")
                  or _path(record_ini, rootdir, "ini deploygate_record_dir")
                  or root / "gate-records")
    raw_now = config.getoption("gate_now")
    if raw_now:
        _refuse_replay_effects(config, "--gate-now replays the past",
                               "write back and sign only gates evaluated now (drop --gate-now)")
    if config.getoption("gate_threshold"):
        # The thresholds are reviewed files' (spec, deploygate.yaml): one changed on the
        # command line evaluates another gate, which is neither written back nor signed.
        _refuse_replay_effects(config, "--gate-threshold changes the reviewed gate",
                               "write back and sign only the gate as reviewed (put the "
                               "threshold in deploygate.yaml)")
    specs_chosen = _specs_chosen_outside(config, root)
    if specs_chosen:
        # The same for the specs themselves: `-o deploygate_specs=DIR` (or in PYTEST_ADDOPTS),
        # or `-c` with an ini file of the caller's own, puts gates of the caller's choosing in
        # place of the reviewed ones.
        _refuse_replay_effects(config, f"{specs_chosen} replaces the reviewed gate specs",
                               "write back and sign only the reviewed specs (set "
                               "deploygate_specs in the project's ini file)")
    try:
        now = parse_instant(raw_now) if raw_now else now_utc()
    except ValueError as exc:
        raise pytest.UsageError(f"--gate-now: {exc}") from None
    stage = config.getoption("gate_stage")
    if stage not in ("pre", "post", "all"):
        raise pytest.UsageError(f"--gate-stage {str(stage)!r}: expected pre, post or all")
    watch = 0.0
    if config.getoption("gate_watch"):
        try:
            watch = parse_duration(config.getoption("gate_watch"))
        except ValueError as exc:
            raise pytest.UsageError(f"--gate-watch: {exc}") from None
        if stage == "pre":
            raise pytest.UsageError("--gate-watch watches rollback triggers after the deploy: "
                                    "use it with --gate-stage=post")
    for url in [config.getoption("gate_prometheus") or "", *config.getoption("gate_health_url")]:
        if url and not url.startswith(("http://", "https://")):
            from pytest_deploygate.core.redaction import redact_url

            raise pytest.UsageError(f"{redact_url(url)!r}: only http:// and https:// URLs are "
                                    "allowed")
    sign_key, allowed_signers = signing_paths(config)
    if sign_key is not None:
        unsafe = repository_code_problem(config, root)
        if unsafe:
            source = "--gate-sign-key" if config.getoption("gate_sign_key") else \
                f"${SIGNING_KEY_ENV}"
            raise pytest.UsageError(f"deploygate: {source}: {unsafe}")
    spec_dir = _spec_dir(config, rootdir, root)
    from pytest_deploygate.gate.definition_sources import refuse_outside_definition

    refuse_outside_definition(config, root, spec_dir)
    return Settings(
        expression=config.getoption("gate"),
        stage=stage,
        root=root,
        state_path=state,
        spec_dir=spec_dir,
        record_dir=record_dir,
        now=now,
        pre_record=_path(config.getoption("gate_pre_record"), Path.cwd(), "--gate-pre-record"),
        version=config.getoption("gate_version"),
        thresholds=_thresholds(config.getoption("gate_threshold")),
        prometheus_url=config.getoption("gate_prometheus"),
        health_urls=tuple(config.getoption("gate_health_url")),
        watch_seconds=watch,
        allow_commands=config.getoption("gate_allow_commands"),
        no_waivers=config.getoption("gate_no_waivers"),
        update_state=config.getoption("gate_update_state"),
        projects=tuple(config.getoption("gate_project")),
        same_run_prerequisites=not _distributed(config),
        cache_dir=_cache_dir(config),
        validation_record=config.getoption("gate_validation_record"),
        replay=bool(raw_now),
        sign_key=sign_key,
        allowed_signers=allowed_signers,
        limits=limits,
        ini_path=_configuration_file(config),
    )


def command_line_sources(settings: Settings, config: ProjectConfig) -> list[str]:
    """The evidence sources the command line chose where the reviewed deploygate.yaml did not:
    a Prometheus other than its ``prometheus.url``, and health URLs when it lists none (with
    some listed, each added URL is one more that must answer: never a gain). Redacted."""
    from pytest_deploygate.core.redaction import redact_url

    chosen = []
    if settings.prometheus_url and settings.prometheus_url != config.prometheus.get("url"):
        chosen.append(f"--gate-prometheus={redact_url(settings.prometheus_url)}")
    if settings.health_urls and not config.health_urls:
        chosen += [f"--gate-health-url={redact_url(url)}" for url in settings.health_urls]
    return chosen


def reviewed_effects(settings: Settings) -> list[str]:
    """The options that write back or sign: only for the gate as reviewed."""
    return [option for option, wanted in (("--gate-update-state", settings.update_state),
                                          ("--gate-validation-record",
                                           settings.validation_record),
                                          ("signing", settings.sign_key is not None))
            if wanted]


#: The environment variable a signing key may come from (the signing options' fallback).
SIGNING_KEY_ENV = "DEPLOYGATE_SIGNING_KEY"


def _refuse_replay_effects(config: pytest.Config, what: str, instead: str) -> None:
    """--gate-now evaluates the past, --gate-threshold another gate: neither may write back
    or sign as if it were the gate of now."""
    effects = [option for option, name in (("--gate-update-state", "gate_update_state"),
                                           ("--gate-validation-record", "gate_validation_record"),
                                           ("--gate-sign-key", "gate_sign_key"))
               if config.getoption(name, None)]
    if os.environ.get(SIGNING_KEY_ENV):
        effects.append(f"{SIGNING_KEY_ENV} (set in the environment)")
    if effects:
        raise pytest.UsageError(
            f"{what}: it cannot be used with {', '.join(effects)}; {instead}")


def _specs_chosen_outside(config: pytest.Config, root: Path) -> str | None:
    """Where deploygate_specs was set, when not by the project's own ini file: on the command
    line (``-o``), or in an ini file outside the project (``-c``)."""
    if _ini_on_command_line(config, "deploygate_specs"):
        return "-o deploygate_specs on the command line"
    inipath = config.inipath
    if inipath is not None and config.getini("deploygate_specs") != "gate_specs" and \
            not inipath.resolve().is_relative_to(root.resolve()):
        return f"deploygate_specs of {inipath}, an ini file outside the project,"
    return None


def _configuration_file(config: pytest.Config) -> Path | None:
    """pytest's configuration file, when it is one: a ``pyproject.toml`` without a pytest
    table, which pytest takes only for its rootdir when it finds no configuration, configures
    nothing (and ``deploygate``, looking for the configuration as pytest does, skips it)."""
    from pytest_deploygate.core.pytest_config_files import holds_pytest_configuration

    inipath = config.inipath
    return inipath if inipath is not None and holds_pytest_configuration(inipath) else None


def _ini_on_command_line(config: pytest.Config, name: str) -> bool:
    """Whether ``-o NAME=...`` (also from PYTEST_ADDOPTS) overrides the ini value ``name``."""
    overrides = getattr(config.option, "override_ini", None) or ()
    return any(str(entry).partition("=")[0].strip() == name for entry in overrides)


def _size(config: pytest.Config, name: str) -> int | None:
    try:
        return ini_size(name, config.getini(name))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def _distributed(config: pytest.Config) -> bool:
    # pytest-xdist: on workers (workerinput) and on the controller (-n / --dist).
    if hasattr(config, "workerinput"):
        return True
    workers = config.getoption("numprocesses", None)
    return bool(workers) and workers != "0"


def _cache_dir(config: pytest.Config | None) -> Path:
    # Never pytest's cache: it lives in (or is chosen by) the checkout, which a pull request
    # can fill with a "cached" import of the checklist (see core/private_cache).
    from pytest_deploygate.core.private_cache import private_cache_dir

    return private_cache_dir()


def _path(value: object, base: Path, name: str) -> Path | None:
    if not value:
        return None
    from pytest_deploygate.core.paths import configured_path

    try:
        return configured_path(str(value), base)
    except ValueError as exc:
        raise pytest.UsageError(f"{name} {str(value)!r}: {exc}") from None


#: The options whose empty value used to mean "not given": ``--gate-root=$PROJECT`` with the
#: variable unset gated pytest's rootdir instead, ``--gate-now=`` evaluated now.
_VALUED_OPTIONS = ("gate_root", "gate_state", "gate_record_dir", "gate_now", "gate_pre_record",
                   "gate_version", "gate_prometheus", "gate_watch")


def _refuse_empty_options(config: pytest.Config) -> None:
    for name in _VALUED_OPTIONS:
        value = config.getoption(name)
        if value is not None and not str(value).strip():
            option = "--" + name.replace("_", "-")
            raise pytest.UsageError(f"{option} is empty: give a value or leave the option out "
                                    "(is the variable that names it unset?)")


def _spec_dir(config: pytest.Config, rootdir: Path, root: Path) -> Path:
    """The user's spec folder; one named in the ini that is not a folder is refused (its gates
    were silently the built-in ones: a typo in the setting dropped the project's own gate), and
    so is one in the gate's bookkeeping (a commit there changed the gate, not the release)."""
    value = config.getini("deploygate_specs")
    folder = _path(value, rootdir, "ini deploygate_specs") or rootdir / "gate_specs"
    from pytest_deploygate.core.paths import folder_problem
    from pytest_deploygate.evidence.release import spec_folder_problem

    problem = None if str(value).strip() in ("", "gate_specs") else folder_problem(folder)
    if problem:
        raise pytest.UsageError(f"ini deploygate_specs = {value!r}: {problem}; create it or "
                                "fix the setting")
    in_bookkeeping = spec_folder_problem(root, folder)
    if in_bookkeeping:
        raise pytest.UsageError(f"ini deploygate_specs = {str(value) or 'gate_specs'!r}: "
                                f"{in_bookkeeping}")
    return folder


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _thresholds(pairs: list[str]) -> dict[str, float]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = None
        if sep and number is not None and not math.isfinite(number):
            # A NaN bound never breaches: every comparison with NaN is false.
            raise pytest.UsageError(f"--gate-threshold {pair!r}: {value.strip()} is not a "
                                    "finite number; give a number, e.g. p99_ms=1500")
        # float() also reads "٣" (an Arabic-Indic 3) and "1_0" (10): a number a reviewer of
        # the command line may read otherwise. Plain decimal notation only.
        if number is None or not sep or not name.strip() or \
                not _DECIMAL.fullmatch(value.strip()):
            raise pytest.UsageError(
                f"--gate-threshold {pair!r}: expected NAME=NUMBER, e.g. p99_ms=1500")
        out[name.strip()] = number
    return out
