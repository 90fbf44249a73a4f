"""A page of API records into the store: the row shape's fast path and its fallback."""

from __future__ import annotations

from datetime import date

import pytest

from smvue_tui.store import models as m
from smvue_tui.store.db import open_store
from smvue_tui.store.object_spec import Lookbacks
from smvue_tui.store.writer_thread import StoreWriter
from smvue_tui.sync.fetch import SyncContext, _write_page
from smvue_tui.sync.plan import SPECS_BY_NAME

CONTACT = SPECS_BY_NAME["Contact"]
FIELDS = ("Id", "SystemModstamp", "Name", "AccountId", "Email")


@pytest.fixture
def ctx(tmp_path):
    db = open_store(tmp_path / "s.sqlite3")
    context = SyncContext(client=None, writer=StoreWriter(db), lookbacks=Lookbacks(),
                          today=date(2026, 11, 26), fields={"Contact": FIELDS})
    yield context
    context.writer.close()
    db.close()


def _contact(n: int, stamp: str, **values) -> dict:
    return {"attributes": {"type": "Contact"}, "Id": f"003{n:015d}", "SystemModstamp": stamp,
            "Name": f"C{n}", "AccountId": "001000000000000001", "Email": f"c{n}@x.io",
            **values}


def test_rows_written_as_selected_and_never_backwards(ctx):
    assert _write_page(ctx, CONTACT, [_contact(1, "2026-11-02T00:00:00.000+0000")],
                       None, scoped=False) == 1
    older = _contact(1, "2026-11-01T00:00:00.000+0000", Email="old@x.io")
    _write_page(ctx, CONTACT, [older], None, scoped=False)
    row = m.Contact.get()
    assert (row.name, row.email, row.account_id) == ("C1", "c1@x.io", "001000000000000001")
    assert ctx.new_counts == {"Contact": 1}


def test_a_record_missing_a_selected_field_stores_null_for_it(ctx):
    _write_page(ctx, CONTACT, [_contact(1, "2026-11-01T00:00:00.000+0000")], None,
                scoped=False)
    newer = _contact(1, "2026-11-02T00:00:00.000+0000")
    del newer["Email"]  # Salesforce always sends selected fields; a proxy might not
    _write_page(ctx, CONTACT, [newer, _contact(2, "2026-11-02T00:00:00.000+0000")], None,
                scoped=False)
    assert m.Contact.get_by_id("003000000000000001").email is None  # not the stale value
    assert m.Contact.get_by_id("003000000000000002").email == "c2@x.io"
