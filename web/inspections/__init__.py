"""Recurring inspections with checklists (brief §9.1)."""
