"""Fuzzing the readers with hypothesis (bounded budget): the spec loader, the state reader,
the sign-off and waiver readers, and the record reader behind `deploygate verdict`. The
property everywhere: a valid result or a clean, expected error; never another exception."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")
import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_deploygate.checks import build_registry, builtin_kinds
from pytest_deploygate.core.errors import SpecError, StateError
from pytest_deploygate.evidence.config import ProjectConfig
from pytest_deploygate.isdlc.state import load_state
from pytest_deploygate.records.reader import RecordError, read_record
from pytest_deploygate.spec.loader import load_spec
from pytest_deploygate.trust.waivers import WaiverStore

from conftest import REPO

KINDS = build_registry([builtin_kinds()])
BUDGET = settings(max_examples=120, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SPEC_TEXT = (REPO / "gate_specs" / "12-production.yaml").read_text()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10),
                                                                      children, max_size=4),
    max_leaves=20)


def write(directory: str, name: str, data: bytes | str) -> Path:
    path = Path(directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    return path


def mutate(text: str, data: st.DataObject) -> str:
    lines = text.splitlines()
    for _ in range(data.draw(st.integers(1, 5))):
        if not lines:
            break
        at = data.draw(st.integers(0, len(lines) - 1))
        choice = data.draw(st.sampled_from(["delete", "garble", "duplicate", "indent"]))
        if choice == "delete":
            del lines[at]
        elif choice == "garble":
            lines[at] = data.draw(st.text(max_size=40))
        elif choice == "duplicate":
            lines.insert(at, lines[at])
        else:
            lines[at] = "  " + lines[at]
    return "\n".join(lines)


@BUDGET
@given(st.data())
def test_spec_loader_mutated_builtin(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write(tmp, "12-production.yaml", mutate(SPEC_TEXT, data))
        try:
            spec = load_spec(path, KINDS)
        except SpecError as exc:
            assert all(line.startswith(f"{path}:") or line.startswith(str(path))
                       for line in exc.problems), exc.problems
        else:
            assert spec.items


@BUDGET
@given(json_values)
def test_spec_loader_any_document(document: object) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write(tmp, "12-x.yaml", json.dumps(document))
        with contextlib.suppress(SpecError):
            load_spec(path, KINDS)


@BUDGET
@given(st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode())))
def test_state_reader(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write(tmp, "state.json", raw)
        try:
            state = load_state(path)
        except StateError as exc:
            assert str(exc).startswith(str(path))
        else:
            for dotted in ("phases.12-production.status", "cloud_configuration.provider",
                           "a.b.c.d", "phases.0"):
                state.lookup(dotted).describe()


log_lines = st.one_of(
    st.text(max_size=60),
    st.fixed_dictionaries({"gate": st.one_of(st.integers(), st.text(max_size=8)),
                           "criterion": st.text(max_size=10), "signer": st.text(max_size=10),
                           "role": st.text(max_size=6), "at": st.text(max_size=25)},
                          optional={"expires": st.text(max_size=25), "present": json_values,
                                    "run": json_values, "justification": st.text(max_size=20)}
                          ).map(json.dumps))


@BUDGET
@given(st.lists(log_lines, max_size=8))
def test_signoff_and_waiver_readers(lines: list[str]) -> None:
    from pytest_deploygate.trust.signoffs import AttestationStore

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write(tmp, ".deploygate/attestations.jsonl", "\n".join(lines))
        write(tmp, ".deploygate/waivers.jsonl", "\n".join(lines))
        write(tmp, ".deploygate/approvers.yaml", "approvers: [{email: a@b.c, roles: [sre]}]\n")
        config = ProjectConfig(verify_authorship=False, waivers_enabled=True)
        store = AttestationStore.load(root, config)
        assert all(p.startswith(".deploygate/attestations.jsonl:") for p in store.line_problems)
        waivers = WaiverStore.load(root, config, disabled=False)
        assert all(isinstance(p, str) for p in waivers.problems)


RECORD = """<?xml version='1.0' encoding='utf-8'?>
<testsuites name="deploygate"><testsuite name="GATE-12" tests="2" failures="0" errors="0">
<properties><property name="deploygate.gate" value="GATE-12" />
<property name="deploygate.decision" value="PASS" />
<property name="deploygate.expected_criteria" value="1" /></properties>
<testcase classname="GATE-12.s" name="[GATE-12][a] A" />
<testcase classname="GATE-12.decision" name="[GATE-12][gate-decision] Gate decision" />
</testsuite></testsuites>
"""


@BUDGET
@given(st.data())
def test_record_reader_and_verdict(data: st.DataObject) -> None:
    from pytest_deploygate.cli.main import main

    text = data.draw(st.one_of(st.just(RECORD), st.text(max_size=100),
                               st.builds(lambda: RECORD).map(lambda t: mutate(t, data))))
    with tempfile.TemporaryDirectory() as tmp:
        path = write(tmp, "GATE-12.xml", text)
        try:
            read_record(path)
        except RecordError as exc:
            assert str(exc).startswith(str(path))
        code = main(["--root", tmp, "verdict", str(path)])
        assert code in (0, 1, 2, 3, 4, 5)
        if text != RECORD:
            assert code != 0 or "deploygate.decision\" value=\"PASS\"" in text


# -- issue 10 B and C: readers refuse the impossible, redaction never shows a secret -----------

secret_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
                      min_size=2, max_size=12).map(lambda s: "Zq7" + s)


@BUDGET
@given(user=secret_text, password=secret_text, values=st.lists(secret_text, max_size=3),
       fragment=st.one_of(st.none(), secret_text), with_names=st.booleans())
def test_redaction_never_shows_url_secrets(user: str, password: str, values: list[str],
                                           fragment: str | None, with_names: bool) -> None:
    from urllib.parse import quote

    from pytest_deploygate.core.redaction import redact_command, redact_text, redact_url

    query = "&".join((f"k{i}={quote(v, safe='')}" if with_names else quote(v, safe=""))
                     for i, v in enumerate(values))
    url = (f"https://{quote(user, safe='')}:{quote(password, safe='')}@example.test:8443/p"
           + (f"?{query}" if query else "") + (f"#t={quote(fragment, safe='')}" if fragment
                                               else ""))
    secrets = [user, password, *values, *([fragment] if fragment else [])]
    shown = [redact_url(url), redact_text(f"GET {url} failed: refused"),
             redact_command(["probe", f"--url={url}"]), redact_command(["probe", url]),
             redact_command(f"probe --url {url}")]
    for text in shown:
        assert "example.test" in text or text.endswith("***")
        for secret in secrets:
            assert secret not in text and quote(secret, safe="") not in text, (secret, text)


counter_values = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                           st.integers(-10, 10**6)).map(repr)


@BUDGET
@given(ok=counter_values, errors=counter_values, labels=st.sampled_from(["code", "status"]))
def test_metrics_capture_counters_are_finite_non_negative(ok: str, errors: str,
                                                          labels: str) -> None:
    from pytest_deploygate.checks.metrics_file import _error_ratio, _parse

    text = (f'http_requests_total{{{labels}="200"}} {ok}\n'
            f'http_requests_total{{{labels}="503"}} {errors}\n').replace("nan", "NaN")
    parsed = _parse(text.replace("inf", "Inf").encode())
    if isinstance(parsed, str):
        return
    values = [value for _, _, value in parsed.samples]
    assert all(value >= 0 and value == value and value != float("inf") for value in values)
    ratio = _error_ratio(parsed.samples)
    assert isinstance(ratio, str) or (labels == "code" and 0.0 <= ratio <= 1.0)


@BUDGET
@given(statuses=st.lists(st.one_of(st.none(), st.sampled_from(
    ["accepted", "underReview", "rejected"]), st.text(max_size=8)), max_size=3),
    severity=st.one_of(st.none(), json_values))
def test_sarif_suppressed_only_when_every_suppression_is_accepted(
        statuses: list[str | None], severity: object) -> None:
    from datetime import UTC, datetime

    from pytest_deploygate.checks.evidence_files import EvidenceFile
    from pytest_deploygate.checks.sarif import _results
    from pytest_deploygate.core.results import Evidence

    result: dict = {"ruleId": "R", "level": "error", "suppressions": [
        {"kind": "external", **({"status": s} if s is not None else {})} for s in statuses]}
    if severity is not None:
        result["properties"] = {"security-severity": severity}
    data = json.dumps({"version": "2.1.0", "runs": [{"results": [result]}]}).encode()
    scan = EvidenceFile("a.sarif", data, datetime.now(UTC), Evidence("file", "a.sarif"))
    found = _results(scan)
    suppressed = bool(statuses) and all(s in (None, "accepted") for s in statuses)
    if isinstance(found, str):
        assert severity is not None  # only an impossible severity makes the scan unusable
    elif suppressed:
        assert found == []
    else:
        assert [rule for rule, _, _ in found] == ["R"]
