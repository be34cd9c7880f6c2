"""Two gate runs in one process share nothing: each run owns its limits and what it read.

pytester's in-process runs are the plainest case of a second run in one interpreter (an IDE
or a long-lived runner is another): the second run must see its own ini settings and the
files as they are now, not what the first run set or read.
"""

from __future__ import annotations

import importlib
import os
import pkgutil

import pytest

from conftest import GateProject

NOW = "--gate-now=2026-02-10T00:00:00Z"


@pytest.fixture(autouse=True)
def _long_lived_process() -> None:
    """Import every module of the plugin in this process first, as a process that keeps the
    interpreter between runs has. (pytester drops a module first imported during an inline
    run when the run ends, which would hide state kept by modules between runs.)"""
    import pytest_deploygate

    for module in pkgutil.walk_packages(pytest_deploygate.__path__, "pytest_deploygate."):
        if not module.name.endswith("__main__"):  # that one runs the command
            importlib.import_module(module.name)


def test_a_runs_size_limit_does_not_outlive_it(example: GateProject) -> None:
    limited = example.run("--gate=12", NOW, "-o", "deploygate_max_evidence_size=100")
    assert limited.ret != 0
    assert "over the 100 byte limit" in limited.stdout.str()

    # The next run sets no limit: the default holds, not the last run's.
    unlimited = example.run("--gate=12", NOW)
    assert unlimited.ret == 0, unlimited.stdout.str()
    assert "byte limit" not in unlimited.stdout.str()
    assert example.record().decision == "PASS"

    again = example.run("--gate=12", NOW, "-o", "deploygate_max_evidence_size=100")
    assert "over the 100 byte limit" in again.stdout.str()


def test_a_file_rewritten_between_runs_is_read_again(example: GateProject) -> None:
    # Same size and same mtime: only a cache that dies with its run reads the new content.
    config = example.root / "deploygate.yaml"
    first = example.run("--gate=12", NOW)
    assert first.ret == 0, first.stdout.str()
    assert example.record().properties["deploygate.version"] == "1.4.0"

    stat = config.stat()
    text = config.read_text()
    assert "version: 1.4.0\n" in text
    config.write_text(text.replace("version: 1.4.0\n", "version: 9.4.0\n", 1))
    os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert config.stat().st_size == stat.st_size

    second = example.run("--gate=12", NOW)
    assert example.record().properties["deploygate.version"] == "9.4.0"
    assert second.ret != 0  # CHANGELOG.md names 1.4.0, not the release gated now


def test_a_sign_off_log_rewritten_between_runs_is_read_again(example: GateProject) -> None:
    log = example.root / ".deploygate" / "attestations.jsonl"
    example.run("--gate=12", NOW)
    assert example.record().decision == "PASS"

    stat = log.stat()
    data = log.read_bytes()
    # One byte changed in every line, size and mtime kept: no sign-off names a criterion now.
    log.write_bytes(data.replace(b'"criterion": "', b'"criterion": "x')
                    .replace(b'"criterion": "x', b'"criterion":"x'))
    os.utime(log, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert log.stat().st_size == stat.st_size

    example.run("--gate=12", NOW)
    assert example.record().decision != "PASS"


def test_a_kind_validator_is_never_reused_for_another_kind_at_the_same_id() -> None:
    """A kind object's id can be reused once it is gone: the validator cache must notice."""
    from pytest_deploygate import CheckKind, CheckResult, params_schema
    from pytest_deploygate.spec import loader

    def evaluate(params: object, ctx: object) -> CheckResult:
        return CheckResult.met("ok")

    strict = CheckKind("probe", "nothing", params_schema({"n": {"type": "integer"}}, ["n"]),
                       evaluate)
    lenient = CheckKind("probe", "nothing", params_schema({}), evaluate)
    assert not loader._kind_validator(strict).is_valid({"kind": "probe"})
    # What a reused id looks like to the cache: the strict kind's validator under the
    # lenient kind's id.
    loader._KIND_VALIDATORS[id(lenient)] = loader._KIND_VALIDATORS[id(strict)]
    assert loader._kind_validator(lenient).is_valid({"kind": "probe"})
