"""The one-pass YAML loader against PyYAML's node tree, on generated documents and on every
YAML file of the repository: the same data (types, key order, which values are one object),
the same line map, the same refusals with the same line and wording.

The reference is what the loader did before the one pass: PyYAML composes the node tree, the
expansion check runs on it, PyYAML's safe constructor builds the data and ``map_lines`` walks
the tree (``yaml_nodes``, kept for merge keys and collection tags). Both loaders are compared,
libyaml's and the pure-Python one.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_deploygate.core import yaml_lines
from pytest_deploygate.core.yaml_events import build
from pytest_deploygate.core.yaml_lines import LoadedYaml, YamlSyntaxError, load_yaml
from pytest_deploygate.core.yaml_model import MAX_DEPTH, MAX_EXPANDED_VALUES
from pytest_deploygate.core.yaml_nodes import load_nodes

from conftest import REPO

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

LOADERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else [])
LOADER_IDS = [loader.__name__ for loader in LOADERS]


def reference(text: str, loader: type[Any]) -> LoadedYaml:
    """The node-tree loader (what ``load_yaml`` was before the one pass)."""
    return yaml_lines._load(text, loader, load_nodes)


def one_pass(text: str, loader: type[Any]) -> LoadedYaml:
    """The event loader alone (no fallback: a document it leaves to nodes fails the test)."""
    return yaml_lines._load(text, loader, build)


def shape(value: Any, ids: dict[int, int]) -> Any:
    """``value`` as nested tuples naming each type, keeping key order and which containers
    are one object (the n-th distinct container gets number n)."""
    if isinstance(value, dict | list | set):
        number = ids.setdefault(id(value), len(ids))
        if number < len(ids) - 1:
            return ("same-as", number)
        if isinstance(value, dict):
            return ("dict", number, tuple((shape(k, ids), shape(v, ids))
                                          for k, v in value.items()))
        if isinstance(value, set):
            return ("set", number, tuple(sorted(map(repr, value))))
        return ("list", number, tuple(shape(item, ids) for item in value))
    return (type(value).__name__, repr(value))


def outcome(load: Any, text: str, loader: type[Any]) -> Any:
    try:
        loaded = load(text, loader)
    except YamlSyntaxError as exc:
        return ("refused", exc.line, exc.detail)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return ("crashed", type(exc).__name__)  # PyYAML on e.g. ``!!int x``
    return ("loaded", shape(loaded.data, {}), loaded.lines, loaded.key_lines,
            loaded.duplicate_keys)


def assert_same(text: str, loader: type[Any], exact_refusal: bool = True) -> None:
    expected = outcome(reference, text, loader)
    got = outcome(load_yaml_with, text, loader)
    if expected[0] == "crashed":  # the one pass refuses with a line instead of crashing
        assert got[0] == "refused", (text, got)
    elif expected[0] == "refused" and not exact_refusal:
        assert got[0] == "refused", (text, expected, got)
    else:
        assert got == expected, text


def load_yaml_with(text: str, loader: type[Any]) -> LoadedYaml:
    return load_yaml(text, loader)


# -- generated documents ---------------------------------------------------------------------

PLAIN = ["yes", "No", "on", "OFF", "true", "False", "null", "~", "", "0x1F", "0o17", "017",
         "1_000", "-42", "+7", "1:30:00", "190:20:30", "-.inf", ".NaN", "1e3", "6.8523015e+5",
         "685_230.15", "0b1010", "2001-12-14t21:59:43.10-05:00", "2002-12-14",
         "2001-12-14 21:59:43.10 -5", "plain text", "a b: c", "x-1", "c-12", "12.0",
         "3.", ".5", "0.", "+.inf"]
QUOTED = ["'quoted'", '"dq \\t"', "'yes'", '"12"', "'null'", "''", '"multi\\nline"']
TAGGED = ["!!str 12", "!!int 12", "!!int '0x1A'", "!!float 1", "!!bool yes", "!!null ''",
          "!!timestamp 2001-12-14", "!!binary aGVsbG8=", "! 12", "!!float '1e3'"]
#: Each of these is refused by the safe loader: at most one per document gets an exact
#: comparison of the refusal (PyYAML and the one pass may find two problems in another order).
BAD = ["!!python/object:os.system x", "!foo bar", "!!int x", "!!float x", "!!bool maybe",
       "!!timestamp soon", "!!binary ~~~", "<<", "!!merge x", "="]
KEYS = ["a", "b", "c", "1", "01", "true", "'a'", '"b"', "x y", "~"]


class _Doc:
    def __init__(self, draw: Any) -> None:
        self.draw = draw
        self.anchors: list[str] = []
        self.open: list[str] = []
        self.risky = 0

    def scalar(self) -> str:
        pool = self.draw(st.sampled_from(["plain", "plain", "quoted", "tagged", "bad"]))
        if pool == "bad":
            self.risky += 1
            return self.draw(st.sampled_from(BAD))
        return self.draw(st.sampled_from({"plain": PLAIN, "quoted": QUOTED,
                                          "tagged": TAGGED}[pool]))

    def anchor(self) -> str:
        if self.draw(st.integers(0, 4)) != 0:
            return ""
        name = f"a{len(self.anchors) + len(self.open)}"
        self.open.append(name)
        return f"&{name} "

    def close(self, prefix: str) -> None:
        if prefix:
            self.anchors.append(self.open.pop())

    def alias(self) -> str | None:
        if self.anchors and self.draw(st.integers(0, 3)) == 0:
            return "*" + self.draw(st.sampled_from(self.anchors))
        if self.open and self.draw(st.integers(0, 30)) == 0:
            self.risky += 1
            return "*" + self.open[-1]  # an anchor referring to itself
        return None

    def flow(self, depth: int) -> str:
        alias = self.alias()
        if alias is not None:
            return alias
        kind = self.draw(st.sampled_from(["scalar", "scalar", "map", "seq"] if depth < 3
                                         else ["scalar"]))
        if kind == "scalar":
            prefix = self.anchor()
            text = prefix + self.scalar()
            self.close(prefix)
            return text
        prefix = self.anchor()
        count = self.draw(st.integers(0, 3))
        if kind == "seq":
            text = prefix + "[" + ", ".join(self.flow(depth + 1) for _ in range(count)) + "]"
        else:
            pairs = [f"{self.key()}: {self.flow(depth + 1)}" for _ in range(count)]
            text = prefix + "{" + ", ".join(pairs) + "}"
        self.close(prefix)
        return text

    def key(self) -> str:
        choice = self.draw(st.integers(0, 40))
        if choice == 0:
            self.risky += 1
            return "[k]"  # a list as a key
        if choice == 1 and self.anchors:
            self.risky += 1  # its anchor may be a list or mapping: no key
            return "*" + self.draw(st.sampled_from(self.anchors)) + " "
        if choice == 2:
            self.risky += 1
            return "<<"
        return self.draw(st.sampled_from(KEYS))

    def block(self, indent: int, depth: int) -> list[str]:
        pad = " " * indent
        lines: list[str] = []
        kind = self.draw(st.sampled_from(["map", "seq"]))
        for _ in range(self.draw(st.integers(1, 4))):
            head = f"{pad}- " if kind == "seq" else f"{pad}{self.key()}:"
            nested = depth < 3 and self.draw(st.integers(0, 2)) == 0
            if self.draw(st.integers(0, 9)) == 0:
                lines.append(f"{pad}# a comment")
            if nested:
                prefix = self.anchor()
                if kind == "seq":
                    lines.append(f"{pad}- {prefix}".rstrip())
                else:
                    lines.append(f"{head} {prefix}".rstrip())
                lines.extend(self.block(indent + 2, depth + 1))
                self.close(prefix)
            else:
                lines.append(f"{head} {self.flow(depth + 1)}")
        return lines


@st.composite
def documents(draw: Any) -> tuple[str, bool]:
    doc = _Doc(draw)
    flow = draw(st.integers(0, 5)) == 0
    text = doc.flow(0) if flow else "\n".join(doc.block(0, 0)) + "\n"
    if draw(st.integers(0, 15)) == 0:
        doc.risky += 1
        text += "---\nsecond: document\n"
    return text, doc.risky <= 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=documents())
@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
def test_generated_documents_load_as_through_the_node_tree(loader: type[Any],
                                                           case: tuple[str, bool]) -> None:
    text, exact = case
    assert_same(text, loader, exact_refusal=exact)


MERGES = [
    "base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  c: 3\n",
    "base: &b {a: 1, b: 2}\nx:\n  c: 3\n  <<: *b\n",
    "p: &p {a: 1}\nq: &q {a: 2, b: 2}\nx: {<<: [*p, *q], c: 3}\n",
    "p: &p {a: 1}\nq: &q {a: 2, b: 2}\nx: {<<: [*q, *p]}\n",
    "x: {<<: {a: {deep: 1}}, b: 2}\n",
    "x: {<<: [{a: 1}, {a: 2}]}\n",
    "p: &p {a: 1}\nx: {<<: *p, a: 5}\n",
    "p: &p {<<: {z: 0}, a: 1}\nx: {<<: *p}\n",
    "x: {<<: [1, 2]}\n",
    "x: {<<: 1}\n",
    "x: !!set {a, b}\n",
    "x: !!omap [a: 1, b: 2]\n",
    "x: !!pairs [a: 1, a: 2]\n",
    "x: !!omap [a]\n",
    "x: !!set {a, b}\ny: !!int q\n",
    "x: {!!merge '<<': {a: 1}}\n",
    "x: {!!value =: 1}\n",
    "x: {<<: {a: 1}}\ny: [\n",
    "a: !!map x\n",
    "a: !!seq\n",
]


@pytest.mark.parametrize("text", MERGES)
@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
def test_merge_keys_and_collection_tags_keep_pyyaml_semantics(loader: type[Any],
                                                               text: str) -> None:
    assert_same(text, loader)


def test_merge_precedence_first_map_of_a_list_and_own_keys_win() -> None:
    text = ("p: &p {a: from-p, b: from-p}\nq: &q {a: from-q, c: from-q}\n"
            "x:\n  <<: [*p, *q]\n  b: own\n")
    assert load_yaml(text).data["x"] == {"a": "from-p", "c": "from-q", "b": "own"}
    # ... and an overriding key is YAML's override, not a key written twice; its line is its own.
    loaded = load_yaml(text)
    assert loaded.duplicate_keys == []
    assert loaded.key_lines[("x", "b")] == 5 and loaded.key_lines[("x", "a")] == 1


# -- the repository's own YAML files ---------------------------------------------------------

def _repository_yaml() -> list[Path]:
    skip = {".git", "node_modules", "__pycache__", ".hypothesis", "build", "dist"}
    return sorted(path for pattern in ("*.yaml", "*.yml") for path in REPO.rglob(pattern)
                  if not skip.intersection(path.relative_to(REPO).parts)
                  and not any(part.startswith(("venv", ".venv", ".tox"))
                              for part in path.relative_to(REPO).parts))


def test_the_repository_has_yaml_files_of_every_kind() -> None:
    places = {path.relative_to(REPO).parts[0] for path in _repository_yaml()}
    assert {"gate_specs", "examples", "tests"} <= places


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
def test_every_yaml_file_of_the_repository_loads_as_through_the_node_tree(
        loader: type[Any]) -> None:
    for path in _repository_yaml():
        text = path.read_bytes().decode("utf-8-sig", "replace")
        assert_same(text, loader)
        if "<<" not in text and "!!" not in text:
            assert outcome(one_pass, text, loader) == outcome(reference, text, loader), path


# -- what the loader must keep, one by one ---------------------------------------------------

@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
def test_plain_scalars_resolve_as_the_safe_loader(loader: type[Any]) -> None:
    text = ("b: [yes, No, on, off, true]\nn: [~, null, '']\ni: [0x1F, 017, 1_000, 190:20:30]\n"
            "f: [1e3, .inf, 1_0.5]\nt: [2002-12-14, 2001-12-14t21:59:43.10-05:00]\n"
            "s: [!!str 12, '12', \"yes\"]\ne: !!int '7'\n")
    data = load_yaml(text, loader).data
    assert data == yaml.load(text, Loader=loader)
    assert data["b"] == [True, False, True, False, True]
    assert data["n"] == [None, None, ""]
    assert data["i"] == [31, 15, 1000, 685230]
    assert data["t"][0] == datetime.date(2002, 12, 14)
    assert isinstance(data["t"][1], datetime.datetime)
    assert data["s"] == ["12", "12", "yes"] and data["e"] == 7


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
@pytest.mark.parametrize("tagged", ["!!python/object/apply:os.system ['true']",
                                    "!!python/name:os.system", "!custom x", "!<tag:evil> x",
                                    "!!python/tuple [1]"])
def test_unknown_and_python_tags_are_refused_with_their_line(loader: type[Any],
                                                             tagged: str) -> None:
    with pytest.raises(YamlSyntaxError) as refused:
        load_yaml(f"a: 1\nb:\n  c: {tagged}\n", loader)
    assert refused.value.line == 3
    assert "could not determine a constructor for the tag" in refused.value.detail


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
def test_a_value_its_tag_cannot_read_is_refused_not_a_crash(loader: type[Any]) -> None:
    with pytest.raises(YamlSyntaxError) as refused:
        load_yaml("a: 1\nb: !!int twelve\n", loader)
    assert (refused.value.line, refused.value.detail) == (2, "'twelve' is not a valid !!int value")


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
def test_an_alias_is_the_same_object_as_its_anchor(loader: type[Any]) -> None:
    loaded = load_yaml("a: &x {k: [1]}\nb: *x\nc: &s text\nd: *s\n", loader)
    assert loaded.data["a"] is loaded.data["b"]
    assert loaded.data["c"] is loaded.data["d"]
    # The alias is mapped at its own path, with its anchor's line and keys, not descended.
    assert loaded.lines[("b",)] == 1 and loaded.key_lines[("b", "k")] == 1
    assert ("b", "k") not in loaded.lines


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
def test_a_billion_laughs_is_refused_before_it_is_built(loader: type[Any]) -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for index in range(1, 9):
        name, previous = chr(ord("a") + index), chr(ord("a") + index - 1)
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    with pytest.raises(YamlSyntaxError) as refused:
        load_yaml("\n".join(levels) + "\n", loader)
    # 11, 111, ... values: the 7th level (11,111,111) is the first past the bound.
    assert refused.value.line == 7
    assert f"more than {MAX_EXPANDED_VALUES} values" in refused.value.detail


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
def test_the_expansion_bound_counts_keys_and_values(loader: type[Any]) -> None:
    # A mapping of n pairs is 1 + 2n values, an alias counts what it stands for: the root
    # below is 1 + 2 (key m and the key all) + 2001 (m) + 1 + 2001 per alias.
    pairs = ", ".join(f"k{i}: v" for i in range(1000))

    def document(aliases: int) -> str:
        return f"m: &m {{{pairs}}}\nall: [" + ", ".join(["*m"] * aliases) + "]\n"

    most = (MAX_EXPANDED_VALUES - 2005) // 2001
    assert len(load_yaml(document(most), loader).data["all"]) == most
    with pytest.raises(YamlSyntaxError, match="values through anchors"):
        load_yaml(document(most + 1), loader)


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {k: *a}\n", "a: &a [[1, *a]]\n"])
def test_an_anchor_referring_to_itself_is_refused(loader: type[Any], text: str) -> None:
    with pytest.raises(YamlSyntaxError) as refused:
        load_yaml(text, loader)
    assert (refused.value.line, refused.value.detail) == (1, "an anchor refers to itself")


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
@pytest.mark.parametrize("opening", ["[", "{a: ", "- "])
def test_deep_nesting_is_a_clear_refusal_not_a_recursion_error(loader: type[Any],
                                                               opening: str) -> None:
    depth = 5000
    if opening == "- ":
        text = "\n".join(" " * (2 * i) + "-" for i in range(depth)) + " x\n"
    else:
        text = opening * depth + "1" + ("]" if opening == "[" else "}") * depth
    with pytest.raises(YamlSyntaxError) as refused:
        load_yaml(text, loader)
    assert "nest" in refused.value.detail
    fits = "[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH
    assert load_yaml(fits, loader).data is not None


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
def test_nesting_through_aliases_counts_too(loader: type[Any]) -> None:
    deep = "[" * 150 + "1" + "]" * 150
    around = "[" * 100 + "*a" + "]" * 100  # 100 levels around 150: too deep once read
    with pytest.raises(YamlSyntaxError, match="nests more than"):
        load_yaml(f"a: &a {deep}\nb: {around}\n", loader)
    load_yaml(f"a: &a {deep}\nb: {around[60:-60]}\n", loader)


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
def test_duplicate_keys_are_reported_in_walk_order_with_their_lines(loader: type[Any]) -> None:
    text = "a:\n  x: 1\n  x: 2\na: 3\nb: &m {k: 1, k: 2}\nc: *m\n"
    loaded = load_yaml(text, loader)
    assert loaded.duplicate_keys == [(("a",), 4), (("a", "x"), 3), (("b", "k"), 5),
                                     (("c", "k"), 5)]
    assert loaded.key_lines[("a",)] == 1 and loaded.lines[("a", "x")] == 2


@pytest.mark.parametrize("loader", LOADERS, ids=LOADER_IDS)
@pytest.mark.parametrize(("text", "line", "detail"), [
    ("a: *nowhere\n", 1, "found undefined alias 'nowhere'"),
    ("a: &x 1\nb: &x 2\n", 2, "second occurrence"),
    ("a: 1\n---\nb: 2\n", 2, "but found another document"),
    ("a: [1, 2\nb: 3\n", 2, None),
    ("? [a]\n: 1\n", 1, "found unhashable key"),
    ("a: !!int x\nb: [\n", 3, None),  # the syntax error further down still wins
])
def test_refusals_name_the_line(loader: type[Any], text: str, line: int,
                                detail: str | None) -> None:
    with pytest.raises(YamlSyntaxError) as refused:
        load_yaml(text, loader)
    assert refused.value.line == line
    if detail is not None:
        assert refused.value.detail == detail
    assert re.match(r"line \d+: ", str(refused.value))
