"""A real PostgreSQL for the test run: started once per session (per xdist worker), a fresh
database per test, stopped at the end.

``initdb`` into a temporary folder and ``pg_ctl start`` on a free loopback port, with the
binaries of the newest /usr/lib/postgresql/*/bin (Debian's layout) or those on PATH. PostgreSQL
refuses to run as root, so as root the server runs as the ``postgres`` user (``runuser``).
Each test gets its own database, copied from an empty template (``CREATE DATABASE … TEMPLATE``
costs milliseconds), dropped afterwards. Where no server can be started the tests that need one
skip, saying why (``.ci/run`` installs Debian's ``postgresql`` first, so CI runs them).

Durability is switched off (fsync, synchronous_commit): these tests kill clients, never the
server, and a test run must stay fast. ``tests/benchmarks`` start their own server with the
defaults.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from smvue_tui.store.health import alive

TEMPLATE = "smvue_template"
_FAST = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
         "-c max_connections=200 -c shared_buffers=64MB")


def find_bin_dir() -> Path | None:
    """The folder holding initdb and pg_ctl: the newest Debian cluster version, else PATH."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    for folder in reversed(versions):
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    """A running server: ``url(dbname)``, ``create_database()``, ``stop()``."""

    bin_dir: Path
    data_dir: Path
    port: int
    as_user: list[str]  # ["runuser", "-u", "postgres", "--"] when we are root
    user: str = "postgres"
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, *args], capture_output=True, text=True,
                              timeout=timeout, cwd="/")

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self) -> str:
        """A new empty database (from the template); its URL."""
        name = f"t{os.getpid()}_{next(self._names)}"
        self.admin(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with contextlib.suppress(Exception):  # a test's leftover connections are ended
            self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m",
                  "immediate", "-w")
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


OWNER_FILE = "owner.pid"  # the process that started a server; the server is its to stop


def stop_orphans(bin_dir: Path) -> int:
    """Stop the servers of test runs that were killed before their teardown (their starter
    is gone): on a shared machine they would otherwise pile up. Returns how many."""
    stopped = 0
    for owner in Path(tempfile.gettempdir()).glob(f"smvue-pg-*/{OWNER_FILE}"):
        try:
            pid = int(owner.read_text().strip())
        except (OSError, ValueError):
            continue
        if alive(pid):
            continue
        root = owner.parent
        as_user = _as_user() if os.geteuid() == 0 else []
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "stop", "-D", str(root / "data"),
                        "-m", "immediate", "-w"], capture_output=True, timeout=60, cwd="/")
        shutil.rmtree(root, ignore_errors=True)
        stopped += 1
    return stopped


def _as_user() -> list[str]:
    runuser = shutil.which("runuser")
    if runuser is None:
        raise RuntimeError("running as root without `runuser` to start PostgreSQL as the "
                           "postgres user")
    return [runuser, "-u", "postgres", "--"]


def start_server(*, fast: bool = True) -> PostgresServer:
    """initdb + pg_ctl start on a free loopback port; RuntimeError in words when it cannot."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (no initdb/pg_ctl under "
                           "/usr/lib/postgresql/*/bin or on PATH); `apt-get install "
                           "postgresql` or run .ci/run")
    stop_orphans(bin_dir)
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="smvue-pg-"))
    (root / OWNER_FILE).write_text(f"{os.getpid()}\n")
    if os.geteuid() == 0:  # postgres refuses to run as root
        as_user = _as_user()
        import pwd

        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root and there is no `postgres` user to run "
                               "PostgreSQL as") from None
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data = root / "data"
    port = _free_port()
    server = PostgresServer(bin_dir, data, port, as_user)
    done = server._run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                       "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
                       timeout=120)
    if done.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {(done.stderr or done.stdout).strip()[-400:]}")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root}"
    if fast:
        options += " " + _FAST
    done = server._run(str(bin_dir / "pg_ctl"), "start", "-D", str(data), "-w", "-t", "60",
                       "-l", str(root / "server.log"), "-o", options, timeout=90)
    if done.returncode != 0:
        log = (root / "server.log").read_text(errors="replace")[-400:] \
            if (root / "server.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"pg_ctl start failed: {(done.stderr or done.stdout).strip()} "
                           f"{log}".strip())
    try:
        _wait_ready(server)
        server.admin(f'CREATE DATABASE "{TEMPLATE}" TEMPLATE template0 ENCODING \'UTF8\'')
    except Exception:
        server.stop()
        raise
    return server


def _wait_ready(server: PostgresServer, timeout: float = 30) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            server.admin("SELECT 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _cannot(reason: str) -> None:
    """Skip, saying why — or fail where PostgreSQL must run (.ci/run sets
    SMVUE_REQUIRE_POSTGRES when the binaries are installed)."""
    if os.environ.get("SMVUE_REQUIRE_POSTGRES"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL for this session (this xdist worker); skips saying why without."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _cannot("psycopg (3) is not installed: pip install '.[test]'")
    try:
        server = start_server()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        _cannot(f"no PostgreSQL server could be started: {exc}")
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the session's server, dropped after the test."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


def open_test_store(path: Path | str, schema: str = "smvue_test"):
    """A store as a test opens it: in ``schema`` of the PostgreSQL database SMVUE_STORE_URL
    names (``store_backend`` sets it, child processes inherit it), else the SQLite file."""
    from smvue_tui.store.db import open_postgres, open_store

    url = os.environ.get("SMVUE_STORE_URL")
    return open_postgres(url, schema) if url else open_store(path)


class StoreBackend:
    """One of the two stores, for tests that must hold on both: ``name`` ("sqlite" or
    "postgresql"), ``url`` (the PostgreSQL database, "" for SQLite) and ``open(path)``, a
    store opened and bound as the app opens it (a file, or a schema of that database)."""

    def __init__(self, name: str, url: str = "") -> None:
        self.name, self.url = name, url

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgresql"

    def open(self, path: Path, schema: str = "smvue_test"):
        from smvue_tui.store.db import open_postgres, open_store

        return open_postgres(self.url, schema) if self.url else open_store(path)

    def __repr__(self) -> str:
        return self.name


@pytest.fixture(params=["sqlite", "postgresql"])
def store_backend(request, monkeypatch) -> StoreBackend:
    """Each test using it runs twice: on SQLite, and on a fresh PostgreSQL database — which
    ``SMVUE_STORE_URL`` then names, so every entry point (child processes too) opens it."""
    if request.param == "sqlite":
        monkeypatch.delenv("SMVUE_STORE_URL", raising=False)
        return StoreBackend("sqlite")
    url = request.getfixturevalue("pg_url")
    monkeypatch.setenv("SMVUE_STORE_URL", url)
    return StoreBackend("postgresql", url)


@pytest.fixture
def backend_db(tmp_path, store_backend):
    """A fresh, empty store on SQLite and on PostgreSQL (each test using it runs on both)."""
    db = store_backend.open(tmp_path / "store.sqlite3")
    yield db
    db.close()
