"""Finding gate specs: the user's spec directory, the project's own checklists, the built-ins.

A gate is identified by its phase (see :mod:`pytest_deploygate.isdlc.layout`). For each phase the
first source that has it wins: the user's spec directory (``NN-slug.yaml``), then the
project's own checklists (``.isdlc/checklists/NN-slug-gate.md``, imported on the fly), then
the built-in library of the project's layout.

- 13-phase layout (the built-in specs' model): a gate is its number and slug from the file
  name (``12-production``), known as ``GATE-12``; within one source two gates with one number
  make that number ambiguous: select them by slug.
- 21-phase layout (today's framework): a gate is its canonical phase key (``13-production``;
  the checklist ``14-production-gate.md`` is an alias of it); a number selects a gate only
  where one key has that number (``02``, ``12`` and ``15`` never do).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_deploygate.core.errors import SelectionError
from pytest_deploygate.core.value_class import field, value_class
from pytest_deploygate.isdlc.layout import (
    CURRENT,
    LEGACY,
    Layout,
    current_phase,
    detect,
    key_number,
)
from pytest_deploygate.isdlc.state import StateDoc, phase_number

# (\Z, not $: "$" also matches before a final newline, so "12-production.yaml\n" was a spec.)
_SPEC_NAME = re.compile(r"^(?P<number>[0-9]{2,3})-(?P<slug>[a-z0-9][a-z0-9-]*)\.ya?ml\Z")
_CHECKLIST_NAME = re.compile(r"^(?P<number>[0-9]{2,3})-(?P<slug>[a-z0-9][a-z0-9-]*?)-gate\.md\Z")
_ORIGIN_WORDS = {"user": "user spec", "checklist": "project checklist", "builtin": "built-in"}


@value_class(frozen=True)
class SpecFile:
    """A gate spec (or checklist) on disk, before it is parsed."""

    gate: int
    slug: str
    path: Path
    origin: str  # "user", "checklist" or "builtin"
    #: Today's layout: the canonical phase key, the gate's identity (records, node ids).
    key: str | None = None
    layout: str = LEGACY

    @property
    def builtin(self) -> bool:
        """From the built-in library."""
        return self.origin == "builtin"

    @property
    def gate_id(self) -> str:
        """``GATE-12`` (13-phase layout) or the phase key ``13-production`` (today's)."""
        return self.key if self.key else f"GATE-{self.gate:02d}"

    def describe(self) -> str:
        """Where the spec came from, for records and ``deploygate show``."""
        if self.origin == "builtin":
            if self.layout == CURRENT:
                return f"builtin:{CURRENT}/{self.path.name}"
            return f"builtin:{self.path.name}"
        return f"{self.origin}:{self.path}"

    def source_words(self) -> str:
        """``project checklist .isdlc/checklists/14-production-gate.md`` for the header."""
        where = self.path.name if self.origin == "builtin" else str(self.path)
        return f"{_ORIGIN_WORDS.get(self.origin, self.origin)} {where}"


def builtin_spec_dir(layout: str = LEGACY) -> Path:
    """The built-in library: inside the installed package, or the repository's gate_specs/;
    today's layout has its own subfolder."""
    # (The package's own folder, as importlib.resources would give it for an installed
    # package, without importing importlib.resources: deploygate verdict calls this.)
    packaged = Path(__file__).resolve().parents[1] / "gate_specs"
    base = packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "gate_specs"
    return base / CURRENT if layout == CURRENT else base


def is_spec_name(name: str) -> bool:
    """Whether a file of the spec folder named so is read as a gate spec."""
    return _SPEC_NAME.match(name) is not None


def scan(directory: Path | None, origin: str = "user") -> list[SpecFile]:
    """Spec files (or, for origin "checklist", checklists) in one directory."""
    if directory is None or not directory.is_dir():
        return []
    pattern = _CHECKLIST_NAME if origin == "checklist" else _SPEC_NAME
    found = []
    for path in sorted(directory.iterdir()):
        match = pattern.match(path.name)
        # Anything named as a spec but a folder is one, so reading it says what is wrong
        # (a symlink to a device, a dangling one) instead of the gate quietly using the
        # built-in spec of that number.
        if match and not path.is_dir():
            found.append(SpecFile(int(match["number"]), f"{match['number']}-{match['slug']}",
                                  path, origin))
    return found


def available(user_dir: Path | None, checklist_dir: Path | None = None
              ) -> dict[int, list[SpecFile]]:
    """Gates by number, each from the first source that has that number (13-phase layout)."""
    by_gate: dict[int, list[SpecFile]] = {}
    for files in (scan(user_dir, "user"), scan(checklist_dir, "checklist"),
                  scan(builtin_spec_dir(), "builtin")):
        numbers_here: dict[int, list[SpecFile]] = {}
        for spec in files:
            numbers_here.setdefault(spec.gate, []).append(spec)
        for number, specs in numbers_here.items():
            by_gate.setdefault(number, specs)
    return by_gate


@value_class
class Library:
    """The gates available to one project, in its layout."""

    layout: Layout
    #: 13-phase layout: gates by number (several when a number is ambiguous in a source).
    by_gate: dict[int, list[SpecFile]] = field(default_factory=dict)
    #: Today's layout: gates by canonical phase key (several: ambiguous within a source).
    by_key: dict[str, list[SpecFile]] = field(default_factory=dict)
    #: Spec files named after no phase of the layout (still selectable by name).
    warnings: list[str] = field(default_factory=list)

    def select(self, expression: str, state: StateDoc | None) -> list[SpecFile]:
        """Resolve ``--gate`` (see :func:`select`); today's layout selects by phase key."""
        if not self.layout.current:
            return select(expression, self.by_gate, state)
        chosen: list[SpecFile] = []
        for token in (t.strip() for t in expression.split(",")):
            if not token:
                continue
            for spec in self._resolve(token, state):
                if spec not in chosen:
                    chosen.append(spec)
        if not chosen:
            raise SelectionError(f"--gate={expression!r} selects no gate")
        return chosen

    def keys(self) -> list[str]:
        """Phase keys that have a gate, in the layout's order."""
        return sorted(self.by_key, key=self.layout.order)

    def _resolve(self, token: str, state: StateDoc | None) -> list[SpecFile]:
        lowered = token.lower()
        if lowered == "all":
            if not self.by_key:
                raise SelectionError("--gate=all: no gate specs found")
            return [self._one(key, "all") for key in self.keys()]
        if lowered == "current":
            if state is None:
                raise SelectionError("--gate=current needs a readable state.json")
            phase, where = current_phase(state.data)
            if phase is None:
                raise SelectionError(
                    f"{state.path}: active_workflow.current_phase and current_phase are unset; "
                    f"--gate=current needs a phase (or pass --gate=KEY); {self._known()}")
            return [self._one(self.layout.canonical(phase), f"{where} {phase!r}")]
        number = re.fullmatch(r"(?:gate-)?([0-9]{1,3})", lowered)
        if number:
            wanted = int(number.group(1))
            keys = sorted({k for k in (*self.layout.keys, *self.by_key)
                           if key_number(k) == wanted}, key=self.layout.order)
            if len(keys) > 1:
                raise SelectionError(
                    f"--gate: {token!r} is ambiguous in the {self.layout.name} layout: "
                    f"{', '.join(keys)}; select one by its phase key")
            if not keys:
                raise SelectionError(f"--gate: no phase numbered {wanted:02d}; {self._known()}")
            return [self._one(keys[0], token)]
        return [self._one(self.layout.canonical(lowered), token)]

    def _one(self, key: str, asked: str) -> SpecFile:
        group = self.by_key.get(key)
        if not group:
            what = f"phase {key}" if key in self.layout.keys else repr(key)
            raise SelectionError(f"--gate: no gate for {what} ({asked}); {self._known()}")
        if len(group) > 1:
            listing = ", ".join(s.describe() for s in group)
            raise SelectionError(f"--gate: two specs for phase {key} in one place: {listing}; "
                                 "keep one")
        return group[0]

    def _known(self) -> str:
        if not self.by_key:
            return "no gate specs were found"
        return "phase keys with a gate: " + ", ".join(self.keys())


def open_library(user_dir: Path | None, checklist_dir: Path | None,
                 state: Mapping[str, Any] | None) -> Library:
    """The gates of a project: its layout detected from state.json and its checklists."""
    layout = detect(state, checklist_dir)
    if not layout.current:
        return Library(layout, by_gate=available(user_dir, checklist_dir))
    library = Library(layout)
    for files in (scan(user_dir, "user"), scan(checklist_dir, "checklist"),
                  scan(builtin_spec_dir(CURRENT), "builtin")):
        keys_here: dict[str, list[SpecFile]] = {}
        for found in files:
            key = layout.canonical(found.slug)
            if key not in layout.keys and found.origin != "builtin":
                library.warnings.append(
                    f"{found.path}: {found.slug!r} is no phase of the {CURRENT} layout; "
                    f"select it as --gate={found.slug}")
            spec = SpecFile(key_number(key) or found.gate, found.slug, found.path,
                            found.origin, key=key, layout=CURRENT)
            keys_here.setdefault(key, []).append(spec)
        for key, specs in keys_here.items():
            library.by_key.setdefault(key, specs)
    return library


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
        current, where = current_phase(state.data)
        number = phase_number(current) if isinstance(current, str) else None
        if number is None:
            raise SelectionError(
                f"{state.path}: {where} is {current!r}; --gate=current needs a phase "
                "like '12-production' (or pass --gate=N)"
            )
        for spec in specs.get(number, []):
            if spec.slug == current:
                return [spec]
        return [_by_number(number, specs, f"{where} {current!r}")]
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


def spec_source(spec_file: SpecFile, cache_dir: Path) -> tuple[Path, bytes | None]:
    """The YAML spec of a spec file: itself (None: read the file), or its checklist imported
    now (the path it is written to, and the bytes imported, which are what counts)."""
    if spec_file.origin != "checklist":
        return spec_file.path, None
    from pytest_deploygate.importer import ChecklistError

    try:
        return imported_spec(spec_file.path, cache_dir, spec_file.layout)
    except ChecklistError as exc:
        raise SelectionError(f"{spec_file.path.parent / str(exc)}") from None


def imported_spec(checklist: Path, cache_dir: Path, layout: str = LEGACY
                  ) -> tuple[Path, bytes]:
    """Import a project checklist: where the spec is written (for people to read, named by
    content hash and layout) and its bytes.

    The checklist is imported by every call and the spec loaded from these bytes, never from
    the file: the private cache is this user's, so anything the job's own user ran before (a
    pull request's tests on a persistent runner) could have written a spec of its choosing
    there, which a gate would then have run and signed, and a verdict accepted.
    """
    from pytest_deploygate.importer import import_checklist, read_checklist
    from pytest_deploygate.importer.emit import to_yaml

    data, text = read_checklist(checklist)
    digest = hashlib.sha256(data + _importer_fingerprint()).hexdigest()[:20]
    suffix = f"-{layout}" if layout != LEGACY else ""
    target = cache_dir / f"{checklist.stem}{suffix}-{digest}.yaml"
    spec = to_yaml(import_checklist(checklist, text, layout=layout)).encode("utf-8")
    import contextlib

    from pytest_deploygate.core.atomic import write_atomic

    with contextlib.suppress(OSError):  # only a copy for people: the spec is the bytes returned
        write_atomic(target, spec)
    return target, spec


def _importer_fingerprint() -> bytes:
    # A cached import is only as good as the importer that made it: a changed importer (an
    # upgrade of the plugin) imports again.
    from pytest_deploygate import importer

    digest = hashlib.sha256()
    for source in sorted(Path(importer.__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.digest()
