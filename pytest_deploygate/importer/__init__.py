"""Turning markdown gate checklists into gate specs (``deploygate import``)."""

from pytest_deploygate.importer.build import ChecklistError, import_checklist

__all__ = ["ChecklistError", "import_checklist"]
