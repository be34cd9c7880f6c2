"""Red team of the file-reading, record-streaming and escaping change (64a6d89..3556028).

The attacker commits what they like to the gated repository (file names included) and edits
deploygate.yaml and specs; every run has a timeout.
"""

from __future__ import annotations

import os

from hostile_files import directory_artifact_spec, gate

from conftest import GateProject


def test_a_directory_artifact_file_named_in_no_utf8_is_judged_not_a_crash(
        example: GateProject) -> None:
    # git commits any bytes as a name; a name that is no UTF-8 made the folder's digest raise
    # UnicodeEncodeError inside the built-in kind ("check kind 'artifact' failed: ...").
    results = example.root / "test-results"
    results.mkdir()
    name = os.fsdecode(b"report-\xff.xml")
    (results / name).write_bytes(b"<ok/>")
    directory_artifact_spec(example)
    gate(example)
    case = example.record().case("results")
    # (The folder holds a regular file of the project: met, as with any other name.)
    assert case["outcome"] == "passed", case
