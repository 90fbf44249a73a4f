import json

from smvue_tui.store import models as m
from smvue_tui.store.writer import write_page
from smvue_tui.sync.plan import SPECS_BY_NAME

OPP = SPECS_BY_NAME["Opportunity"]


def _opp(stamp: str, stage: str = "Prospecting", **extra) -> dict:
    return {"attributes": {"type": "Opportunity"}, "Id": "0068W0000000001QAA", "Name": "Acme",
            "StageName": stage, "Amount": 1000.0, "SystemModstamp": stamp, "IsClosed": False,
            **extra}


def test_page_and_cursor_commit_together_and_replay_is_idempotent(tmp_path, store_backend):
    db = store_backend.open(tmp_path / "s.sqlite3")
    page = [_opp("2026-11-01T00:00:00.000+0000", Seats__c=12)]
    cursor = {"watermark": "2026-11-01T00:00:00.000+0000", "watermark_id": page[0]["Id"]}
    for _ in range(2):
        write_page(db, OPP, page, cursor=cursor, custom_fields=["Seats__c"])
    assert m.Opportunity.select().count() == 1
    row = m.Opportunity.get_by_id(page[0]["Id"])
    assert row.stage_name == "Prospecting" and json.loads(row.custom_fields) == {"Seats__c": 12}
    assert m.SyncCursor.get_by_id("Opportunity").watermark == cursor["watermark"]


def test_an_older_version_never_overwrites_a_newer_one(tmp_path, store_backend):
    db = store_backend.open(tmp_path / "s.sqlite3")
    write_page(db, OPP, [_opp("2026-11-02T00:00:00.000+0000", "Closed Won")])
    write_page(db, OPP, [_opp("2026-11-01T00:00:00.000+0000", "Prospecting")])
    assert m.Opportunity.get_by_id("0068W0000000001QAA").stage_name == "Closed Won"
    write_page(db, OPP, [_opp("2026-11-02T00:00:00.000+0000", "Closed Lost")])  # same stamp
    assert m.Opportunity.get_by_id("0068W0000000001QAA").stage_name == "Closed Lost"


def test_rows_outside_scope_are_dropped_and_removed(tmp_path, store_backend):
    db = store_backend.open(tmp_path / "s.sqlite3")
    write_page(db, OPP, [_opp("2026-11-01T00:00:00.000+0000")])
    write_page(db, OPP, [_opp("2026-11-03T00:00:00.000+0000", IsClosed=True)],
               keep=lambda row: not row["is_closed"])
    assert m.Opportunity.select().count() == 0


def test_derived_and_constant_columns(tmp_path, store_backend):
    db = store_backend.open(tmp_path / "s.sqlite3")
    email = {"Id": "02s8W0000000001AAA", "Subject": "Re: pricing", "SystemModstamp": "x",
             "MessageDate": "2026-11-01T10:00:00.000+0000", "RelatedToId": "0068W0000000001QAA"}
    write_page(db, SPECS_BY_NAME["EmailMessage"], [email])
    row = m.Activity.get_by_id(email["Id"])
    assert (row.kind, row.what_id, row.occurred_at) == (
        "EmailMessage", "0068W0000000001QAA", "2026-11-01T10:00:00.000+0000")


def test_a_page_holding_an_id_twice_keeps_the_newest_version(tmp_path, store_backend):
    db = store_backend.open(tmp_path / "s.sqlite3")
    write_page(db, OPP, [_opp("2026-11-02T00:00:00.000+0000", "Closed Won"),
                         _opp("2026-11-01T00:00:00.000+0000", "Prospecting")])
    assert m.Opportunity.get_by_id("0068W0000000001QAA").stage_name == "Closed Won"
    write_page(db, OPP, [_opp("2026-11-03T00:00:00.000+0000", "Qualification"),
                         _opp("2026-11-03T00:00:00.000+0000", "Negotiation")])  # a tie: later
    assert m.Opportunity.get_by_id("0068W0000000001QAA").stage_name == "Negotiation"
    assert m.Opportunity.select().count() == 1


def test_awkward_values_come_back_as_sent(tmp_path, store_backend):
    """Tabs, newlines, backslashes and quotes (COPY's own syntax), text beyond Latin-1, nulls,
    an amount needing double precision, booleans — as Salesforce sent them."""
    db = store_backend.open(tmp_path / "s.sqlite3")
    name = 'Tab\there\nnew line \\N back\\slash "quoted" \'single\' Zürich 東京 🚀'
    write_page(db, OPP, [_opp("2026-11-01T00:00:00.000+0000", Name=name, Amount=1234567.89,
                              NextStep=None, IsClosed=True)])
    row = m.Opportunity.get_by_id("0068W0000000001QAA")
    assert (row.name, row.amount, row.next_step, bool(row.is_closed)) == (
        name, 1234567.89, None, True)


class Boom(Exception):
    pass


def _a_page_rolled_back(db) -> None:
    """A page written, then its transaction (or savepoint) rolled back."""
    try:
        with db.atomic():
            write_page(db, OPP, [_opp("2026-11-01T00:00:00.000+0000")])
            raise Boom
    except Boom:
        pass


def test_a_page_rolled_back_does_not_break_the_next_one(tmp_path, store_backend):
    """On PostgreSQL the first page of a table makes its COPY staging table inside the page's
    transaction: when that transaction rolls back (the checkpoint failing, the server
    refusing a value), the staging table goes with it — the next page must make it again,
    not fail on every later page of the sync with "relation does not exist"."""
    db = store_backend.open(tmp_path / "s.sqlite3")
    _a_page_rolled_back(db)
    assert m.Opportunity.select().count() == 0
    write_page(db, OPP, [_opp("2026-11-02T00:00:00.000+0000", "Closed Won")])
    assert m.Opportunity.get_by_id("0068W0000000001QAA").stage_name == "Closed Won"


def test_a_nul_character_never_fails_a_page(tmp_path, store_backend, caplog):
    """PostgreSQL's text cannot hold NUL (\\x00), which SQLite stores: one Salesforce value
    holding one must not fail its page (and the sync, on every retry). SQLite keeps it as
    sent; PostgreSQL stores U+FFFD in its place and logs where — never the value."""
    db = store_backend.open(tmp_path / "s.sqlite3")
    other = {**_opp("2026-11-01T00:00:00.000+0000"), "Id": "0068W0000000002QAA",
             "Name": "Globex"}
    write_page(db, OPP, [_opp("2026-11-01T00:00:00.000+0000", Name="Acme\x00secret",
                              NextStep="call\x00\x00"), other],
               cursor={"watermark": "2026-11-01T00:00:00.000+0000"})
    row = m.Opportunity.get_by_id("0068W0000000001QAA")
    assert m.Opportunity.get_by_id(other["Id"]).name == "Globex"
    assert m.SyncCursor.get_by_id("Opportunity").watermark == "2026-11-01T00:00:00.000+0000"
    if store_backend.is_postgres:
        assert (row.name, row.next_step) == ("Acme\ufffdsecret", "call\ufffd\ufffd")
        logged = caplog.text
        assert "3 NUL character(s) in 1 record(s) (0068W0000000001QAA; fields Name, NextStep)" \
            in logged and "secret" not in logged
    else:
        assert (row.name, row.next_step) == ("Acme\x00secret", "call\x00\x00")
    # A later version of the deal (the change log compares it with the stored one) too.
    write_page(db, OPP, [_opp("2026-11-02T00:00:00.000+0000", "Closed\x00Won")])
    stage = m.Opportunity.get_by_id("0068W0000000001QAA").stage_name
    assert stage == ("Closed\ufffdWon" if store_backend.is_postgres else "Closed\x00Won")


def test_a_pages_staging_table_is_made_once_per_connection(tmp_path, store_backend,
                                                           monkeypatch):
    """On PostgreSQL each page COPYs into a temporary staging table: made by the first page,
    then remembered once its transaction committed — not asked for again on every page (a
    round trip each) — yet made again after a rollback (page or savepoint) took it away."""
    db = store_backend.open(tmp_path / "s.sqlite3")
    made = []
    execute_sql = db.execute_sql

    def counted(sql, *args, **kwargs):
        if sql.startswith("CREATE TEMP TABLE"):
            made.append(sql)
        return execute_sql(sql, *args, **kwargs)

    monkeypatch.setattr(db, "execute_sql", counted)
    with db.atomic():  # a page in a savepoint that rolls back, its transaction committing
        _a_page_rolled_back(db)
    for day in range(2, 6):
        write_page(db, OPP, [_opp(f"2026-11-0{day}T00:00:00.000+0000", f"Stage {day}")])
    assert m.Opportunity.get_by_id("0068W0000000001QAA").stage_name == "Stage 5"
    assert len(made) == (2 if store_backend.is_postgres else 0)
