"""The report header of a gate run: gates, layout and why, spec sources, clock and signing,
read from pytest's own output lines; nothing of it without --gate."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import NOW, GateProject


def ssh_key(directory: Path, name: str) -> tuple[Path, str]:
    """A new Ed25519 key made by ssh-keygen, and its fingerprint as ssh-keygen prints it."""
    path = directory / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)],
                   check=True, capture_output=True)
    listing = subprocess.run(["ssh-keygen", "-lf", f"{path}.pub"], check=True,
                             capture_output=True, text=True).stdout
    return path, listing.split()[1]


def header(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if line.startswith("deploygate")]


def test_without_gate_nothing_is_printed(example: GateProject) -> None:
    result = example.run("--collect-only")
    assert header(result) == []


def test_replayed_run_names_gates_layout_source_and_clock(example: GateProject) -> None:
    result = example.run("--gate=12", "--gate-stage=pre", "--collect-only", NOW)
    result.stdout.fnmatch_lines([
        "deploygate: --gate=12 selects GATE-12-pre (stage pre)",
        "deploygate: iSDLC 13-phase layout (state.json names phase *)",
        "deploygate: GATE-12 from built-in 12-production.yaml",
        "deploygate: clock replayed at 2026-06-01T12:00:00Z (--gate-now)",
        "deploygate: signing off (records are unsigned)",
    ])
    assert not any("real time" in line for line in header(result))


def test_real_clock_is_said_to_be_real(example: GateProject) -> None:
    result = example.run("--gate=12", "--collect-only")
    clock = [line for line in header(result) if "clock" in line]
    assert len(clock) == 1 and clock[0].startswith("deploygate: clock real time, "), clock
    assert clock[0].endswith("Z")


def test_user_spec_is_named_by_its_path(example: GateProject) -> None:
    spec_dir = example.root / "gate_specs"
    spec_dir.mkdir(exist_ok=True)
    (spec_dir / "12-production.yaml").write_text(
        "spec_version: 1\ngate: 12\nid: GATE-12\ntitle: Ours\nphase: 12-production\n"
        "decision: [{id: ok, title: OK}]\nsections:\n- id: s\n  title: S\n  stage: pre\n"
        "  criteria:\n  - {id: up, text: Up, check: {kind: state, path: phases}}\n")
    result = example.run("--gate=12", "--collect-only", NOW)
    result.stdout.fnmatch_lines(
        ["deploygate: GATE-12 from user spec *gate_specs/12-production.yaml"])


def test_signing_key_and_allowed_signers(example: GateProject, tmp_path: Path) -> None:
    key, fingerprint = ssh_key(tmp_path, "gate")
    assert fingerprint.startswith("SHA256:")
    result = example.run("--gate=12", "--gate-stage=pre", f"--gate-sign-key={key}",
                         "--collect-only")
    result.stdout.fnmatch_lines([f"deploygate: signing records with key {fingerprint} ({key})"])
    assert not any("signing off" in line for line in header(result))

    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"gate@ci {Path(f'{key}.pub').read_text()}")
    result = example.run("--gate=12", "--gate-stage=post", f"--gate-allowed-signers={allowed}",
                         "--collect-only", NOW)
    result.stdout.fnmatch_lines([
        "deploygate: signing off (records are unsigned)",
        f"deploygate: the pre record must be signed by allowed signers {allowed} "
        "(--gate-allowed-signers)"])
    result = example.run("--gate=12", "--gate-stage=post", f"--gate-sign-key={key}",
                         "--collect-only")
    result.stdout.fnmatch_lines([f"deploygate: the pre record must be signed by the public "
                                 f"half of {key}"])


def test_header_is_printed_once_under_xdist(example: GateProject) -> None:
    pytest.importorskip("xdist")
    result = example.run("--gate=12", "-n", "2", NOW)
    assert [line for line in header(result) if "clock" in line] == [
        "deploygate: clock replayed at 2026-06-01T12:00:00Z (--gate-now)"]
