"""Loading a gate spec: YAML with line numbers, the JSON Schema, then the rules a schema can't say.

The rules beyond the schema: criterion ids unique within the gate, check kinds known (and their
parameters valid for the kind), thresholds referenced by checks and texts defined, decision
rows referenced by sections defined. Every problem is one line with file, line and the path
inside the document.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from operator import itemgetter
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from pytest_deploygate.core.documents import read_yaml_document, schema_problems
from pytest_deploygate.core.errors import SpecError
from pytest_deploygate.core.frozen_data import freeze
from pytest_deploygate.core.private_cache import written_only_by_me
from pytest_deploygate.core.yaml_lines import LoadedYaml
from pytest_deploygate.core.yaml_refusals import format_path
from pytest_deploygate.spec.model import (
    OTHER_ROW_ID,
    ArtifactSpec,
    Branch,
    Check,
    Criterion,
    DecisionRow,
    GateSpec,
    NextPhase,
    placeholder_names,
)

SPEC_SCHEMA = "gate-spec.schema.json"
DEFAULT_ARTIFACT_DIRS = ("docs/deployment/production", "docs/deployment",
                         ".isdlc/phases/{phase}/artifacts", ".")


class KindSchema(Protocol):
    """What the loader needs of a check kind: the JSON Schema of its parameters (a
    :class:`~pytest_deploygate.checks.context.CheckKind` is one)."""

    @property
    def params_schema(self) -> Mapping[str, Any]:
        """The schema a check of this kind must satisfy, ``kind`` included."""
        ...


def load_spec(path: Path, kinds: Mapping[str, KindSchema],
              valid_marks: Path | None = None, max_bytes: int | None = None,
              data: bytes | None = None) -> GateSpec:
    """Load and validate one gate spec file; raise :class:`SpecError` listing every problem.

    ``valid_marks``: a directory remembering the content hashes of specs that passed the
    schema, so an unchanged spec is schema-checked once, not on every run (the rules beyond
    the schema always run). ``max_bytes``: the run's spec size limit (default: the default).
    ``data``: the spec's bytes when this process made them (an imported checklist: see
    :func:`~pytest_deploygate.spec.library.spec_source`), never read back from ``path``.
    """
    loaded = read_yaml_document(path, max_bytes, data)
    mark = _valid_mark(loaded, valid_marks)
    if mark is None or not mark.exists():
        problems = schema_problems(loaded, path, SPEC_SCHEMA)
        if problems:
            raise SpecError(problems)
        if mark is not None:
            try:
                mark.parent.mkdir(parents=True, exist_ok=True)
                mark.touch()
            except OSError:
                pass  # a read-only cache only costs the next run a validation
    builder = _Builder(path, loaded, kinds)
    spec = builder.build()
    if builder.problems:
        raise SpecError(sorted(builder.problems, key=_line_key))
    return spec


def _valid_mark(loaded: LoadedYaml, directory: Path | None) -> Path | None:
    """Where the mark "this content passed the schema" lives; None (validate, remember
    nothing) unless only this user can write there: a mark someone else could plant would let
    a spec skip its schema check."""
    if directory is None:
        return None
    from pytest_deploygate.core.documents import schema
    from pytest_deploygate.core.schema_check import validator_code_digest
    from pytest_deploygate.core.version import __version__

    marks = directory / "schema-valid"
    try:
        marks.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    if not (written_only_by_me(directory) and written_only_by_me(marks)):
        return None
    # The mark names what was validated, the parsed document, not a second read of the file
    # (which may have changed in between).
    digest = hashlib.sha256(repr(loaded.data).encode())
    digest.update(repr(sorted(schema(SPEC_SCHEMA).items())).encode())
    digest.update(__version__.encode())
    # ... and the code that judged it: a mark made by validators since fixed must not count.
    digest.update(validator_code_digest().encode())
    return marks / digest.hexdigest()


#: A (key, value) pair's key: sorts a check's parameters as the lambda it replaces did.
_first = itemgetter(0)


def _signature(kind_name: str, raw: Mapping[str, Any]) -> tuple[str, str]:
    """Equal for checks written alike (the same kind and parameters, keys in any order)."""
    return kind_name, repr(sorted(raw.items(), key=_first))


def _line_key(problem: str) -> tuple[int, str]:
    parts = problem.split(":")
    try:
        return int(parts[1]), problem
    except (IndexError, ValueError):
        return 0, problem


class _Builder:
    def __init__(self, path: Path, loaded: LoadedYaml, kinds: Mapping[str, KindSchema]) -> None:
        self.path = path
        self.loaded = loaded
        self.doc: dict[str, Any] = loaded.data
        self.kinds = kinds
        self.problems: list[str] = []
        self.thresholds: dict[str, float] = dict(self.doc.get("thresholds") or {})
        self.rows = {row["id"]: row["title"] for row in self.doc["decision"]}
        self.seen_ids: dict[str, tuple[str | int, ...]] = {}
        self.valid_checks: set[tuple[str, str]] = set()
        #: One parameter mapping per distinct check, shared by the checks written alike
        #: (hundreds of "attestation by qa"): a copy per criterion was memory for nothing.
        #: Nothing mutates a check's parameters; evaluators copy what they change.
        self.shared_params: dict[tuple[str, str], Mapping[str, Any]] = {}
        self.threshold_refs: dict[tuple[str, str],
                                  tuple[tuple[tuple[str | int, ...], str], ...]] = {}

    def problem(self, at: tuple[str | int, ...], message: str) -> None:
        line = self.loaded.line_of(at)
        self.problems.append(f"{self.path}:{line}: {format_path(at)}: {message}")

    def build(self) -> GateSpec:
        doc = self.doc
        self._check_rows()
        artifacts = {a["id"]: self._artifact(a, ("artifacts", i))
                     for i, a in enumerate(doc.get("artifacts") or [])}
        items = [*self._prerequisites(), *self._artifact_items(artifacts),
                 *self._sections(), *self._triggers()]
        raw_next = doc.get("next")
        slug = doc.get("slug") or self.path.stem
        return GateSpec(
            gate=doc["gate"],
            id=doc["id"],
            slug=slug,
            title=doc["title"],
            phase=doc["phase"],
            source=self.path,
            sha256=self.loaded.source_sha256,  # (of the bytes parsed, not a re-read)
            items=tuple(items),
            decision_rows=tuple(DecisionRow(k, v) for k, v in self.rows.items()),
            thresholds=self.thresholds,
            artifact_dirs=tuple(doc.get("artifact_dirs") or DEFAULT_ARTIFACT_DIRS),
            next=NextPhase(**raw_next) if raw_next else None,
            primary_agent=doc.get("primary_agent"),
            artifacts=artifacts,
            branches=tuple(self._branches()),
        )

    # -- parts of the document -------------------------------------------------------------

    def _branches(self) -> Iterator[Branch]:
        for index, raw in enumerate(self.doc.get("branches") or []):
            at = ("branches", index)
            nxt = raw.get("next")
            if not nxt and not raw.get("outcome"):
                self.problem(at, "a branch needs next or outcome")
            yield Branch(self._check(raw["when"], (*at, "when")),
                         NextPhase(**nxt) if nxt else None, raw.get("outcome"))

    def _check_rows(self) -> None:
        seen: set[str] = set()
        for index, row in enumerate(self.doc["decision"]):
            if row["id"] == OTHER_ROW_ID:
                self.problem(("decision", index, "id"),
                             f"'{OTHER_ROW_ID}' is reserved for the Other criteria row")
            if row["id"] in seen:
                self.problem(("decision", index, "id"),
                             f"decision row '{row['id']}' is defined twice")
            seen.add(row["id"])

    def _prerequisites(self) -> Iterator[Criterion]:
        for index, raw in enumerate(self.doc.get("prerequisites") or []):
            at = ("prerequisites", index)
            yield Criterion(
                id=self._unique_id(raw["id"], at),
                text=self._text(raw["text"], at),
                role="prerequisite",
                section_id="prerequisites",
                section_title="Prerequisites",
                stage="pre",
                decision=self._row(raw.get("decision"), at),
                check=self._check(raw["check"], (*at, "check")),
                waivable=False,
                line=self.loaded.line_of(at),
                note=raw.get("note") or raw.get("description"),
            )

    def _artifact(self, raw: Mapping[str, Any], at: tuple[str | int, ...]) -> ArtifactSpec:
        path = raw.get("path") or []
        if not path and "check" not in raw:
            self.problem(at, "an artifact without a path needs a check (e.g. a sign-off)")
        required = raw.get("required", True)
        if isinstance(required, Mapping):
            required = self._check(required, (*at, "required"))
        self._content_rules_on_folder(raw, at)
        return ArtifactSpec(
            id=raw["id"],
            name=raw["name"],
            paths=(path,) if isinstance(path, str) else tuple(path),
            required=required,
            contains=tuple(raw.get("contains") or ()),
            max_age_days=raw.get("max_age_days"),
            names_version=bool(raw.get("names_version", False)),
        )

    def _content_rules_on_folder(self, raw: Mapping[str, Any], at: tuple[str | int, ...]
                                 ) -> None:
        # ``contains``, ``names_version`` and ``max_age_days`` judge one file. A folder path
        # (``adrs/``) is judged by what it holds, so they would be skipped without a word and
        # the artifact pass on a folder of anything: refused where the spec says it.
        path = raw.get("path") or []
        folders = [p for p in ((path,) if isinstance(path, str) else path)
                   if isinstance(p, str) and p.endswith("/")]
        rules = [name for name, given in (("contains", bool(raw.get("contains"))),
                                          ("names_version", bool(raw.get("names_version"))),
                                          ("max_age_days", raw.get("max_age_days") is not None))
                 if given]
        if folders and rules:
            self.problem((*at, rules[0]),
                         f"{', '.join(rules)} judge(s) one file, and {folders[0]!r} is a "
                         "folder: name a file in it, or drop the rule")

    def _artifact_items(self, artifacts: Mapping[str, ArtifactSpec]) -> Iterator[Criterion]:
        for index, raw in enumerate(self.doc.get("artifacts") or []):
            at = ("artifacts", index)
            for pattern_index, pattern in enumerate(raw.get("contains") or ()):
                self._check_regex(pattern, (*at, "contains", pattern_index))
            check = (self._check(raw["check"], (*at, "check")) if "check" in raw else
                     Check("artifact", {"kind": "artifact", "artifact": raw["id"]},
                           self.loaded.line_of(at)))
            yield Criterion(
                id=self._unique_id(raw["id"], at),
                text=f"{raw['name']} present",
                role="artifact",
                section_id="artifacts",
                section_title="Required Artifacts",
                stage=raw.get("stage", "pre"),
                decision=self._row(raw.get("decision"), at),
                check=check,
                waivable=raw.get("waivable", True),
                line=self.loaded.line_of(at),
                artifact=artifacts[raw["id"]],
            )

    def _sections(self) -> Iterator[Criterion]:
        for s_index, section in enumerate(self.doc.get("sections") or []):
            s_at = ("sections", s_index)
            self._unique_id(section["id"], s_at, kind="section")
            row = self._row(section.get("decision"), s_at)
            section_when = self._when(section.get("when"), (*s_at, "when"))
            number = section.get("number")
            title = f"{number}. {section['title']}" if number is not None else section["title"]
            for c_index, raw in enumerate(section["criteria"]):
                at = (*s_at, "criteria", c_index)
                yield self._criterion(raw, at, "criterion", section["id"], title,
                                      section["stage"], row, section_when,
                                      section.get("waivable", True))

    def _triggers(self) -> Iterator[Criterion]:
        rollback = self.doc.get("rollback")
        if not rollback:
            return
        section_id = rollback.get("id", "rollback")
        self._unique_id(section_id, ("rollback",), kind="section")
        row = self._row(rollback.get("decision"), ("rollback",))
        title = rollback.get("title", "Rollback Criteria")
        for index, raw in enumerate(rollback["triggers"]):
            at = ("rollback", "triggers", index)
            if raw.get("waivable"):
                self.problem((*at, "waivable"), "rollback triggers are never waivable")
            yield self._criterion(raw, at, "trigger", section_id, title,
                                  rollback.get("stage", "post"), row, (), False)

    def _criterion(self, raw: Mapping[str, Any], at: tuple[str | int, ...], role: Any,
                   section_id: str, section_title: str, stage: Any, row: str,
                   section_when: tuple[Check, ...], section_waivable: bool) -> Criterion:
        check = self._check(raw["check"], (*at, "check")) if "check" in raw else None
        if check is None:
            # A criterion nobody can check automatically needs a recorded sign-off.
            check = Check("attestation", self._params("attestation", {"kind": "attestation"}),
                          self.loaded.line_of(at))
        waivable = bool(raw.get("waivable", True)) and section_waivable and role != "trigger"
        return Criterion(
            id=self._unique_id(raw["id"], at),
            text=self._text(raw["text"], at),
            role=role,
            section_id=section_id,
            section_title=section_title,
            stage=stage,
            decision=row,
            check=check,
            when=section_when + self._when(raw.get("when"), (*at, "when")),
            waivable=waivable,
            line=self.loaded.line_of(at),
            note=raw.get("note"),
            source_line=raw.get("source_line"),
        )

    # -- shared rules -----------------------------------------------------------------------

    def _unique_id(self, item_id: str, at: tuple[str | int, ...], kind: str = "criterion") -> str:
        key = f"{kind}:{item_id}"
        if key in self.seen_ids:
            first = self.loaded.line_of(self.seen_ids[key])
            self.problem((*at, "id"),
                         f"duplicate {kind} id '{item_id}' (first used on line {first})")
        else:
            self.seen_ids[key] = at
        return item_id

    def _row(self, row: str | None, at: tuple[str | int, ...]) -> str:
        if row is None:
            return OTHER_ROW_ID
        if row not in self.rows:
            known = ", ".join(self.rows)
            self.problem((*at, "decision"), f"unknown decision row '{row}' (rows: {known})")
        return row

    def _text(self, text: str, at: tuple[str | int, ...]) -> str:
        if "{" not in text:  # (no placeholder: most texts; once per criterion)
            return text
        for name in placeholder_names(text):
            if name not in self.thresholds:
                self.problem((*at, "text"), f"unknown threshold '{name}' in text; "
                             f"define it under thresholds")
        return text

    def _when(self, raw: Mapping[str, Any] | list[Any] | None, at: tuple[str | int, ...]
              ) -> tuple[Check, ...]:
        if isinstance(raw, list):  # every condition must hold
            return tuple(self._check(check, (*at, index)) for index, check in enumerate(raw))
        return (self._check(raw, at),) if raw else ()

    def _check(self, raw: Mapping[str, Any], at: tuple[str | int, ...]) -> Check:
        kind_name = raw["kind"]
        kind = self.kinds.get(kind_name)
        signature = _signature(kind_name, raw)
        if kind is None:
            known = ", ".join(sorted(self.kinds))
            self.problem(at, f"unknown kind '{kind_name}' (known kinds: {known})")
        else:
            # Identical checks (hundreds of "attestation by qa") are validated once.
            if signature not in self.valid_checks:
                errors = list(_kind_validator(kind).iter_errors(raw))
                for error in errors:
                    where = (*at, *error.absolute_path)
                    self.problem(where, f"{kind_name}: {error.message}")
                if not errors:
                    self.valid_checks.add(signature)
        refs = self.threshold_refs.get(signature)
        if refs is None:  # checks written alike name the same thresholds at the same places
            refs = self.threshold_refs[signature] = tuple(_threshold_refs(raw, ()))
        for ref_at, name in refs:
            if name not in self.thresholds:
                self.problem((*at, *ref_at), f"unknown threshold '{name}'; define it under "
                             "thresholds")
        return Check(kind_name, self._params(kind_name, raw, signature), self.loaded.line_of(at))

    def _params(self, kind_name: str, raw: Mapping[str, Any],
                signature: tuple[str, str] | None = None) -> Mapping[str, Any]:
        key = signature or _signature(kind_name, raw)
        shared = self.shared_params.get(key)
        if shared is None:
            # Read-only at every depth: checks written alike share this one mapping, so a
            # kind that wrote into its parameters would change every other criterion's check.
            shared = self.shared_params[key] = MappingProxyType(freeze(raw))
        return shared

    def _check_regex(self, pattern: str, at: tuple[str | int, ...]) -> None:
        import re

        try:
            re.compile(pattern)
        except re.error as exc:
            self.problem(at, f"not a valid regular expression: {exc}")


def _threshold_refs(value: Any, at: tuple[str | int, ...]
                    ) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, Mapping):
        if set(value) == {"threshold"} and isinstance(value["threshold"], str):
            yield at, value["threshold"]
            return
        for key, item in value.items():
            yield from _threshold_refs(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _threshold_refs(item, (*at, index))


#: A compiled validator per kind object. The kind is kept beside its validator and compared by
#: identity: an id alone could be reused by another kind once the first is gone, which would
#: check that kind's parameters against the wrong schema.
_KIND_VALIDATORS: dict[int, tuple[KindSchema, Any]] = {}


def _kind_validator(kind: KindSchema) -> Any:
    cached = _KIND_VALIDATORS.get(id(kind))
    if cached is None or cached[0] is not kind:
        from pytest_deploygate.core.schema_check import checker_for

        # Precompiled for the built-in kinds; a third-party kind's goes to jsonschema.
        cached = _KIND_VALIDATORS[id(kind)] = (kind, checker_for(kind.params_schema))
    return cached[1]


def apply_overrides(spec: GateSpec, config: Any, kinds: Mapping[str, KindSchema]
                    ) -> tuple[Criterion, ...]:
    """The spec's items with ``evidence:`` overrides of deploygate.yaml applied.

    An override replaces a criterion's check (answer ``error-rate-above-threshold`` from
    ``metrics_file`` instead of ``prometheus``) without copying the spec; it is validated like
    a check in a spec, with the config file's line numbers.
    """
    from pytest_deploygate.core.value_class import replace

    overrides = config.evidence
    if not overrides:
        return spec.items
    problems = []
    items = []
    source = config.display_name
    for item in spec.items:
        raw = overrides.get(item.id)
        if raw is None or item.role == "artifact":
            items.append(item)
            continue
        line = config.evidence_lines.get(item.id, 1)
        kind = kinds.get(raw["kind"])
        if kind is None:
            problems.append(f"{source}:{line}: evidence.{item.id}: unknown kind "
                            f"'{raw['kind']}' (known kinds: {', '.join(sorted(kinds))})")
            continue
        for error in _kind_validator(kind).iter_errors(raw):
            where = format_path(("evidence", item.id, *error.absolute_path))
            problems.append(f"{source}:{line}: {where}: {raw['kind']}: {error.message}")
        for _, name in _threshold_refs(raw, ()):
            if name not in spec.thresholds:
                problems.append(f"{source}:{line}: evidence.{item.id}: unknown threshold "
                                f"'{name}'")
        items.append(replace(item, check=Check(raw["kind"], dict(raw), line)))
    if problems:
        raise SpecError(problems)
    return tuple(items)
