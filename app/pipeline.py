"""Run the whole Dagster job once for one initiative, in this process, recorded in its Dagster
home (so the run shows up in the Dagster UI afterwards), holding the initiative's run lock."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from murmuration import nothing_new
from murmuration.environment import ensure_dbt_manifest, prepare_environment
from murmuration.paths import ProjectPaths
from murmuration.processes import sigterm_kept, yield_cpu
from murmuration.runlock import RunLock

# Landing statuses of files that are not submissions at all (lock files, thumbnails): set aside
# by design, not a problem. Any other status but "landed" is a file that could not be read.
NOT_SUBMISSIONS = {"landed", "ignored"}


@dataclass
class CheckFailure:
    asset: str
    check: str
    severity: str
    blocking: bool


PUBLISH_STEP = "serving_snapshot"  # the step that swaps in the new snapshot


@dataclass
class PipelineResult:
    run_id: str
    success: bool
    log_file: Path
    failed_steps: list[str] = field(default_factory=list)
    failed_checks: list[CheckFailure] = field(default_factory=list)
    # Files received and not read (unreadable, or over one of the initiative's limits) still
    # current, by this run or an earlier one: (inbox path, landing status, reason).
    not_read: list[tuple[str, str, str]] = field(default_factory=list)
    received: set[str] = field(default_factory=set)  # inbox paths this run landed
    # Inbox files still being written when the run looked: left for the next run.
    waiting: list[str] = field(default_factory=list)
    # The serving snapshot step succeeded: the dashboard shows this run's snapshot, whatever
    # failed after it (a feedback pack, the digest).
    published: bool = False
    # A failed step's own words (a dg.Failure's description, else the error's first line).
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def blocking_failures(self) -> list[CheckFailure]:
        return [c for c in self.failed_checks if c.blocking]


def run_pipeline(paths: ProjectPaths, progress: bool = True,
                 lock: RunLock | None = None, nice: bool = True) -> PipelineResult:
    """The whole job once. ``lock``: the initiative's run lock, already held by the caller;
    without it this takes the lock itself (RunLockHeld when another run holds it). ``nice``:
    at a lower CPU priority than the dashboard (processes.yield_cpu; not for `murmuration
    demo`, whose process goes on to serve the dashboard)."""
    if lock is not None and lock.held:
        return _run(paths, progress, nice)
    with RunLock(paths, "murmuration run").acquire(wait=0):
        return _run(paths, progress, nice)


def _run(paths: ProjectPaths, progress: bool, nice: bool = True) -> PipelineResult:
    # Whatever is landed from now on is this run's: the run lock keeps every other writer out.
    started = datetime.now(UTC).isoformat(timespec="seconds")
    nothing_new.forget(paths)  # this run writes: the kept fingerprint vouches for nothing now
    if nice:
        yield_cpu()
    prepare_environment(paths)
    ensure_dbt_manifest()
    import dagster as dg

    from murmuration.intake.landing import files_waiting, inbox_folders, load_submissions
    from orchestration.definitions import defs
    from orchestration.defs.intake.assets import inbox_folders as partitions
    from orchestration.defs.jobs import HARMONISE_JOB, PIPELINE_JOB, all_folders_tags

    graph = defs.resolve_asset_graph()
    blocking = {(key.asset_key, key.name) for key in graph.asset_check_keys
                if graph.get_check_spec(key).blocking}
    run_config = {"loggers": {"progress": {}} if progress else {}}
    log_file = paths.state_dir / "logs" / "last_run.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    # Dagster's and dbt's own output goes to the log file; the terminal gets progress lines.
    with dg.DagsterInstance.get() as instance, log_file.open("w") as log, \
            contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        # Every inbox folder is a partition of the intake assets; one run covers them all.
        folders = inbox_folders(paths)
        known = instance.get_dynamic_partitions(partitions.name)
        missing = [f for f in folders if f not in known]
        if missing:
            instance.add_dynamic_partitions(partitions.name, missing)
        if folders:
            ordered = list(instance.get_dynamic_partitions(partitions.name))
            job, tags = defs.resolve_job_def(PIPELINE_JOB), all_folders_tags(ordered)
        else:
            job, tags = defs.resolve_job_def(HARMONISE_JOB), {}
        with sigterm_kept():  # Dagster would leave it ignored when SIGINT is (murmuration/processes.py)
            result = job.execute_in_process(instance=instance, run_config=run_config, tags=tags,
                                            raise_on_error=False)
    failed_checks = [
        CheckFailure(asset=e.asset_key.to_user_string(), check=e.check_name,
                     severity=e.severity.value, blocking=(e.asset_key, e.check_name) in blocking)
        for e in result.get_asset_check_evaluations() if not e.passed]
    submissions = load_submissions(paths)  # read once: what is not read, what this run landed
    failed_steps = [event.step_key for event in result.get_step_failure_events()]
    failures = {event.step_key: _failure_text(event) for event in result.get_step_failure_events()}
    published = any(event.step_key == PUBLISH_STEP for event in result.all_events
                    if event.event_type == dg.DagsterEventType.STEP_SUCCESS)
    return PipelineResult(run_id=result.run_id, success=result.success, log_file=log_file,
                          failed_steps=failed_steps, failed_checks=failed_checks,
                          published=published, failures=failures,
                          not_read=files_not_read(paths, submissions),
                          received={s.inbox_path for s in submissions if s.landed_at >= started},
                          waiting=files_waiting(paths, since=started))


def _failure_text(event) -> str:
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    error = data.error
    while error is not None and error.cause is not None and "Error occurred while" in error.message:
        error = error.cause  # Dagster's wrapper: the step's own error is its cause
    return (error.message.strip().splitlines() or [""])[-1] if error is not None else ""


def files_not_read(paths: ProjectPaths, submissions: list | None = None
                   ) -> list[tuple[str, str, str]]:
    """Every file received and not read that is still current, whichever run received it: the
    latest file at its inbox path could not be read (unreadable, or over a limit) and is still
    in the inbox. Current until it is sent again readable or taken out of the inbox, so a run
    after a killed one, or after one that received it, reports it as the first run did.
    ``submissions``: landing.load_submissions(paths), when the caller has it already."""
    from murmuration.intake.landing import load_submissions

    latest = {}
    for submission in submissions if submissions is not None else load_submissions(paths):
        latest[submission.inbox_path] = submission  # oldest first: the last at a path stands
    return sorted((s.inbox_path, s.status, s.message or "") for s in latest.values()
                  if s.status not in NOT_SUBMISSIONS
                  and (paths.inbox_dir / s.inbox_path).is_file())
