"""The bad-input corpus: one YAML file per case under tests/corpus/, run table-driven.

Every case states what it proves and asserts: the run finishes within its bound, prints no
traceback, names the file and the place in one clear message, and the gate is never PASS.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLE, INNER_ARGS
from servers import FakeApi

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(CORPUS.glob("*.yaml"))


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeApi]:
    server = FakeApi()
    yield server
    server.close()


def prepare(case: dict, root: Path, fake: FakeApi, outside: Path) -> None:
    if case.get("base", "example") == "example":
        shutil.copytree(EXAMPLE, root, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("gate-records"))
    else:
        (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    if case.get("ini"):
        lines = ["[tool.pytest.ini_options]", *(f'{k} = "{v}"' for k, v in case["ini"].items())]
        pyproject = root / "pyproject.toml"
        text = pyproject.read_text().replace("[tool.pytest.ini_options]\n", "")
        pyproject.write_text(text + "\n" + "\n".join(lines) + "\n")
    for relative in case.get("delete", []):
        target = root / relative
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
    for relative, content in (case.get("write") or {}).items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, dict | list):
            content = json.dumps(content)
        target.write_text(str(content).replace("{server}", fake.url), encoding="utf-8")
    for generator in case.get("generate", []):
        GENERATORS[generator["kind"]](root, outside, generator)
    for relative, content in (case.get("append") or {}).items():
        with (root / relative).open("a", encoding="utf-8") as handle:
            handle.write(str(content))


def _yaml_bomb(root: Path, outside: Path, spec: dict) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        prev = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([prev] * 9)}]")
    lines.append("sections: *a9")
    path = root / spec["to"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def _big_file(root: Path, outside: Path, spec: dict) -> None:
    path = root / spec["to"]
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = (spec.get("line", "# padding line of a very large file\n")).encode()
    with path.open("wb") as handle:
        handle.write(spec.get("head", "").encode())
        for _ in range(int(spec["bytes"]) // len(chunk) + 1):
            handle.write(chunk)
        handle.write(spec.get("tail", "").encode())


def _symlink_out(root: Path, outside: Path, spec: dict) -> None:
    link = root / spec["at"]
    source = root / spec["copy"] if spec.get("copy") else None
    target = outside / Path(spec["at"]).name
    if source is not None and source.exists():
        shutil.copy(source, target)
    else:
        target.write_text(spec.get("content", "x"))
    if link.exists() or link.is_symlink():
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


def _directory(root: Path, outside: Path, spec: dict) -> None:
    path = root / spec["at"]
    if path.exists():
        path.unlink()
    (path / "inner").mkdir(parents=True)


def _fifo(root: Path, outside: Path, spec: dict) -> None:
    path = root / spec["at"]
    if path.exists():
        path.unlink()
    os.mkfifo(path)


def _drop_signoff(root: Path, outside: Path, spec: dict) -> None:
    log = root / ".deploygate" / "attestations.jsonl"
    kept = [line for line in log.read_text().splitlines()
            if json.loads(line)["criterion"] != spec["criterion"]]
    log.write_text("\n".join(kept) + "\n")


GENERATORS = {"drop-signoff": _drop_signoff, "yaml-bomb": _yaml_bomb, "big-file": _big_file,
              "symlink-out": _symlink_out, "directory": _directory, "fifo": _fifo}


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_bad_input(path: Path, tmp_path: Path, fake: FakeApi) -> None:
    case = yaml.safe_load(path.read_text())
    assert case.get("proves"), f"{path.name}: say what the case proves"
    root, outside = tmp_path / "project", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    prepare(case, root, fake, outside)
    bound = float(case.get("timeout", 60))
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, *case["args"]],
                          cwd=root, capture_output=True, text=True, timeout=bound + 30)
    elapsed = time.monotonic() - start
    output = done.stdout + done.stderr
    assert elapsed < bound, f"took {elapsed:.1f}s, bound {bound}s"
    assert "Traceback" not in output and "INTERNALERROR" not in output, output[-4000:]
    expect = case["expect"]
    assert done.returncode in expect.get("exit", [1, 2, 4]), output[-4000:]
    for text in expect.get("output", []):
        assert text.replace("{server}", fake.url) in output, (text, output[-4000:])
    record = root / "gate-records" / case.get("record", "GATE-12.xml")
    if record.exists():
        xml = record.read_text()
        assert 'name="deploygate.decision" value="PASS"' not in xml
        for text in expect.get("record", []):
            assert text.replace("{server}", fake.url) in xml, (text, xml[-3000:])
    else:
        assert not expect.get("record"), "the case expects a record"
