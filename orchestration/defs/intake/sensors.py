"""The inbox sensor: a new or changed file in a partner's folder runs that folder's intake and
everything downstream of it."""

import datetime as dt
import hashlib
import json

import dagster as dg

from murmuration.intake.landing import ignored_reason, inbox_files, load_submissions
from orchestration.defs.intake.assets import inbox_folders
from orchestration.defs.jobs import pipeline_job
from orchestration.lib.resources import InitiativeResource


def signature(size: int, modified: str) -> str:
    return f"{size}:{modified}"


def inbox_signatures(initiative: InitiativeResource) -> dict[str, str]:
    """'folder/file' -> size and modification time: cheap to read every 30 seconds."""
    signatures = {}
    for _folder, path in inbox_files(initiative.paths):
        if ignored_reason(path.name):
            continue
        stat = path.stat()
        modified = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).isoformat(timespec="seconds")
        signatures[str(path.relative_to(initiative.paths.inbox_dir))] = signature(stat.st_size,
                                                                                  modified)
    return signatures


def landed_signatures(initiative: InitiativeResource) -> dict[str, str]:
    """The same for every file already landed, so a first look at a full inbox runs nothing."""
    return {s.inbox_path: signature(s.size_bytes, s.arrived_at)
            for s in load_submissions(initiative.paths)}


@dg.sensor(job=pipeline_job, minimum_interval_seconds=30,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Watches inbox/<folder>/ for new or changed files and runs the pipeline "
                       "for the folders they are in.")
def inbox_sensor(context: dg.SensorEvaluationContext, initiative: InitiativeResource):
    seen = json.loads(context.cursor) if context.cursor else landed_signatures(initiative)
    current = inbox_signatures(initiative)
    changed = {name: signature for name, signature in current.items()
               if seen.get(name) != signature}
    if not changed:
        return dg.SensorResult(skip_reason="no new or changed files in the inbox",
                               cursor=json.dumps(current, sort_keys=True))
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
        cursor=json.dumps(current, sort_keys=True))


defs = dg.Definitions(sensors=[inbox_sensor])
