"""Serve an initiative: the Dash dashboard and the Dagster UI (with its daemon, so the schedule
and sensors run), until Ctrl-C or SIGTERM stops both cleanly."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from murmuration.access import UserStore
from murmuration.environment import ensure_dbt_manifest, prepare_environment
from murmuration.paths import DAGSTER_URL_ENV, PORT_ENV, REPO_ROOT, ProjectPaths

READY_TIMEOUT = 180
DAGSTER_HOST = "127.0.0.1"
STOP_TIMEOUT = 30
LOCATION_QUERY = ("{ workspaceOrError { __typename ... on Workspace { locationEntries { name "
                  "locationOrLoadError { __typename } } } } }")


def _get(url: str, data: bytes | None = None) -> bytes | None:
    request = urllib.request.Request(url, data=data,
                                     headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
            return response.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


def dashboard_ready(url: str) -> bool:
    return _get(url) is not None


def dagster_ready(url: str) -> bool:
    """True once the code location has loaded (the server answers before that)."""
    body = _get(f"{url}/graphql", json.dumps({"query": LOCATION_QUERY}).encode())
    if body is None:
        return False
    try:
        entries = json.loads(body)["data"]["workspaceOrError"]["locationEntries"]
    except (KeyError, TypeError, ValueError):
        return False
    kinds = [(e.get("locationOrLoadError") or {}).get("__typename") for e in entries]
    if "PythonError" in kinds:
        raise RuntimeError("the Dagster code location failed to load; see the Dagster log")
    return bool(kinds) and all(kind == "RepositoryLocation" for kind in kinds)


class Services:
    """Child processes, each in its own session so a stop reaches their children too."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = (self.logs / f"{name}.log").open("w")
        self.processes[name] = subprocess.Popen(
            command, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)

    def exited(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.poll() is not None]

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def dagster_command(dagster_port: int) -> list[str]:
    """The Dagster UI can launch runs and has no sign-in of its own: it listens on loopback
    only, whatever host the dashboard serves (reach it with an SSH tunnel)."""
    return [str(Path(sys.executable).with_name("dagster")), "dev", "-m",
            "orchestration.definitions", "-a", "defs", "-h", DAGSTER_HOST, "-p",
            str(dagster_port)]


def port_taken(host: str, port: int) -> bool:
    """Whether something already listens on the port (a second demo on a shared server)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def serve(paths: ProjectPaths, dashboard_port: int = 8050, dagster_port: int = 3000,
          host: str = "127.0.0.1", users: UserStore | None = None) -> int:
    for name, flag, bind, port in (("dashboard", "--dashboard-port", host, dashboard_port),
                                   ("Dagster UI", "--dagster-port", DAGSTER_HOST, dagster_port)):
        if port_taken(bind, port):
            print(f"murmuration: port {port} on {bind} is already in use (another dashboard or "
                  f"Dagster UI?): serve the {name} on another one with {flag} N "
                  f"(or {PORT_ENV[flag]}=N).", file=sys.stderr)
            return 2
    users = users or UserStore(paths.project_dir)
    if not users.exists():
        if not is_loopback(host):
            print(f"murmuration: refusing to serve on {host} with no users: anyone reaching the "
                  "port would be asked to sign in with no account to sign in with, and nothing "
                  "would stop a later mistake. Add users first (murmuration users add NAME "
                  f"--role admin --project {paths.project_dir}).", file=sys.stderr)
            return 2
        print(f"No users yet in {users.path}: nobody can sign in until one is added "
              f"(murmuration users add NAME --role admin --project {paths.project_dir}).",
              flush=True)
    env = {**os.environ, **prepare_environment(paths)}
    # The dashboard's pipeline page links runs and checks into the Dagster UI on this port.
    env[DAGSTER_URL_ENV] = f"http://{DAGSTER_HOST}:{dagster_port}"
    ensure_dbt_manifest()
    logs = paths.state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    dashboard_url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{dashboard_port}/"
    dagster_url = f"http://{DAGSTER_HOST}:{dagster_port}"

    stop_requested: list[int] = []

    def request_stop(signum, _frame):
        stop_requested.append(signum)

    # Restore explicit handlers: a process started in the background may inherit ignored signals.
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    services = Services(logs)
    try:
        services.start("dashboard", [sys.executable, "-m", "dashboards.app", "--host", host,
                                     "--port", str(dashboard_port)], env)
        services.start("dagster", dagster_command(dagster_port), env)
        print(f"Starting the dashboard and the Dagster UI (logs in {logs}) ...", flush=True)
        waiting = {"dashboard": lambda: dashboard_ready(dashboard_url),
                   "Dagster UI": lambda: dagster_ready(dagster_url)}
        deadline = time.monotonic() + READY_TIMEOUT
        while waiting and not stop_requested:
            for name, ready in list(waiting.items()):
                if ready():
                    del waiting[name]
            if services.exited():
                print(f"murmuration: {', '.join(services.exited())} stopped unexpectedly; see "
                      f"{logs}", file=sys.stderr)
                return 1
            if time.monotonic() > deadline:
                print(f"murmuration: {', '.join(waiting)} did not start within "
                      f"{READY_TIMEOUT} s; see {logs}", file=sys.stderr)
                return 1
            time.sleep(0.5)
        if not stop_requested:
            print(f"Dashboard:  http://{host}:{dashboard_port}/ (sign in)")
            print(f"Dagster UI: {dagster_url} (this machine only; it has no sign-in)")
            print("Press Ctrl-C to stop both.", flush=True)
        while not stop_requested:
            if services.exited():
                print(f"murmuration: {', '.join(services.exited())} stopped unexpectedly; see "
                      f"{logs}", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    except RuntimeError as error:
        print(f"murmuration: {error} ({logs / 'dagster.log'})", file=sys.stderr)
        return 1
    finally:
        print("Stopping the dashboard and the Dagster UI ...", flush=True)
        services.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("Stopped.", flush=True)
