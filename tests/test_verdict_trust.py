"""`deploygate verdict` and the post stage's binding trust no record that is not a faithful
account of a gate run of this spec and this release (issue 10, class E).

Genuine records come from real gate runs of the bundled example in a real git repository
(release and sign-off commits by different authors), at a fixed clock; each attack edits a copy
the way a forger would (keeping everything else genuine), and must exit 4. The honest records
exit with their decision.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import EXAMPLE, INNER_ARGS, GateProject

NOW = "--gate-now=2026-02-10T00:00:00Z"
AUTHORS = {"dev": "dev@acme.example", "sam": "sam.okafor@acme.example"}
NOTES = Path("docs/deployment/production/release-notes.md")
#: The fixture keeps the notes in the framework's artifact folder (searched too): bookkeeping,
#: so deleting them for the failing run leaves the release content, and its records, clean.
NOTES_KEPT = Path(".isdlc/phases/12-production/artifacts/release-notes.md")


def git(root: Path, *args: str, who: str = "dev") -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": who, "GIT_AUTHOR_EMAIL": AUTHORS[who],
           "GIT_COMMITTER_NAME": who, "GIT_COMMITTER_EMAIL": AUTHORS[who]}
    return subprocess.run(["git", *args], cwd=root, check=True, env=env, capture_output=True,
                          text=True).stdout.strip()


def gate_run(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "-q", "--gate=12", NOW,
                           *args], cwd=root, capture_output=True, text=True)


def verdict(root: Path, record: Path | str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root", str(root),
                           "verdict", str(record), *args], cwd=root, capture_output=True, text=True)


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example as a git repository of release 1.4.0, and its genuine records:
    GATE-12.xml PASS, GATE-12-pre.xml PASS, GATE-12-post.xml ROLLBACK, failing/GATE-12.xml FAIL
    (release notes missing). Every record is a replay (fixed clock), so verdict gets
    --allow-replay; a separate test shows a replay is refused without it."""
    root = tmp_path_factory.mktemp("released")
    shutil.copytree(EXAMPLE, root, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("gate-records"))
    (root / NOTES_KEPT).parent.mkdir(parents=True, exist_ok=True)
    (root / NOTES).rename(root / NOTES_KEPT)
    git(root, "init", "-q", "-b", "main")
    (root / ".deploygate" / "attestations.jsonl").rename(root / "signoffs.tmp")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "release 1.4.0")
    (root / "signoffs.tmp").rename(root / ".deploygate" / "attestations.jsonl")
    git(root, "add", "-A", who="sam")
    git(root, "commit", "-q", "-m", "sign-offs", who="sam")
    runs = [gate_run(root), gate_run(root, "--gate-stage=pre"),
            gate_run(root, "--gate-stage=post", "--gate-threshold=p99_ms=1")]
    notes = (root / NOTES_KEPT).read_bytes()
    (root / NOTES_KEPT).unlink()
    runs.append(gate_run(root, "--gate-record-dir=failing"))
    (root / NOTES_KEPT).write_bytes(notes)
    assert [r.returncode for r in runs] == [0, 0, 1, 1], [r.stdout[-2000:] for r in runs]
    return root


def edited(released: Path, tmp_path: Path, source: str, change: Callable[[str], str],
           name: str = "GATE-12.xml") -> Path:
    """A copy of a genuine record, changed by ``change`` (the forger's edit)."""
    target = tmp_path / name
    target.write_text(change((released / source).read_text()))
    return target


def case_of(xml: str, item_id: str) -> str:
    """The <testcase> element of one criterion, as text."""
    match = re.search(rf'<testcase [^>]*name="\[GATE-12\]\[{re.escape(item_id)}\] .*?</testcase>'
                      rf'|<testcase [^>]*name="\[GATE-12\]\[{re.escape(item_id)}\] [^"]*"[^>]*/>',
                      xml, re.S)
    assert match, item_id
    return match.group(0)


def passing_props(released: Path) -> str:
    xml = (released / "gate-records" / "GATE-12.xml").read_text()
    return re.search(r"<properties>.*?</properties>", xml, re.S).group(0)


def with_pass_claims(released: Path, xml: str) -> str:
    """The forger's finishing touch: the genuine PASS record's properties and decision
    testcase (same spec, same release) in place of this record's."""
    genuine = (released / "gate-records" / "GATE-12.xml").read_text()
    xml = re.sub(r"<properties>.*?</properties>", lambda _: passing_props(released), xml,
                 flags=re.S)
    decision = re.compile(r'<testcase classname="GATE-12.decision".*?</testcase>', re.S)
    return decision.sub(lambda _: decision.search(genuine).group(0), xml)


# -- honest records: both directions ------------------------------------------------------------

@pytest.mark.parametrize(("record", "code"), [
    ("gate-records/GATE-12.xml", 0), ("gate-records/GATE-12-pre.xml", 0),
    ("gate-records/GATE-12-post.xml", 2), ("failing/GATE-12.xml", 1)])
def test_genuine_records_exit_with_their_decision(released: Path, record: str,
                                                  code: int) -> None:
    done = verdict(released, record, "--allow-replay")
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr


def test_a_replay_is_not_a_gate_of_the_present(released: Path) -> None:
    done = verdict(released, "gate-records/GATE-12.xml")
    assert done.returncode == 4
    assert "it is a replay (--gate-now 2026-02-10T00:00:00Z), not a gate of the present" \
        in done.stderr
    assert "(replay)" in done.stdout


# -- --max-age: how old a record a deploy accepts -------------------------------------------------

def test_max_age_refuses_an_old_record_and_one_from_the_future(released: Path,
                                                               tmp_path: Path) -> None:
    """The genuine records were evaluated at 2026-02-10 (a fixed clock): older than a day,
    younger than ten years, whenever this runs until 2036."""
    record = "gate-records/GATE-12.xml"
    assert verdict(released, record, "--allow-replay", "--max-age", "3650d").returncode == 0
    done = verdict(released, record, "--allow-replay", "--max-age", "24h")
    assert done.returncode == 4, done.stderr
    assert ("it was evaluated at 2026-02-10T00:00:00Z, more than --max-age 1d ago: run the "
            "gate again") in done.stderr
    ahead = edited(released, tmp_path, record, lambda xml: xml.replace(
        'evaluated_at" value="2026-02-10T00:00:00Z"', 'evaluated_at" value="2099-01-01T00:00:00Z"'))
    done = verdict(released, ahead, "--allow-replay", "--max-age", "3650d")
    assert done.returncode == 4, done.stderr
    assert "evaluated at 2099-01-01T00:00:00Z, after this machine's clock" in done.stderr
    unreadable = edited(released, tmp_path, record, lambda xml: xml.replace(
        'evaluated_at" value="2026-02-10T00:00:00Z"', 'evaluated_at" value="soon"'))
    done = verdict(released, unreadable, "--allow-replay", "--max-age", "3650d")
    assert done.returncode == 4, done.stderr
    assert "its evaluation time 'soon' cannot be read" in done.stderr


@pytest.mark.parametrize("given", ["0h", "12", "1w", "-3d", "1.5h", ""])
def test_max_age_that_is_no_duration_is_a_usage_error(released: Path, given: str) -> None:
    done = verdict(released, "gate-records/GATE-12.xml", "--allow-replay", f"--max-age={given}")
    assert done.returncode == 4, done.stderr  # (never ROLLBACK's 2)
    assert "is not a duration: give a positive number and a unit" in done.stderr
    assert "Traceback" not in done.stderr


# -- forged records: every one exits 4 ----------------------------------------------------------

def drop_failing_lower_count_new_spec(xml: str) -> str:
    xml = xml.replace(case_of(xml, "release-notes"), "")
    xml = re.sub(r'(expected_criteria" value=")(\d+)', lambda m: m.group(1) +
                 str(int(m.group(2)) - 1), xml)
    return re.sub(r'(spec_sha256" value=")[0-9a-f]+', r"\g<1>" + "0" * 64, xml)


def drop_failing_lower_count(xml: str) -> str:
    xml = xml.replace(case_of(xml, "release-notes"), "")
    return re.sub(r'(expected_criteria" value=")(\d+)', lambda m: m.group(1) +
                  str(int(m.group(2)) - 1), xml)


def outcome_to(element: str) -> Callable[[str], str]:
    def change(xml: str) -> str:
        case = case_of(xml, "release-notes")
        forged = re.sub(r"<failure [^>]*>.*?</failure>", element, case, flags=re.S)
        return xml.replace(case, forged)
    return change


def nest_failure(xml: str) -> str:
    case = case_of(xml, "release-notes")
    forged = re.sub(r"(<failure [^>]*>.*?</failure>)", r"<system-out>\1</system-out>", case,
                    flags=re.S)
    return xml.replace(case, forged)


FORGED_FAILING = {
    "failing testcase deleted, count lowered, spec hash changed": (
        drop_failing_lower_count_new_spec, "was made by a spec with sha256 0000"),
    "failing testcase deleted, count lowered": (
        drop_failing_lower_count, "criteria of GATE-12's spec missing from the record: "
                                  "release-notes"),
    "failure turned N/A on a required artifact": (
        outcome_to('<skipped type="not-applicable" message="N/A"/>'),
        "release-notes is not_applicable, which its spec does not allow"),
    "failure turned waived without waivers": (
        outcome_to('<skipped type="waived" message="waived"/>'),
        "release-notes is waived, which its spec does not allow"),
    "failure turned prerequisite-skip": (
        outcome_to('<skipped type="prerequisite-unmet" message="skip"/>'),
        "the testcases make the decision SKIPPED, the record claims PASS"),
    "rollback type on an ordinary criterion": (
        outcome_to('<failure type="rollback-triggered" message="x"/>'),
        "is no outcome of a artifact"),
    "failure nested deeper in the testcase": (
        nest_failure, "the testcases make the decision FAIL, the record claims PASS"),
}


@pytest.mark.parametrize("attack", FORGED_FAILING)
def test_a_failing_record_forged_to_pass(released: Path, tmp_path: Path, attack: str) -> None:
    change, message = FORGED_FAILING[attack]
    record = edited(released, tmp_path, "failing/GATE-12.xml",
                    lambda xml: change(with_pass_claims(released, xml)))
    done = verdict(released, record, "--allow-replay")
    assert done.returncode == 4, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_flipped_claims(released: Path, tmp_path: Path) -> None:
    flip = {
        "decision property": lambda x: x.replace('"deploygate.decision" value="FAIL"',
                                                 '"deploygate.decision" value="PASS"'),
        "decision testcase and rows": lambda x: with_pass_claims(released, x).replace(
            '"deploygate.decision" value="PASS"', '"deploygate.decision" value="FAIL"'),
        "property only inside a testcase": lambda x: x.replace(
            '<property name="deploygate.decision" value="FAIL" />', "").replace(
            "<system-out>", '<properties><property name="deploygate.decision" value="PASS" />'
                            "</properties><system-out>", 1),
    }
    for what, change in flip.items():
        record = edited(released, tmp_path, "failing/GATE-12.xml", change)
        done = verdict(released, record, "--allow-replay")
        assert done.returncode == 4, (what, done.stderr)


def test_hand_written_record(released: Path, tmp_path: Path) -> None:
    sha = re.search(r'spec_sha256" value="([0-9a-f]+)', passing_props(released)).group(1)
    commit = git(released, "rev-parse", "HEAD")
    record = tmp_path / "GATE-12.xml"
    record.write_text(f"""<?xml version="1.0"?>
<testsuites><testsuite name="GATE-12" tests="1"><properties>
<property name="deploygate.gate" value="GATE-12"/>
<property name="deploygate.stage" value="all"/>
<property name="deploygate.decision" value="PASS"/>
<property name="deploygate.spec_sha256" value="{sha}"/>
<property name="deploygate.commit" value="{commit}"/>
</properties>
<testcase classname="GATE-12.decision" name="[GATE-12][gate-decision] Gate decision"/>
</testsuite></testsuites>""")
    done = verdict(released, record)
    assert done.returncode == 4
    assert "criteria of GATE-12's spec missing from the record" in done.stderr


# -- binding to what is being deployed ------------------------------------------------------------

def test_pass_pre_record_copied_over_a_rollback_post_record(released: Path,
                                                            tmp_path: Path) -> None:
    for genuine in ("GATE-12-pre.xml", "GATE-12.xml"):
        target = tmp_path / "GATE-12-post.xml"
        shutil.copy(released / "gate-records" / genuine, target)
        done = verdict(released, target, "--allow-replay")
        assert done.returncode == 4, genuine
        assert "its stage is " in done.stderr and "not 'post'" in done.stderr
    # Renamed to say what it is, the same file is trusted again; named for another gate it is not.
    shutil.copy(released / "gate-records" / "GATE-12-pre.xml", tmp_path / "GATE-12-pre.xml")
    assert verdict(released, tmp_path / "GATE-12-pre.xml", "--allow-replay").returncode == 0
    shutil.copy(released / "gate-records" / "GATE-12.xml", tmp_path / "GATE-11.xml")
    done = verdict(released, tmp_path / "GATE-11.xml", "--allow-replay")
    assert done.returncode == 4


def test_explicit_gate_and_stage_for_a_file_named_otherwise(released: Path,
                                                            tmp_path: Path) -> None:
    target = tmp_path / "record.xml"
    shutil.copy(released / "gate-records" / "GATE-12-pre.xml", target)
    done = verdict(released, target, "--allow-replay")
    assert done.returncode == 4
    assert "pass --gate and --stage" in done.stderr
    assert verdict(released, target, "--allow-replay", "--gate=12",
                   "--stage=pre").returncode == 0
    assert verdict(released, target, "--allow-replay", "--gate=12",
                   "--stage=post").returncode == 4


def test_stale_pass_of_an_older_release(released: Path, tmp_path: Path) -> None:
    clone = tmp_path / "next-release"
    git(tmp_path, "clone", "-q", str(released), str(clone))
    (clone / "CHANGELOG.md").write_text((clone / "CHANGELOG.md").read_text() + "\n- fix\n")
    git(clone, "commit", "-q", "-am", "a change after the gate ran", who="sam")
    record = released / "gate-records" / "GATE-12.xml"
    done = verdict(clone, record, "--allow-replay")
    assert done.returncode == 4
    assert "it is for commit" in done.stderr
    # Named explicitly: the old commit is trusted, another version is not.
    old = git(released, "rev-parse", "HEAD")
    assert verdict(clone, record, "--allow-replay", "--commit", old[:12]).returncode == 0
    done = verdict(clone, record, "--allow-replay", "--commit", old, "--version", "1.5.0")
    assert done.returncode == 4
    assert "it is for version '1.4.0', this is '1.5.0'" in done.stderr



def test_a_named_commit_is_resolved_in_the_project_whatever_the_step_sets(
        released: Path, tmp_path: Path) -> None:
    # A deploy step that runs in another repository's context (GIT_DIR, GIT_WORK_TREE set by
    # the CI) resolved --commit there: the project's own release was refused.
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    git(other, "commit", "-q", "--allow-empty", "-m", "unrelated")
    old = git(released, "rev-parse", "HEAD")
    record = released / "gate-records" / "GATE-12.xml"
    env = {**os.environ, "GIT_DIR": str(other / ".git"), "GIT_WORK_TREE": str(other)}
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root", str(released),
                           "verdict", str(record), "--allow-replay", "--commit", old[:12]],
                          cwd=released, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr

# -- the post stage accepts a pre record only through the same verification ---------------------

def test_post_stage_refuses_a_flipped_or_thinned_pre_record(example: GateProject) -> None:
    example.git_init()
    example.drop_attestation("security-sign-off")
    example.run("--gate=12", "--gate-stage=pre")
    pre = example.root / "gate-records" / "GATE-12-pre.xml"
    genuine = pre.read_text()
    assert 'deploygate.decision" value="FAIL"' in genuine
    pre.write_text(genuine.replace('deploygate.decision" value="FAIL"',
                                   'deploygate.decision" value="PASS"'))
    example.run("--gate=12", "--gate-stage=post")
    case = example.record("GATE-12-post").case("pre-stage-record")
    assert case["type"] == "not-met"
    assert "the testcases make the decision FAIL, the record claims PASS" in case["message"]
    # The failing testcase removed as well, and the count lowered: still no binding.
    thinned = genuine.replace(case_of(genuine, "security-sign-off"), "")
    thinned = re.sub(r'(expected_criteria" value=")(\d+)',
                     lambda m: m.group(1) + str(int(m.group(2)) - 1), thinned)
    pre.write_text(thinned.replace('deploygate.decision" value="FAIL"',
                                   'deploygate.decision" value="PASS"'))
    example.run("--gate=12", "--gate-stage=post")
    case = example.record("GATE-12-post").case("pre-stage-record")
    assert "missing from the record: security-sign-off" in case["message"]
