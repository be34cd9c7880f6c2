"""Red team rt12e on the signing run's "no code of the repository" check: ways a release's
own files still ran Python in the process that holds the signing key, so a failing gate was
signed PASS and ``deploygate verdict`` exited 0."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from test_attack_rt12b import (  # noqa: F401  (fixtures)
    EXAMPLE,
    PATCHING_MODULE,
    SAFE,
    hardened_gate,
    machine_tmp,
    release,
    signer,
    verdict,
)


def failing_release(tmp_path: Path) -> Path:
    root = tmp_path / "acme-api"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("gate-records"))
    signoffs = root / ".deploygate" / "attestations.jsonl"
    signoffs.write_text("".join(line for line in signoffs.read_text().splitlines(True)
                                if "security-sign-off" not in line))
    return root


DOCTEST = ">>> exec(open('patch_gate.txt').read()); open('ran', 'w').close()\n"
SCRIPT = (str(Path(sys.executable).parent / "pytest"),)


def assert_refused_or_failing(root: Path, machine_tmp: Path, allowed: Path,  # noqa: F811
                              key: Path,
                              *extra: str) -> None:
    shutil.rmtree(root / "gate-records", ignore_errors=True)
    done = hardened_gate(root, machine_tmp, SCRIPT, f"--gate-sign-key={key}", *SAFE, *extra)
    assert done.returncode in (1, 4), done.stdout[-3000:] + done.stderr
    judged = verdict(root, machine_tmp, "gate-records/GATE-12-pre.xml",
                     "--allowed-signers", str(allowed))
    assert judged.returncode != 0, done.stdout[-3000:] + judged.stdout + judged.stderr


def test_a_doctest_text_file_never_runs_in_a_signing_gate(
        tmp_path: Path, machine_tmp: Path, signer: tuple[Path, Path]) -> None:  # noqa: F811
    """pytest's doctest plugin collects ``test*.txt`` by default (and ``--doctest-glob``
    files) even under ``-p no:python``: a committed test_notes.txt ran its examples in the
    signing process, which rewrote the gate's evaluation and signed a PASS."""
    key, allowed = signer
    root = failing_release(tmp_path)
    (root / "patch_gate.txt").write_text(PATCHING_MODULE.replace("def test_helpers():\n"
                                                                 "    pass\n", ""))
    (root / "test_notes.txt").write_text(DOCTEST)
    (root / "notes.md").write_text(DOCTEST)
    release(root)
    assert_refused_or_failing(root, machine_tmp, allowed, key)
    assert_refused_or_failing(root, machine_tmp, allowed, key, "--doctest-glob=*.md")
    assert not (root / "ran").exists(), "a doctest of the release ran with the signing key"


@pytest.mark.parametrize("folder", ["site-packages", "vendor/dist-packages"])
def test_a_folder_of_the_checkout_named_site_packages_is_repository_code(
        tmp_path: Path, machine_tmp: Path, signer: tuple[Path, Path],  # noqa: F811
        folder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder of the checkout named site-packages (not a virtual environment pip made) put
    on sys.path by ``pythonpath`` was taken for installed packages: a module there shadowing
    one imported later ran in the signing process."""
    key, allowed = signer
    root = failing_release(tmp_path)
    (root / folder).mkdir(parents=True)
    (root / folder / "evil.py").write_text(PATCHING_MODULE)
    (root / "pytest.ini").write_text(f"[pytest]\npythonpath = {folder}\n")
    release(root)
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p evil")  # the job's own environment
    assert_refused_or_failing(root, machine_tmp, allowed, key)


HIDING_MODULE = PATCHING_MODULE.replace("def test_helpers():\n    pass\n", "") + """
import sys as _sys
from pathlib import Path as _Path

_here = str(_Path(__file__).resolve().parent)
_sys.path[:] = [p for p in _sys.path if str(_Path(p or '.').resolve()) != _here]
"""


@pytest.mark.parametrize("variable", ["PYTEST_PLUGINS", "PYTEST_ADDOPTS"])
def test_a_repository_plugin_that_left_sys_path_is_still_seen(
        tmp_path: Path, machine_tmp: Path, signer: tuple[Path, Path],  # noqa: F811
        variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin of the release named in the job's environment is imported before the check
    runs (``-p`` and PYTEST_PLUGINS are read first): it took its folder off sys.path, so the
    check saw a clean sys.path and signed the PASS its patch made."""
    key, allowed = signer
    root = failing_release(tmp_path)
    (root / "lib").mkdir()
    (root / "lib" / "evil.py").write_text(HIDING_MODULE)
    release(root)
    monkeypatch.setenv("PYTHONPATH", "lib")
    monkeypatch.setenv(variable, "evil" if variable == "PYTEST_PLUGINS" else "-p evil")
    assert_refused_or_failing(root, machine_tmp, allowed, key)


# -- a rollback report withdrawn where git shows no diff of the log ---------------------------

@pytest.mark.parametrize("where", [".deploygate/.gitattributes", ".git/info/attributes"])
def test_a_removed_rollback_report_under_a_no_diff_attribute_still_rolls_back(
        tmp_path: Path, where: str) -> None:
    """``-diff`` (or ``binary``) on the sign-off log made ``git log -p`` print "Binary files
    differ" instead of the lines each commit added: no removed report was found, so deleting
    the report rolled nothing back."""
    from test_attack_rt12a import (
        _report_health_checks_failing,
        build,
        decision,
        gate,
        git,
    )
    from test_attack_rt12a import verdict as plain_verdict

    root = build(tmp_path, lambda source: None)
    _report_health_checks_failing(root)
    log = root / ".deploygate" / "attestations.jsonl"
    log.write_text("".join(line + "\n" for line in log.read_text().splitlines()[:-1]))
    (root / where).parent.mkdir(parents=True, exist_ok=True)
    (root / where).write_text("*.jsonl -diff\n" if where.startswith(".git/")
                              else "attestations.jsonl binary\n")
    if not where.startswith(".git/"):
        git(root, "add", where)
    git(root, "commit", "-q", "-a", "-m", "tidy the sign-off log")
    done = gate(root)
    assert done.returncode == 1, done.stdout
    assert decision(root) == "ROLLBACK"
    assert plain_verdict(root).returncode == 2


# -- the hook's hardened run and the project's pythonpath ini option --------------------------

#: A shadow that then becomes the installed module it stands in for, so the gate runs on.
REAL_MODULE = """
import sys as _sys, importlib as _importlib
_name, _me = __name__, _sys.modules[__name__]
_saved = list(_sys.path)
_sys.path[:] = [p for p in _sys.path if 'site-packages' in p or 'python3' in p]
del _sys.modules[_name]
_real = _importlib.import_module(_name)
_sys.path[:] = _saved
_sys.modules[_name] = _real
globals().update({k: v for k, v in vars(_real).items() if k not in ('__name__', '__spec__')})
"""

@pytest.mark.parametrize("shadow", ["yaml.py", "queue.py", "lib/queue.py"])
def test_the_projects_pythonpath_puts_no_module_in_the_hooks_gate(
        project: Any, template_state: dict[str, Any], shadow: str) -> None:
    """The hook's run cleared addopts but kept the project's ``pythonpath`` ini option: a
    committed yaml.py (or any module the gate imports after the option is applied) with
    ``pythonpath = .`` ran in the gate's process, rewrote the record to PASS and exited 0."""
    from test_attack_rt12c import EVIL, FORGE, failing_gate, install, run_hook

    failing_gate(project, template_state)
    assert install(project).returncode == 0
    evil = project.root / shadow
    evil.parent.mkdir(parents=True, exist_ok=True)
    evil.write_text(FORGE.format(root=str(project.root)) + EVIL + REAL_MODULE)
    folder = "lib" if shadow.startswith("lib/") else "."
    (project.root / "pytest.ini").write_text(f"[pytest]\npythonpath = {folder}\n")
    done = run_hook(project)
    assert done.returncode == 2, done.stdout
    assert "FAIL" in done.stdout and "is blocked" in done.stdout


# -- `python -m pytest_deploygate verdict` in the checkout ----------------------------------

@pytest.mark.parametrize("shadow", ["yaml.py", "defusedxml.py"])
def test_verdict_run_with_python_m_imports_no_module_of_the_checkout(
        tmp_path: Path, machine_tmp: Path, shadow: str) -> None:  # noqa: F811
    """README offers ``python -m pytest_deploygate`` for the deploygate command; ``-m`` puts
    the current folder (the deploy job's checkout) first on sys.path, so a committed yaml.py
    printed PASS and made verdict exit 0 for a FAIL record."""
    import subprocess

    from test_attack_rt12b import gate, git

    root = failing_release(tmp_path)
    release(root)
    assert gate(root, machine_tmp, "--gate=12", "--gate-stage=pre").returncode == 1
    (root / shadow).write_text("import os\nprint('deploygate verdict: PASS')\nos._exit(0)\n")
    git(root, "add", shadow)
    git(root, "commit", "-q", "-m", "helpers")
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "verdict",
                           "gate-records/GATE-12-pre.xml"], cwd=root, capture_output=True,
                          text=True, env={**os.environ, "TMPDIR": str(machine_tmp)})
    assert done.returncode != 0, done.stdout + done.stderr
