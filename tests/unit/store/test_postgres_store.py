"""The store on PostgreSQL: chosen by one setting, one schema per org, the same migrations."""

from __future__ import annotations

import pytest

from smvue_tui.config import app_paths
from smvue_tui.store import models as m
from smvue_tui.store.backend import schema_for
from smvue_tui.store.db import SCHEMA_VERSION, open_postgres, open_store, schema_version
from smvue_tui.store.org_stores import (
    StoreMissing,
    StoreOrgMismatch,
    StoreUnavailable,
    open_org_store,
)
from smvue_tui.store.setting import StoreUrlError, redact, store_url

ORG_A = "00DXX0000001abcEAA"
ORG_B = "00DXX0000002abcEAA"


def _paths(tmp_path):
    return app_paths({"SMVUE_HOME": str(tmp_path / "home")})


def test_no_setting_is_sqlite_and_the_env_wins_over_config_toml(tmp_path):
    paths = _paths(tmp_path)
    assert store_url(paths, {}) == ""
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text('[store]\nurl = "postgres://app@db.example/smvue"\n')
    assert store_url(paths, {}) == "postgresql://app@db.example/smvue"
    assert store_url(paths, {"SMVUE_STORE_URL": "postgresql://x@h/d"}) == "postgresql://x@h/d"


def test_a_bad_setting_is_refused_in_words_without_the_password(tmp_path):
    paths = _paths(tmp_path)
    with pytest.raises(StoreUrlError) as caught:
        store_url(paths, {"SMVUE_STORE_URL": "mysql://app:s3cret@db/smvue"})
    assert "SMVUE_STORE_URL is not a PostgreSQL URL" in str(caught.value)
    assert "s3cret" not in str(caught.value)
    assert redact("postgresql://app:s3cret@db:5432/x") == "postgresql://app:***@db:5432/x"


@pytest.mark.parametrize("url", ["postgresql://app:50%off@db/smvue",
                                 "postgresql://app:my s3cret@db/smvue",
                                 "postgresql://app:s3cret@db/smvue?sslmod=require"])
def test_a_url_libpq_cannot_read_is_refused_without_the_password(tmp_path, url):
    """libpq quotes the bad token of a URL it cannot parse — the password itself when that
    holds an unencoded "%" or a space: refused here, in words, before any connection says it."""
    with pytest.raises(StoreUrlError) as caught:
        store_url(_paths(tmp_path), {"SMVUE_STORE_URL": url})
    assert "s3cret" not in str(caught.value) and "50%off" not in str(caught.value)
    assert "SMVUE_STORE_URL" in str(caught.value) and "app:***@db" in str(caught.value)
    assert ("sslmod" if "sslmod" in url else "percent-encode") in str(caught.value)


@pytest.mark.parametrize("url", ["postgresql://app:s3#cret@db/smvue",
                                 "postgresql://app:s3?cret@db/smvue",
                                 "postgresql://app@db/smvue?password=s3#cret",
                                 "postgresql://app@db/smvue?pass%77ord=s3cret",
                                 "host=db user=app password=s3cret dbname=smvue"])
def test_redact_hides_every_password_libpq_reads(tmp_path, url):
    """libpq takes "#" and "?" as part of a password (it knows no URL fragment), a percent-
    encoded keyword, and its key=value form: each of these connects with the password, so the
    URL shown in messages, logs and the store's label may show none of it — nor may the
    refusal of a --store holding one."""
    from psycopg.conninfo import conninfo_to_dict

    from smvue_tui.store.setting import password_in_argv

    secret = conninfo_to_dict(url)["password"]
    assert secret in ("s3#cret", "s3?cret", "s3cret")  # libpq does read a password here
    shown = redact(url)
    assert "cret" not in shown and "***" in shown and "db" in shown
    refused = password_in_argv(url)
    assert refused is not None and "cret" not in refused


@pytest.mark.parametrize("secret", ["sslpassword=s3cret", "sslpassword=s3#cret"])
def test_the_client_keys_passphrase_is_a_password_too(secret):
    """libpq's ``sslpassword`` decrypts the client certificate's key (``sslkey``): a secret
    as much as ``password`` — refused on the command line, never shown in messages."""
    from smvue_tui.store.setting import password_in_argv

    url = f"postgresql://app@db/smvue?sslmode=verify-full&sslkey=/etc/smvue/k.pem&{secret}"
    assert "cret" not in redact(url) and "sslkey=/etc/smvue/k.pem" in redact(url)
    refused = password_in_argv(url)
    assert refused is not None and "cret" not in refused


def test_an_unreachable_server_is_refused_in_words(tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("SMVUE_STORE_URL", f"postgresql://app:s3cret@127.0.0.1:{port}/smvue")
    with pytest.raises(StoreUnavailable) as caught:
        open_org_store(_paths(tmp_path).for_org(ORG_A))
    text = str(caught.value)
    assert "cannot open the store at postgresql://app:***@127.0.0.1" in text
    assert "s3cret" not in text and "Traceback" not in text


def test_the_same_tables_and_columns_as_sqlite_and_the_version(tmp_path, pg_url):
    lite = open_store(tmp_path / "s.sqlite3")
    expected = {t: [c.name for c in lite.get_columns(t)] for t in lite.get_tables()}
    lite.close()
    db = open_postgres(pg_url, "smvue_test")
    try:
        got = {t: [c.name for c in db.get_columns(t)] for t in db.get_tables()}
        got.pop("_smvue_schema")
        assert got == expected
        assert schema_version(db) == SCHEMA_VERSION
        # Amounts keep every digit (peewee's default REAL is 4 bytes on PostgreSQL).
        assert db.execute_sql("SELECT data_type FROM information_schema.columns WHERE "
                              "table_schema = 'smvue_test' AND table_name = 'opportunity' "
                              "AND column_name = 'Amount'").fetchone()[0] == "double precision"
    finally:
        db.close()


def test_a_second_open_migrates_nothing_and_keeps_data(pg_url):
    db = open_postgres(pg_url, "smvue_test")
    m.Note.create(opportunity_id="0068W0000000001QAA", body="call the CFO")
    db.close()
    db = open_postgres(pg_url, "smvue_test")
    try:
        assert [n.body for n in m.Note.select()] == ["call the CFO"]
        assert db.execute_sql('SELECT count(*) FROM "_smvue_schema"').fetchone()[0] == 1
    finally:
        db.close()


def _sync_org(org_id: str, name: str) -> None:
    m.Organization.insert(id=org_id, name=name, is_sandbox=False).execute()


def test_each_org_has_its_own_schema_and_never_sees_another(tmp_path, pg_url, monkeypatch):
    monkeypatch.setenv("SMVUE_STORE_URL", pg_url)
    paths = _paths(tmp_path)
    db = open_org_store(paths.for_org(ORG_A))
    _sync_org(ORG_A, "Org A")
    m.Note.create(opportunity_id="0068W0000000001QAA", body="A's note")
    db.close()
    db = open_org_store(paths.for_org(ORG_B))
    assert db.execute_sql("SELECT current_schema()").fetchone()[0] == schema_for(ORG_B)
    assert m.Note.select().count() == 0 and m.Organization.select().count() == 0
    _sync_org(ORG_B, "Org B")
    db.close()
    db = open_org_store(paths.for_org(ORG_A))
    try:
        assert [n.body for n in m.Note.select()] == ["A's note"]
        assert [o.name for o in m.Organization.select()] == ["Org A"]
    finally:
        db.close()


def test_a_schema_holding_another_org_is_refused(tmp_path, pg_url, monkeypatch):
    monkeypatch.setenv("SMVUE_STORE_URL", pg_url)
    paths = _paths(tmp_path)
    db = open_postgres(pg_url, schema_for(ORG_A))
    _sync_org(ORG_B, "Org B")  # B's rows in A's schema: copied there by hand, say
    db.close()
    with pytest.raises(StoreOrgMismatch) as caught:
        open_org_store(paths.for_org(ORG_A))
    assert "Org B" in str(caught.value) and ORG_A in str(caught.value)
    assert "(schema smvue_00dxx0000001abceaa)" in str(caught.value)


def test_file_commands_say_they_do_not_manage_the_shared_store(monkeypatch, capsys):
    from smvue_tui.cli.main import main

    monkeypatch.setenv("SMVUE_STORE_URL", "postgresql://app:s3cret@db.example/smvue")
    assert main(["forget", ORG_A, "--yes"]) == 2
    err = capsys.readouterr().err
    assert "The store is on PostgreSQL at postgresql://app:***@db.example/smvue" in err
    assert "`smvue-tui forget` manages the store files on this machine only" in err
    assert main(["orgs"]) == 0 and "smvue_<org id>" in capsys.readouterr().out
    # store check looks at the team store's schemas (issue 18 item 4): this one cannot be
    # reached, which it says without the password
    assert main(["store", "check"]) == 1
    assert "s3cret" not in capsys.readouterr().err


def test_a_store_not_yet_made_is_said_and_not_made_on_either_backend(tmp_path,
                                                                     store_backend):
    """What `inspect` asks for ("no local store yet"): an existing store only — a file, or
    the schema — never one made empty to read."""
    paths = _paths(tmp_path).for_org(ORG_A)
    with pytest.raises(StoreMissing):
        open_org_store(paths, create=False)
    assert not paths.database.exists()
    open_org_store(paths).close()
    open_org_store(paths, create=False).close()
    assert paths.database.exists() == (not store_backend.is_postgres)
    if store_backend.is_postgres:
        with pytest.raises(StoreMissing):  # the schema it looked for was not made either
            open_org_store(_paths(tmp_path).for_org(ORG_B), create=False)
        open_org_store(paths, create=False).close()
        import psycopg

        with psycopg.connect(store_backend.url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s",
                                (schema_for(ORG_B),)).fetchone()[0] == 0


def test_inspect_on_a_team_store_connects_once(pg_url, monkeypatch, capsys):
    """`inspect` reads an existing store: one connection to the server serves the check that
    the org's schema is there and the report (a second costs a TLS handshake and a login)."""
    import psycopg

    from smvue_tui.cli.main import main

    monkeypatch.setenv("SMVUE_STORE_URL", pg_url)
    org = "00DXX0000001abc2AA"  # a valid id: remembered as the org last used
    app_paths().orgs_dir.mkdir(parents=True)
    open_org_store(app_paths().for_org(org)).close()
    connects = []
    original = psycopg.connect

    def connect(*args, **kwargs):
        connects.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(psycopg, "connect", connect)
    assert main(["inspect"]) == 0, capsys.readouterr().err
    assert len(connects) == 1


def test_text_of_any_length_is_kept_as_on_sqlite(tmp_path, store_backend):
    """A Change Data Capture notification's id is longer than the 18 characters its column
    names; SQLite stores it, and so must PostgreSQL (CDC on it failed with a DataError)."""
    store_backend.open(tmp_path / "s.sqlite3")
    event_id = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0:0"
    m.ChangeNotification.insert_many([{"notification_id": event_id, "sobject": "Opportunity",
                                       "record_id": "0068W0000000001QAA"}]).execute()
    assert m.ChangeNotification.get().notification_id == event_id


@pytest.fixture
def manager_url(pg_url):
    """The URL of a fresh role with the rights `store grants` gives managers on ORG_A's
    schema (made here, as its owner would)."""
    import uuid

    import psycopg

    from smvue_tui.services.team_admin import grant_sql

    role = f"mgr_{uuid.uuid4().hex[:8]}"
    open_postgres(pg_url, schema_for(ORG_A)).close()
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(grant_sql(schema_for(ORG_A), role))
    yield pg_url.replace("postgresql://postgres@", f"postgresql://{role}@", 1)
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'DROP OWNED BY "{role}"')
        admin.execute(f'DROP ROLE "{role}"')


def test_a_manager_reads_the_inspection_after_an_initial_sync_left_facts_to_recompute(
        pg_url, manager_url):
    """An initial sync leaves the deal facts to be recomputed whole before the next read;
    a manager's role may not write them, so its read must not try (the writer does)."""
    from smvue_tui.store import inspection_queries as q

    open_postgres(pg_url, schema_for(ORG_A))
    m.FactsStale.create(source="history")
    manager = open_postgres(manager_url, schema_for(ORG_A))
    try:
        q.fresh_facts()
        assert m.FactsStale.select().count() == 1  # left for the writer
    finally:
        manager.close()


def test_a_manager_opens_the_store_while_a_killed_writers_run_is_still_open(pg_url):
    """serve was SIGKILLed mid-sync: its run stays ``running`` until the writer is back (it
    closes such runs). A manager's role (``store grants``) may not update sync runs, so
    opening the store must not try to — before, every manager's TUI failed to start with
    "permission denied for table sync_run" until serve came back."""
    import uuid

    import psycopg

    from smvue_tui.services.team_admin import grant_sql

    schema, role = schema_for(ORG_A), f"mgr_{uuid.uuid4().hex[:8]}"
    db = open_postgres(pg_url, schema)
    m.SyncRun.create(kind="incremental", status="running", started_at=m.utcnow().isoformat(),
                     pid=2**22 + 12345)  # no smvue-tui process with this pid is connected
    db.close()
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(grant_sql(schema, role))
    try:
        manager = open_postgres(pg_url.replace("postgresql://postgres@",
                                               f"postgresql://{role}@", 1), schema)
        try:
            assert m.SyncRun.get().status == "running"  # left for the writer to close
        finally:
            manager.close()
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')
