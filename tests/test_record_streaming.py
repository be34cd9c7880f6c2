"""Records are written piece by piece (a big gate's record is never whole in memory): the
pieces make exactly the file the whole text would, and a failure half-way leaves the old
record in place, never a torn one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_deploygate.core.atomic import write_atomic
from pytest_deploygate.core.results import Evidence, describe_evidence
from pytest_deploygate.records.markdown import _trimmed

from conftest import INNER_ARGS, GateProject, custom_gate


def whole_text(lines: list[str]) -> bytes:
    """The markdown record's rule, on the whole text: trailing blank lines dropped, the last
    line right-stripped, a final newline (one newline for no text)."""
    lines = list(lines)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return b"\n"
    lines[-1] = lines[-1].rstrip()
    return "\n".join([*lines, ""]).encode("utf-8")


@pytest.mark.parametrize("lines", [
    [], [""], ["  ", "\t"], ["a"], ["a  "], ["", "a", "", " ", ""], ["a", "", "b ", "  "],
    ["# t", "", "x\ny", "", "- é —  ", " ", ""], [" lead", "", "", "mid", "", "end\t", "", ""],
])
def test_markdown_pieces_make_the_whole_text(lines: list[str]) -> None:
    assert b"".join(_trimmed(iter(lines))) == whole_text(lines)


@pytest.mark.parametrize("data", [
    {"kind": "file", "ref": "evidence.md", "sha256": "ab" * 32, "modified": "2026-01-01"},
    {"kind": "attestation", "ref": "qa", "detail": "signer=a@b role=qa at=2026"},
    {"kind": "http", "ref": "https://user:pw@example.invalid/x?token=s3cret#a=b"},
    {"ref": "no kind"}, {"kind": "url", "ref": "", "detail": "see http://u:p@h/p?k=v"},
    {"kind": "test", "ref": "tests/test_a.py::test_b", "sha256": "", "detail": None},
    {"kind": "state", "ref": "x\x1b[8m", "detail": "a\x00b \u202eSSAP"},
])
def test_evidence_is_described_as_the_value_would_be(data: dict[str, str]) -> None:
    assert describe_evidence(data) == Evidence.from_dict(data).describe()
    assert "s3cret" not in describe_evidence(data) and ":pw@" not in describe_evidence(data)
    assert describe_evidence(data).isprintable()


def test_pieces_are_written_as_one_file(tmp_path: Path) -> None:
    target = tmp_path / "GATE-20.xml"
    write_atomic(target, (f"<piece {n}/>".encode() for n in range(3)))
    assert target.read_bytes() == b"<piece 0/><piece 1/><piece 2/>"


def test_a_failure_half_way_keeps_the_old_record(tmp_path: Path) -> None:
    target = tmp_path / "GATE-20.xml"
    target.write_bytes(b"old record")

    def pieces() -> Iterator[bytes]:
        yield b"<new"
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, pieces())
    assert target.read_bytes() == b"old record"
    assert [p.name for p in tmp_path.iterdir()] == ["GATE-20.xml"]


HOSTILE = ["plain", "", "a & b < c > d", 'say "hi"\r\nnext\tcol', "é — ✓ 𝄞", "\x00\x1f\x7f",
           "\ud800 lone", "]]> <![CDATA[", "x" * 2100]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_testcase_child_is_written_as_elementtree_would(text: str) -> None:
    import xml.etree.ElementTree as ET

    from pytest_deploygate.records import junit

    case = ET.Element("testcase")
    junit._child(case, "failure", f"kind {text}", text, [text, "b"], trailer=["", text])
    expected = ET.tostring(case[0], encoding="utf-8", xml_declaration=False)
    written = junit._child_xml("failure", f"kind {text}", text, [text, "b"], trailer=["", text])
    assert written.encode("utf-8", "xmlcharrefreplace") == expected


@pytest.mark.parametrize("message", [
    "", "plain", "NOT MET: p99 high", "not met:  met: MET: done", "N/A: not a service",
    "  ROLLBACK TRIGGERED:NOT MET: x", "MET", "MET:", "ss: ß: MET: y", "note: MET: z",
    "EVIDENCE MISSING: no file: see a:b",
])
def test_an_outcome_word_is_dropped_as_before(message: str) -> None:
    from pytest_deploygate.records import wording

    text = message.strip()  # the rule before the shortcut, word by word
    stripped = True
    while stripped:
        stripped = False
        for known in wording._ALL_WORDS:
            if text.upper().startswith(known + ":"):
                text = text[len(known) + 1:].lstrip()
                stripped = True
                break
    assert wording.without_word(message) == text


def test_no_piece_of_a_big_record_holds_a_whole_table(project: GateProject) -> None:
    # 400 signed criteria: the HTML page's sign-off table was made as one string (1.7 MB at
    # 1,667 sign-offs, the peak of a 5,000-criterion run). Each record's pieces stay small.
    project.set_state({"phases": {"12-production": {"status": "in_progress"}}})
    (project.root / "deploygate.yaml").write_text("attestations: {verify_authorship: false}\n")
    (project.root / ".deploygate").mkdir()
    (project.root / ".deploygate" / "approvers.yaml").write_text(
        "approvers:\n  - {email: qa@acme.example, roles: [qa]}\n")
    (project.root / ".deploygate" / "attestations.jsonl").write_text("".join(
        json.dumps({"gate": 12, "criterion": f"c-{n}", "signer": "qa@acme.example",
                    "role": "qa", "at": "2026-02-01T00:00:00Z"}) + "\n" for n in range(400)))
    custom_gate(project, "".join(f"- {{id: c-{n}, text: Criterion {n}, check: "
                                 "{kind: attestation, roles: [qa]}}\n" for n in range(400)))
    # (In a process of its own: the writer the controller uses is wrapped, whatever module
    # objects earlier in-process runs left behind.)
    project.pytester.makeconftest("""
        import json


        def pytest_sessionstart(session):
            from pytest_deploygate.plugin import controller

            names = controller.write_records.__globals__
            write, largest = names["write_atomic"], {}

            def measured(path, data, mode=None):
                pieces = [data] if isinstance(data, bytes) else list(data)
                largest[path.suffix] = max(len(piece) for piece in pieces)
                write(path, pieces, mode)
                with open("largest.json", "w") as out:
                    json.dump(largest, out)

            names["write_atomic"] = measured
        """)
    result = project.pytester.runpytest_subprocess(*INNER_ARGS, "--gate=12",
                                                   "--gate-now=2026-02-10T00:00:00Z", timeout=120)
    assert result.ret == 0
    assert (project.root / "gate-records" / "GATE-12.html").stat().st_size > 100_000
    largest = json.loads((project.root / "largest.json").read_text())
    assert set(largest) == {".xml", ".md", ".html"}
    assert max(largest.values()) < 16_000, largest
