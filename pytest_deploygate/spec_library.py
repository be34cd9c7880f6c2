"""Finding gate specs: the user's spec directory, the project's own checklists, the built-ins.

A gate is its number and its slug from the file name (``12-production``). For a gate number,
the first source that has it wins: the user's spec directory (``NN-slug.yaml``), then the
project's own checklists (``.isdlc/checklists/NN-slug-gate.md``, imported on the fly), then
the built-in library. A project on a newer layout of the framework, whose gate 11 is local
testing, thus gets its own gate 11. Within one source, two gates with one number make that
number ambiguous: select them by slug.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pytest_deploygate.errors import SelectionError
from pytest_deploygate.state import StateDoc, phase_number

_SPEC_NAME = re.compile(r"^(?P<number>[0-9]{2,3})-(?P<slug>[a-z0-9][a-z0-9-]*)\.ya?ml$")
_CHECKLIST_NAME = re.compile(r"^(?P<number>[0-9]{2,3})-(?P<slug>[a-z0-9][a-z0-9-]*?)-gate\.md$")


@dataclass(frozen=True)
class SpecFile:
    """A gate spec (or checklist) on disk, before it is parsed."""

    gate: int
    slug: str
    path: Path
    origin: str  # "user", "checklist" or "builtin"

    @property
    def builtin(self) -> bool:
        """From the built-in library."""
        return self.origin == "builtin"

    @property
    def gate_id(self) -> str:
        """``GATE-12``."""
        return f"GATE-{self.gate:02d}"

    def describe(self) -> str:
        """Where the spec came from, for records and ``deploygate show``."""
        if self.origin == "builtin":
            return f"builtin:{self.path.name}"
        return f"{self.origin}:{self.path}"


def builtin_spec_dir() -> Path:
    """The built-in library: inside the installed package, or the repository's gate_specs/."""
    packaged = Path(str(resources.files("pytest_deploygate").joinpath("gate_specs")))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "gate_specs"


def scan(directory: Path | None, origin: str = "user") -> list[SpecFile]:
    """Spec files (or, for origin "checklist", checklists) in one directory."""
    if directory is None or not directory.is_dir():
        return []
    pattern = _CHECKLIST_NAME if origin == "checklist" else _SPEC_NAME
    found = []
    for path in sorted(directory.iterdir()):
        match = pattern.match(path.name)
        if match and path.is_file():
            found.append(SpecFile(int(match["number"]), f"{match['number']}-{match['slug']}",
                                  path, origin))
    return found


def available(user_dir: Path | None, checklist_dir: Path | None = None
              ) -> dict[int, list[SpecFile]]:
    """Gates by number, each from the first source that has that number."""
    by_gate: dict[int, list[SpecFile]] = {}
    for files in (scan(user_dir, "user"), scan(checklist_dir, "checklist"),
                  scan(builtin_spec_dir(), "builtin")):
        numbers_here: dict[int, list[SpecFile]] = {}
        for spec in files:
            numbers_here.setdefault(spec.gate, []).append(spec)
        for number, specs in numbers_here.items():
            by_gate.setdefault(number, specs)
    return by_gate


def select(expression: str, specs: dict[int, list[SpecFile]], state: StateDoc | None
           ) -> list[SpecFile]:
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


def _resolve(token: str, specs: dict[int, list[SpecFile]], state: StateDoc | None
             ) -> list[SpecFile]:
    lowered = token.lower()
    if lowered == "all":
        if not specs:
            raise SelectionError("--gate=all: no gate specs found")
        return [spec for number in sorted(specs) for spec in specs[number]]
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
        for spec in specs.get(number, []):
            if spec.slug == current:
                return [spec]
        return [_by_number(number, specs, f"current_phase {current!r}")]
    match = re.fullmatch(r"(?:gate-)?([0-9]{1,3})", lowered)
    if match:
        return [_by_number(int(match.group(1)), specs, token)]
    for group in specs.values():
        for spec in group:
            if spec.slug == lowered:
                return [spec]
    raise SelectionError(f"--gate: no gate {token!r}; {_known(specs)}")


def _by_number(number: int, specs: dict[int, list[SpecFile]], asked: str) -> SpecFile:
    group = specs.get(number)
    if not group:
        raise SelectionError(f"--gate: no spec for gate {number} ({asked}); {_known(specs)}")
    if len(group) > 1:
        listing = ", ".join(f"{s.slug} ({s.describe()})" for s in group)
        raise SelectionError(f"--gate: gate {number} is ambiguous: {listing}; select one by "
                             "its slug")
    return group[0]


def _known(specs: dict[int, list[SpecFile]]) -> str:
    if not specs:
        return "no gate specs were found"
    return "available: " + ", ".join(s.slug for n in sorted(specs) for s in specs[n])


def spec_path(spec_file: SpecFile, cache_dir: Path) -> Path:
    """The YAML spec of a spec file: itself, or its checklist imported (cached)."""
    if spec_file.origin != "checklist":
        return spec_file.path
    from pytest_deploygate.importer import ChecklistError

    try:
        return imported_spec_path(spec_file.path, cache_dir)
    except ChecklistError as exc:
        raise SelectionError(f"{spec_file.path.parent / str(exc)}") from None


def imported_spec_path(checklist: Path, cache_dir: Path) -> Path:
    """Import a project checklist (cached by content hash) and return the spec file."""
    from pytest_deploygate.importer import import_checklist
    from pytest_deploygate.importer.emit import to_yaml

    data = checklist.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:20]
    target = cache_dir / f"{checklist.stem}-{digest}.yaml"
    if not target.is_file():
        spec = import_checklist(checklist, data.decode("utf-8-sig"))
        from pytest_deploygate.records.atomic import write_atomic

        write_atomic(target, to_yaml(spec).encode("utf-8"))
    return target
