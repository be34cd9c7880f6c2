"""Writing an imported spec as YAML: deterministic (byte-identical for the same checklist).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from typing import Any

from pytest_deploygate.core.pyyaml import yaml

HEADER = """\
# yaml-language-server: $schema=https://pytest-deploygate.invalid/schemas/gate-spec.schema.json
# Imported from {checklist} by `deploygate import`. Review it: criteria that need a person's
# judgement are sign-offs (add roles), conditions must be set in deploygate.yaml, and
# thresholds left null must be filled in. `deploygate import --check` reports drift.
"""


class _Dumper(yaml.SafeDumper):
    """Block style, with short check mappings kept on one line for readability."""


def _dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    flow = "kind" in data and all(not isinstance(v, dict | list) or
                                  (isinstance(v, list) and len(v) <= 12) for v in data.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


_Dumper.add_representer(dict, _dict)


def to_yaml(spec: dict[str, Any]) -> str:
    """The spec as YAML text with a header naming its source."""
    body = yaml.dump(spec, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=False)
    return HEADER.format(checklist=spec.get("checklist", "a checklist")) + body
