"""YAML merge keys with an override, as release engineers write shared defaults.

``{<<: *defaults, timeout: 9}`` is YAML's way of saying "these defaults, but this one
differently"; it was refused as a key said twice, although the mapping's own text says it
once. A key the mapping's own text says twice is still refused, merge or not.
"""

from __future__ import annotations

from conftest import GateProject, custom_gate

GOOD = "- {id: good, text: Phases recorded, check: &good {kind: state, path: phases}}\n"
BAD = "- {id: bad, text: Nowhere recorded, check: &bad {kind: state, path: nowhere}}\n"


def test_a_merged_default_overridden_by_the_mapping_is_the_override(
        example: GateProject) -> None:
    # The merged check's path (phases) would pass; the override (nowhere) must decide.
    custom_gate(example, GOOD + "- {id: merged, text: Merged, "
                                "check: {<<: *good, path: nowhere}}")
    example.run("--gate=12", "-p", "no:cacheprovider").assert_outcomes(passed=1, failed=1)
    custom_gate(example, BAD + "- {id: merged, text: Merged, check: {<<: *bad, path: phases}}")
    example.run("--gate=12", "-p", "no:cacheprovider").assert_outcomes(passed=1, failed=1)


def test_a_later_merged_map_overridden_by_an_earlier_one(example: GateProject) -> None:
    # ``<<: [*a, *b]``: the earlier map wins, as YAML says.
    custom_gate(example, GOOD + BAD + "- {id: merged, text: Merged, "
                                      "check: {<<: [*good, *bad]}}")
    example.run("--gate=12", "-p", "no:cacheprovider").assert_outcomes(passed=2, failed=1)
    custom_gate(example, GOOD + BAD + "- {id: merged, text: Merged, "
                                      "check: {<<: [*bad, *good]}}")
    example.run("--gate=12", "-p", "no:cacheprovider").assert_outcomes(passed=1, failed=2)


def test_a_key_the_mapping_says_twice_is_still_refused(example: GateProject) -> None:
    custom_gate(example, GOOD + "- {id: merged, text: Merged, "
                                "check: {<<: *good, path: phases, path: nowhere}}")
    result = example.run("--gate=12", "-p", "no:cacheprovider")
    out = result.stdout.str() + result.stderr.str()
    assert result.ret != 0
    assert "path: key appears twice; keep one" in out, out
    assert "Traceback" not in out
