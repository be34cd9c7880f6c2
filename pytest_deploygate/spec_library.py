"""Finding gate specs: the built-in library and the user's own spec directory.

Files are named ``NN-slug.yaml``; the gate number comes from the file name, so selecting gate
12 reads only gate 12's spec (a broken spec of another gate does not stop this one). A user's
spec of a gate replaces the built-in spec of the same gate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pytest_deploygate.errors import SelectionError
from pytest_deploygate.state import StateDoc, phase_number

_SPEC_NAME = re.compile(r"^(?P<number>[0-9]{2,3})-(?P<slug>[a-z0-9][a-z0-9-]*)\.ya?ml$")


@dataclass(frozen=True)
class SpecFile:
    """A gate spec on disk, before it is parsed."""

    gate: int
    slug: str
    path: Path
    builtin: bool

    @property
    def gate_id(self) -> str:
        """``GATE-12``."""
        return f"GATE-{self.gate:02d}"


def builtin_spec_dir() -> Path:
    """The built-in library: inside the installed package, or the repository's gate_specs/."""
    packaged = Path(str(resources.files("pytest_deploygate").joinpath("gate_specs")))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "gate_specs"


def scan(directory: Path, builtin: bool) -> list[SpecFile]:
    """Spec files in one directory, by file-name convention."""
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.iterdir()):
        match = _SPEC_NAME.match(path.name)
        if match and path.is_file():
            slug = f"{match['number']}-{match['slug']}"
            found.append(SpecFile(int(match["number"]), slug, path, builtin))
    return found


def available(user_dir: Path | None) -> dict[int, SpecFile]:
    """Every gate by number; a user's spec overrides the built-in one of the same gate."""
    by_gate: dict[int, SpecFile] = {s.gate: s for s in scan(builtin_spec_dir(), True)}
    user: dict[int, SpecFile] = {}
    for spec in scan(user_dir, False) if user_dir else []:
        if spec.gate in user:
            raise SelectionError(
                f"gate {spec.gate} has two specs in {user_dir}: {user[spec.gate].path.name} and "
                f"{spec.path.name}; keep one"
            )
        user[spec.gate] = spec
    by_gate.update(user)
    return by_gate


def select(expression: str, specs: dict[int, SpecFile], state: StateDoc | None) -> list[SpecFile]:
    """Resolve ``--gate``: ``12``, ``GATE-12``, ``12-production``, ``10,11,12``, ``current``,
    ``all``. Raise :class:`SelectionError` naming what exists."""
    chosen: list[SpecFile] = []
    for token in (t.strip() for t in expression.split(",")):
        if not token:
            continue
        for spec in _resolve(token, specs, state):
            if spec not in chosen:
                chosen.append(spec)
    if not chosen:
        raise SelectionError(f"--gate={expression!r} selects no gate")
    return chosen


def _resolve(token: str, specs: dict[int, SpecFile], state: StateDoc | None) -> list[SpecFile]:
    lowered = token.lower()
    if lowered == "all":
        if not specs:
            raise SelectionError("--gate=all: no gate specs found")
        return [specs[number] for number in sorted(specs)]
    if lowered == "current":
        if state is None:
            raise SelectionError("--gate=current needs a readable state.json")
        current = state.get("current_phase")
        number = phase_number(current) if isinstance(current, str) else None
        if number is None:
            raise SelectionError(
                f"{state.path}: current_phase is {current!r}; --gate=current needs a phase "
                "like '12-production' (or pass --gate=N)"
            )
        return [_by_number(number, specs, f"current_phase {current!r}")]
    match = re.fullmatch(r"(?:gate-)?([0-9]{1,3})", lowered)
    if match:
        return [_by_number(int(match.group(1)), specs, token)]
    for spec in specs.values():
        if spec.slug == lowered:
            return [spec]
    raise SelectionError(f"--gate: no gate {token!r}; {_known(specs)}")


def _by_number(number: int, specs: dict[int, SpecFile], asked: str) -> SpecFile:
    if number not in specs:
        raise SelectionError(f"--gate: no spec for gate {number} ({asked}); {_known(specs)}")
    return specs[number]


def _known(specs: dict[int, SpecFile]) -> str:
    if not specs:
        return "no gate specs were found"
    return "available: " + ", ".join(specs[n].slug for n in sorted(specs))
