"""The Dagster code location: one Definitions built from the domain folders under defs/."""
