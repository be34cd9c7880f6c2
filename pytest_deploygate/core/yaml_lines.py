"""Safe YAML loading that remembers where every value came from.

Error messages must name the line of a spec, so the loader keeps a map from each value's path
inside the document (``("sections", 3, "criteria", 2, "check")``) to its 1-based line. Only the
safe loader is used: no YAML tag is ever evaluated.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from typing import Any

import yaml

from pytest_deploygate.core.value_class import field, value_class

Path = tuple[str | int, ...]

#: Nodes visited while mapping lines; aliases are not followed twice, so a "billion laughs"
#: document costs its own size, not its expansion.
MAX_NODES = 1_000_000
#: Values a document may expand to through anchors and aliases. Everything downstream
#: (schema validation, the gate) walks the expanded structure, so a "billion laughs" is refused
#: here, before it is built.
MAX_EXPANDED_VALUES = 2_000_000


@value_class
class LoadedYaml:
    """A parsed YAML document with the line of every value."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    duplicate_keys: list[tuple[Path, int]] = field(default_factory=list)
    #: The line of each mapping key (a value may start on a later line than its key).
    key_lines: dict[Path, int] = field(default_factory=dict)
    #: SHA-256 of the bytes parsed (set by the file reader): what a spec's sha256 must name,
    #: never a second read of the file, which may have changed meanwhile.
    source_sha256: str = ""

    def line_of(self, path: Path) -> int:
        """Line of the deepest known prefix of ``path`` (1 when nothing matches)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1


class YamlSyntaxError(Exception):
    """The text is not YAML; ``line`` and ``detail`` say where and why."""

    def __init__(self, line: int, detail: str) -> None:
        self.line = line
        self.detail = detail
        super().__init__(f"line {line}: {detail}")


# libyaml's parser when PyYAML was built with it (about ten times faster on big specs); both
# are the safe loader: no tag is ever constructed into an object.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> LoadedYaml:
    """Parse one YAML document safely and map each value path to its line."""
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None and "&" in text:  # without anchors nothing can expand
            _check_expansion(node)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntaxError(line, _one_line(exc.problem or exc.context or str(exc))) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, _one_line(str(exc))) from None
    except RecursionError:
        raise YamlSyntaxError(1, "document nests too deeply") from None
    finally:
        loader.dispose()
    loaded = LoadedYaml(data)
    if node is not None:
        _map_lines(node, loaded)
    return loaded


def _check_expansion(root: yaml.Node) -> None:
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node)
            total = 1 + sum(sizes[id(child)] for child in children)
            if total > MAX_EXPANDED_VALUES:
                line = node.start_mark.line + 1
                raise YamlSyntaxError(line, f"the document expands to more than "
                                            f"{MAX_EXPANDED_VALUES} values through anchors and "
                                            "aliases; write it out without them")
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise YamlSyntaxError(node.start_mark.line + 1, "an anchor refers to itself")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _map_lines(root: yaml.Node, loaded: LoadedYaml) -> None:
    # One iterative pass (deep documents cannot overflow the stack), in document order. A node
    # reached again through an alias gets its line at every path but its children are walked
    # once, so a document costs its own size, not its expansion.
    lines, key_lines, duplicates = loaded.lines, loaded.key_lines, loaded.duplicate_keys
    seen: set[int] = set()
    budget = MAX_NODES
    stack: list[tuple[Path, yaml.Node]] = [((), root)]
    while stack:
        path, node = stack.pop()
        budget -= 1
        if budget <= 0:
            return
        if path not in lines:
            lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            keys: set[Any] = set()
            children: list[tuple[Path, yaml.Node]] = []
            for key_node, value_node in node.value:
                key = key_node.value
                key_path = (*path, key)
                line = key_node.start_mark.line + 1
                if key_path not in key_lines:
                    key_lines[key_path] = line
                if key in keys:
                    duplicates.append((key_path, line))
                keys.add(key)
                if isinstance(key_node, yaml.ScalarNode):
                    children.append((key_path, value_node))
            if id(node) not in seen:
                seen.add(id(node))
                stack.extend(reversed(children))
        elif isinstance(node, yaml.SequenceNode) and id(node) not in seen:
            seen.add(id(node))
            values = node.value
            stack.extend(((*path, index), values[index])
                         for index in range(len(values) - 1, -1, -1))
