"""A signing gate run loads no other plugin than this one, pytest's own and pytest-xdist
(which may be loaded, never used: a signing run is not distributed).

The key is in the signing process (and in ``/proc/PID/environ`` for the variable), and every
plugin loaded there runs beside it. pytest-benchmark runs ``git describe --dirty`` in the
job's repository with the job's git configuration, whose programs the plugin's own git
switches off and another plugin's does not (rt16b A01). A signing run with such a plugin
loaded (pytest's autoload of every installed plugin, ``-p NAME``, ``PYTEST_PLUGINS``) is
refused with one line naming it and what to do; the same run unsigned is the job's choice.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_signing import ssh_key

from conftest import GateProject

ATTESTATION = Path("gate-records") / "GATE-12.intoto.json"


class GitDescribingPlugin:
    """What pytest-benchmark does: git in the job's repository, with the job's configuration."""

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        subprocess.run(["git", "describe", "--dirty", "--always"], cwd=session.config.rootpath,
                       capture_output=True, check=False)


def test_a_signing_run_with_another_plugin_loaded_is_refused(repo: GateProject,
                                                             keys: Path) -> None:
    key = ssh_key(keys, "ed25519", "gate")
    refused = repo.pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                                      "-p", "no:benchmark", "--noconftest", "-p", "no:python",
                                      "--gate=12", f"--gate-sign-key={key.private}",
                                      plugins=[GitDescribingPlugin()])
    assert refused.ret == pytest.ExitCode.USAGE_ERROR, refused.stdout.str()
    refused.stderr.fnmatch_lines([f"*plugin * ({__name__}) would run in the signing process*"
                                  "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1*"])
    assert not (repo.root / ATTESTATION).exists()
    # Unsigned, which plugins run is the job's own business.
    unsigned = repo.pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                                       "-p", "no:benchmark", "--gate=12",
                                       plugins=[GitDescribingPlugin()])
    assert unsigned.ret == 0, unsigned.stdout.str()


def _signing_gate(root: Path, key: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items()
           if name not in ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_PLUGINS",
                           "PYTEST_DISABLE_PLUGIN_AUTOLOAD")}
    return subprocess.run([sys.executable, "-P", "-m", "pytest", "-p", "no:cacheprovider",
                           "--noconftest", "-p", "no:python", "--gate=12",
                           f"--gate-sign-key={key}", *args],
                          cwd=root, env=env, capture_output=True, text=True)


def test_an_autoloaded_installed_plugin_is_named_and_blocking_it_signs(repo: GateProject,
                                                                       keys: Path) -> None:
    """hypothesis, a test dependency of this project, installs a pytest plugin that pytest
    loads automatically: a real installed plugin, loaded the way pytest-benchmark was."""
    key = ssh_key(keys, "ed25519", "gate")
    refused = _signing_gate(repo.root, key.private, "-p", "no:benchmark")
    assert refused.returncode == pytest.ExitCode.USAGE_ERROR, refused.stdout[-2000:]
    assert "hypothesispytest (_hypothesis_pytestplugin) would run in the signing process" \
        in refused.stderr, refused.stderr
    assert not (repo.root / ATTESTATION).exists()
    signed = _signing_gate(repo.root, key.private, "-p", "no:benchmark",
                           "-p", "no:hypothesispytest")
    assert signed.returncode == 0, signed.stdout[-2000:] + signed.stderr
    assert (repo.root / ATTESTATION).exists()


def test_a_signing_run_refuses_to_run_commands(repo: GateProject, keys: Path) -> None:
    """rt17b A03: a reviewed ``command`` criterion (``git diff --quiet``) ran the job's git
    configuration (a clean filter in .git/config, a kept workspace) beside the key, which the
    filter copied; the plugin's own git switches such programs off, a command's git does not.
    A signing run with ``--gate-allow-commands`` is refused in one line, before anything runs."""
    key = ssh_key(keys, "ed25519", "gate")
    ran = repo.root.parent / "filter-ran"
    program = repo.root.parent / "filter.sh"
    program.write_text(f'#!/bin/sh\necho ran >> "{ran}"\nexec cat\n')
    program.chmod(0o755)
    repo.git("config", "filter.k.clean", str(program))
    (repo.root / ".git" / "info" / "attributes").write_text("* filter=k\n")
    refused = _signing_gate(repo.root, key.private, "-p", "no:benchmark",
                            "-p", "no:hypothesispytest", "--gate-allow-commands")
    assert refused.returncode == pytest.ExitCode.USAGE_ERROR, refused.stdout[-2000:]
    assert "--gate-allow-commands runs the spec's commands as the job user beside the " \
        "signing key" in refused.stderr, refused.stderr
    assert not (repo.root / ATTESTATION).exists()
    assert not ran.exists()


def test_a_signing_run_refuses_an_xdist_worker_program(repo: GateProject, keys: Path) -> None:
    """rt17c A06: ``--tx popen//python=PROGRAM`` started PROGRAM beside the key; rt17d A02:
    so did a ``--px`` spec. Refused in one line, before any worker starts."""
    key = ssh_key(keys, "ed25519", "gate")
    ran = repo.root.parent / "worker-ran"
    program = repo.root.parent / "worker.sh"
    program.write_text(f'#!/bin/sh\necho ran >> "{ran}"\nexec "{sys.executable}" "$@"\n')
    program.chmod(0o755)
    for spec in (("-d", f"--tx=popen//python={program}"),
                 ("-n", "1", f"--px=id=p//python={program}")):
        refused = _signing_gate(repo.root, key.private, "-p", "no:benchmark",
                                "-p", "no:hypothesispytest", *spec)
        assert refused.returncode == pytest.ExitCode.USAGE_ERROR, refused.stdout[-2000:]
        assert "(pytest-xdist) would start worker processes beside the signing key" \
            in refused.stderr, refused.stderr
        assert not (repo.root / ATTESTATION).exists()
        assert not ran.exists(), spec


@pytest.mark.parametrize("distribute", [("-n", "1"), ("--looponfail",), ("--dist=load",)])
def test_a_signing_run_is_never_distributed(repo: GateProject, keys: Path, tmp_path: Path,
                                            distribute: tuple[str, ...]) -> None:
    """rt17d A03: plain ``popen`` workers (``-n NUM``) start as ``python -u -c ...`` without
    the recipes' ``-I``: a PYTHONPATH ``sitecustomize`` (or a user-site ``.pth``) runs in each
    worker, beside the key; ``--looponfail`` runs the whole session in such a worker. The
    planted module would leave a mark if any worker started; the same run unsigned may use
    xdist."""
    key = ssh_key(keys, "ed25519", "gate")
    planted = tmp_path / "planted"
    planted.mkdir()
    mark = tmp_path / "sitecustomize-ran"
    (planted / "sitecustomize.py").write_text(f"open({str(mark)!r}, 'a').write('ran')\n")
    env = {name: value for name, value in os.environ.items()
           if name not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")}
    env["PYTHONPATH"] = str(planted)
    command = [sys.executable, "-I", "-m", "pytest", "-p", "no:cacheprovider", "-p",
               "no:benchmark", "-p", "no:hypothesispytest", "--noconftest", "-p", "no:python",
               "--gate=12", *distribute]
    refused = subprocess.run([*command, f"--gate-sign-key={key.private}"], cwd=repo.root,
                             env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == pytest.ExitCode.USAGE_ERROR, refused.stdout[-2000:]
    assert f"{distribute[0].partition('=')[0]}" in refused.stderr
    assert "(pytest-xdist) would start worker processes beside the signing key" \
        in refused.stderr, refused.stderr
    assert not mark.exists()
    assert not (repo.root / ATTESTATION).exists()
    if distribute == ("-n", "1"):
        # Unsigned, the job may distribute; the worker is what the refusal kept away.
        unsigned = subprocess.run(command, cwd=repo.root, env=env, capture_output=True,
                                  text=True, timeout=300)
        assert unsigned.returncode == 0, unsigned.stdout[-2000:] + unsigned.stderr
        assert mark.exists()


def test_a_signing_run_takes_no_options_from_addopts(repo: GateProject, keys: Path,
                                                     tmp_path: Path) -> None:
    """rt18a B01: ``PYTEST_ADDOPTS="--pdb --pdbcls=antigravity:X"`` kept in a signing run: on
    the first failing criterion, after every check, pytest imported ``antigravity`` by name,
    which ran ``$BROWSER`` beside the key (the program copied it). Options from the job's
    environment or the repository's ini ``addopts`` are refused in a signing run; its own
    command line (``-o addopts=``) signs."""
    key = ssh_key(keys, "ed25519", "gate")
    smoke = repo.root / "reports" / "smoke" / "production-smoke.xml"
    smoke.write_text(smoke.read_text().replace('failures="0"', 'failures="1"').replace(
        'name="test_refund_round_trip" time="0.67"/>',
        'name="test_refund_round_trip" time="0.67"><failure message="x"/></testcase>'))
    stolen = tmp_path / "stolen"
    program = tmp_path / "browser.sh"
    program.write_text(f'#!/bin/sh\ncat "{key.private}" > "{stolen}"\n')
    program.chmod(0o755)
    env = {name: value for name, value in os.environ.items()
           if name not in ("PYTHONPATH", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")}
    env.update(BROWSER=str(program), PYTEST_ADDOPTS="--pdb --pdbcls=antigravity:X")
    command = [sys.executable, "-P", "-m", "pytest", "-p", "no:cacheprovider", "-p",
               "no:benchmark", "-p", "no:hypothesispytest", "--noconftest", "-p", "no:python",
               "--gate=12", f"--gate-sign-key={key.private}"]
    refused = subprocess.run(command, cwd=repo.root, env=env, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=300)
    assert refused.returncode == pytest.ExitCode.USAGE_ERROR, refused.stdout[-2000:]
    assert "options from PYTEST_ADDOPTS would take part in the signing run" in refused.stderr, \
        refused.stderr
    assert not stolen.exists()
    assert not (repo.root / ATTESTATION).exists()
    # The repository's own ini addopts are anyone's too; -o addopts= is the command line's.
    del env["PYTEST_ADDOPTS"]
    (repo.root / "pytest.ini").write_text("[pytest]\naddopts = -ra\n")
    repo.git("add", "pytest.ini")
    repo.git("commit", "-q", "-m", "ini")
    refused = subprocess.run(command, cwd=repo.root, env=env, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=300)
    assert refused.returncode == pytest.ExitCode.USAGE_ERROR, refused.stdout[-2000:]
    assert f"options from the addopts of {repo.root / 'pytest.ini'}" in refused.stderr, \
        refused.stderr
    signed = subprocess.run([*command, "-o", "addopts="], cwd=repo.root, env=env,
                            capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            timeout=300)
    assert signed.returncode == 1, signed.stdout[-2000:] + signed.stderr  # (the failing test)
    assert (repo.root / ATTESTATION).exists()


@pytest.mark.parametrize("addopts", ["\x1f", "\xa0-ra"])
def test_options_that_str_strip_calls_blank_are_borrowed_all_the_same(
        repo: GateProject, keys: Path, addopts: str) -> None:
    """rt18b A04: ``str.strip()`` drops \\x1f and other characters shlex (and so pytest)
    keeps: such a PYTEST_ADDOPTS passed for empty in a signing run."""
    key = ssh_key(keys, "ed25519", "gate")
    env = {name: value for name, value in os.environ.items()
           if name not in ("PYTHONPATH", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")}
    env["PYTEST_ADDOPTS"] = addopts
    refused = subprocess.run([sys.executable, "-P", "-m", "pytest", "-p", "no:cacheprovider",
                              "-p", "no:benchmark", "-p", "no:hypothesispytest",
                              "--noconftest", "-p", "no:python", "--gate=12",
                              f"--gate-sign-key={key.private}"], cwd=repo.root, env=env,
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == pytest.ExitCode.USAGE_ERROR, refused.stdout[-2000:]
    assert "options from PYTEST_ADDOPTS would take part in the signing run" in refused.stderr, \
        refused.stderr
    assert not (repo.root / ATTESTATION).exists()
