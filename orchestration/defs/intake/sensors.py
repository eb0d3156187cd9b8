"""The inbox sensor: a new or changed file in a partner's folder, once it has stopped changing,
runs that folder's intake and everything downstream of it. It also records when each file was
first seen, which is the file's arrival (murmuration.intake.arrivals)."""

import datetime as dt
import hashlib
import json
import time

import dagster as dg

from murmuration.intake.arrivals import record as record_arrivals
from murmuration.intake.landing import ignored_reason, inbox_files, load_submissions, settle_seconds, settled
from murmuration.registry.models import Intake
from orchestration.defs.intake.assets import inbox_folders
from orchestration.defs.jobs import harmonise_job, pipeline_job
from orchestration.lib.resources import InitiativeResource


def signature(size: int, modified: str) -> str:
    return f"{size}:{modified}"


def inbox_signatures(initiative: InitiativeResource) -> dict[str, tuple[str, float]]:
    """'folder/file' -> (size and modification time, modification time as a number): cheap
    to read every 30 seconds."""
    signatures = {}
    for _folder, path in inbox_files(initiative.paths):
        if ignored_reason(path.name):
            continue
        try:
            stat = path.stat()
        except OSError:  # renamed or removed while we looked
            continue
        modified = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).isoformat(timespec="seconds")
        signatures[str(path.relative_to(initiative.paths.inbox_dir))] = (
            signature(stat.st_size, modified), stat.st_mtime)
    return signatures


def landed_signatures(initiative: InitiativeResource) -> dict[str, str]:
    """The same for every file already landed, so a first look at a full inbox runs nothing."""
    return {s.inbox_path: signature(s.size_bytes, s.modified_at or s.arrived_at)
            for s in load_submissions(initiative.paths)}


def read_cursor(cursor: str | None, initiative: InitiativeResource) -> tuple[dict, dict]:
    """(signatures runs were requested for, signatures watched: [signature, first watched])."""
    if not cursor:
        return landed_signatures(initiative), {}
    state = json.loads(cursor)
    if "requested" not in state:  # a cursor written before files had to settle
        return state, {}
    return state["requested"], state.get("watching", {})


def _settle(initiative: InitiativeResource) -> float:
    try:
        return settle_seconds(initiative.registry())
    except Exception:  # definitions being edited: the run will say what is wrong with them
        return Intake().settle_seconds


@dg.sensor(job=pipeline_job, minimum_interval_seconds=30,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Watches inbox/<folder>/ for new or changed files, records when each "
                       "was first seen (its arrival), and, once a file has stopped changing, "
                       "runs the pipeline for the folders they are in.")
def inbox_sensor(context: dg.SensorEvaluationContext, initiative: InitiativeResource):
    requested, watching = read_cursor(context.cursor, initiative)
    current = inbox_signatures(initiative)
    now = time.time()
    settle = _settle(initiative)
    changed, still_writing, next_watching = {}, [], {}
    for name, (sig, modified) in current.items():
        if requested.get(name) == sig:
            continue
        watched_sig, since = watching.get(name, (sig, now))
        if watched_sig != sig:
            since = now
        if settled(now, modified, since, settle):
            changed[name] = sig
        else:
            still_writing.append(name)
            next_watching[name] = (sig, since)
    # Arrival is when the pipeline first saw each version of a file (intake.arrivals).
    new_versions = [initiative.paths.inbox_dir / name for name in current
                    if requested.get(name) != current[name][0]]
    if new_versions:
        record_arrivals(initiative.paths, new_versions, "sensor")
    requested = {name: sig for name, sig in requested.items() if name in current} | changed
    cursor = json.dumps({"requested": requested, "watching": next_watching}, sort_keys=True)
    if not changed:
        reason = "no new or changed files in the inbox"
        if still_writing:
            reason = (f"{len(still_writing)} file(s) still being written, taken once they "
                      f"stop changing: {', '.join(sorted(still_writing)[:5])}")
        return dg.SensorResult(skip_reason=reason, cursor=cursor)
    folders = sorted({name.split("/", 1)[0] for name in changed})
    known = set(context.instance.get_dynamic_partitions(inbox_folders.name))
    requests = []
    for folder in folders:
        batch = json.dumps({n: s for n, s in changed.items() if n.startswith(folder + "/")},
                           sort_keys=True)
        requests.append(dg.RunRequest(
            partition_key=folder,
            run_key=f"{folder}:{hashlib.sha256(batch.encode()).hexdigest()[:16]}",
            tags={"murmuration/trigger": "inbox_sensor"}))
    context.log.info(f"new or changed files in {', '.join(folders)}")
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[inbox_folders.build_add_request(
            [f for f in folders if f not in known])],
        cursor=cursor)


@dg.sensor(job=harmonise_job, minimum_interval_seconds=30,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Watches the backbone's decisions on files held for review "
                       "(<state>/accepted.json, written by `murmuration accept` and the "
                       "Pipeline page) and rebuilds and publishes when one is added.")
def review_sensor(context: dg.SensorEvaluationContext, initiative: InitiativeResource):
    path = initiative.paths.accepted_file
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return dg.SensorResult(skip_reason="nothing accepted yet", cursor=context.cursor)
    digest = hashlib.sha256(content).hexdigest()[:16]
    if context.cursor == digest:
        return dg.SensorResult(skip_reason="no new decision", cursor=digest)
    if context.cursor is None:  # first look: the decisions so far are already built
        return dg.SensorResult(skip_reason="decisions so far are built", cursor=digest)
    context.log.info("a file held for review was accepted: rebuilding and publishing")
    return dg.SensorResult(run_requests=[dg.RunRequest(
        run_key=f"accepted:{digest}", tags={"murmuration/trigger": "review_sensor"})],
        cursor=digest)


defs = dg.Definitions(sensors=[inbox_sensor, review_sensor])
