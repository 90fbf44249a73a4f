"""Store v10: the inspection's totals are read from covering indexes alone — no table rows, and
on SQLite the close-date queries walk the close-date range, not half the deals by IsClosed."""

from __future__ import annotations

import pytest

from smvue_tui.store import inspection_queries as q
from tests.unit.store.pipeline_fixtures import store as sqlite_store  # noqa: F401 - a fixture

TOTALS = {  # query → (index it must read alone, its arguments)
    "open_by_owner_stage": ("opportunity_open_totals", ()),
    "forecast_rows": ("opportunity_closing", ("2026-10-01", "2026-12-31")),
    "open_amount_closing": ("opportunity_closing", ("2026-10-01", "2026-12-31")),
    "closed_by_owner": ("opportunity_closing", ("2025-12-04", "2026-12-04")),
    "activities_by_owner": ("activity_time_owner", ("2026-11-20", "2026-12-04")),
}


def _plan(store, monkeypatch, query: str, args: tuple) -> str:
    """SQLite's plan for the one statement ``q.<query>(*args)`` runs, its steps joined by |."""
    asked: list[tuple[str, list]] = []
    execute = store.execute_sql

    def recording(sql, params=None, *rest, **kw):
        asked.append((sql, list(params or [])))
        return execute(sql, params, *rest, **kw)

    monkeypatch.setattr(store, "execute_sql", recording)
    getattr(q, query)(*args)
    monkeypatch.undo()
    [(sql, params)] = asked
    return " | ".join(r[3] for r in store.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params))


def _indexes(db, table: str) -> set[str]:
    return {i.name for i in db.get_indexes(table)}


def test_every_covering_index_is_there_and_replaces_its_one_column_prefix(store):
    opportunity, activity = _indexes(store, "opportunity"), _indexes(store, "activity")
    assert {"opportunity_open_totals", "opportunity_closing"} <= opportunity
    assert not {"opportunity_IsClosed", "opportunity_CloseDate"} & opportunity
    assert "activity_time_owner" in activity and "activity__OccurredAt" not in activity
    history = _indexes(store, "stage_history")
    assert "stage_history_time_parent" in history and "stage_history_CreatedDate" not in history


def test_the_touched_deals_are_found_from_indexes_alone(sqlite_store, monkeypatch):  # noqa: F811
    """Deals created, logged or with OpportunityHistory after a time: no table row is read to
    find them (only to return them)."""
    plan = _plan(sqlite_store, monkeypatch, "touched_deals", ("2026-11-01T00:00:00.000+0000", True))
    finding = plan.split(" | SCAN t")[0]
    assert "stage_history USING COVERING INDEX stage_history_time_parent" in finding, plan
    assert "deal_change USING COVERING INDEX" in finding or "deal_change USING INDEX" in finding


@pytest.mark.parametrize("query", sorted(TOTALS))
def test_each_total_reads_its_covering_index_alone(sqlite_store, query, monkeypatch):  # noqa: F811
    """SQLite's plan (PostgreSQL plans from its statistics)."""
    index, args = TOTALS[query]
    plan = _plan(sqlite_store, monkeypatch, query, args)
    assert f"USING COVERING INDEX {index}" in plan, plan
    assert "SCAN opportunity" not in plan and "SCAN activity" not in plan, plan


def test_the_flags_read_every_open_deal_from_one_index_in_id_order(sqlite_store, monkeypatch):  # noqa: F811
    """Store v12: the open deals from their own covering index (Id order, no table row), so
    their facts are looked up in order too."""
    plan = _plan(sqlite_store, monkeypatch, "open_deal_flag_rows",
                 (None, q.HISTORY, q.HISTORY, 3))
    assert "SEARCH o USING COVERING INDEX opportunity_open_flags (IsClosed=?)" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
