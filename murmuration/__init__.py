"""Murmuration: shared measurement for collective impact initiatives."""

__version__ = "0.1.0"
