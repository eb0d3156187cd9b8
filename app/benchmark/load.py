"""Dashboard latency under load: concurrent signed-in clients going through the overview, an
indicator page and its callbacks over HTTP against the real server (waitress), as a browser
does; prints p50 / p95 / p99 per request kind. With ``--republish`` the snapshot is published
again and again meanwhile (the pipeline's own publish step), as when a run lands.

    .venv/bin/python -m app.benchmark.load --project data/sample --clients 20
    .venv/bin/python -m app.benchmark.load --project <bench M> --republish

The initiative must have been run (a published snapshot). A temporary user is added for the
clients and removed at the end.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from murmuration.environment import OFFLINE
from murmuration.paths import ProjectPaths
from murmuration.registry.models import WHOLE_AREA

LOAD_USER = "load-test"


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Client:
    """One browser-like client: its own cookies, signed in through the form."""

    def __init__(self, url: str, username: str, password: str):
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(f"{url}/login", timeout=60).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page)
        form = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrf_token": token.group(1), "next": "/"}).encode()
        self.opener.open(f"{url}/login", form, timeout=60).read()

    def get(self, path: str) -> None:
        self.opener.open(self.url + path, timeout=60).read()

    def callback(self, outputs: list[tuple[str, str]], inputs: list[tuple[str, str, object]],
                 changed: str) -> dict:
        body = {
            "output": (".." + "...".join(f"{i}.{p}" for i, p in outputs) + ".."
                       if len(outputs) > 1 else f"{outputs[0][0]}.{outputs[0][1]}"),
            "outputs": ([{"id": i, "property": p} for i, p in outputs] if len(outputs) > 1
                        else {"id": outputs[0][0], "property": outputs[0][1]}),
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
            "changedPropIds": [changed], "state": []}
        request = urllib.request.Request(
            f"{self.url}/_dash-update-component", json.dumps(body).encode(),
            headers={"Content-Type": "application/json"})
        with self.opener.open(request, timeout=60) as response:
            return json.loads(response.read() or b"{}")


def page(client: Client, path: str, search: str = "") -> None:
    """What a browser asks for when it opens a page: the HTML, then the page's layout."""
    client.get(path + search)
    client.callback([("_pages_content", "children"), ("_pages_store", "data")],
                    [("_pages_location", "pathname", path),
                     ("_pages_location", "search", search)], "_pages_location.pathname")


def callback_outputs(client: Client, produces: str) -> list[tuple[str, str]]:
    """The outputs of the app's callback that produces ``produces`` ('id.property'), as the
    server declares them (/_dash-dependencies): the load test follows the pages as they are."""
    with client.opener.open(client.url + "/_dash-dependencies", timeout=60) as response:
        for dependency in json.loads(response.read()):
            outputs = [tuple(part.rsplit(".", 1)) for part in
                       dependency["output"].strip(".").split("...")]
            if tuple(produces.rsplit(".", 1)) in outputs:
                return outputs
    raise SystemExit(f"no callback of the dashboard produces {produces}")


def journey(client: Client, indicator: str, period: str, timings: dict[str, list[float]],
            errors: list[str], think: float = 0.0,
            milestone_outputs: list[tuple[str, str]] | None = None) -> None:
    steps = [
        ("overview", lambda: page(client, "/")),
        ("indicator page", lambda: page(client, "/milestones",
                                        f"?indicator={indicator}&place={WHOLE_AREA}")),
        ("indicator callback", lambda: client.callback(
            milestone_outputs, [("milestone-indicator", "value", indicator),
                                ("milestone-place", "value", WHOLE_AREA),
                                ("learning-log-changed", "data", None)],
            "milestone-indicator.value")),
        ("lineage callback", lambda: client.callback(
            [("milestone-lineage", "children")],
            [("milestone-chart", "clickData",
              {"points": [{"customdata": ["", period]}]}),
             ("milestone-indicator", "value", indicator), ("milestone-place", "value", WHOLE_AREA)],
            "milestone-chart.clickData")),
    ]
    for name, step in steps:
        started = time.perf_counter()
        try:
            step()
        except Exception as error:  # noqa: BLE001 - counted and reported, the load goes on
            errors.append(f"{name}: {error}")
            continue
        timings.setdefault(name, []).append(time.perf_counter() - started)
        if think:
            time.sleep(think)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def _pick_indicator(paths: ProjectPaths) -> tuple[str, str]:
    import duckdb

    con = duckdb.connect(str(paths.serving), read_only=True)
    try:
        row = con.execute("""
            select t.indicator_code, max(t.period) from marts.indicator_period_totals t
            join marts.indicators i using (indicator_code)
            where t.place_code = ? and t.period_type = (select period_type
                                                        from marts.initiative)
            group by t.indicator_code, i.display_order order by i.display_order limit 1
        """, [WHOLE_AREA]).fetchone()
    finally:
        con.close()
    return row[0], row[1]


def _republish(paths: ProjectPaths, stop: threading.Event, counter: list[int]) -> None:
    from murmuration.warehouse import publish

    while not stop.is_set():
        publish(paths)
        counter[0] += 1
        stop.wait(1.0)


def _keep_running(paths: ProjectPaths, stop: threading.Event, counter: list[int]) -> None:
    """`murmuration run --force` again and again (every step, as when files keep arriving),
    competing with the dashboard for the cores, until ``stop``."""
    command = [sys.executable, "-m", "app.cli", "run", "--quiet", "--force",
               "--project", str(paths.project_dir), "--state-dir", str(paths.state_dir)]
    while not stop.is_set():
        subprocess.run(command, env={**os.environ, **OFFLINE}, capture_output=True,
                       check=False)
        counter[0] += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds each client waits between two steps, as a person reads "
                             "(0: back to back, a stress test)")
    parser.add_argument("--republish", action="store_true",
                        help="publish the snapshot again every second while the load runs")
    parser.add_argument("--during-runs", action="store_true",
                        help="run the whole pipeline (--force) again and again meanwhile, "
                             "competing for the cores")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    from murmuration.access import UserStore

    paths = ProjectPaths.for_project(args.project)
    if not paths.serving.exists():
        print(f"No published snapshot in {paths.serving}: run the pipeline first.",
              file=sys.stderr)
        return 2
    indicator, period = _pick_indicator(paths)
    store = UserStore(paths.project_dir)
    password = secrets.token_urlsafe(18)
    if store.get(LOAD_USER) is not None:
        store.remove(LOAD_USER)
    store.add(LOAD_USER, "admin", password)
    port = _free_port()
    env = {**os.environ, **OFFLINE, "MURMURATION_PROJECT_DIR": str(paths.project_dir),
           "MURMURATION_STATE_DIR": str(paths.state_dir)}
    (paths.state_dir / "logs").mkdir(parents=True, exist_ok=True)
    server_log = ((paths.state_dir / "logs") / "load-server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "dashboards.app", "--port", str(port)],
                              env=env, stdout=server_log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    published = [0]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/login", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        clients = [Client(url, LOAD_USER, password) for _ in range(args.clients)]
        warm: dict[str, list[float]] = {}
        outputs = callback_outputs(clients[0], "milestone-chart.figure")
        # The first answers fill the cache; a failing step stops the load test at once.
        failed: list[str] = []
        journey(clients[0], indicator, period, warm, failed, milestone_outputs=outputs)
        if failed:
            raise SystemExit(f"the journey fails before any load: {failed[0]} (the server's "
                             f"log: {server_log.name})")
        timings: dict[str, list[float]] = {}
        errors: list[str] = []
        lock = threading.Lock()

        def work(client: Client) -> None:
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                mine: dict[str, list[float]] = {}
                journey(client, indicator, period, mine, errors, args.think, outputs)
                with lock:
                    for name, values in mine.items():
                        timings.setdefault(name, []).extend(values)

        background = (_republish if args.republish else
                      _keep_running if args.during_runs else None)
        republisher = (threading.Thread(target=background, args=(paths, stop, published))
                       if background else None)
        if republisher:
            republisher.start()
        threads = [threading.Thread(target=work, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        stop.set()
        if republisher:
            republisher.join()  # a run under way ends first (it holds the run lock)
        server.terminate()
        server.wait(timeout=30)
        server_log.close()
        store.remove(LOAD_USER)
    every = [value for values in timings.values() for value in values]
    rows = {name: values for name, values in timings.items()} | {"all requests": every}
    print(f"{args.clients} clients for {args.seconds:.0f} s on {paths.project_dir} "
          f"(indicator {indicator}; {args.think:g} s between steps)"
          f"{', republishing' if args.republish else ''}")
    print(f"{'request':<20} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    figures = {}
    for name, values in rows.items():
        if not values:
            continue
        figures[name] = {"count": len(values),
                         "p50_ms": round(1000 * statistics.median(values), 1),
                         "p95_ms": round(1000 * _percentile(values, 0.95), 1),
                         "p99_ms": round(1000 * _percentile(values, 0.99), 1)}
        f = figures[name]
        print(f"{name:<20} {f['count']:>7} {f['p50_ms']:>8} {f['p95_ms']:>8} {f['p99_ms']:>8}")
    print(f"errors: {len(errors)}" + (f" (first: {errors[0]}; the server's log: "
                                      f"{server_log.name})" if errors else ""))
    if args.republish:
        print(f"snapshots published during the load: {published[0]}")
    if args.during_runs:
        print(f"pipeline runs during the load: {published[0]} (niceness "
              f"{os.environ.get('MURMURATION_RUN_NICE') or 'default'})")
    if args.json:
        args.json.write_text(json.dumps({"clients": args.clients, "seconds": args.seconds,
                                         "think": args.think,
                                         "republish": args.republish,
                                         "during_runs": args.during_runs, "errors": len(errors),
                                         "published": published[0], "requests": figures},
                                        indent=2))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
