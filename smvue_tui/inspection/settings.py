"""``[inspection]`` in config.toml: each risk rule's threshold (0 or false turns a rule off).

    [inspection]
    no_activity_days = 14      # open deal with no activity logged for this many days
    pushed_times = 3           # close date pushed this many times or more
    stage_age_factor = 2.0     # in its stage longer than this × the org's median there
    amount_drop_percent = 10   # amount dropped by at least this share within recent_days
    recent_days = 30           # the window of "amount dropped" and "stage moved back"
    close_date_past = true     # open deal whose close date has passed
    no_primary_contact = true  # no contact role marked primary
    single_threaded = true     # exactly one contact on the deal
    stage_moved_back = true    # stage moved back within recent_days
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any


class SettingsError(ValueError):
    """config.toml's [inspection] holds a value the rules cannot use (the message says which)."""


@dataclass(frozen=True)
class InspectionSettings:
    no_activity_days: int = 14
    pushed_times: int = 3
    stage_age_factor: float = 2.0
    amount_drop_percent: float = 10.0
    recent_days: int = 30
    close_date_past: bool = True
    no_primary_contact: bool = True
    single_threaded: bool = True
    stage_moved_back: bool = True
    # Fewer finished stints in a stage than this: its median says too little to judge by.
    min_stage_samples: int = 5


def inspection_settings(config: dict[str, Any]) -> InspectionSettings:
    """The [inspection] section of a parsed config.toml (defaults for what it leaves out)."""
    section = config.get("inspection", {}) if isinstance(config, dict) else {}
    if not isinstance(section, dict):
        raise SettingsError("[inspection] in config.toml must be a table of settings")
    known = {f.name: f for f in fields(InspectionSettings)}
    unknown = sorted(set(section) - set(known))
    if unknown:
        raise SettingsError(f"[inspection] has unknown setting(s): {', '.join(unknown)} "
                            f"(known: {', '.join(known)})")
    values: dict[str, Any] = {}
    for name, value in section.items():
        kind = known[name].type
        if kind == "bool":
            if not isinstance(value, bool):
                raise SettingsError(f"[inspection] {name} must be true or false, not {value!r}")
        elif (isinstance(value, bool) or not isinstance(value, int | float)
              or not math.isfinite(value) or value < 0):  # TOML has nan and inf
            raise SettingsError(f"[inspection] {name} must be a number of 0 or more "
                                f"(0 turns the rule off), not {value!r}")
        elif kind == "int" and value != int(value):
            raise SettingsError(f"[inspection] {name} must be a whole number, not {value!r}")
        values[name] = int(value) if kind == "int" else value
    return InspectionSettings(**values)
