"""Every run Dagster launches for the initiative (the inbox sensor, the schedule, the UI, a
backfill) holds its run lock while it executes, so it never overlaps a `murmuration run`.

Dagster's ``max_concurrent_runs: 1`` queues only the runs its daemon launches; the command line
runs in its own process. The lock is taken by the executor, around every step of the run, in the
run worker's process: released when the steps end, however they end (a failed step, an error, a
terminated run), and by the operating system when the process dies. A run that finds the lock
held waits for it (up to an hour by default, ``MURMURATION_LOCK_WAIT_SECONDS``), saying so in its
log, then fails with a message naming the holder.

(``execute_in_process``, which `murmuration run` uses, replaces a job's executor with its own:
that path takes the lock in app/pipeline.py.)
"""

from __future__ import annotations

import os

import dagster as dg

from murmuration import nothing_new
from murmuration.paths import ProjectPaths
from murmuration.processes import yield_cpu
from murmuration.runlock import RunLock, RunLockHeld

WAIT_ENV = "MURMURATION_LOCK_WAIT_SECONDS"
DEFAULT_WAIT_SECONDS = 3600.0


def lock_wait_seconds() -> float:
    try:
        return float(os.environ.get(WAIT_ENV, DEFAULT_WAIT_SECONDS))
    except ValueError:
        return DEFAULT_WAIT_SECONDS


class OneWriterExecutor(dg.Executor):
    """Dagster's in-process executor, inside the initiative's run lock."""

    def __init__(self, inner: dg.Executor):
        self._inner = inner

    @property
    def retries(self):
        return self._inner.retries

    @property
    def step_dependency_config(self):
        return self._inner.step_dependency_config

    def execute(self, plan_context, execution_plan):
        run = plan_context.dagster_run
        # The initiative this code location serves (as its InitiativeResource is configured).
        paths = ProjectPaths.from_env()
        lock = RunLock(paths, f"Dagster run {run.run_id[:8]} of {run.job_name}")
        wait = lock_wait_seconds()

        def waiting(holder) -> None:
            plan_context.log.info(f"another run of this initiative is in progress"
                                  f"{holder.describe()}; waiting for it to end (at most "
                                  f"{wait:.0f} s)")

        try:
            lock.acquire(wait=wait, on_wait=waiting)
        except RunLockHeld as held:
            raise dg.Failure(f"{held}; this run did nothing: launch it again when that run "
                             "has ended") from None
        with lock:
            plan_context.log.debug(f"holding the run lock {paths.run_lock}")
            # This run writes: a run with nothing new may no longer stand on the last one.
            nothing_new.forget(paths)
            yield_cpu()  # the dashboard's readers first (MURMURATION_RUN_NICE)
            yield from self._inner.execute(plan_context, execution_plan)


@dg.executor(name="one_writer_in_process",
             config_schema=dg.in_process_executor.config_schema.as_field())
def one_writer_executor(init_context: dg.InitExecutorContext) -> OneWriterExecutor:
    """The in-process executor (same configuration), holding the initiative's run lock."""
    return OneWriterExecutor(dg.in_process_executor.executor_creation_fn(init_context))
