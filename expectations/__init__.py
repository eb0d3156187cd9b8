"""Great Expectations suites generated from the registry, and their runs on each submission."""
