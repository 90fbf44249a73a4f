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


def _indexes(db, table: str) -> set[str]:
    return {i.name for i in db.get_indexes(table)}


def test_every_covering_index_is_there_and_replaces_its_one_column_prefix(store):
    opportunity, activity = _indexes(store, "opportunity"), _indexes(store, "activity")
    assert {"opportunity_open_totals", "opportunity_closing"} <= opportunity
    assert not {"opportunity_IsClosed", "opportunity_CloseDate"} & opportunity
    assert "activity_time_owner" in activity and "activity__OccurredAt" not in activity


@pytest.mark.parametrize("query", sorted(TOTALS))
def test_each_total_reads_its_covering_index_alone(sqlite_store, query, monkeypatch):  # noqa: F811
    """SQLite's plan (PostgreSQL plans from its statistics)."""
    store = sqlite_store
    index, args = TOTALS[query]
    asked: list[tuple[str, list]] = []
    execute = store.execute_sql

    def recording(sql, params=None, *rest, **kw):
        asked.append((sql, list(params or [])))
        return execute(sql, params, *rest, **kw)

    monkeypatch.setattr(store, "execute_sql", recording)
    getattr(q, query)(*args)
    monkeypatch.undo()
    [(sql, params)] = asked
    plan = " | ".join(r[3] for r in store.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params))
    assert f"USING COVERING INDEX {index}" in plan, plan
    assert "SCAN opportunity" not in plan and "SCAN activity" not in plan, plan
