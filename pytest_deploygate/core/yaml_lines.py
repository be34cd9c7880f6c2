"""Safe YAML loading that remembers where every value came from.

Error messages must name the line of a spec, so the loader keeps a map from each value's path
inside the document (``("sections", 3, "criteria", 2, "check")``) to its 1-based line. Only the
safe loader is used: no YAML tag is ever evaluated.

The data and the line map are built in one pass over the parser's events
(:mod:`~pytest_deploygate.core.yaml_events`), so a big spec is never held as a node tree; the
few documents using merge keys or collection tags go through PyYAML's node composer
(:mod:`~pytest_deploygate.core.yaml_nodes`), which gives them PyYAML's exact semantics.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from typing import Any

from pytest_deploygate.core.pyyaml import yaml
from pytest_deploygate.core.yaml_events import NeedsNodes, build
from pytest_deploygate.core.yaml_model import LoadedYaml, YamlPath, YamlSyntaxError, one_line

__all__ = ["LoadedYaml", "Path", "YamlPath", "YamlSyntaxError", "load_yaml"]

#: The old name of a value's path inside a document.
Path = YamlPath

# libyaml's parser when PyYAML was built with it (about ten times faster on big specs); both
# are the safe loader: no tag is ever constructed into an object.
_SafeLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str, loader_class: type[Any] | None = None) -> LoadedYaml:
    """Parse one YAML document safely and map each value path to its line.

    ``loader_class``: PyYAML's ``CSafeLoader`` (the default when PyYAML has libyaml) or
    ``SafeLoader``; both give the same result.
    """
    loader_class = loader_class or _SafeLoader
    try:
        return _load(text, loader_class, build)
    except NeedsNodes:
        # Rare (merge keys, !!set and the like): the node path loads only for them.
        from pytest_deploygate.core.yaml_nodes import load_nodes

        return _load(text, loader_class, load_nodes)


def _load(text: str, loader_class: type[Any], reader: Any) -> LoadedYaml:
    loader = None
    try:
        # (Inside the try: PyYAML's pure-Python reader refuses a non-printable character
        # as soon as it is given the text.)
        loader = loader_class(text)
        loaded: LoadedYaml = reader(loader, "&" in text)
        return loaded
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntaxError(line, one_line(exc.problem or exc.context or str(exc))) from None
    except yaml.reader.ReaderError as exc:
        raise _unprintable(text, exc) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, one_line(str(exc))) from None
    except RecursionError:
        raise YamlSyntaxError(1, "document nests too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()


def _unprintable(text: str, exc: Any) -> YamlSyntaxError:
    """The refusal of a character YAML does not allow, on its line. The place is found in the
    text: PyYAML's reader gives a character index, libyaml's a byte offset into the UTF-8."""
    from pytest_deploygate.core.printable import non_printable

    found = non_printable().search(text)
    if found is None:  # (no reader refuses anything else in a str)
        return YamlSyntaxError(1, one_line(str(exc)))
    line = text.count("\n", 0, found.start()) + 1
    return YamlSyntaxError(line, f"character {ord(found.group()):#06x} is not allowed in YAML: "
                                 "remove it")
