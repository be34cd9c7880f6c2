"""Red team: hostile checklists and output folders fed to `deploygate import`, and files that
are not UTF-8 fed to the commands that read documents (the place named is the real one)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CHECKLIST = Path(__file__).parent.parent.parent / "shared" / "isdlc" / "checklists" / \
    "12-production-gate.md"
NAME = "12-production-gate.md"


def deploygate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_deploygate", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def refused(done: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 2 with one line on stderr holding ``words``; the line."""
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def checklist(tmp_path: Path) -> bytes:
    if not CHECKLIST.is_file():
        pytest.skip("../shared is not there")
    return CHECKLIST.read_bytes()


def a_criterion_line(data: bytes) -> int:
    """The (1-based) line of the checklist's first checkbox criterion."""
    return next(number for number, line in enumerate(data.split(b"\n"), 1)
                if line.startswith(b"- [ ] "))


@pytest.mark.parametrize("character", ["\x1b[8m", "\x00", "\x07", "\x7f", "\x9b", "\ufffe",
                                       "\x0b"])
def test_a_control_character_is_refused_at_its_line(tmp_path: Path, checklist: bytes,
                                                      character: str) -> None:
    """The importer wrote such a character into a spec that the spec loader then refused
    (`deploygate validate`: 1 problem), and a NUL became U+FFFD without a word."""
    line = a_criterion_line(checklist)
    lines = checklist.split(b"\n")
    lines[line - 1] = lines[line - 1].replace(b"- [ ] ", b"- [ ] " + character.encode(), 1)
    (tmp_path / NAME).write_bytes(b"\n".join(lines))
    refused(deploygate(tmp_path, "import", NAME, "-o", "specs"),
            f"{NAME}:{line}: holds control character {ord(character[0]):#06x}", "remove it")
    assert not (tmp_path / "specs").exists()


@pytest.mark.parametrize("where", ["first line", "a criterion", "after a BOM", "last byte"])
def test_bytes_that_are_not_utf8_are_named_where_they_are(tmp_path: Path, checklist: bytes,
                                                          where: str) -> None:
    """It said line 1 and a byte offset for every bad byte, wherever it was."""
    lines = checklist.split(b"\n")
    if where == "first line":
        line, column = 1, 3
        lines[0] = lines[0][:2] + b"\xe9" + lines[0][2:]
    elif where == "a criterion":
        line, column = a_criterion_line(checklist), 7
        lines[line - 1] = b"- [ ] \xff" + lines[line - 1][6:]
    elif where == "after a BOM":
        line, column = 1, 5  # the BOM's three bytes are counted: columns are bytes
        lines[0] = b"\xef\xbb\xbf#\xc3" + lines[0][1:]
    else:
        line, column = len(lines), len(lines[-1]) + 1
        lines[-1] += b"\xc3"
    (tmp_path / NAME).write_bytes(b"\n".join(lines))
    refused(deploygate(tmp_path, "import", NAME, "-o", "specs"),
            f"{NAME}:{line}: not UTF-8 text", f"at column {column}", "save the file as UTF-8")


def test_line_endings_bom_and_tabs_import_the_same_gate(tmp_path: Path,
                                                        checklist: bytes) -> None:
    """CRLF, a byte order mark and tab-indented boxes are the same checklist (held)."""
    variants = {"lf": checklist, "crlf": checklist.replace(b"\n", b"\r\n"),
                "bom": b"\xef\xbb\xbf" + checklist,
                "tabs": checklist.replace(b"\n- [ ] ", b"\n-\t[ ] ")}
    specs = {}
    for name, data in variants.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / NAME).write_bytes(data)
        done = deploygate(tmp_path / name, "import", NAME, "-o", "specs")
        assert done.returncode == 0, done.stderr
        text = (tmp_path / name / "specs" / "12-production.yaml").read_text()
        specs[name] = [line for line in text.splitlines() if "id:" in line]
    assert len(specs["lf"]) > 50
    assert all(ids == specs["lf"] for ids in specs.values())


@pytest.mark.parametrize("output", ["a file", "under a file", "a named pipe", "/dev/null",
                                    "spec is a folder"])
def test_an_output_folder_that_cannot_be_one_is_one_clear_line(tmp_path: Path,
                                                                checklist: bytes,
                                                                output: str) -> None:
    """"afile: File exists" did not say that the folder named is a file, nor what to do."""
    (tmp_path / NAME).write_bytes(checklist)
    folder = {"a file": "specs", "under a file": "specs/inner", "a named pipe": "specs",
              "/dev/null": "/dev/null", "spec is a folder": "specs"}[output]
    if output in ("a file", "under a file"):
        (tmp_path / "specs").write_text("not a folder\n")
    elif output == "a named pipe":
        os.mkfifo(tmp_path / "specs")
    elif output == "spec is a folder":
        (tmp_path / "specs" / "12-production.yaml").mkdir(parents=True)
    done = deploygate(tmp_path, "import", NAME, "-o", folder)
    if output == "spec is a folder":
        refused(done, "specs/12-production.yaml: cannot write the spec there",
                "name another folder with -o")
    else:
        refused(done, f"spec folder {folder}:", "name a folder with -o")


def test_a_spec_or_ini_not_utf8_is_named_at_its_line(tmp_path: Path) -> None:
    """The same place for a gate spec (`deploygate validate`) and a pytest.ini."""
    (tmp_path / "gate_specs").mkdir()
    (tmp_path / "gate_specs" / "12-production.yaml").write_bytes(
        b"spec_version: 1\ngate: 12\ntitle: \"Produ\xe7tion\"\n")
    done = deploygate(tmp_path, "validate")
    assert done.returncode == 1
    assert "12-production.yaml:3: not UTF-8 text (byte 0xe7 at column 14); save the file " \
        "as UTF-8" in done.stderr
    (tmp_path / "pytest.ini").write_bytes(b"[pytest]\naddopts = -q\n# \xff\n")
    refused(deploygate(tmp_path, "validate"), "pytest.ini:3: not UTF-8 text",
            "(byte 0xff at column 3)")


@pytest.mark.parametrize("filler", ["(if " * 80_000, "[" * 320_000, "[a](" * 80_000,
                                    "x (MANDATORY" * 80_000],
                         ids=["conditions", "brackets", "links", "suffixes"])
def test_a_long_line_of_brackets_imports_in_linear_time(tmp_path: Path, checklist: bytes,
                                                        filler: str) -> None:
    """The condition, suffix and link patterns scanned the rest of the line from every "(if"
    and "[": 30 s for 20,000 "(if ", 230 s for 80,000 "[" (a project checklist is imported
    by every gate run on today's layout). At four times those lengths the square took 8 min
    and more; in linear time it is seconds. The command's 120 s timeout is the guard (no
    time is measured here: a loaded machine only makes seconds longer, never minutes)."""
    data = checklist.replace(b"- [ ] ", b"- [ ] " + filler.encode() + b" ", 1)
    (tmp_path / NAME).write_bytes(data)
    done = deploygate(tmp_path, "import", NAME, "-o", "specs")
    assert done.returncode in (0, 2), done.stderr


def test_conditions_and_suffixes_still_read_as_before(tmp_path: Path) -> None:
    (tmp_path / NAME).write_text(
        "# GATE-12: Production\n\n## 1. Rollout (if applicable) (NEW) (MANDATORY)\n\n"
        "- [ ] Canary [dashboard](https://x.example/d) green (if canary is used)\n")
    done = deploygate(tmp_path, "import", NAME, "-o", "specs")
    assert done.returncode == 0, done.stderr
    spec = (tmp_path / "specs" / "12-production.yaml").read_text()
    assert "title: Rollout\n" in spec and "rollout_applicable" in spec, spec
    assert "text: Canary dashboard green" in spec and "canary_is_used" in spec, spec
