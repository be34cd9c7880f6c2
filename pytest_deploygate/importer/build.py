"""From a checklist outline to a gate spec (a plain, ordered dict ready for YAML).

Rules: every checkbox item, artifact row and prerequisite row becomes one item with a stable
slug id and its source line; ``(if ...)`` suffixes become named conditions the project must
set; numbers with comparators and ``{placeholders}`` become named thresholds; the
prerequisites table, constitutional criteria and explicit state.json references become real
checks where their meaning is certain; everything else needs a sign-off. Gate Decision rows
are mapped to sections by their words; a row nothing maps to is kept (shown as unmapped).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pytest_deploygate.importer import current
from pytest_deploygate.importer.parse import Item, Outline, Row, parse
from pytest_deploygate.importer.text import (
    condition_name,
    identifier,
    plain,
    slug,
    split_title,
    stem_words,
    strip_condition,
    thresholds_in,
)
from pytest_deploygate.isdlc.layout import (
    CURRENT,
    CURRENT_ARTIFACT_DIRS,
    Layout,
    checklist_layout,
    key_number,
)

_FILE_NAME = re.compile(r"^(?P<number>\d{2,3})-(?P<slug>[a-z0-9][a-z0-9-]*?)(-gate)?\.md$")
_CLOUD = ["aws", "gcp", "azure"]
_STATE_REF = re.compile(r"state\.json`?\s*(?:→|->)\s*`([A-Za-z0-9_.]+)`")


class ChecklistError(ValueError):
    """The checklist cannot be imported; ``line`` says where."""

    def __init__(self, source: str, line: int, message: str) -> None:
        self.line = line
        super().__init__(f"{source}:{line}: {message}")


def read_checklist(path: Path) -> tuple[bytes, str]:
    """A checklist's bytes and text, read as every reviewed document is (a regular file of
    at most the document limit, UTF-8); :class:`ChecklistError` on line 1 if it cannot be."""
    from pytest_deploygate.core.limits import DEFAULT_DOCUMENT_BYTES
    from pytest_deploygate.core.regular_files import UnusableFile, read_regular_file
    from pytest_deploygate.core.utf8 import NotUtf8, decode_utf8

    try:
        data = read_regular_file(path, DEFAULT_DOCUMENT_BYTES)
        return data, decode_utf8(data)
    except UnusableFile as exc:
        raise ChecklistError(path.name, 1, exc.reason) from None
    except NotUtf8 as exc:
        raise ChecklistError(path.name, exc.line, exc.detail) from None
    except OSError as exc:
        raise ChecklistError(path.name, 1, f"cannot read: {exc.strerror or exc}") from None


def import_checklist(path: Path, text: str | None = None, layout: str | None = None
                     ) -> dict[str, Any]:
    """The gate spec (as a dict) for one checklist file; a pure function of its content and
    the layout it is read in (default: judged by its file name)."""
    name = path.name
    match = _FILE_NAME.match(name)
    if not match:
        raise ChecklistError(name, 1, "file name must look like NN-name-gate.md (e.g. "
                                      "12-production-gate.md)")
    if text is None:
        text = read_checklist(path)[1]
    _refuse_control_characters(name, text)
    try:
        outline = parse(text)
    except RecursionError:
        raise ChecklistError(name, 1, "markdown nests too deeply") from None
    gate_slug = f"{match['number']}-{match['slug']}"
    return _Builder(name, int(match["number"]), gate_slug, outline,
                    layout or checklist_layout(gate_slug)).build()


def _refuse_control_characters(name: str, text: str) -> None:
    """A checklist holds no character a spec may not hold: the spec loader refused what the
    importer had written (an ESC sequence hides what a terminal prints after it; markdown
    turns a NUL into U+FFFD without a word). Refused here, at the checklist's line."""
    from pytest_deploygate.core.printable import non_printable

    found = non_printable().search(text)
    if found is not None:
        line = text.count("\n", 0, found.start()) + 1
        raise ChecklistError(name, line, f"holds control character {ord(found.group()):#06x}, "
                                         "which no reviewed document may hold; remove it")


class _Builder:
    def __init__(self, source: str, gate: int, gate_slug: str, outline: Outline,
                 layout: str) -> None:
        self.source = source
        self.gate = gate
        self.slug = gate_slug
        self.outline = outline
        self.ids: set[str] = set()
        self.thresholds: dict[str, float | None] = {}
        self.section_ids: set[str] = set()
        #: Today's layout: the gate is its phase key; older numbering in the text is mapped.
        self.today = layout == CURRENT
        self.key = Layout(layout, "").canonical(gate_slug)
        self.scopes = current.scope_regions(outline) if self.today else []

    def build(self) -> dict[str, Any]:
        outline = self.outline
        if not outline.items and not outline.tables:
            raise ChecklistError(self.source, 1, "no checkbox criteria and no tables found: "
                                                 "not a gate checklist")
        if outline.stray_boxes:
            # Read as a criterion by whoever reviews the markdown, judged by no one.
            raise ChecklistError(self.source, outline.stray_boxes[0],
                                 "a checkbox that is no list item of its own (a second line "
                                 "of an item, a paragraph, a table of no known kind, HTML) "
                                 "would be no criterion: write it as a list item '- [ ] ...'")
        spec: dict[str, Any] = {
            "spec_version": 1,
            "gate": self.gate,
            "id": f"GATE-{self.gate:02d}",
            "slug": self.slug,
            "title": self._title(),
            "phase": self.slug,
        }
        if self.today:
            spec.update(gate=key_number(self.key) or self.gate, id=self.key, phase=self.key)
        agent = outline.fields.get("primary agent")
        if agent:
            spec["primary_agent"] = plain(agent)
        spec["checklist"] = self.source
        if self.today and self.key in CURRENT_ARTIFACT_DIRS:
            spec["artifact_dirs"] = list(CURRENT_ARTIFACT_DIRS[self.key])
        nxt = self._next()
        if nxt:
            spec["next"] = nxt
        prerequisites = [self._prerequisite(row) for row in outline.tables.get("prerequisites",
                                                                              [])]
        artifacts = [self._artifact(row) for row in outline.tables.get("artifacts", [])]
        sections, rollback = self._sections()
        rows = self._decision_rows()
        self._map_rows(rows, sections, rollback, artifacts)
        spec["thresholds"] = dict(self.thresholds) if self.thresholds else {}
        spec["decision"] = [{"id": r["id"], "title": r["title"]} for r in rows] or [
            {"id": "gate-status", "title": "Gate Status"}]
        if prerequisites:
            spec["prerequisites"] = prerequisites
        if artifacts:
            spec["artifacts"] = artifacts
        spec["sections"] = sections
        if rollback:
            spec["rollback"] = rollback
        if not spec["thresholds"]:
            del spec["thresholds"]
        return spec

    # -- identity ------------------------------------------------------------------------------

    def _title(self) -> str:
        phase = self.outline.fields.get("phase")
        if phase:
            return plain(phase)
        title = re.sub(r"^Phase\s+\d+:\s*", "", self.outline.title)
        return re.sub(r"\s*(Gate\s*)?(Checklist)?\s*(\(.*\))?\s*$", "", title).strip() or \
            self.slug

    def _next(self) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        for raw in self.outline.next_lines:
            line = plain(raw).lstrip("-• ").strip()
            advance = re.search(r"Advance to Phase (\d+):\s*(.+)$", line)
            if advance and "gate" not in out:
                out["gate"], out["title"] = int(advance.group(1)), advance.group(2).strip()
            elif line.startswith("Primary Agent:") and "agent" not in out:
                out["agent"] = line.split(":", 1)[1].strip()
            elif line.startswith("Next Phase Handler:") and "handler" not in out:
                out["handler"] = line.split(":", 1)[1].strip()
        return out if "gate" in out else None

    def _unique(self, base: str) -> str:
        candidate, counter = base, 2
        while candidate in self.ids:
            candidate, counter = f"{base}-{counter}", counter + 1
        self.ids.add(candidate)
        return candidate

    # -- tables --------------------------------------------------------------------------------

    def _prerequisite(self, row: Row) -> dict[str, Any]:
        cells = [*row.cells, "", "", ""]
        name, description = plain(cells[0]), cells[2]
        if not name:
            raise ChecklistError(self.source, row.line, "prerequisite row without a name")
        item: dict[str, Any] = {"id": self._unique(slug(name)), "text": name}
        if description.strip():
            item["description"] = plain(description)
        gate = re.match(r"GATE-(\d+)\s+Passed", name, re.I)
        state = re.match(r"`([A-Za-z0-9_.]+)`\s+must be\s+(.+)$", description.strip())
        phase = current.prerequisite_phase(int(gate.group(1))) if gate and self.today else None
        if phase:
            item["check"] = {"kind": "gate_passed", "phases": [phase]}
        elif gate:
            item["check"] = {"kind": "gate_passed", "gate": int(gate.group(1))}
        elif state:
            values = [_literal(v) for v in re.findall(r"`([^`]+)`", state.group(2))]
            if len(values) == 1:
                item["check"] = {"kind": "state", "path": state.group(1), "equals": values[0]}
            else:
                item["check"] = {"kind": "state", "path": state.group(1), "in": values}
        else:
            item["check"] = {"kind": "condition", "name": identifier(name, "prerequisite")}
            item["note"] = f"set conditions.{item['check']['name']} in deploygate.yaml"
        item["source_line"] = row.line
        return item

    def _artifact(self, row: Row) -> dict[str, Any]:
        cells = [*row.cells, "", "", ""]
        name, path_cell, required_cell = plain(cells[0]), cells[1], cells[2].strip()
        if not name:
            raise ChecklistError(self.source, row.line, "artifact row without a name")
        paths = [p.strip() for p in re.findall(r"`([^`]+)`", path_cell) if p.strip()]
        paths = [p for p in paths if not p.startswith("/") and ".." not in p.split("/")]
        if self.today:
            paths = [current.artifact_path(p) for p in paths]
        item: dict[str, Any] = {"id": self._unique(slug(name)), "name": name}
        if paths:
            item["path"] = paths[0] if len(paths) == 1 else paths
        else:
            # "Pull request approvals": no file to look for, so a person attests it.
            item["check"] = {"kind": "attestation"}
        rest = re.sub(r"`[^`]+`", "", path_cell).strip(" ,")
        if rest and rest.lower() != "or":
            item["note"] = f"path cell also says: {plain(rest)}"
        item["required"] = self._required(required_cell, name, row.line)
        scope = current.scope_check(self.scopes, row.line)
        if scope is not None and item["required"] is True:
            item["required"] = scope  # required in its own scope, N/A in the others
        item["source_line"] = row.line
        return item

    def _required(self, cell: str, name: str, line: int) -> Any:
        text = plain(cell).lower()
        condition = re.search(r"\((if [^()]+)\)", text)  # (not quadratic: see text.py)
        if condition:
            if "cloud" in condition.group(1):
                return {"kind": "state", "path": "cloud_configuration.provider", "in": _CLOUD}
            return {"kind": "condition", "name": condition_name(name, condition.group(1))}
        # Remarks in parentheses ("(from Phase 00)", "(at least 1)") do not change the answer.
        word = re.sub(r"\([^)]*\)", " ", text).split()
        first = word[0] if word else ""
        if first in ("yes", "required", "mandatory"):
            return True
        if first in ("no", "optional", "recommended", "if", ""):
            return False  # "If found", "Optional (from Phase 00)": checked when present
        raise ChecklistError(self.source, line, f"Required cell {cell!r} is not Yes, No, "
                                                "Optional, 'Yes (if ...)' or 'If ...'")

    def _decision_rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for row in self.outline.tables.get("decision", []):
            title = plain(row.cells[0]) if row.cells else ""
            if not title:
                continue
            base = slug(title)
            rid = base if base not in {r["id"] for r in rows} else f"{base}-{len(rows)}"
            if rid == "other":
                rid = "other-row"
            rows.append({"id": rid, "title": title, "line": row.line, "words": stem_words(title)})
        return rows

    # -- criteria ------------------------------------------------------------------------------

    def _sections(self) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        sections: dict[tuple[str, str | None, str | None], dict[str, Any]] = {}
        rollback: dict[str, Any] | None = None
        for item in self.outline.items:
            if item.h3 is None and item.sub is None and "rollback" in item.h2.lower():
                if rollback is None:
                    rollback = {"id": self._section_id("rollback-criteria"),
                                "title": split_title(item.h2)[1], "stage": "post",
                                "h2": item.h2, "triggers": []}
                rollback["triggers"].append(self._criterion(item, trigger=True))
                continue
            key = (item.h2, item.h3, item.sub)
            section = sections.get(key)
            if section is None:
                section = sections[key] = self._section(item)
            section["criteria"].append(self._criterion(item))
        return list(sections.values()), rollback

    def _section(self, item: Item) -> dict[str, Any]:
        heading = item.h3 or item.h2 or "Criteria"
        number, title, condition = split_title(heading)
        full = title
        sub_condition = None
        if item.sub:
            _, sub_title, sub_condition = split_title(item.sub)
            full = f"{title}: {sub_title}"
        section: dict[str, Any] = {"id": self._section_id(slug(full)), "title": full,
                                   "stage": _stage(item.h2)}
        if number is not None:
            section["number"] = number
        conditions = [(name, phrase) for name, phrase in ((title, condition), (full, sub_condition))
                      if phrase]
        if conditions:
            base, phrase = conditions[-1]
            section["when"] = {"kind": "condition", "name": condition_name(base, phrase)}
        if re.search(r"constitutional compliance", title, re.I):
            section["waivable"] = False
        else:
            scope = current.scope_check(self.scopes, item.line)
            if scope is not None:
                # Criteria of one workflow scope are N/A in the others (never mandatory).
                section["when"] = [section["when"], scope] if "when" in section else scope
        section["criteria"] = []
        section["_h2"] = item.h2
        section["_h3"] = title
        section["_words"] = stem_words(title)
        return section

    def _section_id(self, base: str) -> str:
        candidate, counter = base, 2
        while candidate in self.section_ids:
            candidate, counter = f"{base}-{counter}", counter + 1
        self.section_ids.add(candidate)
        return candidate

    def _criterion(self, item: Item, trigger: bool = False) -> dict[str, Any]:
        text, condition = strip_condition(item.text)
        rendered, found = thresholds_in(plain(item.text), set(self.thresholds))
        self.thresholds.update(found)
        entry: dict[str, Any] = {"id": self._unique(slug(text)), "text": rendered}
        check = None
        if self.today:
            check = current.iteration_check(item.h3 or item.h2, item.text, found)
        check = check or self._check(item.text, found)
        if check:
            entry["check"] = check
        else:
            entry["check"] = {"kind": "attestation"}
        if condition:
            entry["when"] = {"kind": "condition", "name": condition_name(text, condition)}
        if trigger:
            entry["note"] = "rollback trigger: passes while the condition is absent"
        entry["source_line"] = item.line
        return entry

    def _check(self, text: str, found: dict[str, float | None]) -> dict[str, Any] | None:
        lowered = plain(text).lower()
        constitution = _constitution_check(lowered, found)
        if constitution:
            return constitution
        if lowered.startswith("all previous gates passed") and self.today:
            return {"kind": "gate_passed", "previous": True}
        if lowered.startswith("all previous gates passed") and self.gate > 1:
            return {"kind": "gate_passed", "gates": list(range(1, self.gate)),
                    "only_required": True}
        reference = _STATE_REF.search(text)
        if reference and reference.group(1).startswith("testing_infrastructure."):
            return {"kind": "state", "path": reference.group(1), "truthy": True}
        return None

    # -- Gate Decision rows ---------------------------------------------------------------------

    def _map_rows(self, rows: list[dict[str, Any]], sections: list[dict[str, Any]],
                  rollback: dict[str, Any] | None, artifacts: list[dict[str, Any]]) -> None:
        """Give each section, artifact and the rollback block its Gate Decision row."""
        claimed: dict[str, tuple[float, str]] = {}
        _claim_by_section_words(rows, sections, claimed)
        self._claim_by_heading_words(rows, sections, claimed)
        for section in sections:
            if section["id"] in claimed:
                section["decision"] = claimed[section["id"]][1]
        _map_named_rows(rows, rollback, artifacts)
        _drop_working_keys(rows, sections, rollback)

    def _claim_by_heading_words(self, rows: list[dict[str, Any]],
                                sections: list[dict[str, Any]],
                                claimed: dict[str, tuple[float, str]]) -> None:
        # A row not like any section may be like a whole part (H2) of the checklist: it then
        # claims that part's sections nobody claimed, at a lower score than a direct match.
        for row in rows:
            if row.get("mapped") or not row["words"]:
                continue
            for h2, _ in self.outline.h2_titles:
                h2_words = stem_words(split_title(h2)[1])
                if h2_words and len(row["words"] & h2_words) / len(row["words"]) >= 0.5:
                    for section in sections:
                        if section["_h2"] == h2 and section["id"] not in claimed:
                            _claim(claimed, section["id"], 0.4, row["id"])
                            row["mapped"] = True


def _claim_by_section_words(rows: list[dict[str, Any]], sections: list[dict[str, Any]],
                            claimed: dict[str, tuple[float, str]]) -> None:
    """A row claims the sections most like it (at least half its words in the section's)."""
    for row in rows:
        words = row["words"]
        if not words:
            continue
        scores = [(len(words & s["_words"]) / len(words), s) for s in sections]
        best = max((score for score, _ in scores), default=0.0)
        if best >= 0.5:
            for score, section in scores:
                if score == best:
                    _claim(claimed, section["id"], best, row["id"])
            row["mapped"] = True


def _map_named_rows(rows: list[dict[str, Any]], rollback: dict[str, Any] | None,
                    artifacts: list[dict[str, Any]]) -> None:
    """Rows naming artifacts or rollback decide the artifacts and the rollback block."""
    for row in rows:
        lowered = row["title"].lower()
        if "artifact" in lowered:
            for artifact in artifacts:
                artifact["decision"] = row["id"]
        if "rollback" in lowered and rollback is not None:
            rollback["decision"] = row["id"]


_SECTION_KEYS = ("id", "number", "title", "stage", "decision", "when", "waivable", "criteria")
_ROLLBACK_KEYS = ("id", "title", "stage", "decision", "triggers")


def _drop_working_keys(rows: list[dict[str, Any]], sections: list[dict[str, Any]],
                       rollback: dict[str, Any] | None) -> None:
    """Remove the matching aids and put the spec's keys in their documented order."""
    sections[:] = [{k: section[k] for k in _SECTION_KEYS if k in section}
                   for section in sections]
    if rollback is not None:
        rollback_ordered = {k: rollback[k] for k in _ROLLBACK_KEYS if k in rollback}
        rollback.clear()
        rollback.update(rollback_ordered)
    for row in rows:
        for key in ("line", "words", "mapped"):
            row.pop(key, None)


def _claim(claimed: dict[str, tuple[float, str]], section: str, score: float, row: str) -> None:
    if section not in claimed or claimed[section][0] < score:
        claimed[section] = (score, row)


def _stage(h2: str) -> str:
    lowered = h2.lower()
    if "pre-deployment" in lowered:
        return "pre"
    if re.search(r"post-deployment|deployment criteria|rollback", lowered):
        return "post"
    return "pre"


def _constitution_check(text: str, found: dict[str, float | None]) -> dict[str, Any] | None:
    if "constitutional self-validation performed" in text:
        return {"kind": "constitution", "criterion": "performed"}
    articles = re.match(r"articles? ([ivxlc, and]+) validated", text)
    if articles:
        numerals = [a.upper() for a in re.findall(r"\b[ivxlc]+\b", articles.group(1))]
        return {"kind": "constitution", "criterion": "articles", "articles": numerals}
    if "constitutional_validation" in text and "iteration count logged" in text:
        return {"kind": "constitution", "criterion": "iterations_logged"}
    if text.startswith("all violations documented and addressed"):
        return {"kind": "constitution", "criterion": "violations_addressed"}
    if text.startswith('final status is "compliant"'):
        return {"kind": "constitution", "criterion": "status_compliant"}
    if text.startswith("iterations within limit"):
        names = [n for n in found if n.startswith("iterations_")]
        limits = {n.split("_")[1]: {"threshold": n} for n in names
                  if n.split("_")[1] in ("quick", "standard", "enterprise")}
        check: dict[str, Any] = {"kind": "constitution", "criterion": "within_limit"}
        if limits:
            check["limits"] = limits
        return check
    if text.startswith("if escalated"):
        return {"kind": "constitution", "criterion": "escalation_documented"}
    return None


def _literal(value: str) -> Any:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if re.fullmatch(r"-?\d+", lowered):
        return int(lowered)
    return value.strip()
