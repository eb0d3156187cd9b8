"""The portal's check of an upload runs in a worker process with a memory cap: a file that
needs more memory ends the worker with a reason for the partner, never the dashboard server.
Found: a 1.96 MB workbook whose zip directory lied about its size raised the dashboard server
from 376 MB to 2,111 MB and was "Ready"."""

from __future__ import annotations

import pytest

from murmuration.onboarding import isolated


def test_an_upload_is_checked_in_a_capped_worker(sample_paths):
    upload = sample_paths.inbox_dir / "library_service" / "library_service_2025-03.csv"
    report = isolated.check_upload(sample_paths, upload, "library_service")
    assert report.mapping_name == "library_service_csv" and report.ready
    assert report.lines()[0] == "Mapping:  library_service_csv"


def test_a_check_past_the_memory_cap_says_so_and_the_caller_lives_on(sample_paths):
    upload = sample_paths.inbox_dir / "library_service" / "library_service_2025-03.csv"
    with pytest.raises(isolated.CheckNotDone) as refused:
        isolated.check_upload(sample_paths, upload, "library_service", memory_mb=40)
    assert str(refused.value) == (
        "the file needs more memory to check than the portal allows (40 MB): send it split by "
        "month, or ask the backbone's data team to load it")


def test_a_check_that_never_ends_is_stopped(sample_paths):
    upload = sample_paths.inbox_dir / "library_service" / "library_service_2025-03.csv"
    with pytest.raises(isolated.CheckNotDone, match="took longer than 1 seconds"):
        isolated.check_upload(sample_paths, upload, "library_service", timeout=1)
