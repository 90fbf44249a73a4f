"""Latency and faults the demo org can inject, set by ``--fault NAME=VALUE`` or POST /demo/faults.

Names (all optional; 0 means off):
  error_rate=0.05          share of data-API calls answered 500 or 503
  drop_rate=0.05           share of data-API responses cut off mid-body (connection dropped)
  session_expiry_calls=N   every N authenticated calls, all access tokens expire (refresh works)
  query_timeout_rows=N     a query matching more than N rows without LIMIT → QUERY_TIMEOUT
  locator_ttl=SECONDS      an idle query locator expires (Salesforce: about 15 minutes)
  max_locators=N           open query locators per org; opening one more evicts the oldest
  refuse_metadata_deletes=1  Metadata API deletes fail (a leftover after disconnect)
Latency is separate: ``latency_ms`` plus uniform ``jitter_ms`` on every /services call.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, fields

_FLOAT_FAULTS = {"error_rate", "drop_rate", "locator_ttl"}
_INT_FAULTS = {"session_expiry_calls", "query_timeout_rows", "max_locators",
               "refuse_metadata_deletes"}


def name_values(specs: list[str], flag: str) -> Iterator[tuple[str, str]]:
    """``NAME=VALUE`` command-line specs as (name, value); a clear ValueError otherwise."""
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep:
            raise ValueError(f"{flag} wants NAME=VALUE, got {spec!r}")
        yield name.strip(), value.strip()


@dataclass
class Faults:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    session_expiry_calls: int = 0
    query_timeout_rows: int = 0
    locator_ttl: float = 900.0
    max_locators: int = 10
    refuse_metadata_deletes: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False)
    authenticated_calls: int = 0

    def set(self, name: str, value: str | float) -> None:
        """Set one fault by name; a clear ValueError for unknown names or bad values."""
        if name in _FLOAT_FAULTS or name in ("latency_ms", "jitter_ms"):
            number: float = float(value)
        elif name in _INT_FAULTS:
            number = int(value)
        else:
            known = sorted(_FLOAT_FAULTS | _INT_FAULTS | {"latency_ms", "jitter_ms"})
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(known)}")
        if number < 0 or (name in ("error_rate", "drop_rate") and number > 1):
            raise ValueError(f"fault {name} out of range: {value}")
        setattr(self, name, number)

    def set_from_specs(self, specs: list[str]) -> None:
        for name, value in name_values(specs, "--fault"):
            self.set(name, value)

    def snapshot(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("rng",)}

    async def delay(self) -> None:
        if self.latency_ms or self.jitter_ms:
            ms = self.latency_ms + self.rng.uniform(0, self.jitter_ms)
            await asyncio.sleep(ms / 1000)

    def roll_error(self) -> int | None:
        """500 or 503 when this call should fail, else None."""
        if self.error_rate and self.rng.random() < self.error_rate:
            return self.rng.choice((500, 503))
        return None

    def roll_drop(self) -> bool:
        return bool(self.drop_rate) and self.rng.random() < self.drop_rate

    def count_authenticated_call(self) -> bool:
        """Count one call; True when sessions should expire now."""
        self.authenticated_calls += 1
        n = self.session_expiry_calls
        return bool(n) and self.authenticated_calls % n == 0
