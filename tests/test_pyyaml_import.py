"""PyYAML imported through core/pyyaml.py: its printable-character check, precompiled in a
cheaper form, must be exactly PyYAML's, and must be the one PyYAML ends up using."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from pytest_deploygate.core.pyyaml import NON_PRINTABLE, PYYAML_NON_PRINTABLE, yaml
from pytest_deploygate.core.yaml_lines import YamlSyntaxError, load_yaml

#: Every code point, lone surrogates included (a Python str can hold them).
EVERY_CHARACTER = "".join(map(chr, range(sys.maxunicode + 1)))


def test_the_cheaper_pattern_matches_exactly_the_characters_pyyaml_refuses() -> None:
    ours = re.compile(NON_PRINTABLE).findall(EVERY_CHARACTER)
    theirs = re.compile(PYYAML_NON_PRINTABLE).findall(EVERY_CHARACTER)
    assert ours == theirs
    assert 2000 < len(ours) < 3000  # the C0/C1 controls, the surrogates, U+FFFE/U+FFFF


def _in_a_fresh_interpreter(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


@pytest.mark.parametrize("module", ["pytest_deploygate.core.yaml_lines",
                                    "pytest_deploygate.core.yaml_events",
                                    "pytest_deploygate.core.yaml_nodes",
                                    "pytest_deploygate.importer.emit"])
def test_every_module_that_reads_or_writes_yaml_gives_pyyaml_the_precompiled_pattern(
        module: str) -> None:
    # Fails when a module imports PyYAML before core/pyyaml.py, and when PyYAML writes its
    # pattern differently (the cache key would no longer match: update PYYAML_NON_PRINTABLE).
    shown = _in_a_fresh_interpreter(
        f"import {module}, yaml; print(yaml.reader.Reader.NON_PRINTABLE.pattern == "
        f"{NON_PRINTABLE!r})")
    assert shown == "True"


def test_pyyaml_imported_before_keeps_its_own_pattern() -> None:
    shown = _in_a_fresh_interpreter(
        "import yaml, pytest_deploygate.core.pyyaml; "
        f"print(yaml.reader.Reader.NON_PRINTABLE.pattern == {PYYAML_NON_PRINTABLE!r})")
    assert shown == "True"


@pytest.mark.parametrize("loader", [yaml.SafeLoader, getattr(yaml, "CSafeLoader", None)])
@pytest.mark.parametrize("character", ["\x07", "\x7f", "\x9f", "\ufffe"])
def test_a_spec_with_a_non_printable_character_is_still_refused(loader: type | None,
                                                                  character: str) -> None:
    if loader is None:
        pytest.skip("PyYAML was built without libyaml")
    with pytest.raises(YamlSyntaxError):
        load_yaml(f"id: GATE-12\ntitle: a{character}b\n", loader)


@pytest.mark.parametrize("loader", [yaml.SafeLoader, getattr(yaml, "CSafeLoader", None)])
def test_printable_characters_outside_ascii_still_read(loader: type | None) -> None:
    if loader is None:
        pytest.skip("PyYAML was built without libyaml")
    text = "Zoë \u00a0\u20ac\U0001F680\ue000"
    assert load_yaml(f"title: '{text}'\n", loader).data == {"title": text}
