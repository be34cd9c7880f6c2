"""Files the gate judges are read as regular files of at most their byte limit.

A symlink committed to the repository can point at /dev/zero (stat says 0 bytes, the read
never ends) and a named pipe blocks whoever opens it: before, a stat-then-read of
deploygate.yaml, a spec or state.json hung the gate until CI killed it. Now each is one line
naming the file, and never a pass. (Each run has a timeout, so a regression fails, not hangs.)
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_files import MAKERS, TIMEOUT, directory_artifact_spec, gate

from pytest_deploygate.core.regular_files import UnusableFile, read_regular_file

from conftest import GateProject, custom_gate, need
from servers import TlsService


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
@pytest.mark.parametrize("relative", ["deploygate.yaml", ".isdlc/state.json",
                                      ".deploygate/approvers.yaml",
                                      ".deploygate/attestations.jsonl"])
def test_an_input_that_is_no_regular_file_fails_the_gate_at_once(
        example: GateProject, relative: str, make: object) -> None:
    assert callable(make)
    make(example.root / relative)
    result = gate(example)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret != 0, output
    assert "Traceback" not in output
    assert relative in output, output
    # (A deploygate.yaml that cannot be read stops the run before any record is written.)
    if (example.root / "gate-records" / "GATE-12.xml").exists():
        assert example.record().decision != "PASS"


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
def test_deploygate_yaml_that_is_no_regular_file_is_refused_in_one_line(
        example: GateProject, make: object) -> None:
    assert callable(make)
    make(example.root / "deploygate.yaml")
    result = gate(example)
    result.stdout.fnmatch_lines(["*deploygate.yaml:1: not a regular file (a device, a pipe or "
                                 "a socket): make it a regular file*"])


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
def test_a_spec_that_is_no_regular_file_is_refused(example: GateProject, make: object) -> None:
    # Not ignored in favour of the built-in spec of the same number.
    assert callable(make)
    specs = example.root / "gate_specs"
    specs.mkdir()
    make(specs / "12-production.yaml")
    result = gate(example)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret not in (0, 1), output
    assert "12-production.yaml:1: not a regular file" in output, output


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
def test_verdict_refuses_a_record_that_is_no_regular_file(tmp_path: Path, make: object) -> None:
    assert callable(make)
    record = tmp_path / "GATE-12.xml"
    make(record)
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root", str(tmp_path),
                           "verdict", str(record)], capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert done.returncode == 4, done.stdout + done.stderr
    assert f"{record}: not a regular file" in done.stderr


def test_the_limit_is_exact(tmp_path: Path) -> None:
    file = tmp_path / "evidence"
    file.write_bytes(b"x" * 10)
    assert read_regular_file(file, 10) == b"x" * 10
    with pytest.raises(UnusableFile, match="file is 10 bytes, over the 9 byte limit") as refused:
        read_regular_file(file, 9)
    assert refused.value.over_limit
    with pytest.raises(IsADirectoryError):
        read_regular_file(tmp_path, 10)
    with pytest.raises(FileNotFoundError):
        read_regular_file(tmp_path / "absent", 10)


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
def test_a_project_checklist_that_is_no_regular_file_is_refused(example: GateProject,
                                                                 make: object) -> None:
    assert callable(make)
    checklists = example.root / ".isdlc" / "checklists"
    checklists.mkdir()
    make(checklists / "12-production-gate.md")
    result = gate(example)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret not in (0, 1), output
    assert "Traceback" not in output
    assert "12-production-gate.md:1: not a regular file" in output, output


def test_a_file_named_like_a_spec_with_a_final_newline_is_no_spec(example: GateProject) -> None:
    # ("$" matches before a final newline: "12-production.yaml\n" was taken for gate 12's spec.)
    specs = example.root / "gate_specs"
    specs.mkdir()
    (specs / "12-production.yaml\n").write_text("spec_version: 1\n")
    result = gate(example)
    result.stdout.fnmatch_lines(["*GATE-12 from built-in 12-production.yaml*"])


# -- the other files a gate, a signature or a command reads ----------------------------------


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
def test_a_ca_file_that_is_no_regular_file_fails_the_check_at_once(
        project: GateProject, tmp_path: Path, make: object) -> None:
    assert callable(make)
    need(shutil.which("openssl") is not None, "openssl is not installed")
    server = TlsService(tmp_path)
    try:
        ca_file = tmp_path / "ca.pem"
        make(ca_file)
        project.set_state({"phases": {}})
        custom_gate(project, f"- {{id: tls, text: TLS, check: {{kind: http, url: "
                             f"'{server.url}/', retries: 0, ca_file: '{ca_file}'}}}}")
        gate(project)
        case = project.record().case("tls")
        # (Refused before any request, like a URL that cannot be sent: no answer, not met.)
        assert case["outcome"] == "failure", case
        assert f"CA file {ca_file}: not a regular file" in case["message"]
    finally:
        server.close()


@pytest.mark.parametrize("comment", ["", "# Issuer: Tanúsítvány Kiadó (a bundle's UTF-8)\n"])
def test_the_ca_file_read_is_the_one_trusted(project: GateProject, tmp_path: Path,
                                             comment: str) -> None:
    # (OpenSSL is handed the certificates read, never the path: the two cannot differ. Text
    # around them, which OpenSSL skips in a file, may be any UTF-8.)
    need(shutil.which("openssl") is not None, "openssl is not installed")
    server = TlsService(tmp_path)
    try:
        ca_file = tmp_path / "bundle.pem"
        ca_file.write_bytes(comment.encode() + server.certificate.read_bytes())
        project.set_state({"phases": {}})
        custom_gate(project, f"- {{id: tls, text: TLS, check: {{kind: http, url: "
                             f"'{server.url}/', retries: 0, ca_file: '{ca_file}'}}}}")
        gate(project)
        assert project.record().case("tls")["outcome"] == "passed"
    finally:
        server.close()


def test_a_directory_artifact_is_hashed_whole_in_pieces(example: GateProject) -> None:
    # Each file of a directory artifact is hashed in pieces, whatever its size (only the
    # digest is kept: the evidence limit is for what is parsed), and a backslash in a file's
    # name is a character of that name, not a separator.
    results = example.root / "test-results"
    results.mkdir()
    files = {"report\\index.html": b"<ok/>", "small.xml": b"<ok/>", "trace.bin": b"x" * 9000}
    for name, content in files.items():
        (results / name).write_bytes(content)
    directory_artifact_spec(example)
    result = gate(example, "-o", "deploygate_max_evidence_size=8192")
    assert result.ret == 0, result.stdout.str()
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    assert f"sha256={digest.hexdigest()}" in example.record().case("results")["text"]


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
def test_attest_refuses_a_log_that_is_no_regular_file(example: GateProject,
                                                      make: object) -> None:
    assert callable(make)
    log = example.root / ".deploygate" / "attestations.jsonl"
    make(log)
    done = _attest(example)
    assert done.returncode == 2, done.stdout + done.stderr
    # (The link is refused for pointing outside the project, the pipe for what it is.)
    refused = done.stderr.strip()
    assert "\n" not in refused and "Traceback" not in refused
    assert refused.startswith(("deploygate: .deploygate/attestations.jsonl: not a regular file",
                               "deploygate: attestation log '.deploygate/attestations.jsonl' "
                               "resolves to /dev/zero")), refused


def test_attest_numbers_the_new_line_as_git_and_the_gate_do(example: GateProject) -> None:
    # A carriage return inside an earlier line starts no line of its own (it did for the
    # command, which then named a line the gate calls by another number).
    log = example.root / ".deploygate" / "attestations.jsonl"
    lines = log.read_bytes().split(b"\n")[:-1]
    log.write_bytes(b"\n".join([*lines, b'{"broken": "a\rb"}']) + b"\n")
    done = _attest(example)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("recorded GATE-12 security-sign-off") and \
        f"attestations.jsonl:{len(lines) + 2}\n" in done.stdout, done.stdout


def _attest(project: GateProject) -> subprocess.CompletedProcess[str]:
    # The signer is git's user.email in the project.
    if not (project.root / ".git").exists():
        project.git("init", "-q", "-b", "main")
        project.git("config", "user.email", "sam.okafor@acme.example")
    return subprocess.run([sys.executable, "-m", "pytest_deploygate", "attest", "12",
                           "security-sign-off", "--role", "security-officer"],
                          cwd=project.root, capture_output=True, text=True, timeout=TIMEOUT)


@pytest.mark.parametrize(("lines", "version"), [(0, "1.4.0"), (30_000, "")])
def test_a_manifest_is_read_within_the_document_limit(example: GateProject, lines: int,
                                                      version: str) -> None:
    # The release's version, when deploygate.yaml names none, from pyproject.toml: a small
    # document, never read unbounded (2.4 MB of comments is not a manifest).
    config = example.root / "deploygate.yaml"
    config.write_text("\n".join(line for line in config.read_text().splitlines()
                                if not line.startswith("version:")) + "\n")
    (example.root / "pyproject.toml").write_text(
        '[project]\nname = "acme-api"\nversion = "1.4.0"\n' + ("# " + "x" * 78 + "\n") * lines)
    gate(example)
    assert example.record().properties.get("deploygate.version", "") == version
