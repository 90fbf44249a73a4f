"""A parsed query + the visible catalog → SQL statements and record builders (a ``Plan``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from smvue_demo_org.schema import ObjectDef
from smvue_demo_org.soql import ast
from smvue_demo_org.soql.errors import BAD_RELATIONSHIP, BAD_TYPE, error_at, malformed
from smvue_demo_org.soql.filters import FilterCompiler, Operand, category, path_operand
from smvue_demo_org.soql.scope import Column, Context, Scope
from smvue_demo_org.soql.shape import Child, Leaf, Node, aggregate_builder, converter

MAX_OFFSET = 2000
Builder = Callable[[tuple[Any, ...], list[dict[str, Any]]], Any]


class Columns:
    """The SELECT list of one statement; equal expressions share one column."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self._index: dict[str, int] = {}

    def add(self, sql: str) -> int:
        if sql not in self._index:
            self._index[sql] = len(self.sql)
            self.sql.append(sql)
        return self._index[sql]


@dataclass
class ChildPlan:
    """A child subquery, run once per chunk of parent rows."""

    head: str  # ... WHERE fk IN (
    tail: str  # ) AND ... ORDER BY ...
    params: list[Any]
    build: Builder
    limit: int | None
    offset: int

    def fetch(self, conn: sqlite3.Connection, parent_ids: list[str]) -> dict[str, Any]:
        sql = self.head + ", ".join("?" * len(parent_ids)) + self.tail
        groups: dict[str, list[tuple[Any, ...]]] = {}
        for row in conn.execute(sql, [*parent_ids, *self.params]):
            groups.setdefault(row[0], []).append(row)
        out: dict[str, Any] = {}
        end = None if self.limit is None else self.offset + self.limit
        for parent_id, rows in groups.items():
            records = [self.build(r, []) for r in rows[self.offset : end]]
            if records:
                out[parent_id] = {"totalSize": len(records), "done": True, "records": records}
        return out


@dataclass
class Plan:
    sobject: str
    is_count: bool
    sql: str
    params: list[Any]
    count_sql: str
    count_params: list[Any]
    build: Builder | None = None
    children: list[ChildPlan] = field(default_factory=list)


def _object(ctx: Context, name: str, pos: int) -> ObjectDef:
    obj = ctx.catalog.get(name)
    if obj is None:
        raise error_at("INVALID_TYPE", ctx.text, pos, BAD_TYPE.format(name=name))
    return obj


def _aggregate(scope: Scope, agg: ast.Aggregate) -> tuple[str, str]:
    """SQL and result type of COUNT(x) COUNT_DISTINCT(x) SUM AVG MIN MAX."""
    assert agg.arg is not None
    col = scope.resolve(agg.arg)
    kind = category(col.field.type)
    if agg.func == "COUNT":
        return f"COUNT({col.sql})", "int"
    if agg.func == "COUNT_DISTINCT":
        return f"COUNT(DISTINCT {col.sql})", "int"
    if (agg.func in ("SUM", "AVG") and kind != "number") or kind == "boolean" \
            or col.field.type == "textarea":
        raise malformed(scope.ctx.text, agg.arg.pos, f"field {col.field.name} does not support "
                        f"aggregate operator {agg.func}")
    return f"{agg.func}({col.sql})", "double" if agg.func == "AVG" else col.field.type


def _grouped(scope: Scope, group: list[Column], path: ast.Path, what: str) -> Column:
    col = scope.resolve(path)
    if col.sql not in {g.sql for g in group}:
        raise malformed(scope.ctx.text, path.pos, f"{what} must be grouped or aggregated: "
                        f"{path.text}")
    return col


def _plain(scope: Scope, col: Column, path: ast.Path, verb: str) -> Column:
    """``col``, unless it is a compound field (describe: not sortable, not groupable)."""
    if not col.field.stored:  # the wording follows the filter refusal [unverified]
        raise error_at("INVALID_FIELD", scope.ctx.text, path.pos,
                       f"field '{col.field.name}' can not be {verb}")
    return col


def _order_by(scope: Scope, items: list[ast.OrderItem], group: list[Column] | None) -> str:
    parts = []
    for item in items:
        if isinstance(item.expr, ast.Aggregate):
            if group is None:
                raise malformed(scope.ctx.text, item.expr.pos, "Aggregate functions can only "
                                "be ordered by in aggregate queries")
            sql, ftype = _aggregate(scope, item.expr)
        else:
            col = (scope.resolve(item.expr) if group is None
                   else _grouped(scope, group, item.expr, "Ordered field"))
            _plain(scope, col, item.expr, "sorted")
            sql, ftype = col.sql, col.field.type
        collate = " COLLATE NOCASE" if category(ftype) == "string" else ""
        parts.append(f"{sql}{collate} {'DESC' if item.descending else 'ASC'} "
                     f"NULLS {'FIRST' if item.nulls_first else 'LAST'}")
    return f" ORDER BY {', '.join(parts)}" if parts else ""


def _where(scope: Scope, cond: ast.Condition | None, params: list[Any]) -> list[str]:
    conds = [] if scope.ctx.include_deleted else [f'{scope.alias}."IsDeleted" = 0']
    if cond is not None:
        fc = FilterCompiler(scope, lambda e: path_operand(scope, e))
        conds.append(fc.compile(cond, params))
    return conds


def _add_fields(scope: Scope, root: Node, items: Iterable[ast.SelectItem], columns: Columns,
                children: Callable[[ast.SelectItem], None] | None = None) -> None:
    """Select-list paths into the record tree; parents nest where first mentioned."""
    nodes: dict[tuple[str, ...], Node] = {}
    seen: set[tuple[str, ...]] = set()
    for item in items:
        if isinstance(item.expr, ast.Select):
            assert children is not None
            children(item)
            continue
        if item.alias:
            raise malformed(scope.ctx.text, item.pos, "Only aggregate expressions use field "
                            "aliasing")
        assert isinstance(item.expr, ast.Path)
        col = scope.resolve(item.expr)
        key = (*(col.chain[-1].key if col.chain else ()), col.name.lower())
        if key in seen:
            raise malformed(scope.ctx.text, item.pos, f"duplicate field selected: "
                            f"{item.expr.text}")
        seen.add(key)
        node = root
        for join in col.chain:
            if join.key not in nodes:
                child = Node(join.obj.name if join.obj else None, columns.add(join.id_sql),
                             columns.add(join.type_sql) if join.type_sql else None)
                node.entries.append((join.rel_name, child))
                nodes[join.key] = child
            node = nodes[join.key]
        node.entries.append((col.name, Leaf(columns.add(col.sql), converter(col.field.type))))


def _child_plan(ctx: Context, parent: ObjectDef, sub: ast.Select, base_url: str) -> tuple[
        str, ChildPlan]:
    rel = parent.child_relationship(sub.sobject)
    obj = ctx.catalog.get(rel.child_sobject) if rel else None
    fk = obj.field(rel.field) if obj and rel else None
    if rel is None or obj is None or fk is None:
        raise error_at("INVALID_TYPE", ctx.text, sub.sobject_pos, BAD_RELATIONSHIP.format(
            name=sub.sobject, where="FROM part of query call"))
    if sub.group_by or sub.having or any(isinstance(i.expr, ast.Aggregate) for i in sub.items):
        raise malformed(ctx.text, sub.items[0].pos, "Aggregate queries are not supported in "
                        "child relationship subqueries")
    scope = Scope(ctx, obj, sub.alias)
    columns = Columns()
    columns.add(f'{scope.alias}."{fk.name}"')
    root = Node(obj.name, columns.add(f'{scope.alias}."Id"'))
    params: list[Any] = []
    conds = _where(scope, sub.where, params)
    _add_fields(scope, root, sub.items, columns)
    order = _order_by(scope, sub.order_by, None)
    head = (f'SELECT {", ".join(columns.sql)} FROM "{obj.name}" {scope.alias}'
            f'{scope.join_sql()} WHERE {scope.alias}."{fk.name}" IN (')
    tail = ")" + "".join(f" AND {c}" for c in conds) + order
    return rel.relationship_name, ChildPlan(head, tail, params, root.builder(base_url),
                                            sub.limit, sub.offset or 0)


def compile_query(q: ast.Select, ctx: Context) -> Plan:
    obj = _object(ctx, q.sobject, q.sobject_pos)
    if q.offset is not None and q.offset > MAX_OFFSET:
        raise error_at("NUMBER_OUTSIDE_VALID_RANGE", ctx.text, q.offset_pos,
                       f"Maximum SOQL offset allowed is {MAX_OFFSET}")
    scope = Scope(ctx, obj, q.alias)
    params: list[Any] = []
    conds = _where(scope, q.where, params)
    group = [_plain(scope, scope.resolve(p), p, "grouped") for p in q.group_by]
    aggregate = bool(group) or any(
        isinstance(i.expr, ast.Aggregate) and i.expr.arg is not None for i in q.items)
    having = ""
    if q.having is not None:
        if not aggregate:
            raise malformed(ctx.text, q.sobject_pos, "HAVING requires GROUP BY or aggregates")

        def operand(e: ast.Path | ast.Aggregate) -> Operand:
            if isinstance(e, ast.Aggregate):
                return (*_aggregate(scope, e), e.func)
            col = _grouped(scope, group, e, "Field")
            return col.sql, col.field.type, col.field.name

        having = " HAVING " + FilterCompiler(scope, operand).compile(q.having, params)
    where = f" WHERE {' AND '.join(conds)}" if conds else ""
    grouping = ", ".join(  # Salesforce groups text case-insensitively
        c.sql + (" COLLATE NOCASE" if category(c.field.type) == "string" else "") for c in group)
    grouping = f" GROUP BY {grouping}" if group else ""
    window, window_params = "", []
    if q.limit is not None or q.offset:
        window = " LIMIT ? OFFSET ?"
        window_params = [-1 if q.limit is None else q.limit, q.offset or 0]
    filtered = f'FROM "{obj.name}" {scope.alias}{scope.join_sql(set(scope.touched))}{where}'
    if aggregate or window:
        one = "COUNT(*)" if aggregate and not group else "1"  # no GROUP BY: a single row
        count_sql = f"SELECT COUNT(*) FROM (SELECT {one} {filtered}{grouping}{having}{window})"
    else:
        count_sql = f"SELECT COUNT(*) {filtered}"
    count_params = params + window_params

    base_url = f"/services/data/v{ctx.api_version}/sobjects/"
    columns = Columns()
    plan = Plan(obj.name, q.count_only, "", [], count_sql, count_params)
    if q.count_only:
        _order_by(scope, q.order_by, group if aggregate else None)  # validated, not needed
        return plan
    if aggregate:
        plan.build = _aggregate_items(scope, q.items, group, columns)
    else:
        root = Node(obj.name, columns.add(f'{scope.alias}."Id"'))

        def child(item: ast.SelectItem) -> None:
            assert isinstance(item.expr, ast.Select)
            name, child_plan = _child_plan(ctx, obj, item.expr, base_url)
            root.entries.append((name, Child(len(plan.children))))
            plan.children.append(child_plan)

        _add_fields(scope, root, q.items, columns, child)
        plan.build = root.builder(base_url)
    order = _order_by(scope, q.order_by, group if aggregate else None)
    plan.sql = (f'SELECT {", ".join(columns.sql)} FROM "{obj.name}" {scope.alias}'
                f"{scope.join_sql()}{where}{grouping}{having}{order}{window}")
    plan.params = params + window_params
    return plan


def _aggregate_items(scope: Scope, items: list[ast.SelectItem], group: list[Column],
                     columns: Columns) -> Builder:
    entries: list[tuple[str, Leaf]] = []
    keys: set[str] = set()
    unnamed = 0
    for item in items:
        if isinstance(item.expr, ast.Select):
            raise malformed(scope.ctx.text, item.pos, "Nested queries are not supported in "
                            "aggregate queries")
        if isinstance(item.expr, ast.Aggregate):
            sql, ftype = _aggregate(scope, item.expr)
            key = item.alias
            if key is None:
                key = f"expr{unnamed}"
                unnamed += 1
        else:
            col = _grouped(scope, group, item.expr, "Field")
            sql, ftype, key = col.sql, col.field.type, item.alias or col.name
        if key.lower() in keys:
            raise malformed(scope.ctx.text, item.pos, f"duplicate alias: {key}")
        keys.add(key.lower())
        entries.append((key, Leaf(columns.add(sql), converter(ftype))))
    return aggregate_builder(entries)
