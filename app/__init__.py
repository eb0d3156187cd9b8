"""The application layer: the ``murmuration`` command (cli), running the Dagster job outside
the UI (pipeline), serving the dashboard and the Dagster UI (serve), a run's summary (summary)
and the benchmark. It stands above the Dagster code location (orchestration/) and the dashboard
(dashboards/), which stand above the checks (expectations/) and the domain (murmuration/);
imports run downward only (``make lint`` checks it with import-linter)."""
