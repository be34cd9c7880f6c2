"""A CA file named in a spec or in deploygate.yaml is relative to the project root.

Like every other path of a spec or config, and never the directory pytest happens to run in:
CI runs the gate from the checkout's parent (``--gate-root=app``) as often as from the
project itself. A relative path that is missing, leaves the root or cannot be read is one line
naming the file, and never a pass. Real HTTPS servers on 127.0.0.1 (tests/servers.py).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import INNER_ARGS, GateProject, custom_gate, need
from servers import TlsService


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TlsService]:
    need(shutil.which("openssl") is not None, "openssl is not installed")
    service = TlsService(tmp_path)
    try:
        yield service
    finally:
        service.close()


@pytest.fixture
def elsewhere(project: GateProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pytest runs from another directory, naming the project with --gate-root (and its
    own specs with --rootdir)."""
    other = tmp_path / "ci-workspace"
    other.mkdir()
    monkeypatch.chdir(other)
    return other


def run(project: GateProject, *args: str) -> dict[str, str]:
    project.pytester.runpytest(*INNER_ARGS, "--gate=12", f"--gate-root={project.root}",
                               f"--rootdir={project.root}", *args)
    return project.record().case("tls")


def tls_gate(project: GateProject, server: TlsService, ca_file: str) -> None:
    project.set_state({"phases": {}})
    custom_gate(project, f"- {{id: tls, text: TLS, check: {{kind: http, url: "
                         f"'{server.url}/', retries: 0, ca_file: '{ca_file}'}}}}")


def test_a_relative_ca_file_is_found_under_the_project_root(
        project: GateProject, server: TlsService, elsewhere: Path) -> None:
    (project.root / "certs").mkdir()
    shutil.copy(server.certificate, project.root / "certs" / "ca.pem")
    tls_gate(project, server, "certs/ca.pem")
    case = run(project)
    assert case["outcome"] == "passed", case


def test_a_ca_file_of_the_working_directory_is_not_the_projects(
        project: GateProject, server: TlsService, elsewhere: Path) -> None:
    (elsewhere / "certs").mkdir()
    shutil.copy(server.certificate, elsewhere / "certs" / "ca.pem")
    tls_gate(project, server, "certs/ca.pem")
    case = run(project)
    assert case["outcome"] != "passed", case
    assert "CA file 'certs/ca.pem'" in case["message"]
    assert "not found under the project root" in case["message"]


@pytest.mark.parametrize("named", ["../ca.pem", "certs/../../ca.pem"])
def test_a_ca_file_outside_the_root_is_refused(project: GateProject, server: TlsService,
                                               elsewhere: Path, named: str) -> None:
    shutil.copy(server.certificate, project.root.parent / "ca.pem")
    (project.root / "certs").mkdir()
    tls_gate(project, server, named)
    case = run(project)
    assert case["outcome"] != "passed", case
    assert "CA file" in case["message"] and "'..'" in case["message"]


def test_prometheus_ca_file_of_the_config_is_relative_to_the_root_too(
        project: GateProject, server: TlsService, elsewhere: Path) -> None:
    # The TLS server is no Prometheus: once TLS is verified with the project's CA, the answer
    # is refused for its shape, never for the CA file.
    (project.root / "certs").mkdir()
    shutil.copy(server.certificate, project.root / "certs" / "ca.pem")
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(
        f"prometheus:\n  url: '{server.url}'\n  ca_file: certs/ca.pem\n")
    custom_gate(project, "- {id: tls, text: TLS, check: {kind: prometheus, query: up, min: 1}}")
    case = run(project)
    assert case["outcome"] != "passed", case
    assert "CA file" not in case["message"], case
    assert "certificate verify failed" not in case["message"], case
