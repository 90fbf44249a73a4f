"""Name resolution: a FROM object, its parent-relationship joins, and field paths → SQL columns.

Identifiers in the generated SQL come only from the catalog (quoted) and generated aliases, never
from the query text, so names cannot inject SQL.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

from smvue_demo_org.schema import Catalog, FieldDef, ObjectDef
from smvue_demo_org.soql import ast
from smvue_demo_org.soql.errors import BAD_RELATIONSHIP, NO_SUCH_COLUMN, error_at, malformed

MAX_PARENT_LEVELS = 5
_POLY_TYPE = FieldDef("Type", "picklist", "Type")  # What.Type: the referenced object's name


@dataclass
class Context:
    """What every part of one query's compilation shares."""

    text: str
    catalog: Catalog
    include_deleted: bool
    today: date
    api_version: str
    counter: itertools.count = field(default_factory=itertools.count)

    def alias(self) -> str:
        return f"t{next(self.counter)}"

    def not_deleted(self, alias: str) -> str:
        return "" if self.include_deleted else f' AND {alias}."IsDeleted" = 0'


@dataclass
class Join:
    key: tuple[str, ...]  # lower-case relationship path from the FROM object
    rel_name: str  # canonical relationship name (output key)
    obj: ObjectDef | None  # None when polymorphic
    targets: list[tuple[ObjectDef, str]]  # (object, alias) for each possible target
    id_sql: str
    type_sql: str | None  # polymorphic: which target matched
    sql: str  # the LEFT JOIN clauses


@dataclass
class Column:
    sql: str
    field: FieldDef
    chain: list[Join]  # joins from the FROM object to the field's object
    path: ast.Path

    @property
    def name(self) -> str:
        return self.field.name


def _component_key(compound: FieldDef, component: FieldDef) -> str:
    """BillingCity → "city", Foo__Latitude__s → "latitude" (REST's keys, lower camel case)."""
    stem = compound.name.removesuffix("Address").removesuffix("__c")
    tail = component.name.removeprefix(stem).removeprefix("__").removesuffix("__s")
    return tail[:1].lower() + tail[1:]


def compound_sql(obj: ObjectDef, fd: FieldDef, table: str) -> str:
    """A compound field as REST returns it: an object of its components with keys in
    alphabetical order (city, country, geocodeAccuracy, latitude, longitude, postalCode, state,
    street), or null when every component is null."""
    parts = sorted((_component_key(fd, f), f'{table}."{f.name}"') for f in obj.fields.values()
                   if f.compound == fd.name)
    if not parts:
        return "NULL"
    cols = ", ".join(sql for _, sql in parts)
    pairs = ", ".join(f"'{key}', {sql}" for key, sql in parts)
    empty = f"COALESCE({cols}, NULL) IS NULL"
    return f"CASE WHEN {empty} THEN NULL ELSE json_object({pairs}) END"


class Scope:
    """One FROM object (its alias, its joins) inside one query."""

    def __init__(self, ctx: Context, obj: ObjectDef, soql_alias: str | None = None) -> None:
        self.ctx = ctx
        self.obj = obj
        self.alias = ctx.alias()
        self.soql_alias = soql_alias
        self.joins: dict[tuple[str, ...], Join] = {}
        self.touched: set[tuple[str, ...]] = set()

    def join_sql(self, keys: set[tuple[str, ...]] | None = None) -> str:
        """LEFT JOIN clauses (all, or only those in ``keys``), parents before children."""
        return "".join(j.sql for k, j in self.joins.items() if keys is None or k in keys)

    def resolve(self, path: ast.Path) -> Column:
        text = self.ctx.text
        parts = list(path.parts)
        if self.soql_alias and len(parts) > 1 and parts[0].lower() == self.soql_alias.lower():
            parts = parts[1:]
        if len(parts) - 1 > MAX_PARENT_LEVELS:
            raise malformed(text, path.pos, "SOQL statements cannot query more than 5 levels "
                            "of relationships from the FROM object")
        obj: ObjectDef | None = self.obj
        table = self.alias
        chain: list[Join] = []
        for rel in parts[:-1]:
            fd = obj.relationship(rel) if obj is not None else None
            if fd is None:
                raise error_at("INVALID_FIELD", text, path.pos,
                               BAD_RELATIONSHIP.format(name=rel, where="field path"))
            join = self._join(chain, fd, table, path)
            chain.append(join)
            self.touched.add(join.key)
            obj = join.obj
            table = join.targets[0][1]
        last = parts[-1]
        if chain and chain[-1].obj is None:
            return self._polymorphic_field(chain, last, path)
        assert obj is not None
        fd = obj.field(last)
        if fd is None:
            raise error_at("INVALID_FIELD", text, path.pos,
                           NO_SUCH_COLUMN.format(field=last, entity=obj.name))
        if not fd.stored:
            return Column(compound_sql(obj, fd, table), fd, chain, path)
        return Column(f'{table}."{fd.name}"', fd, chain, path)

    def _join(self, chain: list[Join], fd: FieldDef, table: str, path: ast.Path) -> Join:
        key = (*(chain[-1].key if chain else ()), (fd.relationship_name or "").lower())
        if key in self.joins:
            return self.joins[key]
        targets = [o for o in map(self.ctx.catalog.get, fd.reference_to) if o is not None]
        if not targets:
            raise error_at("INVALID_FIELD", self.ctx.text, path.pos, BAD_RELATIONSHIP.format(
                name=fd.relationship_name, where="field path"))
        aliased = [(o, self.ctx.alias()) for o in targets]
        sql = "".join(
            f' LEFT JOIN "{o.name}" {a} ON {a}."Id" = {table}."{fd.name}"'
            f"{self.ctx.not_deleted(a)}" for o, a in aliased
        )
        if len(fd.reference_to) == 1:
            obj, alias = aliased[0]
            join = Join(key, fd.relationship_name or "", obj, aliased, f'{alias}."Id"', None, sql)
        else:
            ids = ", ".join(f'{a}."Id"' for _, a in aliased)
            cases = " ".join(f"WHEN {a}.\"Id\" IS NOT NULL THEN '{o.name}'" for o, a in aliased)
            join = Join(key, fd.relationship_name or "", None, aliased,
                        f"COALESCE({ids}, NULL)", f"CASE {cases} END", sql)
        self.joins[key] = join
        return join

    def _polymorphic_field(self, chain: list[Join], last: str, path: ast.Path) -> Column:
        join = chain[-1]
        if last.lower() == "type":
            return Column(join.type_sql or "NULL", _POLY_TYPE, chain, path)
        fields = [o.field(last) for o, _ in join.targets]
        if any(f is None for f in fields):
            raise error_at("INVALID_FIELD", self.ctx.text, path.pos,
                           NO_SUCH_COLUMN.format(field=last, entity="Name"))
        if fields[0].name == "Id":  # type: ignore[union-attr]
            return Column(join.id_sql, fields[0], chain, path)  # type: ignore[arg-type]
        cols = ", ".join(f'{a}."{f.name}"' for (_, a), f in zip(join.targets, fields, strict=True)
                         if f is not None)
        return Column(f"COALESCE({cols}, NULL)", fields[0], chain, path)  # type: ignore[arg-type]
