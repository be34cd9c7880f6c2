"""YAML data and its line map built in one pass over the parser's events.

Composing a node tree first (PyYAML's way) kept every node of a big spec, with two marks
each, alive at once (about 33 MB at 5,000 criteria) and walked it twice more, to construct
the data and to map the lines. Here each event is turned into data and a line entry as it
arrives, and only the anchored values are remembered (for their aliases).

What PyYAML's safe loader decides stays its decision: a plain scalar's type comes from the
loader's own implicit resolvers, every tag other than ``!!str`` is constructed by the
loader's own constructors (an unknown tag is refused exactly as there). Merge keys (``<<``)
and collection tags (``!!set``, ``!!omap``, ``!!pairs``) reorder or reshape a mapping after
the fact; a document using them is read by the node composer instead (:class:`NeedsNodes`),
so their semantics are PyYAML's to the letter.

The line map is the one :func:`~pytest_deploygate.core.yaml_nodes.map_lines` makes from a
node tree: each value path's first line, each key's line, repeated keys in the order a
pre-order walk finds them, an alias mapped at its own path with its target's line (and its
target's keys), never descended into.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from typing import Any

from pytest_deploygate.core.pyyaml import yaml
from pytest_deploygate.core.yaml_model import (
    CONSTRUCTOR_CRASHES,
    MAX_DEPTH,
    MAX_EXPANDED_VALUES,
    MAX_NODES,
    LoadedYaml,
    YamlPath,
    YamlSyntaxError,
    base_60_problem,
    expansion_problem,
    is_finite_number,
    one_line,
    unreadable_value,
)

MarkedYAMLError = yaml.MarkedYAMLError
AliasEvent, ScalarEvent, StreamEndEvent = yaml.AliasEvent, yaml.ScalarEvent, yaml.StreamEndEvent
MappingStartEvent, MappingEndEvent = yaml.MappingStartEvent, yaml.MappingEndEvent
SequenceStartEvent, SequenceEndEvent = yaml.SequenceStartEvent, yaml.SequenceEndEvent
ScalarNode = yaml.ScalarNode

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
#: Key tags whose mapping PyYAML rewrites while constructing it (``flatten_mapping``).
_REWRITING_KEY_TAGS = frozenset(("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"))
#: What a constructed scalar may be in a document JSON Schema can judge (text is not
#: constructed: it is the event's own value).
_JSON_SCALARS = frozenset((int, float, bool, type(None)))
#: Stands for a key no dict can hold (a list or mapping as a key: refused, but read on).
_NO_KEY = object()


class NeedsNodes(Exception):
    """The document uses a feature left to PyYAML's node composer (merge keys, collection
    tags other than ``!!map`` and ``!!seq``)."""


class _Anchor:
    """What an alias needs of its anchored value."""

    __slots__ = ("frame", "height", "keys", "line", "raw", "size", "value")

    def __init__(self, value: Any, line: int, size: int, raw: str | None,
                 frame: _Frame | None) -> None:
        self.value = value
        self.line = line
        self.size = size
        #: A scalar's text (a mapping key is mapped by its text, as PyYAML's node has it).
        self.raw = raw
        #: A mapping's own keys (text, line, said before): an alias of it maps them at its own
        #: path and repeats its duplicates there.
        self.keys: list[tuple[Any, int, bool]] | None = None
        #: Set while the anchored collection is still open: an alias then is a cycle.
        self.frame = frame
        #: Levels of nesting it brings wherever an alias puts it (0 for a scalar).
        self.height = 0


class _Frame:
    """An open mapping or sequence."""

    __slots__ = (
        "anchor",
        "data",
        "has_key",
        "height",
        "index",
        "is_map",
        "key",
        "key_log",
        "line",
        "mapped",
        "order",
        "path",
        "raw_key",
        "raw_keys",
        "size",
    )

    def __init__(self, data: Any, path: YamlPath, line: int, anchor: _Anchor | None,
                 is_map: bool, mapped: bool, order: int) -> None:
        self.data = data
        self.path = path
        self.line = line
        self.size = 1
        self.anchor = anchor
        self.is_map = is_map
        self.key: Any = None
        self.raw_key: Any = None
        self.has_key = False
        self.raw_keys: set[Any] = set()
        self.key_log: list[tuple[Any, int, bool]] | None = [] if anchor is not None else None
        self.index = 0
        #: Within the line-map budget (PyYAML-tree walk's MAX_NODES): its keys are mapped.
        self.mapped = mapped
        #: Pre-order position: repeated keys are reported in the tree walk's order.
        self.order = order
        #: Levels of nesting from here down, aliases' targets included.
        self.height = 1


class _OnePass:
    """Reads the events of one document's root value."""

    def __init__(self, loader: Any, check_expansion: bool) -> None:
        self.loader = loader
        self.check_expansion = check_expansion
        self.loaded = LoadedYaml(None)
        # Every scalar not a string is built by _construct, which clears this on a number
        # non_finite_numbers would refuse: a document without one is not walked again.
        self.loaded.finite_numbers = True
        # Cleared by _key on a key that is not text (non_text_keys then walks the data).
        self.loaded.text_keys = True
        # Cleared by _construct on a date or binary data (non_json_values then walks).
        self.loaded.json_values = True
        self.anchors: dict[str, _Anchor] = {}
        self.stack: list[_Frame] = []
        self.budget = MAX_NODES
        self.order = 0
        self.duplicates: list[tuple[int, YamlPath, int]] = []
        self.tags: dict[str, str] = {}
        #: Problems PyYAML finds after parsing (the expansion check, then construction): the
        #: first of each kind, raised once the whole document has parsed, so a syntax error
        #: further down still wins, as it did.
        self.expansion_error: YamlSyntaxError | None = None
        self.construction_error: YamlSyntaxError | None = None

    # -- the event loop ---------------------------------------------------------------------

    def read_root(self) -> Any:
        get_event = self.loader.get_event
        stack = self.stack
        while True:
            event = get_event()
            kind = type(event)
            if kind is ScalarEvent:
                done = self._scalar(event)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                self._open(event, kind is MappingStartEvent)
                continue
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                done = self._close()
            elif kind is AliasEvent:
                done = self._alias(event)
            else:  # the parser never sends these here; refuse rather than guess
                raise YamlSyntaxError(_line(event), f"unexpected {kind.__name__}")
            if not stack:
                return done

    def finish(self) -> LoadedYaml:
        if self.expansion_error is not None:
            raise self.expansion_error
        if self.construction_error is not None:
            raise self.construction_error
        self.duplicates.sort(key=lambda d: d[0])  # stable: a mapping's own keys keep order
        self.loaded.duplicate_keys = [(path, line) for _, path, line in self.duplicates]
        return self.loaded

    # -- nodes ------------------------------------------------------------------------------

    def _scalar(self, event: Any) -> Any:
        line = event.start_mark.line + 1
        value = event.value
        tag = event.tag
        if tag is None or tag == "!":
            implicit = event.implicit
            if implicit[0]:
                tag = self.tags.get(value)
                if tag is None:
                    tag = self.tags[value] = self.loader.resolve(ScalarNode, value, implicit)
            else:
                tag = self.loader.resolve(ScalarNode, value, implicit)
        top = self.stack[-1] if self.stack else None  # (_at_key, inline: every node)
        is_key = top is not None and top.is_map and not top.has_key
        if is_key and tag in _REWRITING_KEY_TAGS:
            raise NeedsNodes
        if tag == _STR:
            data = value
        elif (problem := base_60_problem(value, tag)) is not None:
            self._construction_failed(line, problem)
            data = None
        else:
            data = self._construct(event, tag, line)
        if event.anchor is not None:
            self._anchor(event, _Anchor(data, line, 1, value, None))
        return self._place(data, value, line, 1, is_key, None)

    def _open(self, event: Any, is_map: bool) -> None:
        tag = event.tag
        if tag is not None and tag != "!" and tag != (_MAP if is_map else _SEQ):
            raise NeedsNodes
        line = event.start_mark.line + 1
        stack = self.stack
        if len(stack) >= MAX_DEPTH:
            raise YamlSyntaxError(line, f"the document nests more than {MAX_DEPTH} levels "
                                        "deep; flatten it")
        top = stack[-1] if stack else None  # (_at_key, inline: every node)
        is_key = top is not None and top.is_map and not top.has_key
        data: Any = {} if is_map else []
        # Placed now, filled later, as PyYAML's constructor does: an alias inside it (a
        # cycle, refused below) and the parent's key order see the same object.
        path, mapped = self._place_open(data, line, is_key)
        self.order += 1
        anchor = None
        if event.anchor is not None:
            anchor = _Anchor(data, line, 1, None, None)
            self._anchor(event, anchor)
        frame = _Frame(data, path, line, anchor, is_map, mapped, self.order)
        if anchor is not None:
            anchor.frame = frame
        stack.append(frame)

    def _close(self) -> Any:
        frame = self.stack.pop()
        anchor = frame.anchor
        if anchor is not None:
            anchor.size = frame.size
            anchor.keys = frame.key_log
            anchor.frame = None
            anchor.height = frame.height
        if not self.stack:
            return frame.data
        parent = self.stack[-1]
        parent.height = max(parent.height, frame.height + 1)
        if self.check_expansion:
            self._grow(parent, frame.size)
        if not parent.is_map:
            return frame.data
        if parent.has_key:  # it was the value
            parent.has_key = False
        else:
            # It was a key: PyYAML refuses it once built (a list or dict has no hash), at
            # the line where the key starts.
            self._construction_failed(frame.line, "found unhashable key")
            parent.key, parent.raw_key, parent.has_key = _NO_KEY, _NO_KEY, True
        return frame.data

    def _alias(self, event: Any) -> Any:
        name = event.anchor
        anchor = self.anchors.get(name)
        line = event.start_mark.line + 1
        if anchor is None:
            raise YamlSyntaxError(line, f"found undefined alias {name!r}")
        if anchor.frame is not None:
            self._expansion_failed(anchor.line, "an anchor refers to itself")
        depth = len(self.stack) + anchor.height
        if depth > MAX_DEPTH:
            self._expansion_failed(line, f"the document nests more than {MAX_DEPTH} levels "
                                         "deep through this alias; flatten it")
        elif anchor.height:
            top = self.stack[-1]
            top.height = max(top.height, anchor.height + 1)
        is_key = self._at_key()
        if is_key and anchor.raw is None:
            self._construction_failed(anchor.line, "found unhashable key")
            return self._place(_NO_KEY, _NO_KEY, anchor.line, anchor.size, True, None)
        return self._place(anchor.value, anchor.raw, anchor.line, anchor.size, is_key,
                           anchor.keys)

    # -- placing a node in its parent -------------------------------------------------------

    def _at_key(self) -> bool:
        stack = self.stack
        if not stack:
            return False
        top = stack[-1]
        return top.is_map and not top.has_key

    def _place(self, data: Any, raw: Any, line: int, size: int, is_key: bool,
               alias_keys: list[tuple[Any, int, bool]] | None) -> Any:
        """Put a finished scalar or alias into the open collection (or make it the root)."""
        stack = self.stack
        if not stack:
            if self._take_budget():
                self.loaded.lines[()] = line
                if alias_keys:
                    self._alias_keys((), alias_keys)
            return data
        top = stack[-1]
        if self.check_expansion:
            self._grow(top, size)
        if is_key:
            top.key, top.raw_key, top.has_key = data, raw, True
            self._key(top, data, raw, line)
            return data
        if top.is_map:
            path: YamlPath = (*top.path, top.raw_key)
            if top.key is not _NO_KEY:
                top.data[top.key] = data
            top.has_key = False
        else:
            path = (*top.path, top.index)
            top.index += 1
            top.data.append(data)
        self.budget -= 1  # (_take_budget, inline: every value)
        if self.budget > 0:
            lines = self.loaded.lines
            if path not in lines:
                lines[path] = line
            if alias_keys:
                self._alias_keys(path, alias_keys)
        return data

    def _place_open(self, data: Any, line: int, is_key: bool) -> tuple[YamlPath, bool]:
        """Put a just-opened collection in its parent; its path and whether it is mapped."""
        stack = self.stack
        if not stack:
            mapped = self._take_budget()
            if mapped:
                self.loaded.lines[()] = line
            return (), mapped
        top = stack[-1]
        if is_key:
            return (*top.path, "?"), False  # never mapped: PyYAML refuses it as a key
        if top.is_map:  # its key stays read until it closes: its events are the value's
            path: YamlPath = (*top.path, top.raw_key)
            if top.key is not _NO_KEY:
                top.data[top.key] = data
        else:
            path = (*top.path, top.index)
            top.index += 1
            top.data.append(data)
        self.budget -= 1  # (_take_budget, inline)
        mapped = self.budget > 0
        if mapped:
            lines = self.loaded.lines
            if path not in lines:
                lines[path] = line
        return path, mapped

    def _key(self, frame: _Frame, key: Any, raw: Any, line: int) -> None:
        # A key said twice, in its text or in its value (1 and 0x1, true and yes, ~ and
        # null: PyYAML keeps the later one, the reviewer reads two entries).
        repeated = raw in frame.raw_keys or (key is not _NO_KEY and key in frame.data)
        if type(key) is not str:
            self.loaded.text_keys = False
        if frame.key_log is not None:
            frame.key_log.append((raw, line, repeated))
        key_path = (*frame.path, raw)
        if frame.mapped:
            key_lines = self.loaded.key_lines
            if key_path not in key_lines:
                key_lines[key_path] = line
        # Past the line map's budget too: the budget bounds the map, never this check (a
        # million padding values fit in the default size limit, then a key said twice).
        if repeated:
            # Reported as the tree walk did: a mapping's repeats when it is visited, before
            # anything inside it.
            self.duplicates.append((frame.order * 2, key_path, line))
        frame.raw_keys.add(raw)

    def _alias_keys(self, path: YamlPath, keys: list[tuple[Any, int, bool]]) -> None:
        """An alias of a mapping maps its target's keys (not their values) at its own path."""
        key_lines = self.loaded.key_lines
        order = self.order * 2 + 1  # visited after the last collection opened before it
        for raw, line, repeated in keys:
            key_path = (*path, raw)
            if key_path not in key_lines:
                key_lines[key_path] = line
            if repeated:
                self.duplicates.append((order, key_path, line))

    def _take_budget(self) -> bool:
        # PyYAML-tree walk: a node visited past the budget was neither mapped nor descended.
        self.budget -= 1
        return self.budget > 0

    # -- sizes and deferred problems --------------------------------------------------------

    def _grow(self, frame: _Frame, size: int) -> None:
        if not self.check_expansion:
            return
        frame.size = min(frame.size + size, MAX_EXPANDED_VALUES + 1)
        if frame.size > MAX_EXPANDED_VALUES:
            self._expansion_failed(frame.line, expansion_problem())

    def _expansion_failed(self, line: int, detail: str) -> None:
        if self.expansion_error is None:
            self.expansion_error = YamlSyntaxError(line, detail)
            self.budget = 0  # the data will not be used: stop mapping its lines

    def _construction_failed(self, line: int, detail: str) -> None:
        if self.construction_error is None:
            self.construction_error = YamlSyntaxError(line, detail)

    def _construct(self, event: Any, tag: str, line: int) -> Any:
        """A tagged or non-string scalar, built by the loader's own constructors."""
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        loader = self.loader
        try:
            data = loader.construct_object(node, deep=True)
            if not is_finite_number(data):
                self.loaded.finite_numbers = False
            if type(data) not in _JSON_SCALARS:
                self.loaded.json_values = False
            return data
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            self._construction_failed(mark.line + 1 if mark else line,
                                      one_line(exc.problem or exc.context or str(exc)))
        except CONSTRUCTOR_CRASHES:
            # PyYAML's constructors assume a tagged value fits its tag (``!!int x`` raised
            # a bare ValueError): the value is refused with its line instead.
            self._construction_failed(line, unreadable_value(event.value, tag))
        finally:
            loader.constructed_objects.clear()
            loader.recursive_objects.clear()
        return None

    def _anchor(self, event: Any, anchor: _Anchor) -> None:
        name = event.anchor
        if name in self.anchors:
            raise YamlSyntaxError(event.start_mark.line + 1, "second occurrence")
        self.anchors[name] = anchor


def _line(event: Any) -> int:
    mark = getattr(event, "start_mark", None)
    return mark.line + 1 if mark is not None else 1


def build(loader: Any, check_expansion: bool) -> LoadedYaml:
    """The single document of ``loader``'s stream as data and line map (parse errors are
    the loader's YAMLError; everything else a :class:`YamlSyntaxError` or NeedsNodes)."""
    loader.get_event()  # stream start
    if loader.check_event(StreamEndEvent):
        loader.get_event()
        return LoadedYaml(None)
    loader.get_event()  # document start
    one_pass = _OnePass(loader, check_expansion)
    one_pass.loaded.data = one_pass.read_root()
    loader.get_event()  # document end
    if not loader.check_event(StreamEndEvent):
        event = loader.get_event()
        raise YamlSyntaxError(_line(event), "but found another document")
    loader.get_event()
    return one_pass.finish()
