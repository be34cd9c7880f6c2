"""Red team on waivers, sign-offs, write-back and the stage binding (attack-waive): each test
is an attack by a developer of the gated project who is not (or not only) an approver."""

from __future__ import annotations

import json

from conftest import GateProject


def _monorepo(project: GateProject, ids: tuple[str, ...]) -> None:
    """The example's state moved into one state per project, committed as one repository."""
    base = project.state()
    for pid in ids:
        state = json.loads(json.dumps(base))
        state["project"]["name"] = pid
        path = project.root / ".isdlc" / "projects" / pid / "state.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(state))
    project.state_path.unlink()
    project.git_init()


def test_post_stage_does_not_bind_to_another_projects_pre_record(example: GateProject
                                                                  ) -> None:
    # svc-b's pre stage fails (its implementation gate did not pass), svc-a's
    # does; the post stage of svc-b pointed at svc-a's PASS pre record must not pass: same
    # gate, commit, tree, version and spec, but another project's decision.
    _monorepo(example, ("svc-a", "svc-b"))
    state_b = example.root / ".isdlc" / "projects" / "svc-b" / "state.json"
    data = json.loads(state_b.read_text())
    data["phases"]["05-implementation"].update(gate_passed=False, status="in_progress")
    state_b.write_text(json.dumps(data))
    example.git("add", "-A")
    example.git("commit", "-q", "-m", "svc-b: implementation gate not passed")
    assert example.run("--gate=12", "--gate-stage=pre", "--gate-project=svc-a").ret == 0
    example.run("--gate=12", "--gate-stage=pre", "--gate-project=svc-b")
    assert example.record("svc-b/GATE-12-pre").decision == "FAIL"
    result = example.run("--gate=12", "--gate-stage=post", "--gate-project=svc-b",
                         "--gate-pre-record=gate-records/svc-a/GATE-12-pre.xml",
                         "--gate-update-state")
    record = example.record("svc-b/GATE-12-post")
    case = record.case("pre-stage-record")
    assert result.ret == 1, case
    assert "does not bind" in case["message"]
    assert "it is a record of project 'svc-a', this is 'svc-b'" in case["message"]
    assert json.loads(state_b.read_text())["phases"]["12-production"]["gate_passed"] is False
