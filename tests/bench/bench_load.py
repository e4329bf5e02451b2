"""`make bench ONLY=load` and `ONLY=faults`: 200 grid workers on phones and 20 leaders on dashboards
against gunicorn + PostgreSQL + Redis + a Celery worker (with beat) on this machine.

The load run reports throughput, p50/p95/p99 and errors, then counts rows: every accept, resolve
(with its photo) and visit a client saw succeed must be in the database exactly once, and nothing
may be there that no client saw succeed. The fault run does the same while it kills the Celery
worker and restarts Redis mid-load, then waits for the rollups to catch up and checks that a fresh
recomputation of today's cells changes nothing.

Figures, not pass/fail: the bar (0 errors, 0 rows lost or duplicated) is read off the report.
The load database (LOAD_DATABASE_URL, default governance_load) is the demo street plus load accounts.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOAD_DB = os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/governance_load")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
PORT = int(os.environ.get("LOAD_PORT", "8765"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "180"))
WORKERS = int(os.environ.get("LOAD_WORKERS", "200"))
LEADERS = int(os.environ.get("LOAD_LEADERS", "20"))
PASSWORD = "load-run-pass-2026"


def _env(**extra) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "load-run-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": LOAD_DB,
        "REDIS_URL": REDIS_URL,
        "METRICS_ROLLUP_ON_COMMIT": "1",
        "LOAD_PASSWORD": PASSWORD,
        "LOAD_WORKERS": str(WORKERS),
        "LOAD_LEADERS": str(LEADERS),
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    env.update(extra)
    return env


def _manage(*args: str) -> str:
    result = subprocess.run(
        [str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=_env(), capture_output=True, text=True
    )
    if result.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _connect(dbname: str | None = None) -> psycopg.Connection:
    info = psycopg.conninfo.conninfo_to_dict(LOAD_DB)
    if dbname:
        info["dbname"] = dbname
    return psycopg.connect(**info, autocommit=True)


def prepare() -> dict:
    name = psycopg.conninfo.conninfo_to_dict(LOAD_DB)["dbname"]
    with _connect("postgres") as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    started = time.perf_counter()
    _manage("migrate", "--noinput")
    _manage("seed_demo")
    result = subprocess.run(
        [str(BIN / "python"), "tests/bench/load/prepare.py"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
    )
    if result.returncode:
        sys.exit(f"preparing the load accounts failed:\n{result.stderr}")
    accounts = json.loads(result.stdout.strip().splitlines()[-1])
    _manage("rebuild_metrics")
    print(
        f"Load database ready in {time.perf_counter() - started:.0f} s: {len(accounts['workers'])} workers, "
        f"{len(accounts['leaders'])} leaders."
    )
    return accounts


class Services:
    """gunicorn and a Celery worker (with beat), each in its own process group."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.web = self.worker = None

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        return subprocess.Popen(argv, cwd=ROOT, env=_env(), stdout=log, stderr=log, start_new_session=True)

    def start_web(self) -> None:
        # Sync workers, as in the README's production command: (2 x cores) + 2 processes. Threaded
        # (gthread) workers with keep-alive reset about 0.1% of requests under this load, a known
        # gunicorn race (benoitc/gunicorn#2676); sync workers close each connection after the response.
        self.web = self._spawn(
            "gunicorn",
            [str(BIN / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{PORT}", "-w", "6", "--timeout", "60"],
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        sys.exit(f"gunicorn did not answer; see {self.workdir / 'gunicorn.log'}")

    def start_worker(self) -> None:
        self.worker = self._spawn(
            "celery",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "-B",
                "-c",
                "2",
                "-l",
                "WARNING",
                "-s",
                str(self.workdir / "beat-schedule"),
                "-n",
                f"load-{time.monotonic_ns()}@%h",
            ],
        )

    @staticmethod
    def _kill(process, sig=signal.SIGTERM) -> None:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, sig)
            process.wait(timeout=30)

    def kill_worker(self) -> None:
        self._kill(self.worker, signal.SIGKILL)  # no warm shutdown: as if the machine lost it

    def stop(self) -> None:
        self._kill(self.worker)
        self._kill(self.web)


def restart_redis(down_seconds: float = 5) -> None:
    subprocess.run(["redis-cli", "-u", REDIS_URL, "shutdown", "nosave"], capture_output=True)
    time.sleep(down_seconds)
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
        capture_output=True,
    )
    for _ in range(50):
        if subprocess.run(["redis-cli", "-u", REDIS_URL, "ping"], capture_output=True).returncode == 0:
            return
        time.sleep(0.2)


def _run_locust(accounts: dict, workdir: Path) -> dict:
    ledger = workdir / "ledger.json"
    command = [
        str(BIN / "locust"),
        "-f",
        "tests/bench/load/locustfile.py",
        "--headless",
        "-u",
        str(WORKERS + LEADERS),
        "-r",
        "40",
        "-t",
        f"{SECONDS}s",
        "--stop-timeout",
        "15",
        "--host",
        f"http://127.0.0.1:{PORT}",
        "--csv",
        str(workdir / "load"),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    env = _env(LOAD_ACCOUNTS=json.dumps(accounts), LOAD_LEDGER=str(ledger))
    with open(workdir / "locust.log", "w") as log:
        subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    return json.loads(ledger.read_text())


def _report_requests(workdir: Path) -> None:
    with open(workdir / "load_stats.csv") as source:
        rows = list(csv.DictReader(source))
    print(
        f"  {'request':<20} {'count':>7} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    )
    for row in rows:
        name = "all" if row["Name"] == "Aggregated" else row["Name"]
        print(
            f"  {name:<20} {row['Request Count']:>7} {row['Failure Count']:>6} "
            f"{float(row['Requests/s']):>7.1f} {row['50%']:>7} {row['95%']:>7} {row['99%']:>7}"
        )
    failures = workdir / "load_failures.csv"
    if failures.exists():
        with open(failures) as source:
            failed = list(csv.DictReader(source))
        for row in failed[:10]:
            print(f"  error: {row['Method']} {row['Name']}: {row['Error']} ({row['Occurrences']}x)")


def _check_writes(ledger: dict, since) -> None:
    """Rows against what the clients saw succeed: lost (seen, not stored), duplicated (stored twice)
    and unseen (stored, but the client saw a failure)."""
    with _connect() as connection:
        events = {}
        for action in ("accept", "resolve"):
            events[action] = dict(
                connection.execute(
                    "SELECT ticket_id, count(*) FROM demands_ticketevent "
                    "WHERE action = %s AND created_at >= %s GROUP BY ticket_id",
                    [action, since],
                ).fetchall()
            )
        photos = dict(
            connection.execute(
                "SELECT ticket_id, count(*) FROM demands_ticketphoto "
                "WHERE uploaded_at >= %s GROUP BY ticket_id",
                [since],
            ).fetchall()
        )
        visits = dict(
            connection.execute(
                "SELECT u.username, count(*) FROM services_visit v JOIN grid_user u ON u.id = v.visitor_id "
                "WHERE v.visited_at >= %s GROUP BY u.username",
                [since],
            ).fetchall()
        )
    rows = []
    for label, seen, stored in (
        ("accept (ticket event)", ledger["accepted"], events["accept"]),
        ("resolve (ticket event)", ledger["resolved"], events["resolve"]),
        ("resolve photo", ledger["resolved"], photos),
    ):
        seen_set = set(seen)
        lost = sum(1 for pk in seen_set if stored.get(pk, 0) == 0)
        duplicated = sum(count - 1 for count in stored.values() if count > 1)
        unseen = sum(1 for pk in stored if pk not in seen_set)
        rows.append((label, len(seen_set), sum(stored.values()), lost, duplicated, unseen))
    seen_visits = ledger["visits"]
    lost = sum(max(0, count - visits.get(user, 0)) for user, count in seen_visits.items())
    extra = sum(max(0, count - seen_visits.get(user, 0)) for user, count in visits.items())
    rows.append(("visit", sum(seen_visits.values()), sum(visits.values()), lost, extra, 0))
    print(f"  {'write':<24} {'seen ok':>8} {'rows':>6} {'lost':>5} {'dup/extra':>9} {'unseen':>6}")
    for row in rows:
        print(f"  {row[0]:<24} {row[1]:>8} {row[2]:>6} {row[3]:>5} {row[4]:>9} {row[5]:>6}")
    print(f"  (forms sent twice with the same idempotency key: {ledger['retries']})")


def _wait_for_rollups(timeout: float = 240) -> float | None:
    """Seconds until every dirty mark is rolled up, or None."""
    started = time.monotonic()
    with _connect() as connection:
        while time.monotonic() - started < timeout:
            if not connection.execute("SELECT count(*) FROM grid_dirtycell").fetchone()[0]:
                return time.monotonic() - started
            time.sleep(2)
    return None


def _recompute_changes() -> str:
    """A fresh recomputation of the last two days: how many stored cells it would change (0 = caught up)."""
    return (
        _manage("shell", "-c", "from grid import rollup; print(rollup.rollup_recent(days=2))")
        .strip()
        .splitlines()[-1]
    )


def run(faults: bool) -> None:
    title = "Fault run (Celery worker killed, Redis restarted mid-load)" if faults else "Load run"
    print(
        f"\n{title}: {WORKERS} grid workers + {LEADERS} leaders for {SECONDS} s against gunicorn "
        f"(6 sync workers), PostgreSQL, Redis and a Celery worker."
    )
    accounts = prepare()
    with _connect() as connection:
        since = connection.execute("SELECT now()").fetchone()[0]
    workdir = Path(tempfile.mkdtemp(prefix="load-"))
    services = Services(workdir)
    timeline = []
    try:
        services.start_web()
        services.start_worker()
        if faults:

            def inject():
                # In the working load, after the first minute's logins.
                time.sleep(SECONDS * 0.4)
                services.kill_worker()
                timeline.append(f"{SECONDS * 0.4:.0f} s: Celery worker killed (SIGKILL)")
                time.sleep(SECONDS * 0.15)
                restart_redis()
                timeline.append(f"{SECONDS * 0.55:.0f} s: Redis shut down for 5 s and started again (empty)")
                time.sleep(SECONDS * 0.2)
                services.start_worker()
                timeline.append(f"{SECONDS * 0.78:.0f} s: Celery worker started again")

            injector = threading.Thread(target=inject, daemon=True)
            injector.start()
        started_at = time.time()
        ledger = _run_locust(accounts, workdir)
        if faults:
            injector.join()
            for line in timeline:
                print(f"  {line}")
        logins = sorted(ledger["logins"])
        if logins:
            steady = SECONDS - (ledger.get("steady_from", time.time()) - started_at)
            print(
                f"  {len(logins)} logins (password hashing), all in the first {SECONDS - steady:.0f} s: "
                f"p50 {logins[len(logins) // 2]} ms, p95 {logins[int(len(logins) * 0.95)]} ms. "
                f"Working load after that, {steady:.0f} s:"
            )
        _report_requests(workdir)
        _check_writes(ledger, since)
        waited = _wait_for_rollups()
        if waited is None:
            print("  Rollups: marks still waiting after 240 s.")
        else:
            print(
                f"  Rollups caught up {waited:.0f} s after the load; a fresh recomputation of the last two "
                f"days changes {_recompute_changes()} cells."
            )
    finally:
        services.stop()
    print(f"  (logs in {workdir})")


PARTS = {"load": lambda: run(faults=False), "faults": lambda: run(faults=True)}
