"""Which live mode runs and why, kept in a small file so ``smvue-tui status`` (another process)
and the Integrations card can say it: ``live.json`` beside the store, replaced atomically."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from smvue_tui.config import Paths

LIVE_FILE = "live.json"


def live_path(paths: Paths) -> Path:
    return paths.store_dir / LIVE_FILE  # per org, beside its store


def write_json(target: Path, data: dict[str, Any]) -> None:
    """Replace ``target`` with ``data`` atomically: a reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data) + "\n")
    os.replace(tmp, target)


def save_live_state(paths: Paths, mode: str, reason: str, *, state: str = "",
                    stats: dict[str, int] | None = None) -> None:
    data = {"mode": mode, "reason": reason, "state": state, "stats": stats or {},
            "updated_at": datetime.now(UTC).isoformat()}
    write_json(live_path(paths), data)


def load_live_state(paths: Paths) -> dict[str, Any] | None:
    try:
        data = json.loads(live_path(paths).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("mode"), str):
        return None
    stats = data.get("stats") if isinstance(data.get("stats"), dict) else {}
    return {"mode": data["mode"], "reason": str(data.get("reason") or ""),
            "state": str(data.get("state") or ""), "stats": stats,
            "updated_at": str(data.get("updated_at") or "")}


def describe_live(state: dict[str, Any] | None) -> str:
    """One line: "Change Data Capture — CDC is on for Opportunity; 12 events received"."""
    if state is None:
        return "not started yet (chosen when the app or `smvue-tui serve` runs)"
    stats = state["stats"]
    spent = (f"; {stats['events']:,} change events received" if "events" in stats else
             f"; {stats['calls_today']:,} polling calls today" if "calls_today" in stats else "")
    now = f" ({state['state']})" if state["state"] else ""
    return f"{state['mode']}{now} — {state['reason']}{spent}"
