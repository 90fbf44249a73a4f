"""Recursive-descent SOQL parser: text → ``ast.Select`` or a MALFORMED_QUERY SoqlError."""

from __future__ import annotations

from smvue_demo_org.soql import ast
from smvue_demo_org.soql.dates import RELATIVE_N, RELATIVE_PLAIN
from smvue_demo_org.soql.errors import error_at, malformed, unexpected
from smvue_demo_org.soql.lexer import Token, tokenize, unescape

AGGREGATES = {"COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX"}
KEYWORDS = {
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "GROUP", "BY", "HAVING",
    "ORDER", "ASC", "DESC", "NULLS", "LIMIT", "OFFSET", "TRUE", "FALSE", "NULL", "WITH", "FOR",
    "USING", "TYPEOF", "INCLUDES", "EXCLUDES", "ROLLUP", "CUBE", "ALL", "UPDATE", "VIEW",
}
# Real SOQL the demo org does not implement: rejected clearly instead of half-supported.
UNSUPPORTED = {"TYPEOF", "WITH", "USING", "FOR", "ALL", "INCLUDES", "EXCLUDES", "ROLLUP",
               "CUBE"}
COMPARISONS = {"=", "!=", "<>", "<", "<=", ">", ">="}
MAX_NESTING = 40
MAX_INTEGER = 2**31 - 1


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = tokenize(text)
        self.i = 0
        self.depth = 0

    # --- token helpers -----------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.toks[min(self.i + ahead, len(self.toks) - 1)]

    def advance(self) -> Token:
        tok = self.toks[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def at(self, *words: str) -> bool:
        return self.tok.kind == "name" and self.tok.upper in words

    def at_op(self, op: str) -> bool:
        return self.tok.kind == "op" and self.tok.text == op

    def fail(self, tok: Token | None = None) -> Exception:
        tok = tok or self.tok
        if tok.kind == "name" and tok.upper in UNSUPPORTED:
            return malformed(self.text, tok.pos, f"{tok.upper} is not supported by this org")
        return unexpected(self.text, tok.pos, tok.text if tok.kind != "string"
                          else f"'{tok.text}'")

    def expect(self, word: str) -> Token:
        if not self.at(word):
            raise self.fail()
        return self.advance()

    def expect_op(self, op: str) -> Token:
        if not self.at_op(op):
            raise self.fail()
        return self.advance()

    def name(self) -> Token:
        if self.tok.kind != "name" or self.tok.upper in KEYWORDS:
            raise self.fail()
        return self.advance()

    def integer(self) -> int:
        tok = self.tok
        if tok.kind != "number" or not tok.text.lstrip("+").isdigit():
            raise self.fail()
        self.advance()
        value = int(tok.text)
        if value > MAX_INTEGER:
            raise malformed(self.text, tok.pos, f"Number out of range: {tok.text[:20]}")
        return value

    # --- statements --------------------------------------------------------------------------

    def parse(self) -> ast.Select:
        query = self.select(nested=False)
        if self.tok.kind != "eof":
            raise self.fail()
        return query

    def select(self, *, nested: bool) -> ast.Select:
        self.expect("SELECT")
        items = self.select_list(nested)
        self.expect("FROM")
        obj = self.tok
        if obj.kind != "name" or obj.upper in KEYWORDS:
            raise self.fail()
        self.advance()
        q = ast.Select(items, obj.text, obj.pos)
        q.count_only = any(isinstance(it.expr, ast.Aggregate) and it.expr.arg is None
                           for it in items)
        if self.tok.kind == "name" and self.tok.upper not in KEYWORDS:
            q.alias = self.advance().text
        if self.at("WHERE"):
            self.advance()
            q.where = self.condition(allow_aggregates=False)
        if self.at("GROUP"):
            self.advance()
            self.expect("BY")
            q.group_by.append(self.path())
            while self.at_op(","):
                self.advance()
                q.group_by.append(self.path())
        if self.at("HAVING"):
            self.advance()
            q.having = self.condition(allow_aggregates=True)
        if self.at("ORDER"):
            self.advance()
            self.expect("BY")
            q.order_by.append(self.order_item())
            while self.at_op(","):
                self.advance()
                q.order_by.append(self.order_item())
        if self.at("LIMIT"):
            self.advance()
            q.limit = self.integer()
        if self.at("OFFSET"):
            q.offset_pos = self.advance().pos
            q.offset = self.integer()
        return q

    def select_list(self, nested: bool) -> list[ast.SelectItem]:
        items = [self.select_item(nested)]
        while self.at_op(","):
            self.advance()
            items.append(self.select_item(nested))
        counts = [it for it in items if isinstance(it.expr, ast.Aggregate) and it.expr.arg is None]
        if counts and len(items) > 1:
            raise malformed(self.text, counts[0].pos,
                            "COUNT() must be the only element in the SELECT list.")
        return items

    def select_item(self, nested: bool) -> ast.SelectItem:
        start = self.tok
        if self.at_op("("):
            if nested:
                raise self.fail()
            self.advance()
            self.depth += 1
            sub = self.select(nested=True)
            self.depth -= 1
            self.expect_op(")")
            return ast.SelectItem(sub, None, start.pos)
        expr: ast.Path | ast.Aggregate = self.field_expr(allow_aggregates=True, count_empty=True)
        alias = None
        if self.tok.kind == "name" and self.tok.upper not in KEYWORDS:
            alias = self.advance().text
        return ast.SelectItem(expr, alias, start.pos)

    # --- expressions -------------------------------------------------------------------------

    def path(self) -> ast.Path:
        tok = self.tok
        if tok.kind != "name" or tok.upper in KEYWORDS:
            raise self.fail()
        if self.peek().kind == "op" and self.peek().text == "(":
            raise malformed(self.text, tok.pos, f"{tok.text}() is not supported by this org")
        self.advance()
        return ast.Path(tuple(tok.text.split(".")), tok.pos)

    def field_expr(self, *, allow_aggregates: bool,
                   count_empty: bool = False) -> ast.Path | ast.Aggregate:
        tok = self.tok
        nxt = self.peek()
        if tok.kind == "name" and tok.upper in AGGREGATES and nxt.kind == "op" \
                and nxt.text == "(":
            if not allow_aggregates:
                raise malformed(self.text, tok.pos,
                                "Aggregate functions are not supported in the WHERE clause")
            self.advance()
            self.advance()
            if tok.upper == "COUNT" and self.at_op(")") and count_empty:
                self.advance()
                return ast.Aggregate("COUNT", None, tok.pos)
            arg = self.path()
            self.expect_op(")")
            return ast.Aggregate(tok.upper, arg, tok.pos)
        return self.path()

    def order_item(self) -> ast.OrderItem:
        expr = self.field_expr(allow_aggregates=True)
        desc = False
        if self.at("ASC", "DESC"):
            desc = self.advance().upper == "DESC"
        nulls_first = not desc
        if self.at("NULLS"):
            self.advance()
            if not self.at("FIRST", "LAST"):
                raise self.fail()
            nulls_first = self.advance().upper == "FIRST"
        return ast.OrderItem(expr, desc, nulls_first)

    # --- conditions --------------------------------------------------------------------------

    def condition(self, *, allow_aggregates: bool) -> ast.Condition:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise malformed(self.text, self.tok.pos, "Query is nested too deeply")
        parts = [self.unary(allow_aggregates)]
        op = None
        while self.at("AND", "OR"):
            if op is not None and self.tok.upper != op:
                raise self.fail()  # SOQL needs parentheses to mix AND and OR
            op = self.advance().upper
            parts.append(self.unary(allow_aggregates))
        self.depth -= 1
        return parts[0] if op is None else ast.BoolOp(op, parts)

    def unary(self, allow_aggregates: bool) -> ast.Condition:
        if self.at("NOT"):
            self.advance()
            return ast.Not(self.unary(allow_aggregates))
        if self.at_op("("):
            self.advance()
            cond = self.condition(allow_aggregates=allow_aggregates)
            self.expect_op(")")
            return cond
        return self.simple(allow_aggregates)

    def simple(self, allow_aggregates: bool) -> ast.Condition:
        left = self.field_expr(allow_aggregates=allow_aggregates)
        tok = self.tok
        if tok.kind == "op" and tok.text in COMPARISONS:
            self.advance()
            op = "!=" if tok.text == "<>" else tok.text
            return ast.Compare(left, op, self.literal(), tok.pos)
        if self.at("LIKE"):
            self.advance()
            return ast.Compare(left, "LIKE", self.literal(like=True), tok.pos)
        negated = False
        if self.at("NOT"):
            self.advance()
            negated = True
            if not self.at("IN"):
                raise self.fail()
        if self.at("IN"):
            self.advance()
            self.expect_op("(")
            if self.at("SELECT"):
                if not isinstance(left, ast.Path):
                    raise self.fail()
                self.depth += 1
                sub = self.select(nested=True)
                self.depth -= 1
                self.expect_op(")")
                return ast.InSelect(left, negated, sub, tok.pos)
            values = [self.literal()]
            while self.at_op(","):
                self.advance()
                values.append(self.literal())
            self.expect_op(")")
            return ast.InList(left, negated, values, tok.pos)
        raise self.fail()

    def literal(self, *, like: bool = False) -> ast.Literal:
        tok = self.tok
        if tok.kind == "string":
            self.advance()
            return ast.Literal("string", unescape(tok.text, self.text, tok.pos, like=like),
                               tok.pos)
        if tok.kind == "number":
            self.advance()
            text = tok.text
            value: int | float = float(text) if "." in text else int(text)
            if isinstance(value, int) and abs(value) >= 2**63:
                value = float(value)
            return ast.Literal("number", value, tok.pos)
        if tok.kind in ("date", "datetime"):
            self.advance()
            return ast.Literal(tok.kind, tok.text, tok.pos)
        if tok.kind == "name":
            word = tok.upper
            if word in ("TRUE", "FALSE"):
                self.advance()
                return ast.Literal("boolean", word == "TRUE", tok.pos)
            if word == "NULL":
                self.advance()
                return ast.Literal("null", None, tok.pos)
            if word in RELATIVE_PLAIN:
                self.advance()
                return ast.Literal("relative", (word, None), tok.pos)
            if word in RELATIVE_N:
                self.advance()
                self.expect_op(":")
                if self.tok.kind != "number" or not self.tok.text.isdigit():
                    raise error_at("MALFORMED_QUERY", self.text, self.tok.pos,
                                   f"Invalid date literal: {word}, expected an integer after "
                                   "the colon")
                n = int(self.advance().text)
                if n > 100_000:
                    raise malformed(self.text, tok.pos, f"{word}:{n} is out of range")
                return ast.Literal("relative", (word, n), tok.pos)
        raise self.fail()


def parse(text: str) -> ast.Select:
    return Parser(text).parse()
