"""WHERE / HAVING conditions → SQL with bound parameters, with Salesforce's type checks.

SOQL treats null as a value: ``Field != 'x'`` and ``NOT (...)`` include rows where the field is
null, so negations are written two-valued (``IS NULL OR ...``, ``(...) IS NOT 1``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from smvue_demo_org.ids import is_valid_id, to_18
from smvue_demo_org.soql import ast
from smvue_demo_org.soql.dates import datetime_text, day_bound, relative_range, valid_date
from smvue_demo_org.soql.errors import BAD_TYPE, error_at, malformed
from smvue_demo_org.soql.scope import Scope

STRINGY = {"string", "textarea", "picklist", "combobox", "email", "phone", "url",
           "multipicklist"}
NUMERIC = {"int", "double", "currency", "percent"}
_TYPE_NAMES = {"int": "integer", "double": "double", "currency": "double", "percent": "double",
               "date": "date", "datetime": "dateTime", "boolean": "boolean"}
FILTER_OP = "INVALID_QUERY_FILTER_OPERATOR"

# (sql, describe type, field name) of a WHERE/HAVING operand
Operand = tuple[str, str, str]


def category(ftype: str) -> str:
    if ftype in STRINGY:
        return "string"
    if ftype in ("id", "reference"):
        return "id"
    if ftype in NUMERIC:
        return "number"
    return ftype  # boolean date datetime


class FilterCompiler:
    def __init__(self, scope: Scope,
                 operand: Callable[[ast.Path | ast.Aggregate], Operand]) -> None:
        self.scope = scope
        self.ctx = scope.ctx
        self.operand = operand

    def compile(self, cond: ast.Condition, params: list[Any]) -> str:
        if isinstance(cond, ast.BoolOp):
            return "(" + f" {cond.op} ".join(self.compile(p, params) for p in cond.parts) + ")"
        if isinstance(cond, ast.Not):
            return f"(({self.compile(cond.part, params)}) IS NOT 1)"
        if isinstance(cond, ast.Compare):
            return self.compare(self.operand(cond.left), cond.op, cond.value, params)
        if isinstance(cond, ast.InList):
            return self.in_list(self.operand(cond.left), cond, params)
        return self.semi_join(cond, params)

    # --- leaves ------------------------------------------------------------------------------

    def compare(self, operand: Operand, op: str, lit: ast.Literal, params: list[Any]) -> str:
        col, ftype, name = operand
        kind = category(ftype)
        text = self.ctx.text
        if lit.kind == "null":
            if op in ("=", "!="):
                return f"{col} IS {'NOT ' if op == '!=' else ''}NULL"
            raise error_at(FILTER_OP, text, lit.pos, f"invalid operator on null value: {op}")
        if op == "LIKE":
            if kind not in ("string", "id"):
                raise error_at(FILTER_OP, text, lit.pos,
                               f"invalid operator on {_TYPE_NAMES.get(ftype, ftype)} field: "
                               f"LIKE on field '{name}'")
            params.append(self.coerce(kind, ftype, name, lit, like=True))
            return f"{col} LIKE ? ESCAPE '\\'"
        if kind == "boolean" and op not in ("=", "!="):
            raise error_at(FILTER_OP, text, lit.pos, f"invalid operator on boolean field: {op}")
        if lit.kind == "relative":
            return self.relative(col, kind, name, op, lit, params)
        params.append(self.coerce(kind, ftype, name, lit))
        collate = " COLLATE NOCASE" if kind == "string" else ""
        if op == "!=":
            return f"({col} IS NULL OR {col} != ?{collate})"
        return f"{col} {op} ?{collate}"

    def relative(self, col: str, kind: str, name: str, op: str, lit: ast.Literal,
                 params: list[Any]) -> str:
        if kind not in ("date", "datetime"):
            raise self.type_error(kind, name, lit)
        word, n = lit.value  # type: ignore[misc]
        try:
            start, end = relative_range(word, n, self.ctx.today)
        except ValueError:
            raise malformed(self.ctx.text, lit.pos, f"Invalid date literal: {word}:{n}") from None
        lo, hi = day_bound(start, kind == "datetime"), day_bound(end, kind == "datetime")
        if op == "=":
            params += [lo, hi]
            return f"({col} >= ? AND {col} < ?)"
        if op == "!=":
            params += [lo, hi]
            return f"({col} IS NULL OR {col} < ? OR {col} >= ?)"
        bound = {"<": lo, "<=": hi, ">": hi, ">=": lo}[op]
        params.append(bound)
        return f"{col} {'<' if op in ('<', '<=') else '>='} ?"

    def coerce(self, kind: str, ftype: str, name: str, lit: ast.Literal,
               like: bool = False) -> Any:
        text = self.ctx.text
        value = lit.value
        if kind == "string" or (kind == "id" and like):
            if lit.kind != "string":
                raise self.type_error(kind, name, lit)
            return value
        if kind == "id":
            if lit.kind != "string":
                raise self.type_error("string", name, lit)
            if value == "":
                return ""
            if not isinstance(value, str) or not is_valid_id(value):
                raise error_at(FILTER_OP, text, lit.pos, f"invalid ID field: {str(value)[:40]}")
            return to_18(value[:15])
        if kind == "number" and lit.kind == "number":
            return value
        if kind == "boolean" and lit.kind == "boolean":
            return int(bool(value))
        if kind == "date" and lit.kind == "date" and valid_date(str(value)):
            return value
        if kind == "datetime" and lit.kind == "datetime":
            try:
                return datetime_text(str(value))
            except (ValueError, OverflowError):
                raise malformed(text, lit.pos, f"Invalid datetime: {value}") from None
        if lit.kind == "date" and kind == "date":
            raise malformed(text, lit.pos, f"Invalid date: {value}")
        raise self.type_error(kind, name, lit)

    def type_error(self, kind: str, name: str, lit: ast.Literal) -> Exception:
        if kind in ("string", "id"):
            detail = "string and should be enclosed in quotes"
        else:
            detail = f"{_TYPE_NAMES.get(kind, kind)} and should not be enclosed in quotes"
        if kind == "number":
            detail = "double and should not be enclosed in quotes"
        return error_at(FILTER_OP, self.ctx.text, lit.pos,
                        f"value of filter criterion for field '{name}' must be of type {detail}")

    def in_list(self, operand: Operand, cond: ast.InList, params: list[Any]) -> str:
        col, ftype, name = operand
        kind = category(ftype)
        if kind == "boolean":
            raise error_at(FILTER_OP, self.ctx.text, cond.pos, "invalid operator on boolean "
                           "field: IN")
        plain = [v for v in cond.values if v.kind not in ("null", "relative")]
        parts: list[str] = []
        if plain:
            params += [self.coerce(kind, ftype, name, v) for v in plain]
            collate = " COLLATE NOCASE" if kind == "string" else ""
            parts.append(f"{col}{collate} IN ({', '.join('?' * len(plain))})")
        for v in cond.values:
            if v.kind == "null":
                parts.append(f"{col} IS NULL")
            elif v.kind == "relative":
                parts.append(self.relative(col, kind, name, "=", v, params))
        sql = "(" + " OR ".join(parts) + ")"
        return f"({sql} IS NOT 1)" if cond.negated else sql

    def semi_join(self, cond: ast.InSelect, params: list[Any]) -> str:
        col, ftype, _ = self.operand(cond.left)
        text = self.ctx.text
        sub = cond.select
        if category(ftype) != "id":
            raise error_at("INVALID_FIELD", text, cond.left.pos, "Filtering on a semi join "
                           f"requires an Id or reference field, not '{cond.left.text}'")
        obj = self.ctx.catalog.get(sub.sobject)
        if obj is None:
            raise error_at("INVALID_TYPE", text, sub.sobject_pos, BAD_TYPE.format(
                name=sub.sobject))
        if len(sub.items) != 1 or not isinstance(sub.items[0].expr, ast.Path) \
                or sub.group_by or sub.having or sub.order_by or sub.offset is not None \
                or sub.items[0].alias:
            raise malformed(text, sub.items[0].pos, "A semi join subquery must select exactly "
                            "one Id or reference field, with no grouping, ordering or offset")
        inner = Scope(self.ctx, obj, sub.alias)
        inner_col = inner.resolve(sub.items[0].expr)
        if category(inner_col.field.type) != "id":
            raise error_at("INVALID_FIELD", text, sub.items[0].pos, "Semi join subselects can "
                           f"only select Id or reference fields, not '{inner_col.path.text}'")
        conds = [] if self.ctx.include_deleted else [f'{inner.alias}."IsDeleted" = 0']
        inner_params: list[Any] = []
        if sub.where is not None:
            fc = FilterCompiler(inner, lambda e: path_operand(inner, e))
            conds.append(fc.compile(sub.where, inner_params))
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        limit = ""
        if sub.limit is not None:
            limit = " LIMIT ?"
            inner_params.append(sub.limit)
        params += inner_params
        select = (f'SELECT {inner_col.sql} FROM "{obj.name}" {inner.alias}{inner.join_sql()}'
                  f"{where}{limit}")
        if cond.negated:
            return f"({col} IS NULL OR {col} NOT IN ({select}))"
        return f"{col} IN ({select})"


def path_operand(scope: Scope, expr: ast.Path | ast.Aggregate) -> Operand:
    if isinstance(expr, ast.Aggregate):
        raise malformed(scope.ctx.text, expr.pos, "Aggregate functions are not supported here")
    col = scope.resolve(expr)
    if not col.field.stored:  # compound fields: describe says filterable false
        raise error_at("INVALID_FIELD", scope.ctx.text, expr.pos,
                       f"field '{col.field.name}' can not be filtered in query call")
    return col.sql, col.field.type, col.field.name
