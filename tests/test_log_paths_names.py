"""The sign-off log's earlier names are read exactly, whatever characters they hold.

git quotes a path with a tab, a quote or a non-ASCII byte in its plain output ("a\\tb"); read
that way, a log renamed from such a name lost its earlier name, and with it the history the
rule "a rollback report is never withdrawn" reads.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pytest_deploygate.trust.log_paths import log_paths_ever


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Ana", "-c", "user.email=ana@acme.example",
                    *args], cwd=root, check=True, capture_output=True)


@pytest.mark.parametrize("earlier", ['sign "offs"\t.jsonl', "sign-offs-é.jsonl",
                                     "sign\\offs.jsonl"])
def test_an_earlier_name_with_quoted_characters_is_found(tmp_path: Path, earlier: str) -> None:
    root = tmp_path / "repo"
    project = root / "service"
    (project / ".deploygate").mkdir(parents=True)
    _git(root, "init", "-q")
    (project / ".deploygate" / earlier).write_text('{"present": true}\n')
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "rollback report")
    _git(project, "mv", f".deploygate/{earlier}", ".deploygate/log.jsonl")
    _git(root, "commit", "-q", "-m", "rename the log")

    assert f".deploygate/{earlier}" in log_paths_ever(project, ".deploygate/log.jsonl")
