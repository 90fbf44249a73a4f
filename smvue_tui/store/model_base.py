"""The base every store table derives from: the database the models are bound to (a proxy,
bound by ``db.open_store``/``open_postgres``), SMVue's own rows (``BaseModel``) and mirrored
Salesforce records (``SfRecord``: keyed by Id, columns named as the API names).
"""

from __future__ import annotations

from datetime import UTC, datetime

from peewee import CharField, DatabaseProxy, Model, TextField

database = DatabaseProxy()


def utcnow() -> datetime:
    return datetime.now(UTC)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


def _sf(name: str, kind: type = TextField, **kw: object) -> object:
    """A mirrored column named as the Salesforce field."""
    return kind(column_name=name, null=True, **kw)


class SfRecord(BaseModel):
    """A mirrored Salesforce record: keyed by its 18-char Id."""

    id = CharField(primary_key=True, max_length=18, column_name="Id")
    # Not indexed: the store never selects by it (cursors live in SyncCursor), and an index
    # on every mirrored table cost each written row one more b-tree update.
    system_modstamp = _sf("SystemModstamp")


def sf_columns(model: type[SfRecord]) -> dict[str, str]:
    """Salesforce field name → attribute name, for the model's mirrored columns."""
    return {f.column_name: name for name, f in model._meta.fields.items()
            if not f.column_name.startswith("_")}
