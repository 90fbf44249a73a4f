"""The Connect screen's words, as Rich markup built from plain data (no widgets here)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape

from smvue_tui.services.connection import (
    AUTOMATION_LINES,
    AUTOMATION_TITLE,
    PERMISSIONS,
    READ_ONLY_NOTE,
    REQUIREMENTS,
)

STATUS_MARKS = {"ok": "[green]✓[/]", "warn": "[yellow]![/]", "fail": "[red]✗[/]"}
INTRO = ("Connect SMVue to Salesforce to pull your opportunities, accounts, and activity into "
         "one place so you can work the team from a single view.")


def requirements() -> str:
    return "Before connecting:\n" + "\n".join(f"  • {escape(r)}" for r in REQUIREMENTS)


def permissions_columns() -> tuple[str, str]:
    """The product page's "What SMVue Accesses", in two columns (the automation on the right)."""
    blocks = []
    for name, required, lines in PERMISSIONS:
        tag = "Required" if required else "Optional"
        body = "\n".join(f"  • {escape(line)}" for line in lines)
        blocks.append(f"[b]{name}[/b] [dim]({tag})[/dim]\n{body}")
    left = "\n\n".join(blocks[:3])
    automation = "\n".join(f"  • {escape(line)}" for line in AUTOMATION_LINES)
    right = "\n\n".join(blocks[3:]) + (
        f"\n\n[b]{escape(AUTOMATION_TITLE)}[/b]\n{automation}")
    return left, right


def read_only_note() -> str:
    return f"[b]Important:[/b] {escape(READ_ONLY_NOTE)}"


def preflight_text(report: Any) -> str:
    """One line per check with its mark; the remedy under anything not ok."""
    lines = []
    for line in report.lines:
        mark = STATUS_MARKS.get(line.status, "•")
        lines.append(f"{mark} [b]{escape(line.name)}[/b]: {escape(line.message)}")
        if line.remedy and line.status != "ok":
            lines.append(f"    [dim]What to do:[/dim] {escape(line.remedy)}")
    return "\n".join(lines)


def org_heading(report: Any) -> str:
    name = report.org_name or "your org"
    kind = "Sandbox" if report.is_sandbox else "Production" if report.is_sandbox is False else ""
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
