"""Onboarding a partner format: propose a mapping from an unseen file (``suggest``), then check
a mapping against sample files before any real submission goes through it (``check``)."""

from murmuration.onboarding.check import CheckReport, check_mapping, check_mappings, table_lines
from murmuration.onboarding.suggest import Suggestion, analyse, suggestion_yaml

__all__ = ["CheckReport", "Suggestion", "analyse", "check_mapping", "check_mappings",
           "suggestion_yaml", "table_lines"]
