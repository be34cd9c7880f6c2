"""Attacks on the files a gate, a signature or a command reads (red team of 985416a).

The attacker commits what they like to the gated repository (symlinks, named pipes made in CI
before the gate runs, huge files) and edits deploygate.yaml and specs; the plugin's code, the
runner and the keys are out of reach. Each run has a timeout: a hang fails, it never hangs.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_files import MAKERS, TIMEOUT, directory_artifact_spec, gate

from conftest import GateProject, custom_gate, need
from servers import TlsService

# -- the HTTP kind's CA file ------------------------------------------------------------------


def _tls_case(project: GateProject, server: TlsService, ca_file: Path) -> dict[str, str]:
    project.set_state({"phases": {}})
    custom_gate(project, f"- {{id: tls, text: TLS, check: {{kind: http, url: "
                         f"'{server.url}/', retries: 0, ca_file: '{ca_file}'}}}}")
    gate(project)
    return project.record().case("tls")


@pytest.mark.parametrize("content", ["", "\n", "   \n\n"], ids=["empty", "newline", "blank"])
def test_an_empty_ca_file_trusts_nothing_not_the_system_store(
        project: GateProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        content: str) -> None:
    # The CA file names what to trust instead of the system store. An empty one (b"" is
    # falsy: ssl.create_default_context(cadata="") loads the default store) must not fall
    # back to trusting every system CA. SSL_CERT_FILE plays the system store here.
    need(shutil.which("openssl") is not None, "openssl is not installed")
    server = TlsService(tmp_path)
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate))
        ca_file = tmp_path / "ca.pem"
        ca_file.write_text(content)
        case = _tls_case(project, server, ca_file)
        assert case["outcome"] == "failure", case
        assert f"CA file {ca_file}: " in case["message"], case
    finally:
        server.close()


def test_a_ca_file_holding_no_certificate_is_one_line_naming_it(
        project: GateProject, tmp_path: Path) -> None:
    # OpenSSL's own words ("[X509: NO_CERTIFICATE_OR_CRL_FOUND] ...") name no file.
    need(shutil.which("openssl") is not None, "openssl is not installed")
    server = TlsService(tmp_path)
    try:
        ca_file = tmp_path / "ca.pem"
        ca_file.write_text("not a certificate\n")
        case = _tls_case(project, server, ca_file)
        assert case["outcome"] == "failure", case
        assert f"CA file {ca_file}: " in case["message"], case
    finally:
        server.close()


def test_a_ca_file_of_another_certificate_is_refused(project: GateProject,
                                                      tmp_path: Path) -> None:
    # (Held: the bytes handed to OpenSSL are a CA list, not "trust anything".)
    need(shutil.which("openssl") is not None, "openssl is not installed")
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other = TlsService(other_dir)
    other.close()
    server = TlsService(tmp_path)
    try:
        case = _tls_case(project, server, other.certificate)
        assert case["outcome"] == "failure", case
        assert "CERTIFICATE_VERIFY_FAILED" in case["message"] or "certificate verify failed" \
            in case["message"], case
    finally:
        server.close()


def test_a_real_self_signed_ca_file_still_verifies(project: GateProject, tmp_path: Path) -> None:
    need(shutil.which("openssl") is not None, "openssl is not installed")
    server = TlsService(tmp_path)
    try:
        # (With CRLF line ends, as a Windows checkout leaves it: still PEM.)
        ca_file = tmp_path / "ca.pem"
        ca_file.write_bytes(server.certificate.read_bytes().replace(b"\n", b"\r\n"))
        assert _tls_case(project, server, ca_file)["outcome"] == "passed"
    finally:
        server.close()


# -- a directory artifact ----------------------------------------------------------------------



def test_a_directory_artifact_is_not_satisfied_by_a_link_leading_out_of_the_root(
        example: GateProject, tmp_path: Path) -> None:
    # A single-file artifact that resolves outside the root is refused; a folder's files must
    # be too (they were read and hashed from anywhere on the runner).
    outside = tmp_path / "elsewhere.xml"
    outside.write_text("<testsuite/>")
    results = example.root / "test-results"
    results.mkdir()
    (results / "report.xml").symlink_to(outside)
    directory_artifact_spec(example)
    gate(example)
    case = example.record().case("results")
    assert case["outcome"] != "passed", case
    assert "test-results/report.xml" in case["message"] and "outside the project root" in \
        case["message"], case


def test_a_directory_artifact_digest_is_unchanged_for_ordinary_files(
        example: GateProject) -> None:
    # (Held: the folder's digest is name NUL sha256(content) per file, sorted, as before.)
    results = example.root / "test-results"
    (results / "e2e").mkdir(parents=True)
    files = {"a.xml": b"<ok/>", "e2e/b.txt": b"x" * 3_000_000, "z": b""}
    for name, data in files.items():
        (results / name).write_bytes(data)
    (results / "link.xml").symlink_to("a.xml")  # a link inside the folder: still a file
    files["link.xml"] = files["a.xml"]
    directory_artifact_spec(example)
    gate(example)
    expected = hashlib.sha256()
    for name in sorted(files, key=lambda n: results / n):
        expected.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    record = (example.root / "gate-records" / "GATE-12.xml").read_text()
    assert expected.hexdigest() in record


# -- --gate-update-state -----------------------------------------------------------------------


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
@pytest.mark.parametrize("name", ["state.json", "state.json.lock"])
def test_update_state_never_waits_on_a_state_file_that_is_no_regular_file(
        example: GateProject, name: str, make: object) -> None:
    assert callable(make)
    make(example.root / ".isdlc" / name)
    result = gate(example, "--gate-update-state")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret != 0, output
    assert "Traceback" not in output
    assert name in output, output


def test_update_state_still_writes_an_ordinary_state_file(example: GateProject) -> None:
    result = gate(example, "--gate-update-state")
    assert result.ret == 0, result.stdout.str()
    assert example.state()["phases"]["12-production"]["gate_passed"] is True


# -- the record's digest ---------------------------------------------------------------------


def test_verdict_checks_the_record_bytes_it_parsed(example: GateProject) -> None:
    # (Held: GateRecord.sha256 is the SHA-256 of the file's bytes.)
    from pytest_deploygate.records.reader import read_record

    gate(example)
    path = example.root / "gate-records" / "GATE-12.xml"
    assert read_record(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def _deploygate(project: GateProject, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_deploygate", *args], cwd=project.root,
                          capture_output=True, text=True, timeout=TIMEOUT)


# -- deploygate import ------------------------------------------------------------------------


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
def test_import_replaces_a_spec_that_is_no_regular_file_instead_of_writing_into_it(
        tmp_path: Path, shared_checklists: list[Path], make: object) -> None:
    # A committed gate_specs/12-production.yaml that is a named pipe blocked the import
    # waiting for a reader; a link was written through (to wherever it points).
    assert callable(make)
    checklist = next(p for p in shared_checklists if p.name == "12-production-gate.md")
    out = tmp_path / "gate_specs"
    out.mkdir()
    target = out / "12-production.yaml"
    make(target)
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root", str(tmp_path),
                           "import", str(checklist), "-o", str(out)],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert target.is_file() and not target.is_symlink()
    assert target.read_text().startswith(("spec_version", "#"))


def test_import_never_writes_through_a_link_out_of_the_project(
        tmp_path: Path, shared_checklists: list[Path]) -> None:
    checklist = next(p for p in shared_checklists if p.name == "12-production-gate.md")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    out = tmp_path / "project" / "gate_specs"
    out.mkdir(parents=True)
    (out / "12-production.yaml").symlink_to(victim)
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root",
                           str(tmp_path / "project"), "import", str(checklist), "-o", str(out)],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert victim.read_text() == "keep me\n"


# -- deploygate hook install --force ----------------------------------------------------------


@pytest.mark.parametrize("name", ["hook.sh", "hook.yaml"])
def test_hook_install_replaces_a_committed_pipe_or_link_instead_of_writing_into_it(
        tmp_path: Path, name: str) -> None:
    # The hook folder is in the repository: --force wrote into whatever stood there (a named
    # pipe waited for a reader; a link to ~/.bashrc was overwritten and made executable).
    root = tmp_path / "project"
    hooks = root / ".isdlc" / "hooks" / "deploygate"
    hooks.mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    victim.chmod(0o600)
    (hooks / name).symlink_to(victim)
    os.mkfifo(hooks / ("hook.yaml" if name == "hook.sh" else "hook.sh"))
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root", str(root),
                           "hook", "install", "--force"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert victim.read_text() == "keep me\n" and victim.stat().st_mode & 0o777 == 0o600
    assert (hooks / "hook.sh").is_file() and not (hooks / "hook.sh").is_symlink()
    assert (hooks / "hook.sh").stat().st_mode & 0o777 == 0o755
    assert (hooks / "hook.yaml").read_text().strip()


# -- a signing subject hashed without a limit -------------------------------------------------

_GROWING = """
import os, sys, threading
from pathlib import Path
from pytest_deploygate.core.regular_files import UnusableFile, sha256_of_regular_file

path = Path(sys.argv[1])
path.write_bytes(b"x" * 3_000_000)
stop = threading.Event()

def grow() -> None:  # sparse: 64 MiB a millisecond, more than any reader hashes
    with open(path, "r+b") as handle:
        while not stop.is_set():
            try:
                os.ftruncate(handle.fileno(), os.fstat(handle.fileno()).st_size + 2**26)
            except OSError:
                return
            stop.wait(0.001)

threading.Thread(target=grow, daemon=True).start()
while os.stat(path).st_size == 3_000_000:
    pass
try:
    print(sha256_of_regular_file(path))
except UnusableFile as exc:
    print(exc.reason)
stop.set()
"""


def test_an_artefact_that_keeps_growing_is_hashed_up_to_its_size_at_opening(
        tmp_path: Path) -> None:
    # A release artefact is hashed however big it is: but a file a CI process keeps extending
    # was read for ever (signing never ended).
    done = subprocess.run([sys.executable, "-c", _GROWING, str(tmp_path / "release.tar")],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "file grew while it was read: it must be complete first", \
        done.stdout + done.stderr


def test_an_artefact_digest_is_the_sha256_of_its_bytes(tmp_path: Path) -> None:
    # (Held: hashed in pieces, the digest is that of the whole file, over several pieces.)
    from pytest_deploygate.core.regular_files import sha256_of_regular_file

    artefact = tmp_path / "release.tar"
    data = os.urandom(3 * 1024 * 1024 + 17)
    artefact.write_bytes(data)
    assert sha256_of_regular_file(artefact) == hashlib.sha256(data).hexdigest()
    assert sha256_of_regular_file(artefact, len(data)) == hashlib.sha256(data).hexdigest()


# -- folder trees deeper than Python's recursion ----------------------------------------------


@pytest.fixture
def deep_trees() -> Iterator[list[Path]]:
    """Trees to remove after the test with rm (shutil.rmtree recurses too: a tree left
    behind would break pytest's clean-up of old temp dirs, for every later session)."""
    made: list[Path] = []
    yield made
    for top in made:
        subprocess.run(["rm", "-rf", str(top)], check=True, timeout=TIMEOUT)


def _deep_tree(top: Path, made: list[Path], depth: int = 1200) -> None:
    # (Made a level at a time: os.makedirs itself recurses.) Git commits such a tree.
    made.append(top)
    top.mkdir(parents=True, exist_ok=True)
    here = os.open(top, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir("a", dir_fd=here)
            below = os.open("a", os.O_RDONLY, dir_fd=here)
            os.close(here)
            here = below
        os.close(os.open("deep.xml", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=here))
    finally:
        os.close(here)


def test_a_directory_artifact_deeper_than_the_recursion_limit_is_still_listed(
        example: GateProject, deep_trees: list[Path]) -> None:
    # rglob raised RecursionError ("check kind 'artifact' failed", naming no folder).
    results = example.root / "test-results"
    results.mkdir()
    (results / "report.xml").write_text("<ok/>")
    _deep_tree(results / "nested", deep_trees)
    directory_artifact_spec(example)
    # (pytest's own collection of the tree also recurses past the limit: not the gate's.)
    result = gate(example, "--ignore=test-results")
    output = result.stdout.str() + result.stderr.str()
    assert "RecursionError" not in output and "Traceback" not in output, output
    case = example.record().case("results")
    assert case["outcome"] == "passed", case
    record = (example.root / "gate-records" / "GATE-12.xml").read_text()
    assert "test-results/ holds 2 file(s)" in record


def test_a_report_pattern_over_a_tree_deeper_than_the_recursion_limit_is_one_line(
        example: GateProject, deep_trees: list[Path]) -> None:
    config = example.root / "deploygate.yaml"
    config.write_text(config.read_text().replace("junit: [reports/junit/*.xml]",
                                                 "junit: ['reports/junit/**/*.xml']"))
    _deep_tree(example.root / "reports" / "junit" / "nested", deep_trees)
    result = gate(example, "--ignore=reports")
    output = result.stdout.str() + result.stderr.str()
    assert "RecursionError" not in output and "Traceback" not in output, output
    assert result.ret != 0
    case = example.record().case("all-tests-passing")
    assert case["outcome"] != "passed", case
    assert "'reports/junit/**/*.xml': a folder it searches is nested too deep" in \
        case["message"], case


# -- verdict: the pre-stage envelope a post stage is bound to ---------------------------------

_SWAPPER = """
import os, sys
pre, first, second = sys.argv[1], open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read()
temp = pre + ".swap"
while True:
    for data in (first, second):
        with open(temp, "wb") as handle:
            handle.write(data)
        os.replace(temp, pre)
"""


def test_verdict_checks_the_signature_of_the_pre_envelope_whose_digest_it_compared(
        repo: GateProject, keys: Path, tmp_path: Path) -> None:
    # The post stage (CI key) bound the attacker's own pre attestation. The digest was taken
    # on one read and the signature checked on a second: with the envelope swapped back and
    # forth between the bound one and an old one the CI key signed, verdict said 0 (about one
    # run in 25 here: 60 runs catch a regression almost always, and never fail a correct
    # verdict, which reads once).
    from test_signing import signed_pre, verdict
    from test_signing_attacks import ci_and_attacker_signers

    from pytest_deploygate.signing import envelope_path

    ci, attacker, reviewed = ci_and_attacker_signers(repo, keys)
    pre = envelope_path(repo.root / "gate-records" / "GATE-12-pre.xml")
    assert signed_pre(repo, ci).ret == 0
    shutil.copy(pre, tmp_path / "ci-signed")
    assert signed_pre(repo, attacker).ret == 0
    shutil.copy(pre, tmp_path / "bound")
    assert repo.run("--gate=12", "--gate-stage=post", f"--gate-sign-key={ci.private}").ret == 0
    swapper = subprocess.Popen([sys.executable, "-c", _SWAPPER, str(pre),
                                str(tmp_path / "bound"), str(tmp_path / "ci-signed")])
    try:
        codes = [verdict(repo, "GATE-12-post.xml", "--allowed-signers", str(reviewed),
                         timeout=TIMEOUT).returncode for _ in range(60)]
    finally:
        swapper.kill()
        swapper.wait()
    assert 0 not in codes, codes
