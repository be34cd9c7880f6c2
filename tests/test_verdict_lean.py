"""``deploygate verdict`` stays lean without losing a check (issue 15: deploy jobs call it
often). What could regress silently is checked here, by what the process holds, never by time:

- the modules a verdict imports: no check kind's evaluation code, no pytest, no record writer,
  no markdown or HTML, no network; cryptography only when a signature is checked;
- the checkout-code check resolves each module folder once (not each file's path part by part)
  and still finds a module whose file, or folder, is a link into the project.

A real release repository (examples/release_repo.py), a real gate run signed with a real
ssh-keygen key, and the verdict in a subprocess of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_attack_rt12a import INNER_ARGS, build

RECORD = "gate-records/GATE-12.xml"

#: Runs the verdict as ``python -I -m pytest_deploygate`` does, in this process, and prints
#: its exit code and the modules it imported (``sys.modules`` at the end) as JSON.
VERDICT_MODULES = """
import contextlib, io, json, runpy, sys
sys.argv = ["deploygate", *sys.argv[1:]]
out = io.StringIO()
try:
    with contextlib.redirect_stdout(out):
        runpy.run_module("pytest_deploygate", run_name="__main__")
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""

#: Never needed to read, verify and decide a record.
NEVER = ("pytest", "_pytest", "pluggy", "markdown_it", "jsonschema", "fastjsonschema", "socket",
         "ssl", "http", "urllib.request", "email", "pytest_deploygate.plugin",
         "pytest_deploygate.gate", "pytest_deploygate.records.writer",
         "pytest_deploygate.importer", "pytest_deploygate.cli.attest",
         "pytest_deploygate.cli.waive", "pytest_deploygate.cli.hook")
#: Only with a verifier (--allowed-signers, --key).
SIGNED_ONLY = ("cryptography", "pytest_deploygate.signing.verify")


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A release whose gate PASSes, signed, and an allowed-signers file outside it."""
    where = tmp_path_factory.mktemp("verdict-lean")
    root = build(where, lambda source: None)
    key = where / "gate-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True,
                   capture_output=True)
    algorithm, blob = key.with_suffix(".pub").read_text().split()[:2]
    allowed = where / "allowed_signers"
    allowed.write_text(f'ci@example.org namespaces="deploygate" {algorithm} {blob}\n')
    # (A signing run imports no code of the checkout: -P, --noconftest, -p no:python.)
    done = subprocess.run([sys.executable, "-P", "-m", "pytest", *INNER_ARGS, "--noconftest",
                           "-p", "no:python", "--gate=12", f"--gate-sign-key={key}"],
                          cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return root, allowed


def verdict_modules(root: Path, *args: str) -> tuple[int, set[str]]:
    done = subprocess.run([sys.executable, "-I", "-c", VERDICT_MODULES, "verdict", RECORD,
                           *args], cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert "PASS" in result["out"], result
    return int(result["code"]), set(result["modules"])


def imported(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules for n in names if m == n or m.startswith(n + "."))


def kinds_evaluation(modules: set[str]) -> list[str]:
    """Check kinds' modules beyond the declared data the spec loader needs."""
    kept = {"pytest_deploygate.checks", "pytest_deploygate.checks.declared",
            "pytest_deploygate.checks.context"}
    return sorted(m for m in modules if m.startswith("pytest_deploygate.checks.")
                  and m not in kept)


def test_a_verdict_imports_what_it_needs_only(signed: tuple[Path, Path]) -> None:
    root, _ = signed
    code, modules = verdict_modules(root)
    assert code == 0
    assert imported(modules, NEVER) == []
    assert imported(modules, SIGNED_ONLY) == []
    assert kinds_evaluation(modules) == []


def test_a_signed_verdict_imports_what_it_needs_only(signed: tuple[Path, Path]) -> None:
    root, allowed = signed
    code, modules = verdict_modules(root, "--allowed-signers", str(allowed))
    assert code == 0
    assert imported(modules, NEVER) == []
    assert "pytest_deploygate.signing.verify" in modules  # (the signature was checked)
    assert kinds_evaluation(modules) == []


FIND = """
import importlib.util, json, sys
from pathlib import Path
from pytest_deploygate.core.checkout_code import imported_from
spec = importlib.util.spec_from_file_location("planted", sys.argv[2])
module = importlib.util.module_from_spec(spec)
found = imported_from(Path(sys.argv[1]), [("planted", module)])
print(json.dumps(found and [found[0], str(found[1])]))
"""


@pytest.mark.parametrize("how", ["file link", "folder link", "folder link, then ..", "plain"])
def test_the_checkout_code_check_follows_links_into_the_project(tmp_path: Path,
                                                                 how: str) -> None:
    """A module whose file (or a folder on its way) is a link into the project is the
    project's code, however its path is written; one outside it is not."""
    project, outside = tmp_path / "project", tmp_path / "outside"
    (project / "lib" / "deep").mkdir(parents=True)
    outside.mkdir()
    real = project / "lib" / "shadow.py"
    real.write_text("")
    if how == "file link":
        named = outside / "shadow.py"
        named.symlink_to(real)
    elif how == "folder link":
        (outside / "site").symlink_to(project / "lib")
        named = outside / "site" / "shadow.py"
    elif how == "folder link, then ..":
        (outside / "site").symlink_to(project / "lib" / "deep")
        named = outside / "site" / ".." / "shadow.py"  # (.. after the link: lib/shadow.py)
    else:
        named = outside / "shadow.py"
        named.write_text("")
    done = subprocess.run([sys.executable, "-I", "-c", FIND, str(project), str(named)],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    found = json.loads(done.stdout)
    if how == "plain":
        assert found is None
    else:
        assert found == ["planted", str(real.resolve())]
