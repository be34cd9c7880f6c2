"""Turning markdown gate checklists into gate specs (``deploygate import``).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from pytest_deploygate.importer.build import ChecklistError, import_checklist, read_checklist

__all__ = ["ChecklistError", "import_checklist", "read_checklist"]
