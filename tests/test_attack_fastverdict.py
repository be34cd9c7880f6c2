"""Red team on the fast verdict (issue 15): the private cache of loaded specs, the release
tree hashed in Python, the exact ssh-ed25519 reader. Each test asserts the safe behaviour of
``deploygate verdict`` through its command line, on a real release (a git repository of the
bundled example and its record from a real gate run at a fixed clock)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import INNER_ARGS, REPO
from test_verdict_cache import (  # noqa: F401 (fixtures)
    NOW,
    LOADING,
    entries,
    machine_tmp,
    project,
    released,
    verdict,
)

BUILTIN_SPEC = REPO / "gate_specs" / "12-production.yaml"


def gate_run(root: Path, *options: str) -> None:
    """A real gate run of ``root`` at the tests' fixed clock (its record replaces the one
    there)."""
    run = subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "-q", "--gate=12", NOW,
                          *options], cwd=root, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:]


def record_sha(root: Path) -> str:
    text = (root / "gate-records" / "GATE-12.xml").read_text()
    start = text.index('name="deploygate.spec_sha256" value="') + len(
        'name="deploygate.spec_sha256" value="')
    return text[start:start + 64]


# -- 1. the cache of loaded specs ----------------------------------------------------------------

@pytest.mark.xfail(strict=True, reason=(
    "The private cache is trusted as the verdict's spec, but the threat model's attacker "
    "(the same user: a compromised job) can write it: <tmp>/pytest-deploygate-<uid> is "
    "'only this user's', and its key is computable from public inputs. Fix: never take what "
    "decides a deploy from a folder the job's own user can write (drop the cache for "
    "verdict, or authenticate entries with a secret the job does not hold)."))
def test_a_cache_entry_forged_by_the_same_user_does_not_decide_the_verdict(
        project: Path, machine_tmp: Path, tmp_path: Path) -> None:  # noqa: F811
    # A record of this very release, made by another spec (one the attacker chose).
    weak = tmp_path / "weak-specs"
    weak.mkdir()
    (weak / BUILTIN_SPEC.name).write_text(BUILTIN_SPEC.read_text() + "# another spec\n")
    gate_run(project, "-o", f"deploygate_specs={weak}")
    other = record_sha(project)
    refused = verdict(project, machine_tmp)
    assert refused.code == 4 and "it was made by a spec with sha256" in refused.stderr
    # The refused verdict loaded the project's (valid) spec and remembered it; the same user
    # rewrites that entry to say the project's spec is the record's.
    forged = 0
    for entry in entries(machine_tmp):
        data = json.loads(entry.read_text())
        if isinstance(data.get("spec"), dict) and "sha256" in data["spec"]:
            data["spec"]["sha256"] = other
            entry.write_text(json.dumps(data))
            forged += 1
    assert forged == 1
    again = verdict(project, machine_tmp)
    assert again.code == 4, again.stdout + again.stderr
    assert "it was made by a spec with sha256" in again.stderr
