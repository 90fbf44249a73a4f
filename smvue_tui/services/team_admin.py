"""What an admin does to a team store (PostgreSQL), without Textual: ``smvue-tui store
check|migrate|grants`` on a team store (``cli/store.py``), and the version probe team mode makes
before it opens a schema.

- ``check``: each org schema's version against this smvue-tui's, and its writer (running, gone,
  silent). Reads only.
- ``migrate``: brings each org schema up to this smvue-tui's version, one migration per
  transaction (``store/db.py``; a concurrent opener waits for it). Run it with the role that owns
  the schemas (serve's) after upgrading smvue-tui, before the managers upgrade.
- ``grant_sql``: the GRANTs that let a managers' role read an org's schema and write only
  SMVue's own shared rows (notes, action items, team, stage overrides, pipeline choice) — never
  a mirrored Salesforce record, a cursor or the writer's tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from smvue_tui.store import models as m
from smvue_tui.store.postgres import VERSION_TABLE
from smvue_tui.store.setting import redact

# SMVue's own rows a manager's TUI writes; everything else in a schema is the writer's.
MANAGER_WRITES = (m.Note, m.ActionItem, m.TeamMember, m.StageOverride, m.PipelineSetting)


@dataclass(frozen=True)
class SchemaState:
    schema: str
    version: int
    org_id: str = ""


def _connect(url: str) -> Any:  # psycopg is imported only when a team store is used
    import psycopg

    return psycopg.connect(url, connect_timeout=10, autocommit=True)


def org_schemas(url: str) -> list[SchemaState]:
    """Every org schema SMVue made in the database, with its version and org."""
    with _connect(url) as conn:
        schemas = [r[0] for r in conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = %s "
            "AND table_schema LIKE 'smvue\\_%%' ORDER BY 1", (VERSION_TABLE,))]
        found = []
        for schema in schemas:
            version = conn.execute(f'SELECT max("version") FROM "{schema}"."{VERSION_TABLE}"'
                                   ).fetchone()[0] or 0
            org = conn.execute(f"SELECT to_regclass('\"{schema}\".\"team_writer\"')").fetchone()
            org_id = ""
            if org[0] is not None:
                row = conn.execute(f'SELECT org_id FROM "{schema}"."team_writer" LIMIT 1'
                                   ).fetchone()
                org_id = row[0] if row else ""
            found.append(SchemaState(schema, int(version), org_id))
        return found


def schema_version_of(url: str, schema: str) -> int | None:
    """The version of one schema (None: there is no such store yet)."""
    return next((s.version for s in org_schemas(url) if s.schema == schema), None)


def check(url: str, say: Callable[[str], None]) -> int:
    """Each org schema's version and writer, in words; 1 when one needs ``store migrate``
    (or is newer than this smvue-tui)."""
    from smvue_tui.store.db import SCHEMA_VERSION

    states = org_schemas(url)
    if not states:
        say(f"No org in the team store at {redact(url)} yet: `smvue-tui serve` makes its "
            "org's schema on its first start.")
        return 0
    behind = 0
    for state in states:
        label = f"{state.schema} (org {state.org_id or '?'})"
        if state.version == SCHEMA_VERSION:
            say(f"ok       {label}: schema v{state.version}")
        elif state.version < SCHEMA_VERSION:
            behind += 1
            say(f"MIGRATE  {label}: schema v{state.version}, this smvue-tui needs "
                f"v{SCHEMA_VERSION} — run `smvue-tui store migrate` as the schema's owner")
        else:
            behind += 1
            say(f"NEWER    {label}: schema v{state.version} was written by a newer smvue-tui "
                f"(this one knows v{SCHEMA_VERSION}); upgrade smvue-tui here")
        if state.org_id:
            say(f"         {_writer_line(url, state)}")
    return 1 if behind else 0


def _writer_line(url: str, state: SchemaState) -> str:
    from smvue_tui.services.team_status import describe_writer, writer_status
    from smvue_tui.store.db import open_postgres

    db = open_postgres(url, state.schema) if _current(state) else None
    if db is None:
        return "writer: (read after the migration)"
    try:
        return describe_writer(writer_status(state.org_id))[0].removeprefix("team store · ")
    finally:
        db.close()


def _current(state: SchemaState) -> bool:
    from smvue_tui.store.db import SCHEMA_VERSION

    return state.version == SCHEMA_VERSION


def migrate(url: str, say: Callable[[str], None]) -> int:
    """Bring every org schema to this smvue-tui's version; 0 when all are (or were) there."""
    from smvue_tui.store.db import SCHEMA_VERSION, open_postgres

    states = org_schemas(url)
    if not states:
        say(f"No org in the team store at {redact(url)} yet: nothing to migrate.")
    for state in states:
        if state.version > SCHEMA_VERSION:
            say(f"{state.schema}: schema v{state.version} is newer than this smvue-tui "
                f"(v{SCHEMA_VERSION}); upgrade smvue-tui to migrate it")
            return 1
        open_postgres(url, state.schema).close()  # migrates, one transaction per step
        say(f"{state.schema}: " + (f"up to date (v{SCHEMA_VERSION})"
                                   if state.version == SCHEMA_VERSION
                                   else f"migrated v{state.version} → v{SCHEMA_VERSION}"))
    return 0


def grant_sql(schema: str, role: str) -> str:
    """The statements (run by the schema's owner) giving ``role`` a manager's rights."""
    writes = ", ".join(f'"{schema}"."{model._meta.table_name}"' for model in MANAGER_WRITES)
    return "\n".join([
        f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}";',
        f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}";',
        f'GRANT INSERT, UPDATE, DELETE ON {writes} TO "{role}";',
        f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}";',
        "-- tables a later `store migrate` adds are readable too:",
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" GRANT SELECT ON TABLES TO "{role}";',
    ])
