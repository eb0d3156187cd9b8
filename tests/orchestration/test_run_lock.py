"""One writer per initiative: two `murmuration run`s at once (one runs, the other is refused or
waits), the lock released however a run ends, runs launched by Dagster waiting for it, and the
exit codes monitoring reads (3 when files could not be read, 0 when every file was)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import dagster as dg
import pytest

from app.summary import EXIT_CLEAN, EXIT_FAILED, EXIT_LOCKED, EXIT_NOT_READ
from murmuration.environment import OFFLINE
from murmuration.paths import AS_OF_ENV, PROJECT_ENV, SAMPLE_PROJECT_DIR, STATE_ENV, ProjectPaths
from murmuration.runlock import RunLock, RunLockHeld, is_locked, read_holder
from murmuration.sample_inbox import PLANTED, generate_sample_inbox
from orchestration.lib.executor import WAIT_ENV, one_writer_executor
from tests.conftest import SAMPLE, SAMPLE_AS_OF, copy_initiative

ENV = {**os.environ, **OFFLINE, AS_OF_ENV: SAMPLE_AS_OF}
REFUSED = re.compile(r"murmuration: another run of this initiative is in progress since "
                     r"\d\d:\d\d UTC \(pid (\d+), (.+?)\); try again when it ends(, or add "
                     r"--wait)?")


def start_run(paths: ProjectPaths, *extra: str, stdout=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "--project", str(paths.project_dir),
         "--quiet", *extra], stdout=stdout, stderr=subprocess.PIPE, text=True, env=ENV,
        start_new_session=True)


def finish(process: subprocess.Popen, timeout: float = 600) -> tuple[int, str, str]:
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    return process.returncode, stdout or "", stderr


def wait_until(condition, timeout: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def sample(tmp_path, dbt_manifest) -> ProjectPaths:
    paths = copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "sample")
    generate_sample_inbox(paths)
    return paths


def test_two_runs_at_once_one_runs_the_other_is_refused(sample):
    """Both used to land the same files; the second died on DuckDB's lock with a traceback.
    The sample plants two files that cannot be read: the run that ran exits 3."""
    first, second = start_run(sample), start_run(sample)
    results = {process.pid: finish(process) for process in (first, second)}
    codes = sorted(code for code, _, _ in results.values())
    assert codes == [EXIT_NOT_READ, EXIT_LOCKED], results
    [(ran, (_, stdout, stderr))] = [(pid, r) for pid, r in results.items()
                                    if r[0] == EXIT_NOT_READ]
    [(_, refused_out, refused_err)] = [r for r in results.values() if r[0] == EXIT_LOCKED]
    # The refused run: one line naming the run in progress, nothing else, no traceback.
    assert "Traceback" not in refused_err and refused_out == ""
    assert len(refused_err.strip().splitlines()) == 1, refused_err
    match = REFUSED.fullmatch(refused_err.strip())
    assert match, refused_err
    assert int(match[1]) == ran and match[2] == "murmuration run" and match[3]
    # The run that ran landed every file once and says how it ended in its last line.
    assert SAMPLE.files_line() in stdout, stdout + stderr
    assert re.fullmatch(r"Done in \d+ s; 2 files could not be read \(exit code 3\)\.",
                        stdout.strip().splitlines()[-1]), stdout
    assert not is_locked(sample)
    assert read_holder(sample.run_lock).pid is None  # nobody holds it: no details left


def test_wait_waits_for_the_run_in_progress_then_runs_and_a_clean_inbox_exits_0(sample, tmp_path):
    for key in ("damaged_workbook", "empty_file"):
        folder, name, _ = PLANTED[key]
        [planted] = sample.inbox_dir.glob(f"{folder}/**/{name}")
        planted.unlink()
    holder = RunLock(sample, "test holder").acquire()
    try:
        # A bounded wait that runs out: exit 4, saying it waited.
        code, stdout, stderr = finish(start_run(sample, "--wait", "1"))
        assert code == EXIT_LOCKED and "Traceback" not in stderr
        assert "waiting for it to end (at most 1 s)" in stdout
        assert re.fullmatch(r"murmuration: another run of this initiative is in progress since "
                            rf"\d\d:\d\d UTC \(pid {os.getpid()}, test holder\) \(still, after "
                            r"waiting \d s\); try again when it ends", stderr.strip()), stderr
        # An open wait: it waits (printing so) while the lock is held, then runs.
        log = (tmp_path / "waiting.out").open("w+")
        waiting = start_run(sample, "--wait", stdout=log)
        wait_until(lambda: "waiting for it to end" in (tmp_path / "waiting.out").read_text(),
                   what="the waiting line")
        time.sleep(1)
        assert waiting.poll() is None
        assert read_holder(sample.run_lock).command == "test holder"
    finally:
        holder.release()
    code, _, stderr = finish(waiting)
    stdout = (tmp_path / "waiting.out").read_text()
    assert code == EXIT_CLEAN, stdout + stderr
    assert stdout.startswith("Another run of this initiative is in progress since ")
    assert f"(pid {os.getpid()}, test holder); waiting for it to end ..." in stdout
    assert SAMPLE.files_line(with_unreadable=False) in stdout
    assert re.fullmatch(r"Done in \d+ s \(exit code 0\)\.", stdout.strip().splitlines()[-1])
    assert not is_locked(sample)


def test_the_lock_is_released_after_a_failed_run(tmp_path, dbt_manifest):
    paths = copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "sample")
    generate_sample_inbox(tmp_path / "inbox")
    [file] = (tmp_path / "inbox" / "little_steps").glob("little_steps_2025-03.csv")
    (paths.inbox_dir / "little_steps").mkdir(parents=True)
    shutil.copy2(file, paths.inbox_dir / "little_steps" / file.name)
    # A file where the landing step keeps the received copy's folder: that step fails.
    blocker = paths.received_dir / hashlib.sha256(file.read_bytes()).hexdigest()[:16]
    blocker.parent.mkdir(parents=True)
    blocker.write_text("in the way")
    code, stdout, stderr = finish(start_run(paths))
    assert code == EXIT_FAILED, stdout + stderr
    assert "Traceback" not in stderr
    # The failed step and its own words (the folder in the way), then what is still served.
    assert re.fullmatch(r"Run failed after \d+ s: step\(s\) failed: received_submissions "
                        r"\(FileExistsError: \[Errno 17\] File exists: '.*/received/[0-9a-f]{16}'"
                        r"\)\. The previous published snapshot \(if any\) was kept \(exit code "
                        r"1\)\.", stderr.strip().splitlines()[-1]), stderr
    # Found: after a failed run the summary printed milestone statuses never published.
    assert ("Milestones: this run published nothing; the dashboard still shows no published "
            "snapshot yet.") in stdout
    assert "on track" not in stdout and "off track" not in stdout
    assert not is_locked(paths)


def test_the_lock_is_released_when_its_holder_is_killed(sample):
    process = start_run(sample)
    try:
        wait_until(lambda: read_holder(sample.run_lock).pid == process.pid or
                   process.poll() is not None, what="the run to take the lock")
        assert process.poll() is None
        with pytest.raises(RunLockHeld, match=rf"\(pid {process.pid}, murmuration run\)"):
            RunLock(sample, "test").acquire(wait=0)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # anything it started
        except ProcessLookupError:
            pass
    lock = RunLock(sample, "after the kill")
    assert lock.try_acquire()  # at once: no stale lock to clean up
    lock.release()


# Runs launched by Dagster (sensor, schedule, UI): the executor takes the lock in the run worker.

@dg.op
def write(context):
    context.log.info("writing")


@dg.op
def fail_to_write(context):
    raise RuntimeError("the warehouse step failed")


@dg.job(executor_def=one_writer_executor)
def writing_job():
    write()


@dg.job(executor_def=one_writer_executor)
def failing_job():
    fail_to_write()


@pytest.fixture
def code_location_env(tmp_path, monkeypatch) -> ProjectPaths:
    monkeypatch.setenv(PROJECT_ENV, str(tmp_path / "initiative"))
    monkeypatch.delenv(STATE_ENV, raising=False)
    monkeypatch.setenv(WAIT_ENV, "30")
    return ProjectPaths.from_env()


def test_the_code_location_runs_every_job_under_the_lock(dbt_manifest):
    from orchestration.definitions import defs
    from orchestration.defs.jobs import HARMONISE_JOB, PIPELINE_JOB

    for job in (defs.resolve_job_def(PIPELINE_JOB), defs.resolve_job_def(HARMONISE_JOB),
                defs.resolve_implicit_global_asset_job_def()):
        assert job.executor_def is one_writer_executor, job.name


def test_a_dagster_run_waits_for_the_lock_then_runs(code_location_env):
    paths = code_location_env
    holder = RunLock(paths, "murmuration run").acquire()
    started = time.monotonic()
    threading.Timer(2, holder.release).start()
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.execute_job(dg.reconstructable(writing_job), instance=instance)
        assert result.success and time.monotonic() - started >= 2
        messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
        assert any(re.search(r"another run of this initiative is in progress since \d\d:\d\d UTC"
                             rf" \(pid {os.getpid()}, murmuration run\); waiting for it to end "
                             r"\(at most 30 s\)", m) for m in messages), messages
        # Released when the run ends, and after a run whose step failed.
        assert not is_locked(paths)
        failed = dg.execute_job(dg.reconstructable(failing_job), instance=instance)
        assert not failed.success
        assert not is_locked(paths)


def test_a_dagster_run_gives_up_after_its_bounded_wait(code_location_env, monkeypatch):
    monkeypatch.setenv(WAIT_ENV, "1")
    holder = RunLock(code_location_env, "murmuration run").acquire()
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            result = dg.execute_job(dg.reconstructable(writing_job), instance=instance)
            assert not result.success
            [failure] = [entry.dagster_event for entry in instance.all_logs(result.run_id)
                         if entry.dagster_event_type == dg.DagsterEventType.RUN_FAILURE]
            assert re.search(r"another run of this initiative is in progress since \d\d:\d\d "
                             rf"UTC \(pid {os.getpid()}, murmuration run\) \(still, after "
                             r"waiting 1 s\); this run did nothing",
                             failure.event_specific_data.error.message), failure
            assert not any(e.event_type_value == "STEP_START" for e in result.all_events)
    finally:
        holder.release()
