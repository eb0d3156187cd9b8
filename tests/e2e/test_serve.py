"""`murmuration serve` brings up the dashboard and the Dagster UI, and Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from murmuration.environment import OFFLINE
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.slow


def this_machines_address() -> str | None:
    """An address of this machine other than loopback (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_serve_starts_both_uis_and_stops_cleanly_on_ctrl_c(sample_run, sample_users):
    dashboard, dagster = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--project",
         str(sample_run.paths.project_dir), "--dashboard-port", str(dashboard),
         "--dagster-port", str(dagster), "--host", "0.0.0.0"],
        env={**os.environ, **OFFLINE}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True)
    lines = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        output = "".join(lines)
        assert f"Dashboard:  http://0.0.0.0:{dashboard}/ (sign in)" in output, output
        assert f"Dagster UI: http://127.0.0.1:{dagster} (this machine only" in output, output
        page = urllib.request.urlopen(f"http://127.0.0.1:{dashboard}/", timeout=10)
        assert page.url.endswith("/login?next=/") and b"Sign in" in page.read()
        info = urllib.request.urlopen(f"http://127.0.0.1:{dagster}/server_info", timeout=10).read()
        assert b"dagster_webserver_version" in info
        # The Dagster UI launches runs and has no sign-in: not reachable from the network,
        # while the dashboard (behind its sign-in) is.
        address = this_machines_address()
        if address:
            assert b"Sign in" in urllib.request.urlopen(f"http://{address}:{dashboard}/",
                                                        timeout=10).read()
            with pytest.raises(OSError):
                urllib.request.urlopen(f"http://{address}:{dagster}/server_info", timeout=5)
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert "Stopped." in rest
    for port in (dashboard, dagster):
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3)


def test_a_dashboard_server_started_with_sigterm_ignored_still_stops_on_sigterm(tmp_path):
    """Started by a process whose SIGTERM was ignored (after a Dagster run in process, from a
    shell that started it in the background), the dashboard server inherited SIGTERM ignored:
    four test servers could not be stopped ('timed out after 20 seconds') and lived on."""
    from murmuration.paths import SAMPLE_PROJECT_DIR
    from tests.e2e.conftest import wait_for

    port = free_port()
    env = {**os.environ, **OFFLINE, "MURMURATION_PROJECT_DIR": str(SAMPLE_PROJECT_DIR),
           "MURMURATION_STATE_DIR": str(tmp_path / "state")}
    env.pop("MURMURATION_SERVING", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "dashboards.app", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN))
    try:
        wait_for(f"http://127.0.0.1:{port}/login")
        server.terminate()
        assert server.wait(timeout=15) == -signal.SIGTERM
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_a_port_already_in_use_is_refused_with_the_flag_to_change_it(tmp_path):
    """Found: on a shared server the first run clashed on 8050/3000 with no word on how to
    choose other ports. serve now says which port is taken and the flag that changes it."""
    port = free_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        result = subprocess.run(
            [sys.executable, "-c", "import sys; from app.serve import serve; "
             "from murmuration.paths import ProjectPaths; "
             f"sys.exit(serve(ProjectPaths.for_project({str(tmp_path)!r}), "
             f"dashboard_port={port}, dagster_port={free_port()}))"],
            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--dashboard-port N (or MURMURATION_DASHBOARD_PORT=N)" in result.stderr
    assert "Traceback" not in result.stderr
