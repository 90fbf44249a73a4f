"""The Connect screen's words, as Rich markup built from plain data (no widgets here)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from smvue_tui.services.connection import (
    AUTOMATION_LINES,
    AUTOMATION_TITLE,
    PERMISSIONS,
    READ_ONLY_NOTE,
    REQUIREMENTS,
)
from smvue_tui.tui.widgets.hanging import bullets, marked, titled

STATUS_MARKS = {"ok": "[green]✓[/]", "warn": "[yellow]![/]", "fail": "[red]✗[/]"}
INTRO = ("Connect SMVue to Salesforce to pull your opportunities, accounts, and activity into "
         "one place so you can work the team from a single view.")


def requirements() -> Group:
    return titled("Before connecting:", bullets(escape(r) for r in REQUIREMENTS))


def permissions_columns() -> tuple[Group, Group]:
    """The product page's "What SMVue Accesses", in two columns (the automation on the right)."""
    blocks = []
    for name, required, lines in PERMISSIONS:
        tag = "Required" if required else "Optional"
        blocks.append(titled(f"[b]{name}[/b] [dim]({tag})[/dim]",
                             bullets(escape(line) for line in lines)))
    automation = titled(f"[b]{escape(AUTOMATION_TITLE)}[/b]",
                        bullets(escape(line) for line in AUTOMATION_LINES))
    gap = Text("")
    left = Group(*[part for block in blocks[:3] for part in (block, gap)][:-1])
    right = Group(*[part for block in [*blocks[3:], automation] for part in (block, gap)][:-1])
    return left, right


def read_only_note() -> str:
    return f"[b]Important:[/b] {escape(READ_ONLY_NOTE)}"


def preflight_text(report: Any, extra: str = "") -> Table:
    """One row per check with its mark (wrapping under its text); the remedy under anything not
    ok; ``extra``: a "• …" line of how updates arrive."""
    rows: list[tuple[str, str]] = []
    for line in report.lines:
        mark = STATUS_MARKS.get(line.status, "•")
        body = f"[b]{escape(line.name)}[/b]: {escape(line.message)}"
        if line.remedy and line.status != "ok":
            body += f"\n[dim]What to do:[/dim] {escape(line.remedy)}"
        rows.append((mark, body))
    if extra:
        rows.append(("•", escape(extra.removeprefix("• "))))
    return marked(rows)


def org_heading(report: Any) -> str:
    name = report.org_name or "your org"
    kind = "Sandbox" if report.is_sandbox else "Production" if report.is_sandbox is False else ""
    if kind and kind.lower() in name.lower():
        kind = ""  # "Demo Org 1 (Sandbox)" says so already
    extra = ", ".join(x for x in (report.edition or "", kind) if x)
    return f"{name} ({extra})" if extra else name


def error_text(error: Any) -> str:
    """A typed error as the user sees it: message, what Salesforce said, what to do."""
    lines = [f"[b red]{escape(error.user_message)}[/]"]
    said = " ".join(x for x in (error.detail, f"[{error.code}]" if error.code else "") if x)
    if said:
        lines.append(f"Salesforce said: {escape(said)}")
    lines.append(f"What to do: {escape(error.remedy)}")
    return "\n\n".join(lines)
