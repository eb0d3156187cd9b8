"""``murmuration``: run the pipeline for an initiative folder, serve its dashboards, start one.

Exit codes: 0 all good; 1 the run failed or a blocking check failed (nothing new published);
2 the initiative's definitions are invalid or the command was used wrongly; 3 (run) published, but
files this run received could not be read; 4 (run) another run of the initiative is in progress.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from murmuration.paths import PORT_ENV, REPO_ROOT, SAMPLE_PROJECT_DIR, ProjectPaths
from murmuration.registry import RegistryError, load_registry


def _paths(args) -> ProjectPaths:
    project = Path(args.project)
    if not project.is_dir():
        raise SystemExit(_fail(f"{project}: no such initiative folder (create one with "
                               "`murmuration init FOLDER`)"))
    return ProjectPaths.for_project(project, getattr(args, "state_dir", None))


def _fail(message: str, code: int = 2) -> int:
    print(f"murmuration: {message}", file=sys.stderr)
    return code


def _load(paths: ProjectPaths):
    try:
        return load_registry(paths)
    except RegistryError as error:
        print("The initiative's definitions have problems:", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_check(args) -> int:
    paths = _paths(args)
    registry = _load(paths)
    print(f"{registry.initiative.name}: {len(registry.indicators)} indicators, "
          f"{len(registry.partners)} partners, {len(registry.targets)} targets, "
          f"{len(registry.mappings)} mappings - all valid.")
    for note in registry.overlapping_mappings():
        print(f"Note: {note}")
    return 0


def _nothing_new(paths: ProjectPaths, registry, started_from: dict,
                 begun: float) -> int | None:
    """Said and done when a run would publish what is published (murmuration/nothing_new.py):
    its exit code (3 while files received and not read are still in the inbox), else None."""
    from app.pipeline import files_not_read
    from app.summary import EXIT_CLEAN, EXIT_NOT_READ, not_read_lines
    from murmuration import nothing_new
    from murmuration.formatting import format_datetime

    kept = nothing_new.unchanged(paths, started_from)
    if kept is None:
        return None
    print(f"Nothing new since the snapshot published {format_datetime(kept.published_at)} for "
          f"{registry.initiative.name}: no new or changed file in the inbox, no change to the "
          "registry, the mappings, an accepted replacement or the code, the same day to judge "
          "reports against. Nothing was run; the published snapshot stands (`murmuration run "
          "--force` runs every step anyway).")
    not_read = files_not_read(paths)
    if not_read:
        print("Files not read (still in the inbox: send them again readable, or take them out):")
        print("\n".join(not_read_lines(not_read)))
    print(f"Published:   {paths.serving}")
    code = EXIT_NOT_READ if not_read else EXIT_CLEAN
    print(f"Done in {time.monotonic() - begun:.1f} s"
          + (f"; {len(not_read)} file{'s' if len(not_read) != 1 else ''} could not be read"
             if not_read else "") + f" (exit code {code}).")
    return code


def cmd_run(args) -> int:
    from app.pipeline import run_pipeline
    from app.summary import EXIT_LOCKED, outcome, summarise
    from murmuration import nothing_new
    from murmuration.runlock import RunLock, RunLockHeld

    begun = time.monotonic()
    paths = _paths(args)
    registry = _load(paths)
    lock = RunLock(paths, "murmuration run")

    def waiting(holder) -> None:
        limit = f" (at most {args.wait:.0f} s)" if args.wait else ""
        print(f"Another run of this initiative is in progress{holder.describe()}; waiting for "
              f"it to end{limit} ...", flush=True)

    try:
        lock.acquire(wait=args.wait, on_wait=waiting)
    except RunLockHeld as held:
        return _fail(f"{held}; try again when it ends"
                     f"{', or add --wait' if held.waited is None else ''}", EXIT_LOCKED)
    with lock:  # the summary reads the warehouse: no other writer until it has
        started_from = nothing_new.fingerprint(paths)  # before the run changes anything
        force = getattr(args, "force", False)  # (accept and demo call this with their own args)
        if not force and (code := _nothing_new(paths, registry, started_from, begun)) is not None:
            return code
        print(f"Running the pipeline for {registry.initiative.name}")
        why = "asked to (--force)" if force else nothing_new.why_run(paths, started_from)
        print(f"  why:        {why}")
        print(f"  initiative: {paths.project_dir}")
        print(f"  state:      {paths.state_dir}", flush=True)
        started = time.monotonic()
        result = run_pipeline(paths, progress=not args.quiet, lock=lock,
                              nice=not getattr(args, "serves_after", False))
        elapsed = time.monotonic() - started
        success = result.success and not result.blocking_failures
        print()
        # Files not read: those still current (state, not this run's memory), as the exit code.
        summary = summarise(paths, run_published=success or result.published,
                            not_read=result.not_read)
        for line in summary.lines():
            print(line)
        if success and not summary.held and not summary.emptied and not result.waiting:
            # Trusted: a later run with nothing new may stand on this one (nothing_new.py); not
            # after a held or emptied run (a decision awaits) or with a file half-written.
            nothing_new.remember(paths, started_from)
    _print_where(paths, result)
    code, last_line = outcome(elapsed, success, len(result.not_read), _failure(result),
                              held=len(summary.held), emptied=len(summary.emptied),
                              published=result.published)
    print(last_line, file=sys.stdout if success else sys.stderr)
    return code


def _print_where(paths: ProjectPaths, result) -> None:
    """After the summary: files of this run, where everything is, the checks that failed."""
    new = [location for location, _, _ in result.not_read if location in result.received]
    if new and len(new) < len(result.not_read):  # the summary lists every one still current
        print(f"Not read, received by this run: {', '.join(new)}")
    if result.waiting:
        print(f"Still being written, left for the next run: {', '.join(result.waiting)}")
    print()
    print(f"Warehouse:   {paths.warehouse}")
    print(f"Published:   {paths.serving}")
    print(f"Feedback:    {paths.state_dir / 'feedback'}/<partner>/index.html")
    print(f"Dagster run: {result.run_id} (DAGSTER_HOME={paths.dagster_home})")
    print(f"Full log:    {result.log_file}")
    if result.failed_checks:
        print("Checks that found problems (warnings are published and shown to partners; "
              "blocking ones stop publishing):")
        for check in result.failed_checks:
            kind = "blocking" if check.blocking else check.severity.lower()
            print(f"  {check.asset}: {check.check} ({kind})")


def _failure(result) -> str:
    """What failed, for the last line: the blocking checks, or each failed step in its words."""
    if result.blocking_failures:
        return f"{len(result.blocking_failures)} blocking check(s) failed"
    return "step(s) failed: " + "; ".join(
        f"{step} ({result.failures[step]})" if result.failures.get(step) else step
        for step in result.failed_steps)


def cmd_sample_inbox(args) -> int:
    from murmuration.sample_inbox import generate_sample_inbox

    paths = _paths(args)
    files = generate_sample_inbox(paths)
    print(f"Wrote {len(files)} files to {paths.inbox_dir}")
    return 0


def cmd_init(args) -> int:
    target = Path(args.folder)
    if target.exists() and any(target.iterdir()):
        return _fail(f"{target} exists and is not empty; choose a new folder")
    template = REPO_ROOT / "data" / "template"
    shutil.copytree(template, target, dirs_exist_ok=True)
    (target / "inbox").mkdir(exist_ok=True)
    print(f"Started a new initiative in {target}. Next:\n"
          f"  1. edit {target}/initiative.yaml and registry/*.yaml (indicators, places, "
          "partners, targets)\n"
          f"  2. add a mapping per partner export under {target}/mappings/\n"
          f"  3. drop partner files into {target}/inbox/<partner code>/\n"
          f"  4. murmuration check --project {target}; murmuration run --project {target}")
    return 0


def _folder_for(args, sample: Path, paths: ProjectPaths | None) -> str:
    if args.folder:
        return args.folder
    if paths:
        try:  # a file in the initiative's inbox: its partner folder
            return sample.resolve().relative_to(paths.inbox_dir).parts[0]
        except ValueError:
            pass
    raise SystemExit(_fail(f"{sample}: say which inbox folder (partner code) the file belongs "
                           "to: --folder"))


def _sample_file(name: str, paths: ProjectPaths | None) -> Path:
    """A file named as given, else relative to the initiative folder (the commands in README.md
    and docs/mappings.md name inbox files from the initiative, e.g. inbox/partner/file.csv)."""
    path = Path(name)
    if not path.exists() and paths and (paths.project_dir / name).exists():
        path = paths.project_dir / name
    if not path.exists():
        raise SystemExit(_fail(f"{name}: no such file or folder"))
    return path


def cmd_mapping_suggest(args) -> int:
    from murmuration.onboarding import analyse, suggestion_yaml

    paths = _paths(args) if args.project else None
    sample = _sample_file(args.file, paths)
    if not sample.is_file():
        return _fail(f"{sample}: not a file")
    registry = _load(paths) if paths else None
    folder = args.folder or (_folder_or_none(args, sample, paths) or sample.resolve().parent.name
                             if paths else "partner_code")
    try:
        suggestion = analyse(sample, registry, sheet=args.sheet, folder=folder)
    except Exception as error:  # any reader error becomes a message, never a traceback
        return _fail(f"{sample.name}: {error}")
    if suggestion.unsure:
        print("Not sure which row is the header; the candidates (choose with --sheet):",
              file=sys.stderr)
        for candidate in suggestion.candidates:
            print(f"  {candidate.describe()}", file=sys.stderr)
    text = suggestion_yaml(suggestion, folder, sample.name)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"Wrote a draft mapping to {args.output}; review it, then run "
              f"`murmuration mapping check`.")
    else:
        print(text)
    return 0


def _folder_or_none(args, sample: Path, paths: ProjectPaths | None) -> str | None:
    try:
        return _folder_for(args, sample, paths)
    except SystemExit:
        return None


def cmd_mapping_check(args) -> int:
    from murmuration.onboarding import check_mappings, table_lines

    paths = _paths(args)
    registry = _load(paths)
    samples: list[tuple[Path, str]] = []
    for name in args.files:
        path = _sample_file(name, paths)
        files = [path] if path.is_file() else sorted(
            p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        for file in files:
            samples.append((file, _folder_for(args, file, paths)))
    if not samples:
        return _fail("no files to check")
    reports = check_mappings(paths, registry, samples)
    lines = reports[0].lines() if len(reports) == 1 else table_lines(reports)
    for line in lines:
        print(line)
    return 0 if all(report.ready for report in reports) else 1


def _user_store(paths: ProjectPaths):
    from murmuration.access import UserStore

    return UserStore.for_registry(paths.project_dir, _load(paths))


def _read_password(args, prompt: str = "Password") -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass(f"{prompt}: ")
    if getpass.getpass(f"{prompt} again: ") != first:
        raise SystemExit(_fail("the two passwords differ"))
    return first


def cmd_users(args) -> int:
    from murmuration.access import ROLE_LABELS, UsersError, new_password

    paths = _paths(args)
    store = _user_store(paths)
    try:
        if args.users_command == "list":
            users = store.users()
            if not users:
                print(f"No users yet in {store.path}; add one with `murmuration users add`.")
            for user in users.values():
                bound = ", ".join(user.partners or user.working_groups)
                print(f"{user.username:<24}{ROLE_LABELS[user.role]:<22}{bound}")
            return 0
        if args.users_command == "remove":
            store.remove(args.username)
            print(f"Removed {args.username}; their sessions end at their next request.")
            return 0
        generated = args.generate_password
        password = new_password() if generated else _read_password(args)
        if args.users_command == "add":
            user = store.add(args.username, args.role, password, name=args.name or "",
                             partners=[args.partner] if args.partner else [],
                             working_groups=args.working_group or [])
            print(f"Added {user.username} ({ROLE_LABELS[user.role]}) to {store.path}")
        else:
            store.set_password(args.username, password)
            print(f"Changed the password of {args.username}; their sessions have ended.")
        if generated:
            print(f"Password: {password}")
        return 0
    except UsersError as error:
        return _fail(str(error))


def cmd_accept(args) -> int:
    """`accept FILE...`: publish replacements held for review (or files a rule change left
    with no accepted value), then run the pipeline (unless --no-run)."""
    import duckdb

    from murmuration.review import accept, emptied_by_rules, held_for_review

    paths = _paths(args)
    _load(paths)
    if not paths.warehouse.exists():
        return _fail("nothing has been built yet: run the pipeline first")
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        waiting = {e.submission_id: e for e in held_for_review(con)}
        files = dict(((sid, (folder, name)) for sid, folder, name in con.execute(
            "select submission_id, folder, file_name from marts.submissions").fetchall()))
    finally:
        con.close()
    waiting.update({e.submission_id: e for e in emptied_by_rules(paths)})
    chosen, problems = [], []
    for given in args.files:
        wanted = Path(given)
        for candidate in (Path(given), paths.project_dir / given):
            try:
                wanted = candidate.resolve().relative_to(paths.inbox_dir)
                break
            except ValueError:
                continue
        matches = [sid for sid, (folder, name) in files.items()
                   if given == sid or str(wanted) == f"{folder}/{name}" or given == name]
        held = [sid for sid in matches if sid in waiting]
        if not matches:
            problems.append(f"{given}: no received file of this name or id")
        elif not held:
            problems.append(f"{given}: not held back (nothing to accept)")
        else:
            chosen += [(sid, waiting[sid].location) for sid in held]
    for problem in problems:
        print(f"murmuration: {problem}", file=sys.stderr)
    if not chosen:
        if not waiting:
            print("Nothing is held back.")
        return 2 if problems else 0
    by = args.by or "murmuration accept"
    new = accept(paths, chosen, by)
    for sid, location in chosen:
        print(f"Accepted {location} ({waiting[sid].reason})"
              + ("" if sid in new else " - it was accepted before"))
    if args.no_run:
        print("It is published by the next run (murmuration run).")
        return 2 if problems else 0
    return cmd_run(argparse.Namespace(project=args.project, state_dir=args.state_dir,
                                      quiet=False, wait=args.wait, force=False))


def _moment(text: str):
    """A date (midday UTC: within the day whatever the reader's zone) or an ISO date-time."""
    from datetime import UTC, datetime

    text = text.strip()
    moment = datetime.fromisoformat(text if "T" in text or " " in text else f"{text}T12:00:00")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_arrivals(args) -> int:
    """`arrivals set PARTNER --on DATE | --from FILE`: when history loaded today was sent."""
    import csv

    from murmuration.intake.arrivals import set_arrivals

    paths = _paths(args)
    registry = _load(paths)
    if args.partner not in registry.partner_by_code:
        return _fail(f"{args.partner!r} is not a partner code (known: "
                     f"{', '.join(sorted(registry.partner_by_code))})")
    folder = paths.inbox_dir / args.partner
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
    if args.files:
        wanted = set(args.files)
        files = [p for p in files if p.name in wanted
                 or str(p.relative_to(paths.inbox_dir)) in wanted]
    moments = {}
    try:
        if args.on:
            moments = {path: _moment(args.on) for path in files}
        else:
            with open(args.source, newline="", encoding="utf-8-sig") as handle:
                rows = list(csv.DictReader(handle))
            lookup = {}
            for row in rows:
                keys = {k.strip().lower(): v for k, v in row.items() if k}
                name = keys.get("file") or keys.get("file_name") or keys.get("name")
                when = keys.get("arrived") or keys.get("sent") or keys.get("arrived_at")
                if not name or not when:
                    return _fail(f"{args.source}: each row needs a file and an arrived column "
                                 "(file,arrived)")
                lookup[name.strip()] = _moment(when)
            for path in files:
                when = lookup.get(path.name) or lookup.get(str(path.relative_to(paths.inbox_dir)))
                if when:
                    moments[path] = when
    except ValueError as error:
        return _fail(f"not a date: {error}")
    except OSError as error:
        return _fail(str(error))
    if not moments:
        return _fail(f"no file of inbox/{args.partner} matched; nothing recorded")
    changed = set_arrivals(paths, moments)
    for path, when in sorted(moments.items()):
        print(f"{path.relative_to(paths.inbox_dir)}: arrived {when.isoformat(timespec='minutes')}")
    print(f"Recorded {len(changed)} arrival(s); the next run (murmuration run) scores the "
          "reports by them.")
    return 0


def cmd_places(args) -> int:
    """`places import FILE...`: the place hierarchy from a COD table or DHIS2 units."""
    from murmuration.registry.place_import import PlaceImportError, read_places, write_dimensions

    paths = _paths(args)
    files = [Path(f) for f in args.files]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        return _fail(f"no such file: {', '.join(missing)}")
    try:
        imported = read_places(files, args.levels.split(",") if args.levels else None)
    except PlaceImportError as error:
        return _fail(str(error))
    per_level = {code: sum(p.level == code for p in imported.places)
                 for code, _ in imported.levels}
    print(f"Read {len(imported.places):,} places from {imported.source}: "
          + ", ".join(f"{per_level[code]:,} at level {name}" for code, name in imported.levels)
          + (f"; the whole area is {imported.whole_area_name} "
             f"({', '.join(imported.whole_area_aliases)})" if imported.whole_area_name else ""))
    for note in imported.notes:
        print(f"Note: {note}")
    target = paths.registry_dir / "dimensions.yaml"
    if args.dry_run:
        print(f"Dry run: {target} not written.")
        return 0
    previous = target.read_text(encoding="utf-8") if target.exists() else None
    dropped = write_dimensions(target, imported)
    try:
        load_registry(paths)
    except RegistryError as error:
        if previous is not None:
            backup = target.with_name(target.name + ".before-import")
            backup.write_text(previous, encoding="utf-8")
        print(f"Wrote {target}, but the initiative's definitions do not load with these places"
              + (f" (the file as it was is kept as {backup.name})" if previous is not None
                 else "") + ":", file=sys.stderr)
        for problem in error.problems[:20]:
            print(f"  - {problem}", file=sys.stderr)
        if len(error.problems) > 20:
            print(f"  ... and {len(error.problems) - 20} more", file=sys.stderr)
        return 2
    print(f"Wrote {target}" + (f"; {len(dropped)} places that were there are not in the import "
                               f"({', '.join(dropped[:10])}{', ...' if len(dropped) > 10 else ''})"
                               if dropped else ""))
    return 0


def _note_user(store, username: str):
    user = store.get(username)
    if user is None:
        raise SystemExit(_fail(f"no user '{username}' in {store.path} (notes are written by "
                               "users: `murmuration users list`, `murmuration users add`)"))
    return user


def _note_scope(note) -> str:
    what = note.indicator_code or "whole initiative"
    return f"{what} @ {note.place_code}" if note.place_code else what


def cmd_notes(args) -> int:
    from murmuration.access import UsersError, UserStore
    from murmuration.learning_log import LearningLog, NoteCodes, NoteError

    paths = _paths(args)
    registry = _load(paths)
    log = LearningLog.for_project(paths, NoteCodes.from_registry(registry))
    try:
        store = UserStore.for_registry(paths.project_dir, registry)
        if args.notes_command == "add":
            note = log.add(_note_user(store, args.author), args.on or _today(),
                           " ".join(args.text), args.indicator, args.place)
            print(f"Added note {note.id} ({note.noted_on}, {_note_scope(note)}) to "
                  f"{log.path}")
            return 0
        if args.notes_command == "remove":
            note = log.remove(_note_user(store, args.user), args.id)
            print(f"Removed note {note.id} ({note.noted_on}, by {note.author}).")
            return 0
        user = _note_user(store, args.user) if args.user else None
        notes = log.list(args.indicator, args.place, args.start, args.end, user=user)
        if not notes:
            print(f"No notes in {log.path} for this selection; add one with "
                  "`murmuration notes add`.")
        for note in notes:
            print(f"{note.id:>5}  {note.noted_on}  {_note_scope(note):<36}"
                  f"{note.author:<16}{note.text}")
        return 0
    except (NoteError, UsersError) as error:
        return _fail(str(error))


def _today() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).date().isoformat()


def cmd_serve(args) -> int:
    from app.serve import serve

    paths = _paths(args)
    _load(paths)
    return serve(paths, dashboard_port=args.dashboard_port, dagster_port=args.dagster_port,
                 host=args.host)


def cmd_demo(args) -> int:
    args.project = str(SAMPLE_PROJECT_DIR)
    if cmd_sample_inbox(args) != 0:
        return 1
    from app.summary import PUBLISHED

    args.serves_after = True  # this process serves the dashboard next: not niced
    code = cmd_run(args)
    if code not in PUBLISHED:  # files the run could not read are shown on the dashboard
        return code
    from murmuration.access import UserStore, ensure_demo_users

    paths = _paths(args)
    registry = _load(paths)
    for line in ensure_demo_users(UserStore.for_registry(paths.project_dir, registry),
                                  registry, paths.state_dir):
        print(line)
    return cmd_serve(args)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="murmuration", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)

    def project(sub, default=None):
        sub.add_argument("--project", required=default is None, default=default,
                         help="the initiative folder (initiative.yaml, registry/, mappings/, "
                              "inbox/)")
        sub.add_argument("--state-dir", help="where the pipeline writes (default: "
                                             "<project>/.murmuration)")

    def ports(sub):
        for flag, default, what in (("--dashboard-port", 8050, "the dashboard"),
                                    ("--dagster-port", 3000, "the Dagster UI, which listens "
                                                             "on 127.0.0.1 only (it has no "
                                                             "sign-in)")):
            sub.add_argument(flag, type=int, metavar="PORT",
                             default=int(os.environ.get(PORT_ENV[flag]) or default),
                             help=f"the port of {what}; default {default}, or "
                                  f"{PORT_ENV[flag]}")
        sub.add_argument("--host", default="127.0.0.1",
                         help="the address the dashboard listens on (default 127.0.0.1, this "
                              "machine only; 0.0.0.0 for every interface, once users exist)")

    sub = commands.add_parser("run", help="run the whole pipeline once for an initiative")
    project(sub)
    sub.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")
    sub.add_argument("--wait", nargs="?", type=float, const=None, default=0.0, metavar="SECONDS",
                     help="when another run of the initiative is in progress, wait for it to "
                          "end (at most SECONDS) instead of exiting with code 4")
    sub.add_argument("--force", action="store_true",
                     help="run every step even when nothing is new since the last published "
                          "snapshot (by default such a run does nothing and exits 0 at once)")
    sub.set_defaults(func=cmd_run)

    sub = commands.add_parser("check", help="validate an initiative's registry and mappings")
    project(sub)
    sub.set_defaults(func=cmd_check)

    sub = commands.add_parser("serve", help="serve the dashboard and the Dagster UI")
    project(sub)
    ports(sub)
    sub.set_defaults(func=cmd_serve)

    sub = commands.add_parser("sample-inbox", help="generate the sample partner files")
    project(sub, default=str(SAMPLE_PROJECT_DIR))
    sub.set_defaults(func=cmd_sample_inbox)

    mapping = commands.add_parser("mapping", help="onboard a partner format").add_subparsers(
        dest="mapping_command", required=True)
    sub = mapping.add_parser("suggest", help="propose a mapping for an unseen file")
    sub.add_argument("file", help="the file (or its path inside the initiative folder)")
    sub.add_argument("--sheet", help="the sheet to read (default: the one whose header scores "
                                     "best)")
    sub.add_argument("--project", help="the initiative, to match headers and values against "
                                       "its registry")
    sub.add_argument("--folder", help="the inbox folder (partner code) the file comes from")
    sub.add_argument("--output", help="write the draft here instead of printing it")
    sub.set_defaults(func=cmd_mapping_suggest, state_dir=None)
    sub = mapping.add_parser("check", help="check the mappings against sample files or folders "
                                           "(one scratch run for all)")
    sub.add_argument("files", nargs="+", metavar="file",
                     help="files or folders (their files are checked), or their paths inside "
                          "the initiative folder")
    project(sub)
    sub.add_argument("--folder", help="the inbox folder (partner code) the files come from; "
                                      "default: each file's folder when it is in the inbox")
    sub.set_defaults(func=cmd_mapping_check)

    users = commands.add_parser("users", help="who may sign in, and what each may see").add_subparsers(
        dest="users_command", required=True)
    sub = users.add_parser("list", help="the users and their roles")
    project(sub)
    sub.set_defaults(func=cmd_users)
    sub = users.add_parser("add", help="add a user (prompts for the password)")
    project(sub)
    sub.add_argument("username", help="the name to sign in with")
    sub.add_argument("--role", required=True,
                     choices=["admin", "steering", "working_group", "partner"],
                     help="what the user sees: admin (the backbone's data team: everything), "
                          "steering, working_group (its groups' indicators), partner (its own "
                          "rows and quality)")
    sub.add_argument("--partner", help="the partner code a partner user is bound to")
    sub.add_argument("--working-group", action="append",
                     help="a working group a working group member is bound to (repeatable)")
    sub.add_argument("--name", help="the name shown when signed in")
    for command in (sub, passwd := users.add_parser("passwd", help="set a user's password")):
        command.add_argument("--password-stdin", action="store_true",
                             help="read the password from the first line of standard input")
        command.add_argument("--generate-password", action="store_true",
                             help="generate a password and print it once")
    project(passwd)
    passwd.add_argument("username", help="whose password")
    passwd.set_defaults(func=cmd_users)
    sub.set_defaults(func=cmd_users)
    sub = users.add_parser("remove", help="remove a user (ends their sessions)")
    project(sub)
    sub.add_argument("username", help="who to remove")
    sub.set_defaults(func=cmd_users)

    notes = commands.add_parser("notes", help="the learning log: dated notes on the "
                                              "indicators").add_subparsers(
        dest="notes_command", required=True)
    sub = notes.add_parser("add", help="add a note (on an indicator, or the whole initiative)")
    project(sub)
    sub.add_argument("text", nargs="+", help="what happened (one line, up to 1000 characters)")
    sub.add_argument("--on", help="the date the note is about, YYYY-MM-DD (default: today)")
    sub.add_argument("--indicator", help="the indicator code (default: the whole initiative)")
    sub.add_argument("--place", help="the place code (default: all places)")
    sub.add_argument("--author", required=True, help="the user writing it (their role decides "
                                                     "what they may write on)")
    sub.set_defaults(func=cmd_notes)
    sub = notes.add_parser("list", help="the notes, newest first")
    project(sub)
    sub.add_argument("--indicator", help="this indicator's notes and the whole initiative's")
    sub.add_argument("--place", help="this place's notes and those on all places")
    sub.add_argument("--from", dest="start", help="noted on or after YYYY-MM-DD")
    sub.add_argument("--to", dest="end", help="noted on or before YYYY-MM-DD")
    sub.add_argument("--user", help="only what this user may read")
    sub.set_defaults(func=cmd_notes)
    sub = notes.add_parser("remove", help="remove a note (its author or an admin)")
    project(sub)
    sub.add_argument("id", help="the note's number (murmuration notes list)")
    sub.add_argument("--user", required=True, help="who removes it: its author or an admin")
    sub.set_defaults(func=cmd_notes)

    sub = commands.add_parser("accept", help="publish files held for review (a replacement "
                                             "that would remove most of what it replaces, or a "
                                             "file a rule change left with no value), then run")
    sub.add_argument("files", nargs="+", help="inbox path (inbox/PARTNER/FILE), file name or "
                                              "submission id")
    sub.add_argument("--by", help="who accepts (recorded with the decision)")
    sub.add_argument("--no-run", action="store_true", help="record the decision only; the "
                                                           "next run publishes it")
    sub.add_argument("--wait", nargs="?", type=float, const=None, default=0.0, metavar="SECONDS",
                     help="when another run is in progress, wait for it (at most SECONDS)")
    project(sub)
    sub.set_defaults(func=cmd_accept)

    arrivals = commands.add_parser("arrivals", help="when files were really sent").add_subparsers(
        dest="arrivals_command", required=True)
    sub = arrivals.add_parser("set", help="record when a partner's files were sent (history "
                                          "loaded today is otherwise scored by today)")
    sub.add_argument("partner", help="the partner code (its inbox folder)")
    given = sub.add_mutually_exclusive_group(required=True)
    given.add_argument("--on", help="the date (YYYY-MM-DD) or date-time every file was sent")
    given.add_argument("--from", dest="source", metavar="FILE",
                       help="a CSV with the columns file and arrived, one row per file")
    sub.add_argument("files", nargs="*", help="only these files (names or inbox paths)")
    project(sub)
    sub.set_defaults(func=cmd_arrivals)

    places = commands.add_parser("places", help="the place hierarchy").add_subparsers(
        dest="places_command", required=True)
    sub = places.add_parser(
        "import", help="replace registry/dimensions.yaml's places with a COD P-code table "
                       "(CSV or Excel) or a DHIS2 organisationUnits export (JSON, with its "
                       "organisationUnitLevels)")
    sub.add_argument("files", nargs="+", help="the P-code table, or the DHIS2 JSON file(s)")
    sub.add_argument("--levels", help="names of the levels below the whole area, top first, "
                                      "comma-separated (e.g. Province,District)")
    sub.add_argument("--dry-run", action="store_true", help="read and report, write nothing")
    project(sub)
    sub.set_defaults(func=cmd_places)

    sub = commands.add_parser("init", help="start a new initiative folder from the template")
    sub.add_argument("folder", help="the new initiative's folder (must not exist yet, or be "
                                    "empty)")
    sub.set_defaults(func=cmd_init)

    sub = commands.add_parser("demo", help="sample inbox -> pipeline -> dashboard + Dagster UI")
    ports(sub)
    sub.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")
    sub.add_argument("--wait", nargs="?", type=float, const=None, default=0.0, metavar="SECONDS",
                     help="wait for a run of the sample in progress (as `run --wait`)")
    sub.add_argument("--force", action="store_true",
                     help="run every step even when nothing is new (as `run --force`)")
    sub.set_defaults(func=cmd_demo, state_dir=None)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
