"""Red team (session 11): mapping keys YAML does not read as text, refused in one line.

A hexadecimal key is built whatever its length (``int(text, 16)`` has no digit limit), and
``str()`` or ``repr()`` of an integer of more than 4,300 digits raises ValueError: the
refusal of such a key, or any refusal whose path passes under it, was a traceback of
``deploygate validate`` and ``verdict`` and a line naming no file in a gate run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_deploygate.core.yaml_lines import load_yaml
from pytest_deploygate.core.yaml_refusals import format_path, non_text_keys

HUGE = "0x" + "f" * 4000  # 16,000 bits: past the 4,300 decimal digits str() may write

DOCUMENTS = {
    "explicit key": f"version: 1.4.0\nthresholds:\n  ? {HUGE}\n  : 5\n",
    "alias as key": f"version: 1.4.0\nthresholds:\n  p99_ms: &k 5\n  ? *k\n  : 6\n"
                    f"x: &h {HUGE}\nreports: {{*h : [a]}}\n",
    "under a merge": f"base: &b {{a: 1}}\nreports:\n  <<: *b\n  ? {HUGE}\n  : [a]\n",
    "a NaN under it": f"thresholds:\n  ? {HUGE}\n  : .nan\n",
    "a mapping under it": f"evidence:\n  ? {HUGE}\n  : {{1: x}}\n",
}


def deploygate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_deploygate", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env={**os.environ})


@pytest.mark.parametrize("text", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_validate_refuses_a_huge_number_key_in_one_line(tmp_path: Path, text: str) -> None:
    (tmp_path / "deploygate.yaml").write_text(text)
    done = deploygate(tmp_path, "validate", "deploygate.yaml")
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output[-3000:]
    assert done.returncode == 1, output[-3000:]
    assert "deploygate.yaml:" in output
    assert "the key <a number of 16000 bits> is read as a number, not as a name" in output
    assert max(map(len, output.splitlines())) < 400  # the number is never printed


def test_a_key_is_shown_short_whatever_it_is() -> None:
    loaded = load_yaml("a:\n  ? !!binary " + "QUFB" * 5000 + "\n  : 1\n")
    [problem] = non_text_keys(loaded, Path("d.yaml"))
    assert problem.startswith("d.yaml:2: a: the key b'AAAA") and len(problem) < 200
    assert format_path(("a", int(HUGE, 16), "b")) == "a[<a number of 16000 bits>].b"
    assert format_path(("sections", 3, "check")) == "sections[3].check"


@pytest.mark.parametrize(("text", "shown"), [
    ("a: {2024-01-01: x}\n", "the key 2024-01-01 is read as a date"),
    ("a: {~: x}\n", "the key null is read as null"),
    ("a: {yes: x}\n", "the key true is read as true or false"),
    ("a: {.nan: x}\n", "the key nan is read as a number"),
])
def test_a_key_is_shown_as_yaml_writes_it(text: str, shown: str) -> None:
    [problem] = non_text_keys(load_yaml(text), Path("d.yaml"))
    assert problem == f"d.yaml:1: a: {shown}, not as a name; quote it"


@pytest.mark.parametrize("text", ["x: " + "1" * 5000 + "\n",
                                  "x:\n  ? " + "1" * 5000 + "\n  : 1\n",
                                  "<<: {a: 1}\nx: " + "1" * 5000 + "\n"],  # (the node path)
                         ids=["value", "key", "merge"])
def test_a_number_too_long_for_int_is_refused_in_a_short_line(text: str) -> None:
    from pytest_deploygate.core.yaml_model import YamlSyntaxError

    with pytest.raises(YamlSyntaxError) as refused:
        load_yaml(text)
    assert refused.value.detail == ("'" + "1" * 57 + "'... (5000 characters) is not a valid "
                                    "!!int value")
