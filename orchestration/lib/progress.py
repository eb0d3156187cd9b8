"""A Dagster logger for people at a terminal: one line per step and per message of ours."""

import logging
import sys
import time

import dagster as dg
from dagster._core.log_manager import LOG_RECORD_METADATA_ATTR

QUIET_STEPS_PREFIX = ("harmonised_models",)


class ProgressHandler(logging.Handler):
    def __init__(self, stream):
        super().__init__(logging.DEBUG)
        self.stream = stream
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, LOG_RECORD_METADATA_ATTR, None) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        line = None
        if event is None:
            if record.levelno >= logging.INFO and step:
                message = meta.get("orig_message", record.getMessage())
                if not step.startswith(QUIET_STEPS_PREFIX) or record.levelno >= logging.WARNING:
                    line = f"    {message}"
        elif event.event_type_value == "STEP_START":
            self.started[step] = time.monotonic()
            line = f"  > {step}"
        elif event.event_type_value == "STEP_SUCCESS":
            line = f"  ok {step} ({time.monotonic() - self.started.get(step, time.monotonic()):.1f} s)"
        elif event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error if event.step_failure_data else None
            detail = error.message.strip().splitlines()[0] if error else ""
            line = f"  FAILED {step}: {detail}"
        elif event.event_type_value == "STEP_SKIPPED":
            line = f"  skipped {step} (an earlier step failed)"
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                key = evaluation.asset_key.to_user_string()
                line = (f"    check {evaluation.check_name} on {key} failed "
                        f"({evaluation.severity.value.lower()})")
        if line:
            self.stream.write(line + "\n")
            self.stream.flush()


@dg.logger(description="Compact progress lines for the murmuration command line.")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    log = logging.getLogger("murmuration.progress")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    # The real terminal: the CLI sends everything else (dbt's own output) to the run's log file.
    log.handlers = [ProgressHandler(sys.__stdout__)]
    return log
