"""The flags section of ``smvue-tui inspect --json``, made in a second process beside the rest
of the report.

At 100,000 deals a report is ~1.5 s of one core, about half of it the risk flags of every open
deal (~50,000 rows read, judged and written as JSON). When the JSON goes to a pipe or a file (a
script, cron) the parent starts this child first thing and lets it import while it imports and
opens the store itself; then it says "go" (the store is migrated by then: a migration never runs
twice at once), and the child reads the open deals and judges them by every rule but the last
two. The parent finds those two (amount dropped, stage moved back: they replay the deals it
reads for its changes anyway) and hands them over; the child writes one line of JSON — the
counts per rule and per rep — then the rows as a JSON array, which the parent splices into its
report as they are (``orjson.Fragment``): the same bytes one process makes. If the child fails
in any way the parent makes the section itself — the same result, only slower.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import signal
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:  # the store and the inspection are imported once the child is started
    from smvue_tui.inspection.flag_rows import FlagSection
    from smvue_tui.inspection.flags import Flag

GO = b"go\n"
# The child's program: the import path its arguments give up to "--", then main(the rest).
_CHILD = ("import sys; end = sys.argv.index('--'); sys.path[:] = sys.argv[1:end]; "
          "from smvue_tui.cli.inspect_flags import main; sys.exit(main(sys.argv[end + 1:]))")
# How long the report waits for the child once its own part is done (it takes about as long).
WAIT_S = 60
STOP_S = 5  # how long a child asked to end may take before it is killed


class Child:
    """The child process, seen from the parent (``flag_rows.FlagsElsewhere``)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        # Its output is read as it comes, so it never waits on a full pipe for this process
        # to finish its own part (its rows are tens of MB; a pipe holds 64 KB).
        self._out: list[bytes] = []
        self._reader = threading.Thread(target=self._read, name="inspect-flags-out",
                                        daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        self._out.append(self.proc.stdout.read())  # until it ends (or is stopped)

    @classmethod
    def start(cls, rep: str | None, now: datetime) -> Child | None:
        """The child, importing and then waiting for ``go`` (None when it cannot start). The
        flags read no window: ``rep`` and ``now`` are all it needs of the command."""
        if getattr(sys, "frozen", False):  # a bundled executable runs no ``-m`` module
            return None
        # The child imports the copy of the code this process runs — an installed one, or a
        # checkout the tests or `python -m` run from — first on this process's own import
        # path, which it is given whole: it skips ``site`` (-S; its .pth files were a fifth of
        # its start) and the current folder (-P). --package: it ends, unused, should it
        # import another copy all the same.
        package = _package()
        path = [str(Path(package).parent), *(p for p in sys.path if p)]
        cmd = [sys.executable, "-S", "-P", "-c", _CHILD, *path, "--",
               f"--now={now.isoformat()}", f"--package={package}"]
        if rep is not None:  # one word: a value from a dash ("-Luc") is not an option
            cmd.append(f"--rep={rep}")
        try:
            return cls(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL))
        except OSError:
            return None

    def go(self) -> None:
        """The store is open, migrated and its facts fresh: the child may open and read it."""
        stdin = self.proc.stdin
        assert stdin is not None
        with contextlib.suppress(OSError, ValueError):  # it ended already: collect() says so
            stdin.write(GO)
            stdin.flush()

    def send_recent(self, recent: dict[str, list[Flag]]) -> None:
        stdin, self.proc.stdin = self.proc.stdin, None  # said all: communicate() sends nothing
        assert stdin is not None
        # Handed over by a thread: a line longer than a pipe holds (64 KiB; 4 KiB on Windows)
        # waits until the child reads it, which it does only once its own rules are judged.
        # Meanwhile the report goes on, and a child stuck before reading is given up on
        # (collect) instead of holding this process.
        threading.Thread(target=_hand_over, args=(stdin, orjson.dumps(recent) + b"\n"),
                         daemon=True).start()

    def collect(self) -> FlagSection | None:
        """The child's flags section, or None when it failed (the caller makes it)."""
        self._reader.join(WAIT_S)
        if self._reader.is_alive():  # stuck (a lock?): this process makes the section
            self.stop()
            return None
        self.proc.wait()
        head, newline, rows = b"".join(self._out).partition(b"\n")
        if self.proc.returncode != 0 or not newline:
            return None
        try:
            counts = orjson.loads(head)
        except orjson.JSONDecodeError:
            return None
        from smvue_tui.inspection.flag_rows import FlagSection

        return FlagSection(orjson.Fragment(rows), counts["counts"], counts["per_rep"])

    def stop(self) -> None:
        if self.proc.returncode is None:
            # Asked to end first, so that it runs its exit handlers (the store's open marker
            # goes there: left behind, the next open takes it for a crash and checks the whole
            # file); killed when it does not end soon.
            self.proc.terminate()
            try:
                self.proc.wait(STOP_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join()  # its output ended with it
        for pipe in (self.proc.stdin, self.proc.stdout):  # not left to the garbage collector
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


def _hand_over(stdin: IO[bytes], line: bytes) -> None:
    """Write the child its last line and close its input (ended already: collect() says so)."""
    with contextlib.suppress(OSError, ValueError):
        stdin.write(line)
    with contextlib.suppress(OSError, ValueError):
        stdin.close()


def _asked_to_end(signum: int, frame: object) -> None:
    """SIGTERM from ``Child.stop``: end as Python ends, running the exit handlers."""
    raise SystemExit(1)


def _package() -> str:
    """Where this process imported smvue_tui from."""
    import smvue_tui

    return str(Path(smvue_tui.__file__).resolve().parent)


def _recent_from_parent() -> dict[str, list[Flag]]:
    return orjson.loads(sys.stdin.buffer.readline())  # flags are dicts: as they were sent


def main(argv: list[str] | None = None) -> int:
    """The child: wait for ``go``, then write the flags section to stdout."""
    parser = argparse.ArgumentParser(prog="smvue-tui inspect (flags)")
    parser.add_argument("--now", required=True, type=datetime.fromisoformat)
    parser.add_argument("--package", required=True)
    parser.add_argument("--rep")
    args = parser.parse_args(argv)
    if args.package != _package():  # another copy of the code than the parent's: it makes them
        return 1
    signal.signal(signal.SIGTERM, _asked_to_end)
    from smvue_tui.config import app_paths, read_config
    from smvue_tui.store.setting import without_postgres_driver

    without_postgres_driver(app_paths())  # before the store's imports: see there
    from smvue_tui.cli.main import hard_exit
    from smvue_tui.inspection.flag_rows import flag_section
    from smvue_tui.inspection.history import Past, sources, stage_info
    from smvue_tui.inspection.reps import find_rep, owner_names
    from smvue_tui.inspection.settings import inspection_settings
    from smvue_tui.store.inspection_queries import read_mapped
    from smvue_tui.store.org_stores import open_org_store, paths_for_login

    if sys.stdin.buffer.readline() != GO:  # the parent ended (an error it reports itself)
        return 1
    paths = paths_for_login(app_paths())
    db = open_org_store(paths)
    read_mapped()
    gc.disable()  # hundreds of thousands of objects and no cycle; it ends without freeing them
    settings = inspection_settings(read_config(paths.config_file))
    rep = find_rep(args.rep) if args.rep else None
    section = flag_section(Past(sources(), stage_info()), settings, args.now, rep,
                           owner_names(), _recent_from_parent)
    out: Any = sys.stdout.buffer
    out.write(orjson.dumps({"counts": section.counts, "per_rep": section.per_rep}))
    out.write(b"\n")
    out.write(orjson.dumps(section.rows))  # made with sorted keys (flag_rows)
    out.flush()
    db.close()  # a PostgreSQL server sees the session end, not a dropped connection
    hard_exit(0)  # the rows are never freed one by one: the process ends


if __name__ == "__main__":
    sys.exit(main())
