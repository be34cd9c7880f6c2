"""The exception the precompiled schema validators raise (see ``core/compiled_schemas.py``).

The validators are generated with fastjsonschema at development time; the generated code
raises this class instead of fastjsonschema's own, so fastjsonschema is never needed at run
time. Same names and fields as fastjsonschema's, minus the schema excerpt (``definition``),
which the generator strips to keep the module small.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from typing import Any


class JsonSchemaValueException(ValueError):
    """A document does not fit a precompiled schema.

    ``name`` is where (``data.sections[0].id``), ``rule`` the keyword it breaks.
    """

    def __init__(self, message: str, value: Any = None, name: str | None = None,
                 definition: Any = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.value = value
        self.name = name
        self.rule = rule


class JsonSchemaValuesException(ValueError):
    """Several errors at once: the generated code names it in ``except`` clauses only (the
    validators stop at the first error), so it is never raised."""
