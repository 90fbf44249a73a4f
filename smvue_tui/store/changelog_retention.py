"""How long the deal change log (``DealChange``, ``changelog.py``) keeps what: its retention.

The log grows with every deal version that changes a tracked field. The inspection reads it in
two ways (``smvue_tui/inspection/``):

- **steps after a moment inside its window** — the changes and waterfall since ``--since`` /
  ``--period`` (7 days by default), the trend's 13 weeks, "amount dropped" and "stage moved back"
  over ``recent_days``, ``touched_since``: a step before the window's start is never read;
- **the deal facts** (``deal_facts.refresh_log``) — stage stints for the stage-age medians, the
  current stint's start, close-date pushes — over each deal's whole log, recomputed from the
  stored rows whenever a deal gets a new row, and for every deal after an initial or full sync.

So a row changed before the retention (``[store] change_log_days``, 400 by default: the 12
months the reps' win rate and cycle cover, plus a margin) keeps its StageName and CloseDate
steps — the facts' inputs, which a deal stuck in a stage for longer than that still needs for
its stage-age flag — and loses the others (amount, owner, forecast category, closed/won); a row
left with none is deleted. The facts come out the same from what is left; they are recomputed
in the same transaction, so the deals' kept steps drop what no window reads.

Run after a sync (``SyncEngine``), in the store's writer thread, in batches of ``BATCH`` rows,
each its own transaction: the write lock is held for one batch at a time, a crash loses at most
the batch in flight (all or nothing), and the next run goes on from there. Idempotent: a
compacted row no longer matches, so a second run finds nothing.
"""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta
from typing import Any

from smvue_tui.store import deal_facts
from smvue_tui.store import models as m
from smvue_tui.store.changelog import TRACKED
from smvue_tui.store.object_spec import Lookbacks

log = logging.getLogger(__name__)

DEFAULT_DAYS = Lookbacks.change_log_days  # one default: the sync's Lookbacks carries it
MIN_DAYS = 366  # below this the reps' 12 months would lose steps the inspection reads
BATCH = 2000
KEEP = ("CloseDate", "StageName")  # what the deal facts derive from
_DROP = tuple(f for f in TRACKED.values() if f not in KEEP)
_CHUNK = 500  # ids per statement: under SQLite's bound-parameter limit
MARK = "~change_log"  # the SyncCursor row keeping the cutoff the last finished run reached


def retention_days(config: dict[str, Any]) -> int:
    """``[store] change_log_days`` from config.toml's tables; ValueError (in words) for a value
    it cannot use."""
    section = config.get("store", {}) if isinstance(config, dict) else {}
    days = section.get("change_log_days", DEFAULT_DAYS) if isinstance(section, dict) else None
    if isinstance(days, bool) or not isinstance(days, int) or days < MIN_DAYS:
        raise ValueError(f"[store] change_log_days must be a whole number of days, at least "
                         f"{MIN_DAYS} (the inspection reads 12 months back)")
    return days


def retention_or_default(config: dict[str, Any]) -> int:
    """The retention a parsed config.toml sets; the default (with a logged warning) when it
    says something unusable — a sync must not stop over a housekeeping knob."""
    try:
        return retention_days(config)
    except ValueError as exc:
        log.warning("change log retention: %s; keeping %d days", exc, DEFAULT_DAYS)
        return DEFAULT_DAYS


def cutoff(today: date, days: int) -> str:
    """The ``changed_at`` before which rows are compacted (a day, compared as text)."""
    return (today - timedelta(days=days)).isoformat()


class Prune:
    """One run of the retention up to ``before``; ``step`` (in the writer thread) compacts one
    batch in one transaction and says whether the run is done.

    Rows are taken in id order after the last one handled, so a batch never re-reads what the
    run already compacted; and from the cutoff the last finished run reached (a ``SyncCursor``
    row, as Bulk jobs keep theirs: a full sync's reset only means one full scan), so a sync
    reads only the day or so of rows that crossed the cutoff since. A crash before the end
    leaves that mark where it was: the next run goes over the same range again (idempotent).
    """

    def __init__(self, before: str, limit: int = BATCH) -> None:
        self.before, self.limit = before, limit
        self.after, self.handled, self.deleted = 0, 0, 0
        self.since: str | None = None
        self._started = False

    def step(self) -> bool:
        db = m.DealChange._meta.database
        with db.atomic():
            if not self._started:
                mark = m.SyncCursor.get_or_none(m.SyncCursor.sobject == MARK)
                self.since, self._started = (mark.watermark if mark else None), True
            rows = self._batch(db)
            if len(rows) < self.limit:
                if self.since is None or self.before > self.since:
                    m.SyncCursor.insert(sobject=MARK, watermark=self.before).on_conflict(
                        conflict_target=[m.SyncCursor.sobject],
                        update={m.SyncCursor.watermark: self.before}).execute()
                return True
            return False

    def _batch(self, db: Any) -> list[tuple[Any, ...]]:
        table, p = f'"{m.DealChange._meta.table_name}"', db.param
        # JSON written by changelog (json.dumps, sort_keys): a key reads '"Amount": [' and
        # cannot occur inside a string value, where its quote would be escaped.
        wanted = " OR ".join(["changes LIKE " + p] * len(_DROP))
        since = f"changed_at >= {p} AND " if self.since else ""
        rows = db.execute_sql(
            f"SELECT id, opportunity_id, changes FROM {table} WHERE {since}changed_at < {p} "
            f"AND id > {p} AND ({wanted}) ORDER BY id LIMIT {int(self.limit)}",
            [*([self.since] if self.since else []), self.before, self.after,
             *(f'%"{name}": [%' for name in _DROP)]).fetchall()
        shrunk, gone = [], []
        for row_id, _deal, changes in rows:
            kept = {k: v for k, v in json.loads(changes).items() if k in KEEP}
            if kept:
                shrunk.append((json.dumps(kept, sort_keys=True), row_id))
            else:
                gone.append(row_id)
        if shrunk:
            db.cursor().executemany(f"UPDATE {table} SET changes = {p} WHERE id = {p}", shrunk)
        for start in range(0, len(gone), _CHUNK):
            part = gone[start:start + _CHUNK]
            db.execute_sql(f"DELETE FROM {table} WHERE id IN ({', '.join([p] * len(part))})",
                           part)
        if rows and m.FactsStale.get_or_none(m.FactsStale.source == "log") is None:
            deal_facts.refresh_log({r[1] for r in rows})  # else catch_up recomputes them all
        if rows:
            self.after = rows[-1][0]
        self.handled, self.deleted = self.handled + len(rows), self.deleted + len(gone)
        return rows


def prune_all(before: str, limit: int = BATCH) -> tuple[int, int]:
    """A whole run at once (tests, benchmarks); a sync calls ``Prune.step`` one writer call at
    a time so other writes go between batches. Returns (rows handled, rows deleted)."""
    run = Prune(before, limit)
    while not run.step():
        pass
    return run.handled, run.deleted
