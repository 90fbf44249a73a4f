"""Reusable widgets (virtual table, status bar, progress panel)."""
