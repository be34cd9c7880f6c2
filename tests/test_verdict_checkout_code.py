"""``deploygate verdict`` is not talked into exit 0 by code of the checkout.

A real release repository (examples/release_repo.py) whose gate PASSes, and the real
``deploygate`` command in a subprocess, in an interpreter steered the way the job's own user
can steer it: a ``PYTHON*`` variable into the checkout with a start-up module there that hides
itself, ``PYTHONINSPECT``, a virtual environment committed to the repository. The recipes'
``python -I -m pytest_deploygate verdict`` (docs/ci-recipes.md) is not steered by any of it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from test_attack_rt12a import build, gate, git

DEPLOYGATE = Path(sys.executable).parent / "deploygate"
RECORD = "gate-records/GATE-12.xml"

#: A start-up module that leaves no trace of itself: once verdict's own modules load, it is
#: gone from sys.modules, its folder from sys.path and its variable from os.environ. (What it
#: could do meanwhile, patch sys.exit say, no check in the same process can undo: that is why
#: the recipes run ``python -I``; here it only hides.)
HIDING = '''
import os, sys
_here = os.path.dirname(os.path.abspath(__file__))

class _Vanish:
    def find_spec(self, name, path=None, target=None):
        if name.startswith("pytest_deploygate"):
            sys.modules.pop("sitecustomize", None)
            sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
            for variable in ("PYTHONPATH", "PYTHONPYCACHEPREFIX", "PYTHONUSERBASE"):
                os.environ.pop(variable, None)
            sys.meta_path.remove(self)
        return None

sys.meta_path.insert(0, _Vanish())
'''


@pytest.fixture(scope="module")
def passing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release whose gate PASSes, with a hiding sitecustomize.py among the CI output."""
    root = build(tmp_path_factory.mktemp("verdict-code"), lambda source: None)
    assert gate(root).returncode == 0
    (root / "reports" / "sitecustomize.py").write_text(HIDING)
    return root


def failing_record(root: Path) -> str:
    """A record this release's verdict refuses (exit 4): the PASS record of another gate."""
    text = (root / RECORD).read_text()
    other = root / "gate-records" / "GATE-13.xml"
    other.write_text(text)
    return "gate-records/GATE-13.xml"


def run(root: Path, *command: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), cwd=root, capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("value", ["reports", "{root}/reports",
                                   "/nonexistent:{root}/reports"])
def test_a_start_up_module_that_hides_itself_is_refused(passing: Path, value: str) -> None:
    """The module ran and hid itself: the checkout-code check found nothing and the verdict
    exited 0. The PYTHONPATH the process was started with is what counts."""
    env = {"PYTHONPATH": value.format(root=passing)}
    done = run(passing, str(DEPLOYGATE), "verdict", RECORD, env=env)
    assert done.returncode == 4, done.stderr
    assert "PYTHONPATH names" in done.stderr and "python -I -m" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.mark.parametrize("variable", ["PYTHONPATH", "PYTHONPYCACHEPREFIX", "PYTHONUSERBASE",
                                      "PYTHONSTARTUP"])
def test_the_recipes_isolated_verdict_is_not_steered(passing: Path, variable: str) -> None:
    """``python -I -m pytest_deploygate verdict``, as every recipe runs it: the variables are
    not read, the hiding module never runs, the PASS is a PASS and a refusal a refusal."""
    env = {variable: str(passing / "reports")}
    done = run(passing, sys.executable, "-I", "-m", "pytest_deploygate", "verdict", RECORD,
               env=env)
    assert done.returncode == 0, done.stderr
    refused = run(passing, sys.executable, "-I", "-m", "pytest_deploygate", "verdict",
                  failing_record(passing), env=env)
    assert refused.returncode == 4, refused.stderr


@pytest.mark.parametrize("variable", ["PYTHONPYCACHEPREFIX", "PYTHONUSERBASE", "PYTHONSTARTUP"])
def test_other_start_up_variables_into_the_checkout_are_refused(passing: Path,
                                                                variable: str) -> None:
    """Bytecode read from the checkout, a user site folder there, a start-up file there:
    each runs code of the checkout in an interpreter that honours the environment."""
    done = run(passing, str(DEPLOYGATE), "verdict", RECORD,
               env={variable: str(passing / "reports" / "place")})
    assert done.returncode == 4, done.stderr
    assert f"{variable} names" in done.stderr


def test_start_up_variables_outside_the_checkout_are_honest(passing: Path,
                                                            tmp_path: Path) -> None:
    """A PYTHONPATH of the job's own tools, outside the checkout, is no refusal."""
    done = run(passing, str(DEPLOYGATE), "verdict", RECORD, env={"PYTHONPATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("how", ["PYTHONINSPECT", "-i"])
def test_inspect_mode_cannot_turn_a_refusal_into_exit_0(passing: Path, how: str) -> None:
    """``-i`` or PYTHONINSPECT: the interpreter opened its prompt after the command, read the
    empty stdin of the CI job, and exited 0, for a refused record and a usage error alike."""
    env = {"PYTHONINSPECT": "1"} if how == "PYTHONINSPECT" else {}
    python = [sys.executable, *(["-i"] if how == "-i" else []), "-m", "pytest_deploygate"]
    refused = run(passing, *python, "verdict", failing_record(passing), env=env)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    usage = run(passing, *python, "verdict", RECORD, "--no-such-option", env=env)
    assert usage.returncode == 4, usage.stderr  # never ROLLBACK's 2
    passed = run(passing, *python, "verdict", RECORD, env=env)
    assert passed.returncode == 0, passed.stderr
    if how == "PYTHONINSPECT":
        script = run(passing, str(DEPLOYGATE), "verdict", failing_record(passing), env=env)
        assert script.returncode == 4, script.stderr


def _venv(root: Path) -> Path:
    """A virtual environment in the checkout, as CI makes it (``python -m venv .venv``), that
    sees the package under test (a .pth onto this interpreter's site folder); its python."""
    venv = root / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    outer = sysconfig.get_paths()["purelib"]
    (site / "under_test.pth").write_text(f"import site; site.addsitedir({outer!r})\n")
    return venv / "bin" / "python"


def test_a_venv_committed_to_the_repository_is_refused(tmp_path: Path) -> None:
    """A ``.venv/`` in the release repository (its .pth runs in every process of that
    environment) was exempt from the checkout-code check as "pip's work": a CI that creates
    its environment over it runs the committed files."""
    root = build(tmp_path, lambda source: None)
    python = _venv(root)
    # Its site-packages (a committed bin/python, a link out of the repository, is no
    # release at all): `python -m venv .venv` in CI makes the rest around it.
    git(root, "add", "-f", ".venv/lib")
    git(root, "commit", "-q", "-m", "chore: pin the tool environment")
    assert subprocess.run([str(python), "-I", "-m", "pytest", "--gate=12", "-p",
                           "no:cacheprovider"], cwd=root, capture_output=True,
                          check=False).returncode in (0, 1)
    decided = run(root, sys.executable, "-I", "-m", "pytest_deploygate", "verdict", RECORD)
    assert decided.returncode in (0, 1), decided.stderr  # outside that venv: the decision
    done = run(root, str(python), "-I", "-m", "pytest_deploygate", "verdict", RECORD)
    assert done.returncode == 4, done.stderr
    assert "holds files of it" in done.stderr and ".venv" in done.stderr


def test_a_venv_the_ci_creates_in_the_checkout_is_honest(passing: Path) -> None:
    """The honest case: CI creates a fresh, untracked environment in the checkout."""
    python = _venv(passing)
    try:
        done = run(passing, str(python), "-I", "-m", "pytest_deploygate", "verdict", RECORD)
        assert done.returncode == 0, done.stderr
    finally:
        import shutil

        shutil.rmtree(passing / ".venv")


def test_a_refusal_is_not_overridden_by_the_code_it_found(passing: Path) -> None:
    """The start-up module the refusal names ran first and registered an exit handler that
    ends the process with 0: the refusal printed, returned 4, and the process exited 0. The
    verdict now leaves at once (``os._exit(4)``), no exit handler runs."""
    folder = passing / "reports" / "exit-zero"
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text("import atexit, os\natexit.register(os._exit, 0)\n")
    done = run(passing, str(DEPLOYGATE), "verdict", RECORD, env={"PYTHONPATH": str(folder)})
    assert done.returncode == 4, done.stdout + done.stderr
    assert "PYTHONPATH names" in done.stderr
    assert "PASS" in done.stdout, "what was printed before the refusal is flushed"


def _user_site_python(home: Path) -> tuple[list[str], dict[str, str]]:
    """The interpreter this one was made from, with its user site on (a venv turns it off),
    seeing the package under test and its dependencies through a PYTHONPATH outside the
    checkout, and ``HOME`` at ``home``: how a CI without a virtual environment runs."""
    base = getattr(sys, "_base_executable", sys.executable)
    outside = os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                               sysconfig.get_paths()["purelib"]])
    env = {"HOME": str(home), "PYTHONPATH": outside}
    env.pop("PYTHONUSERBASE", None)
    return [base, "-m", "pytest_deploygate", "verdict"], env


def _user_site(python: list[str], env: dict[str, str], root: Path) -> Path:
    """The user site folder that interpreter reads with that HOME."""
    done = run(root, python[0], "-c", "import site; print(site.getusersitepackages())",
               env=env)
    return Path(done.stdout.strip())


def test_a_home_in_the_checkout_with_no_user_site_folder_is_honest(passing: Path) -> None:
    """HOME at the checkout (pytester's, some runners' workspace) with no ``.local`` there:
    site.py read nothing from it. Without a venv the verdict refused every such PASS (4)."""
    python, env = _user_site_python(passing)
    assert not _user_site(python, env, passing).exists()
    done = run(passing, *python, RECORD, env=env)
    assert done.returncode == 0, done.stderr
    refused = run(passing, *python, failing_record(passing), env=env)
    assert refused.returncode == 4, refused.stderr
    assert "user site" not in refused.stderr


@pytest.mark.parametrize("how", ["folder", "link"])
def test_a_user_site_folder_in_the_checkout_is_refused(passing: Path, tmp_path: Path,
                                                       how: str) -> None:
    """A ``.local/lib/pythonX.Y/site-packages`` in the checkout, with HOME there: its
    usercustomize ran before the verdict. Also when it is a link to a folder elsewhere."""
    python, env = _user_site_python(passing)
    folder = _user_site(python, env, passing)
    target = tmp_path / "elsewhere" if how == "link" else folder
    target.mkdir(parents=True)
    (target / "usercustomize.py").write_text(HIDING.replace("sitecustomize", "usercustomize"))
    if how == "link":
        folder.parent.mkdir(parents=True)
        folder.symlink_to(target)
    try:
        done = run(passing, *python, RECORD, env=env)
        assert done.returncode == 4, done.stderr
        assert "user site folder" in done.stderr and "python -I -m" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    finally:
        import shutil

        shutil.rmtree(passing / ".local")
