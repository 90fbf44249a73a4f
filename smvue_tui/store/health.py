"""A damaged store is never rebuilt or written over: it is moved aside, and what is ours kept.

SQLite only: the store on PostgreSQL (``postgres.py``) has no file of ours to check or move —
its server keeps its own files sound, and its administrator its backups.

``open_store`` asks ``inspect`` before it opens a file. Every open leaves a marker naming its
process (``.<store>.open-<pid>``, removed at exit); a marker of a process that is gone means an
unclean stop, and then SQLite's ``PRAGMA quick_check`` runs too — as it does after a sync met
SQLite's "malformed" (``store_damaged`` leaves a ``.suspect`` marker). Cheap checks run every time:
a file that is not SQLite (garbage, a random header), shorter than its header says
(truncated), or empty with no write-ahead log to hold its pages.

A damaged store is ``recover``ed: the file (with its -wal/-shm) is renamed to
``<name>.damaged-<time>``, a new store made, and SMVue's own data — notes, action items, the
team, stage overrides, pipeline and field-mapping settings, the connection and the record of
deployed automation — copied over from a scratch copy of the damaged file, table by table and
row by row as far as SQLite can still read it. Salesforce's data is not copied: the new store
has no sync cursors, so the next sync reads it all again. The damaged file stays for the user.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from smvue_tui import safe_files
from smvue_tui.store import models

log = logging.getLogger(__name__)
HEADER = b"SQLite format 3\x00"
SIDE_FILES = ("-wal", "-shm")
# SMVue's own tables worth keeping, in insert order (the team's managers are other members).
SALVAGED: tuple[type[models.BaseModel], ...] = (
    models.Note, models.ActionItem, models.TeamMember, models.StageOverride,
    models.PipelineSetting, models.CustomFieldMapping, models.Connection,
    models.DeployedAutomation, models.DealChange,  # the change log: no resync can rebuild it
)


class StoreTooNew(RuntimeError):
    """The store was written by a newer smvue-tui (a later schema): this one must not open it
    (the message says which version, and to upgrade)."""


class StoreDamaged(Exception):
    """The store file is damaged (``reason`` says how, never its content)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"The store {path} is damaged: {reason}")


@dataclass
class Recovery:
    """What ``recover`` did: where the damaged file went and what was kept of it."""

    path: Path
    reason: str
    moved_to: Path
    kept: dict[str, int] = field(default_factory=dict)  # table → rows salvaged
    lost: list[str] = field(default_factory=list)  # tables SQLite could not read (fully)

    def message(self) -> str:
        kept = ", ".join(f"{n} {t.replace('_', ' ')}" for t, n in self.kept.items() if n)
        lines = [f"The store {self.path} was damaged ({self.reason}).",
                 f"It was moved aside to {self.moved_to} and a new store made.",
                 f"Kept from it: {kept or 'nothing of your own (there was none to read)'}."]
        if self.lost:
            lines.append("Could not read all of: " + ", ".join(self.lost) + ".")
        lines.append("Salesforce data is read again by the next sync.")
        return " ".join(lines)


# --- markers: did the last process using this store stop cleanly? ----------------------------


def _markers(path: Path) -> list[Path]:
    return list(path.parent.glob(f".{path.name}.open-*"))


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists (on Windows, where signal 0 would end it: assumed so)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _marker_pid(marker: Path) -> int | None:
    try:
        return int(marker.name.rsplit("-", 1)[1])
    except ValueError:
        return None


def _suspect_marker(path: Path) -> Path:
    return path.parent / f".{path.name}.suspect"


def store_damaged(db: object, exc: BaseException) -> bool:
    """True when ``exc`` is SQLite saying the file is damaged (not locked, full or a bug); the
    store is then marked so that the next open checks it (and moves it aside if it is)."""
    import peewee

    if not isinstance(db, peewee.SqliteDatabase):  # SQLite only: a server keeps its own files
        return False
    if type(exc) not in (peewee.DatabaseError, sqlite3.DatabaseError):
        return False
    name = str(getattr(db, "database", "") or "")
    if name and name != ":memory:":
        with contextlib.suppress(OSError):
            _suspect_marker(Path(name)).touch(mode=0o600)
    return True


def unclean_stop(path: Path) -> bool:
    """True when a process that had the store open is gone without closing it."""
    return any((pid := _marker_pid(m)) is not None and pid != os.getpid() and not alive(pid)
               for m in _markers(path))


def others_open(path: Path) -> bool:
    return any((pid := _marker_pid(m)) is not None and pid != os.getpid() and alive(pid)
               for m in _markers(path))


def mark_open(path: Path) -> None:
    """Leave this process's marker (removed at exit) and clear the ones of dead processes."""
    for marker in _markers(path):
        pid = _marker_pid(marker)
        if pid is None or (pid != os.getpid() and not alive(pid)):
            with contextlib.suppress(OSError):
                marker.unlink()
    mine = path.parent / f".{path.name}.open-{os.getpid()}"
    if not mine.exists():
        with contextlib.suppress(OSError):
            mine.touch(mode=0o600)
            atexit.register(_unmark, mine)


def _unmark(marker: Path) -> None:
    with contextlib.suppress(OSError):
        marker.unlink()


# --- inspecting ----------------------------------------------------------------------------


def _header_problem(path: Path) -> str | None:
    """What the file's size and header say is wrong, without opening it with SQLite."""
    size = path.stat().st_size
    wal = Path(f"{path}-wal")
    wal_size = wal.stat().st_size if wal.exists() else 0
    if size == 0:
        # In WAL mode a new store's pages may all still be in the log; with no log and no
        # other process creating it, an empty file is a store whose data is gone.
        return None if wal_size or others_open(path) else "the file is empty"
    with path.open("rb") as fh:
        head = fh.read(100)
    if len(head) < 100 or not head.startswith(HEADER):
        return "the file is not an SQLite database (its header is wrong)"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return "the file's header is damaged (impossible page size)"
    pages = int.from_bytes(head[28:32], "big")
    valid_for = int.from_bytes(head[92:96], "big")
    change_counter = int.from_bytes(head[24:28], "big")
    if pages and valid_for == change_counter and size < pages * page_size and not wal_size:
        return f"the file is truncated ({size} of {pages * page_size} bytes)"
    return None


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the store file. The path goes in as a proper file: URI — a raw
    ``file:{path}`` let ``%20`` fail to open and ``#``/``?`` open (and create) another file."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)


_DAMAGE_WORDS = ("malformed", "not a database", "disk image", "corrupt")


def quick_check(path: Path) -> str | None:
    """SQLite's ``PRAGMA quick_check`` on the file: None when it says ok (or cannot be run for
    a reason that is not damage: locked, no permission, too many files), else what it said."""
    try:
        conn = open_read_only(path)
        try:
            rows = conn.execute("PRAGMA quick_check(5)").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if isinstance(exc, sqlite3.OperationalError) and not any(
                w in str(exc).lower() for w in _DAMAGE_WORDS):
            log.warning("could not check the store %s: %s", path, exc)
            return None  # not damage: moving a sound store aside would lose nothing but cost all
        return _words(exc)
    result = "; ".join(str(r[0]) for r in rows)
    return None if result == "ok" else f"SQLite's quick_check found: {result[:300]}"


def _words(exc: sqlite3.Error) -> str:
    return f"SQLite cannot read it ({str(exc)[:200]})"


def inspect(path: Path, *, thorough: bool = False) -> str | None:
    """Why the store at ``path`` is damaged, or None. ``quick_check`` runs after an unclean
    stop, or always when ``thorough``."""
    if not path.exists():
        return None
    problem = _header_problem(path)
    suspect = _suspect_marker(path)
    if problem is None and path.stat().st_size and (thorough or unclean_stop(path)
                                                    or suspect.exists()):
        problem = quick_check(path)
        if problem is None:
            with contextlib.suppress(OSError):
                suspect.unlink()
    return problem


def moved_aside(path: Path) -> list[Path]:
    """Damaged stores kept next to ``path``, newest first."""
    found = [p for p in path.parent.glob(f"{path.name}.damaged-*")
             if not p.name.endswith(SIDE_FILES)]
    return sorted(found, key=lambda p: p.name, reverse=True)


# --- recovering ------------------------------------------------------------------------------


def move_aside(path: Path) -> Path:
    """Rename the damaged store to ``<name>.damaged-<time>``, its -wal/-shm beside it."""
    aside = safe_files.move_aside(path, "damaged")
    with contextlib.suppress(OSError):
        _suspect_marker(path).unlink()
    for side in SIDE_FILES:
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{path}{side}", f"{aside}{side}")
    return aside


def _readable_rows(conn: sqlite3.Connection, table: str) -> tuple[list[sqlite3.Row], bool]:
    """The rows SQLite can read (from both ends when the middle is damaged); whether all."""
    rows: dict[int, sqlite3.Row] = {}
    complete = True
    for order in ("ASC", "DESC"):
        try:
            for row in conn.execute(f'SELECT rowid AS _rowid, * FROM "{table}" '
                                    f"ORDER BY rowid {order}"):
                rows[row["_rowid"]] = row
        except sqlite3.Error:
            complete = False
            continue
        if complete:
            break
    return [rows[k] for k in sorted(rows)], complete


def salvage(damaged: Path, db: object) -> tuple[dict[str, int], list[str]]:
    """Copy SMVue's own rows from the damaged file (a scratch copy of it, so the kept file is
    never written) into the open store ``db``. Returns rows kept per table, tables not whole."""
    kept: dict[str, int] = {}
    lost: list[str] = []
    if not damaged.exists() or damaged.stat().st_size == 0:
        return kept, lost
    with tempfile.TemporaryDirectory(prefix="smvue-salvage-") as scratch:
        copy = Path(scratch) / "damaged.sqlite3"
        shutil.copyfile(damaged, copy)
        for side in SIDE_FILES:
            if Path(f"{damaged}{side}").exists():
                shutil.copyfile(f"{damaged}{side}", f"{copy}{side}")
        _repair_header(copy, Path(scratch))
        conn = _scratch_connection(copy)
        conn.row_factory = sqlite3.Row
        try:
            for model in SALVAGED:
                table = model._meta.table_name
                rows, complete = _readable_rows(conn, table)
                if not complete:
                    lost.append(table.replace("_", " "))
                kept[table] = _insert(db, model, rows)
        finally:
            conn.close()
    return kept, lost


def _scratch_connection(copy: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(copy)
    # Lets SQLite read a file shorter than its header says (truncated) instead of refusing
    # it whole; harmless on a scratch copy nobody keeps.
    conn.execute("PRAGMA writable_schema = ON")
    return conn


def _repair_header(copy: Path, scratch: Path) -> None:
    """Give a copy whose 100-byte header is destroyed a plausible one, so SQLite can read the
    pages behind it: a new database's header of each likely page size until one reads."""
    with copy.open("rb") as fh:
        head = fh.read(100)
    if head.startswith(HEADER) or len(head) < 100:
        return
    for page_size in (4096, 1024, 2048, 8192, 16384, 32768, 65536):
        template = scratch / f"template-{page_size}.sqlite3"
        with contextlib.closing(sqlite3.connect(template)) as conn:
            conn.execute(f"PRAGMA page_size = {page_size}")
            conn.execute("PRAGMA journal_mode = wal")
            conn.execute("CREATE TABLE t (x)")
        header = bytearray(template.read_bytes()[:100])
        # "version valid for" unlike the change counter: SQLite then sizes the database by the
        # file, not by the template's page count.
        counter = int.from_bytes(header[24:28], "big")
        header[92:96] = ((counter + 1) & 0xFFFFFFFF).to_bytes(4, "big")
        with copy.open("r+b") as fh:
            fh.write(header)
        try:
            with contextlib.closing(_scratch_connection(copy)) as conn:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return
        except sqlite3.Error:
            continue


def _insert(db: object, model: type[models.BaseModel], rows: list[sqlite3.Row]) -> int:
    columns = {f.column_name for f in model._meta.sorted_fields}
    n = 0
    with db.atomic():  # type: ignore[attr-defined]
        for row in rows:
            values = {k: v for k, v in zip(row.keys(), tuple(row), strict=True) if k in columns}
            if not values:
                continue
            names = ", ".join(f'"{k}"' for k in values)
            marks = ", ".join("?" for _ in values)
            cursor = db.execute_sql(  # type: ignore[attr-defined]
                f'INSERT OR IGNORE INTO "{model._meta.table_name}" ({names}) VALUES ({marks})',
                list(values.values()))
            n += cursor.rowcount
    return n
