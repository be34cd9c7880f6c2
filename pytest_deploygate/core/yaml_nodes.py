"""YAML through PyYAML's node tree, for the documents the one pass leaves to it.

Merge keys (``<<``) and the collection tags ``!!set``, ``!!omap`` and ``!!pairs`` are rare in
a reviewed document and PyYAML gives them subtle semantics (a merge reorders the mapping's
keys, its precedence depends on the order of the merged maps): such a document is composed
into nodes, checked, constructed and then mapped here, exactly as before the one pass.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
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
    unreadable_value,
)

_STR = "tag:yaml.org,2002:str"


def load_nodes(loader: Any, check_expansion: bool) -> LoadedYaml:
    """Compose, check, construct and map the single document of ``loader``'s stream."""
    node = loader.get_single_node()
    if node is not None:
        _check_depth(node)
        if check_expansion:  # without anchors nothing can expand
            _check_expansion(node)
        _check_base_60(node)
    # Constructing flattens each merge into its mapping's node (the merged pairs first):
    # which keys the mapping's own text says is known only before.
    own = _own_keys_of_merging_mappings(node) if node is not None else {}
    try:
        data = loader.construct_document(node) if node is not None else None
    except CONSTRUCTOR_CRASHES:
        raise _unreadable(loader, node) from None
    loaded = LoadedYaml(data)
    if node is not None:
        map_lines(node, loaded, lambda key_node: _key_value(loader, key_node), own)
    return loaded


_MERGE = "tag:yaml.org,2002:merge"


def _own_keys_of_merging_mappings(root: yaml.Node) -> dict[int, set[int]]:
    """For each mapping with a merge key (``<<``), the key nodes its own text gives."""
    return {id(node): {id(key) for key, _ in node.value} for node in _nodes(root)
            if isinstance(node, yaml.MappingNode)
            and any(key.tag == _MERGE for key, _ in node.value)}


def _check_base_60(root: yaml.Node) -> None:
    """The first number of too many base-60 parts, refused before PyYAML builds it."""
    for node in _scalars(root):
        problem = base_60_problem(node.value, node.tag)
        if problem is not None:
            raise YamlSyntaxError(node.start_mark.line + 1, problem)


def _scalars(root: yaml.Node) -> Iterator[yaml.ScalarNode]:
    """Each scalar node once, in document order."""
    return (node for node in _nodes(root) if isinstance(node, yaml.ScalarNode))


def _nodes(root: yaml.Node) -> Iterator[yaml.Node]:
    """Each node once (an alias is not followed twice), in document order."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(reversed(_children(node)))


def _key_value(loader: Any, key_node: yaml.ScalarNode) -> Any:
    """A scalar key as constructed (its data is built already: constructing it again cannot
    fail)."""
    try:
        return loader.construct_object(key_node, deep=True)
    finally:
        loader.constructed_objects.clear()


def _unreadable(loader: Any, root: yaml.Node) -> YamlSyntaxError:
    """The first tagged scalar PyYAML's constructor crashed on (``!!int x``), as a refusal."""
    loader.recursive_objects.clear()  # left behind by the crash
    for node in _scalars(root):
        try:
            loader.construct_object(node, deep=True)
        except CONSTRUCTOR_CRASHES:
            return YamlSyntaxError(node.start_mark.line + 1,
                                   unreadable_value(node.value, node.tag))
        except yaml.YAMLError:
            pass
    return YamlSyntaxError(1, "a value cannot be read as its tag says")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _post_order(root: yaml.Node, measure: Any, on_cycle: str) -> dict[int, int]:
    """``measure(node, children's results)`` of every node, each node once."""
    results: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            results[key] = measure(node, [results[id(child)] for child in _children(node)])
            continue
        if key in results:
            continue
        if key in on_path:
            raise YamlSyntaxError(node.start_mark.line + 1, on_cycle)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in results)
    return results


def _check_expansion(root: yaml.Node) -> None:
    def size(node: yaml.Node, children: list[int]) -> int:
        total = 1 + sum(children)
        if total > MAX_EXPANDED_VALUES:
            raise YamlSyntaxError(node.start_mark.line + 1, expansion_problem())
        return total

    _post_order(root, size, "an anchor refers to itself")


def _check_depth(root: yaml.Node) -> None:
    heights = _post_order(root, lambda node, children: int(isinstance(
        node, yaml.CollectionNode)) + max(children, default=0), "an anchor refers to itself")
    if heights[id(root)] <= MAX_DEPTH:
        return
    node, level = root, 1  # the first collection nested one level too deep
    while level <= MAX_DEPTH:
        node = next(child for child in _children(node)
                    if heights[id(child)] > MAX_DEPTH - level)
        level += 1
    raise YamlSyntaxError(node.start_mark.line + 1, f"the document nests more than "
                                                    f"{MAX_DEPTH} levels deep; flatten it")


def _key_text(key_node: yaml.Node) -> object:
    """A key as written (a complex key, a list or mapping, by its node: never equal)."""
    return key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)


def map_lines(root: yaml.Node, loaded: LoadedYaml,
              key_value: Callable[[yaml.ScalarNode], Any] | None = None,
              own_keys: dict[int, set[int]] | None = None) -> None:
    """Fill ``loaded``'s line map from a constructed node tree.

    ``key_value``: a scalar key's constructed value, so that keys said twice in their value
    but not their text (1 and 0x1, true and yes, ~ and null) are duplicates too.
    ``own_keys``: for each mapping that merged others, the key nodes of its own text. A merged
    key its own text (or a later merged map) gives again is YAML's override, not a key said
    twice (``{<<: *defaults, timeout: 9}``); a key its own text says twice still is.
    """
    # One iterative pass (deep documents cannot overflow the stack), in document order. A node
    # reached again through an alias gets its line at every path but its children are walked
    # once, so a document costs its own size, not its expansion.
    lines, key_lines, duplicates = loaded.lines, loaded.key_lines, loaded.duplicate_keys
    seen: set[int] = set()
    budget = MAX_NODES
    stack: list[tuple[YamlPath, yaml.Node]] = [((), root)]
    while stack:
        path, node = stack.pop()
        budget -= 1
        mapped = budget > 0
        if not mapped and id(node) in seen:
            # Past the budget only the duplicate-key check goes on, each mapping once (its
            # keys were checked where it was defined): a million padding values must not
            # hide a key said twice after them.
            continue
        if mapped and path not in lines:
            lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            keys: set[Any] = set()
            values: set[Any] = set()  # the constructed non-string keys
            children: list[tuple[YamlPath, yaml.Node]] = []
            own = (own_keys or {}).get(id(node))
            # PyYAML keeps a key's last pair: which pair that is, for each key text.
            last = {_key_text(key_node): index for index, (key_node, _) in
                    enumerate(node.value)} if own is not None else {}
            for index, (key_node, value_node) in enumerate(node.value):
                key = key_node.value
                key_path = (*path, key)
                line = key_node.start_mark.line + 1
                merged = own is not None and id(key_node) not in own
                if merged and last[_key_text(key_node)] != index:
                    continue  # overridden: no duplicate, and not the data at this path
                if mapped and key_path not in key_lines:
                    key_lines[key_path] = line
                if merged:
                    if isinstance(key_node, yaml.ScalarNode):
                        children.append((key_path, value_node))
                    continue
                repeated = key in keys
                if key_value is not None and isinstance(key_node, yaml.ScalarNode) and \
                        key_node.tag != _STR:  # strings are equal only if their texts are
                    value = key_value(key_node)
                    repeated = repeated or value in values
                    values.add(value)
                if repeated:
                    duplicates.append((key_path, line))
                keys.add(key)
                if isinstance(key_node, yaml.ScalarNode):
                    children.append((key_path, value_node))
            if id(node) not in seen:
                seen.add(id(node))
                stack.extend(reversed(children))
        elif isinstance(node, yaml.SequenceNode) and id(node) not in seen:
            seen.add(id(node))
            members = node.value
            stack.extend(((*path, index), members[index])
                         for index in range(len(members) - 1, -1, -1))
