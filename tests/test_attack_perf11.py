# ruff: noqa: F811  (the fixtures come from test_signoff_identity)
"""Red team of the perf11 fast paths: each must judge as the code it replaced.

Sign-off lines whose JSON escapes could make two readers disagree: the log reader parses
every line with one shared decoder, tests duplicate keys by a dict's length and walks for
lone surrogates only in lines holding ``\\u``. A key given twice by an escape, a duplicate
inside a nested value, a surrogate in a key, and escapes that decode to ordinary text must
each still be judged as the slow path judged them, through the gate. And identity() (the
signer of every line) must accept exactly what its per-character walk accepted.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_deploygate.core.trust_rules import UntrustedIdentity, identity

from conftest import NOW, GateProject, install_checklists, parse_record, today_state  # isort: skip
from test_signoff_identity import (  # noqa: F401  (fixtures)
    LOG,
    SAM,
    append,
    case,
    commit,
    signed,
)

_HEAD = ('{"gate": 12, "criterion": "security-sign-off", "signer": "%s", '
         '"role": "security-officer", "at": "2026-02-03T12:00:00Z"')


@pytest.mark.parametrize("tail,signer,outcome,said", [
    # "\u0072ole" is "role": a second role, which a reader keeping the last key would see.
    (', "\\u0072ole": "release-manager"}', SAM, "evidence-missing", "key 'role' appears twice"),
    (', "note": {"a": 1, "\\u0061": 2}}', SAM, "evidence-missing", "key 'a' appears twice"),
    (', "\\ud800": "x"}', SAM, "evidence-missing", "holds the lone surrogate U+D800"),
    # An escaped backslash before "u" is no escape of a surrogate; "\/" and "\"" are plain.
    (', "note": "\\\\ud800 \\/ \\"q\\""}', SAM, "passed", ""),
    # Escapes that decode to the signer's own address are that address.
    ("}", "sam.okafor@acme.exampl\\u0065", "passed", ""),
])
def test_escaped_keys_and_values_are_judged_as_decoded(signed: GateProject, tail: str,
                                                      signer: str, outcome: str,
                                                      said: str) -> None:
    root = signed.root
    log = root / LOG
    log.write_text("".join(t + "\n" for t in log.read_text().splitlines()
                           if "security-sign-off" not in t))
    append(root, LOG, ((_HEAD % signer) + tail + "\n").encode())
    commit(root, SAM, "sam signs with escapes")
    found = case(signed, "security-sign-off")
    assert found["type" if outcome != "passed" else "outcome"] == outcome, found
    assert said in (found["message"] or ""), found


def _walked(raw: str) -> bool:
    # The per-character test identity() made before its C-speed one (the reference).
    return bool(raw) and raw.isascii() and \
        not any(not ("!" <= c <= "~") or c in '<>"\\,' for c in raw) and \
        raw.partition("@")[0] != "" and raw.partition("@")[2] != "" and \
        "@" in raw and "@" not in raw.partition("@")[2]


def _accepted(raw: str) -> bool:
    try:
        identity(raw)
    except UntrustedIdentity:
        return False
    return True


def test_identity_accepts_exactly_what_the_character_walk_accepted() -> None:
    # Every code point below U+0100, the look-alikes that fold onto ASCII, and the quoting
    # characters, in every place of an address: a signer's identity is this answer.
    odd = [chr(c) for c in range(0x100)] + ["\u212a", "\uff41", "\u0131", "\u0307",
                                              "\u200b", "\u2028", "\ufeff", "\ud800"]
    for char in odd:
        for raw in (f"{char}a@b.c", f"a{char}@b.c", f"a@b{char}", f"a@{char}", f"{char}@b",
                    f"a@b.c{char}", char):
            assert _accepted(raw) == _walked(raw), repr(raw)


def test_each_monorepo_projects_work_item_folder_is_its_own(
        example: GateProject, template_state: dict[str, Any]) -> None:
    # The folder is looked up once a run and kept in the project's memo: one project's
    # folder must never answer for another's ({artifact_folder} paths, --gate-project=all).
    install_checklists(example)
    for pid, folder in (("alpha", "BUG-0001-a"), ("beta", "BUG-0002-b"), ("gamma", None)):
        state = today_state(template_state, "02-tracing", workflow="fix", folder=folder or "x")
        state["active_workflow"]["artifact_folder"] = folder
        path = example.root / ".isdlc" / "projects" / pid / "state.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(state))
    example.state_path.unlink()
    work = example.root / "docs" / "requirements" / "BUG-0001-a"
    work.mkdir(parents=True)
    (work / "trace-analysis.md").write_text("# Trace\nroot cause\n")
    example.run("--gate=02-tracing", "--gate-project=all", NOW)
    found = {pid: parse_record(example.root / "gate-records" / pid / "02-tracing.xml"
                               ).case("trace-analysis") for pid in ("alpha", "beta", "gamma")}
    assert found["alpha"]["outcome"] == "passed", found
    assert found["beta"]["outcome"] == "failure", found
    assert "BUG-0002-b" in found["beta"]["message"], found
    assert found["gamma"]["outcome"] == "error", found
    assert "active_workflow.artifact_folder" in found["gamma"]["message"], found
