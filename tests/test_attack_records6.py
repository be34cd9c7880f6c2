"""Red team on how the three gate records are written since the per-criterion work (JUnit
testcases written as text, records written piece by piece, evidence described from dicts):
each attack runs through the public surface (``pytest --gate``, ``deploygate verdict``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_deploygate.records.reader import read_record

from conftest import GateProject

#: A user's gate-marked test whose docstring (the criterion's text) holds what XML 1.0 cannot
#: carry, and what would break out of an attribute.
HOSTILE_DOC = '''
import pytest

@pytest.mark.gate(12, section="backup-and-recovery", id="restore-drill")
def test_restore_drill():
    """Restore {text}"""
    assert {verdict}
'''


def _record_is_valid(path: Path, junit_schema: Any) -> None:
    junit_schema.validate(str(path))
    read_record(path)


#: The second criterion's check: one that fails whatever the kind says.
FAILING = "{kind: state, path: nowhere.at.all, equals: true}"


def run_kind(example: GateProject, plugin: str, other_check: str) -> pytest.RunResult:
    """Gate 12 as criterion ``shipped`` of the kind ``hostile`` (defined by ``plugin``) and
    criterion ``other`` of ``other_check``, run with the plugin."""
    from conftest import custom_gate

    custom_gate(example, criteria="- {id: shipped, text: Shipped, check: {kind: hostile}}\n"
                                  f"- {{id: other, text: Other, check: {other_check}}}")
    example.pytester.makepyfile(hostile=plugin)
    example.pytester.syspathinsert()
    return example.run("--gate=12", "-p", "hostile")


@pytest.mark.parametrize("text", ["\\x01 ctl", "\\ud800 lone", "\\ufffe", "\\x1b[8m hidden",
                                  '\\" name=\\"x', "a\\r\\nb\\tc", "\\U0001d11e"])
def test_a_criterion_text_xml_cannot_carry_keeps_the_record_valid(
        example: GateProject, junit_schema: Any, text: str) -> None:
    example.pytester.makepyfile(test_release=HOSTILE_DOC.format(text=text, verdict="False"))
    result = example.run("--gate=12")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-2000:]
    path = example.root / "gate-records" / "GATE-12.xml"
    _record_is_valid(path, junit_schema)
    assert read_record(path).properties["deploygate.decision"] == "FAIL"
    # The pages are whole (a lone surrogate stopped the markdown half-way) and say FAIL.
    assert "**Gate Status**: FAIL" in path.with_suffix(".md").read_text()
    assert path.with_suffix(".html").read_text().endswith("</html>\n")


#: Text that would close the failure and its testcase, add a passing decision testcase and a
#: suite property, if any of it reached the record unescaped.
BREAKOUT = ('" type="x"/></failure></testcase><testcase classname="GATE-12.decision" '
            'name="[GATE-12][gate-decision] Gate decision"><system-out>PASS</system-out>'
            '</testcase><properties><property name="deploygate.decision" value="PASS"/>'
            '</properties><![CDATA[ ]]> ]]> &amp; &#0; \r\n\t\x00\x0b\ud800\ufffe\U0001d11e'
            '\u202eSSAP')

#: A third-party kind whose words and evidence are BREAKOUT everywhere.
HOSTILE_KIND = '''
from pytest_deploygate import CheckKind, CheckResult, Evidence, params_schema

TEXT = {text!r}

def pytest_deploygate_check_kinds(config):
    def evaluate(params, ctx):
        evidence = Evidence(TEXT, TEXT, sha256=TEXT, modified=TEXT, detail=TEXT)
        return CheckResult.{status}(TEXT, evidence, evidence)
    return [CheckKind("hostile", "hostile words", params_schema({{}}), evaluate)]
'''


@pytest.mark.parametrize("status", ["not_met", "missing", "not_applicable", "met"])
def test_a_kinds_words_never_break_out_of_the_record(example: GateProject, junit_schema: Any,
                                                      status: str) -> None:
    result = run_kind(example, HOSTILE_KIND.format(text=BREAKOUT, status=status), FAILING)
    assert result.ret != 0
    path = example.root / "gate-records" / "GATE-12.xml"
    _record_is_valid(path, junit_schema)
    record = read_record(path)
    assert record.properties["deploygate.decision"] != "PASS"
    assert not record.oddities
    assert [case.name.split("]", 2)[1] for case in record.testcases] == [
        "[shipped", "[other", "[gate-decision"]
    assert record.testcases[-1].outcome == "failure"
    html = path.with_suffix(".html").read_text()
    assert "<testcase" not in html and "<property" not in html and "<![CDATA[" not in html


@pytest.mark.parametrize("status", ["not_met", "met"])
def test_a_kinds_words_are_no_markup_in_the_markdown_record(example: GateProject,
                                                            status: str) -> None:
    """GitHub renders a markdown record's (and the job summary's) HTML: ``<!--`` in a message
    hid the rest of the page, ``<h2>Gate Status: PASS</h2>`` showed a decision not taken."""
    words = "<!-- <h2>Gate Status: PASS</h2> <img src=x>"
    assert run_kind(example, HOSTILE_KIND.format(text=words, status=status), FAILING).ret != 0
    page = (example.root / "gate-records" / "GATE-12.md").read_text()
    assert "**Gate Status**: FAIL" in page
    assert "<" not in page


#: A kind whose evidence, as booked, is no text: describing it fails half-way through writing
#: the record.
ODD_EVIDENCE_KIND = '''
from pytest_deploygate import CheckKind, CheckResult, Evidence, params_schema

class Odd(Evidence):
    def __post_init__(self):
        pass

    def to_dict(self):
        return {{"kind": {value}, "ref": "r"}}

def pytest_deploygate_check_kinds(config):
    def evaluate(params, ctx):
        if not params.get("plain"):
            return CheckResult.{status}("fine", Odd("k", "r"), Odd({value}, "r"))
        return CheckResult.{status}("fine", {{"kind": "k", "ref": {value}}})
    return [CheckKind("hostile", "odd evidence",
                      params_schema({{"plain": {{"type": "boolean"}}}}), evaluate)]
'''


@pytest.mark.parametrize("status", ["met", "not_met"])
@pytest.mark.parametrize("value", ["5", "None", "['x']", "{'a': 1}", "b'x'"])
def test_evidence_that_is_no_text_is_never_a_passing_record(example: GateProject,
                                                            value: str, status: str) -> None:
    result = run_kind(example, ODD_EVIDENCE_KIND.format(value=value, status=status),
                      "{kind: hostile, plain: true}")
    assert result.ret not in (0, pytest.ExitCode.INTERNAL_ERROR), result.stdout.str()[-3000:]
    record = read_record(example.root / "gate-records" / "GATE-12.xml")
    assert record.properties["deploygate.decision"] != "PASS"
    for case in record.testcases[:2]:
        assert case.outcome == "error" and "returned evidence that is not text" in case.message


@pytest.mark.parametrize("blocked", ["xml", "md", "html"])
def test_a_record_that_cannot_be_written_leaves_no_earlier_pass_behind(
        example: GateProject, blocked: str) -> None:
    """A first run passes; the second fails and one of its record files cannot be written
    (here: a directory stands where it goes). No record file of the gate may still say
    PASS: a deploy job reading the old XML, or a reviewer the old page, would see a decision
    the gate no longer takes."""
    assert example.run("--gate=12").ret == 0
    records = example.root / "gate-records"
    assert read_record(records / "GATE-12.xml").properties["deploygate.decision"] == "PASS"
    example.drop_attestation("security-sign-off")
    target = records / f"GATE-12.{blocked}"
    target.unlink()
    (target / "occupied").mkdir(parents=True)
    result = example.run("--gate=12")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*cannot write gate record*"])
    xml = records / "GATE-12.xml"
    if xml.is_file():
        assert read_record(xml).properties["deploygate.decision"] != "PASS"
    for kind in ("md", "html"):
        page = records / f"GATE-12.{kind}"
        if page.is_file():
            assert "PASS" not in page.read_text().split("Gate Status", 1)[1][:80]


def test_a_record_that_cannot_be_written_leaves_no_earlier_signed_pass_behind(
        repo: GateProject, keys: Path) -> None:
    """The signed attestation is what a deploy job trusts: an earlier run's PASS must not
    outlive a run whose record could not be written."""
    from test_signing import ssh_key

    key = ssh_key(keys, "ed25519", "gate-records6")
    first = repo.run("--gate=12", "--gate-stage=pre", f"--gate-sign-key={key.private}")
    assert first.ret == 0, first.stdout.str()[-2000:]
    records = repo.root / "gate-records"
    assert (records / "GATE-12-pre.intoto.json").is_file()
    (records / "GATE-12-pre.xml").unlink()
    (records / "GATE-12-pre.xml" / "occupied").mkdir(parents=True)
    second = repo.run("--gate=12", "--gate-stage=pre", f"--gate-sign-key={key.private}")
    assert second.ret != 0
    assert not (records / "GATE-12-pre.intoto.json").exists()
    assert not (records / "GATE-12-pre.md").exists() and not (records / "GATE-12-pre.html").exists()


#: A kind that keeps what it handed over and changes it once the item is booked (from a
#: later item's evaluation): the record must say what was booked.
MUTATING_KIND = '''
from pytest_deploygate import CheckKind, CheckResult, Evidence, params_schema

KEPT = []

def pytest_deploygate_check_kinds(config):
    def evaluate(params, ctx):
        if params.get("late"):
            for evidence in KEPT:
                object.__setattr__(evidence, "ref", "all good")
            return CheckResult.met("fine")
        kept = Evidence("probe", "p99 above the threshold")
        KEPT.append(kept)
        return CheckResult.not_met("p99 too high", kept)
    return [CheckKind("mutating", "mutating", params_schema({"late": {"type": "boolean"}}),
                      evaluate)]
'''


def test_a_kind_cannot_change_its_evidence_after_it_is_booked(example: GateProject) -> None:
    from conftest import custom_gate

    custom_gate(example, criteria="- {id: first, text: First, check: {kind: mutating}}\n"
                                  "- {id: later, text: Later, check: {kind: mutating, "
                                  "late: true}}")
    example.pytester.makepyfile(mutating=MUTATING_KIND)
    example.pytester.syspathinsert()
    assert example.run("--gate=12", "-p", "mutating").ret != 0
    xml = (example.root / "gate-records" / "GATE-12.xml").read_text()
    assert "probe p99 above the threshold" in xml and "all good" not in xml
    assert example.record().decision == "FAIL"


#: Criterion texts a checklist may hold that would break out of an attribute if written raw.
SPEC_TEXTS = ['"quoted" & <tag attr="x"> ]]>', "tab\there", "cr\rlf\nend",
              "\U0001d11e non-BMP \u00e9", "&#0; &amp; &lt;", "trailing space ",
              "[GATE-12][gate-decision] Gate decision"]


def test_hostile_criterion_texts_read_back_exactly_and_verdict_agrees(
        example: GateProject, junit_schema: Any) -> None:
    """A passing gate whose checklist texts hold quotes, markup, CDATA ends, tabs and line
    breaks: the record validates, every name reads back as the plugin names it, and verdict
    (which matches testcases to the spec by those names) accepts it (held)."""
    import json

    from test_verdict_trust import verdict

    from pytest_deploygate.records.names import testcase_name

    from conftest import custom_gate

    criteria = "\n".join(
        f"- {{id: c{n}, text: {json.dumps(text, ensure_ascii=False)}, "
        "check: {kind: state, path: phases}}"
        for n, text in enumerate(SPEC_TEXTS))
    custom_gate(example, criteria=criteria)
    example.git_init()
    result = example.run("--gate=12")
    assert result.ret == 0, result.stdout.str()[-2000:]
    path = example.root / "gate-records" / "GATE-12.xml"
    _record_is_valid(path, junit_schema)
    names = [case.name for case in read_record(path).testcases]
    assert names[:len(SPEC_TEXTS)] == [testcase_name("GATE-12", f"c{n}", text)
                                       for n, text in enumerate(SPEC_TEXTS)]
    done = verdict(example.root, path)
    assert done.returncode == 0, done.stderr


def test_a_criterion_text_utf8_cannot_carry_keeps_the_job_summary(
        example: GateProject, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The GitHub job summary lists what failed, by the text a user's test gave it."""
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    example.pytester.makepyfile(test_release=HOSTILE_DOC.format(
        text="\\ud800 lone <!-- hidden", verdict="False"))
    result = example.run("--gate=12")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-2000:]
    text = summary.read_text()
    assert "FAIL" in text and "\\ud800 lone &lt;!-- hidden" in text


def test_a_user_criterion_id_is_no_markup_in_the_markdown_record(example: GateProject) -> None:
    example.pytester.makepyfile(test_release=HOSTILE_DOC.format(text="drill", verdict="False")
                                .replace('id="restore-drill"', 'id="drill<!--\\x1b[8m"'))
    assert example.run("--gate=12").ret == pytest.ExitCode.TESTS_FAILED
    page = (example.root / "gate-records" / "GATE-12.md").read_text()
    assert "**Gate Status**: FAIL" in page and "<" not in page and "\x1b" not in page


#: A kind whose result carries a "measurement" that is none: its to_dict is no dict, or it
#: has none. It stopped the records half-way with a traceback.
ODD_MEASUREMENT_KIND = '''
from pytest_deploygate import CheckKind, CheckResult, params_schema

class Odd:
    def to_dict(self):
        return {value}

def pytest_deploygate_check_kinds(config):
    def evaluate(params, ctx):
        return CheckResult("met", "fine", (), {measurement})
    return [CheckKind("hostile", "odd measurement", params_schema({{}}), evaluate)]
'''


@pytest.mark.parametrize("measurement", ["Odd()", "{'label': 'x'}", "5"])
@pytest.mark.parametrize("value", ["'not a dict'", "{'points': [[1]]}", "None"])
def test_a_measurement_that_is_none_is_never_a_passing_record(example: GateProject,
                                                              measurement: str,
                                                              value: str) -> None:
    plugin = ODD_MEASUREMENT_KIND.format(value=value, measurement=measurement)
    result = run_kind(example, plugin, "{kind: state, path: phases}")
    assert result.ret == 1, result.stdout.str()[-3000:]
    record = read_record(example.root / "gate-records" / "GATE-12.xml")
    assert record.properties["deploygate.decision"] != "PASS"
    shipped = next(case for case in record.testcases if "[shipped]" in case.name)
    assert "returned a measurement that is not one" in shipped.message
