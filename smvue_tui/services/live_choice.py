"""Which live mode to run: the best the org allows, unless ``[live] mode`` in config.toml says.

In order: Change Data Capture (the org has CDC on for Opportunity and the Pub/Sub API answers),
then Outbound Messages (a public webhook URL is set, or a demo org that can call us on
loopback), then budgeted polling. The choice and its reason are saved (``sync/live_state.py``)
for the Integrations card and ``smvue-tui status``, and refreshed while the mode runs.

    [live]
    mode = "auto"                 # auto | cdc | outbound | polling
    pubsub_endpoint = "api.pubsub.salesforce.com:7443"   # where the Pub/Sub API is
    poll_seconds = 60             # polling: the normal pace
    poll_budget_percent = 2       # polling: its share of the org's daily API limit
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from smvue_tui.config import Paths
from smvue_tui.salesforce.pubsub import (
    GLOBAL_ENDPOINT,
    ChangeDataCaptureOff,
    PubSubClient,
    PubSubError,
    change_channel,
)
from smvue_tui.sync.live_state import load_live_state, save_live_state

log = logging.getLogger(__name__)

MODES = ("auto", "cdc", "outbound", "polling")
PROBE_SECONDS = 15.0
REPORT_EVERY = 30.0


@dataclass(frozen=True)
class LiveConfig:
    mode: str = "auto"
    pubsub_endpoint: str | None = None
    poll_seconds: float = 60.0
    poll_budget: float = 0.02


@dataclass(frozen=True)
class LiveChoice:
    mode: str  # cdc | outbound | polling
    reason: str
    endpoint: str = ""  # the Pub/Sub API's, for cdc


def live_config(config: dict[str, Any]) -> LiveConfig:
    """``[live]`` from config.toml; ValueError (in words) for a value it cannot use."""
    section = config.get("live", {}) if isinstance(config, dict) else {}
    if not isinstance(section, dict):
        raise ValueError("[live] must be a table")
    mode = str(section.get("mode", "auto")).strip().lower()
    if mode not in MODES:
        raise ValueError(f"[live] mode must be one of {', '.join(MODES)}, not {mode!r}")
    try:
        seconds = float(section.get("poll_seconds", 60))
        budget = float(section.get("poll_budget_percent", 2)) / 100
    except (TypeError, ValueError):
        raise ValueError("[live] poll_seconds and poll_budget_percent must be numbers") from None
    if seconds < 10 or not 0 < budget <= 0.5:
        raise ValueError("[live] poll_seconds must be at least 10 and poll_budget_percent "
                         "between 0 and 50")
    endpoint = section.get("pubsub_endpoint")
    return LiveConfig(mode, str(endpoint) if endpoint else None, seconds, budget)


def pubsub_endpoint(settings: LiveConfig, connection: Any, demo_targets: list[Any]) -> str:
    """Where the Pub/Sub API is: config.toml's, a demo org's own, else Salesforce's global one
    ("" for a demo org that serves none)."""
    if settings.pubsub_endpoint:
        return settings.pubsub_endpoint
    if connection.environment == "demo":
        for target in demo_targets:
            if getattr(target.org, "org_id", None) == connection.org_id:
                return str(getattr(target.org, "pubsub_endpoint", "") or "")
        return ""
    return GLOBAL_ENDPOINT


async def probe_cdc(session: Any, org_id: str, endpoint: str) -> tuple[bool, str]:
    """Whether Change Data Capture is on for Opportunity, and why not in words."""
    if not endpoint:
        return False, "this org serves no Pub/Sub API"
    client = PubSubClient(session, org_id, endpoint)
    try:
        await asyncio.wait_for(client.get_topic(change_channel("Opportunity")), PROBE_SECONDS)
        return True, "Change Data Capture is on for Opportunity"
    except ChangeDataCaptureOff:
        return False, ("Change Data Capture is off for Opportunity (an admin selects it in "
                       "Setup → Change Data Capture)")
    except PubSubError as exc:
        return False, f"the Pub/Sub API refused: {exc.detail or exc.code}"
    except (TimeoutError, OSError):
        return False, "the Pub/Sub API could not be reached"
    finally:
        await client.aclose()


async def choose(settings: LiveConfig, *, public_url: str | None, loopback_ok: bool,
                 cdc: Callable[[], Any], endpoint: str) -> LiveChoice:
    """The mode to run; ``cdc()`` is the CDC probe (awaited only when it matters)."""
    if settings.mode == "cdc":
        return LiveChoice("cdc", "[live] mode = \"cdc\" in config.toml", endpoint)
    if settings.mode == "outbound":
        return LiveChoice("outbound", "[live] mode = \"outbound\" in config.toml")
    if settings.mode == "polling":
        return LiveChoice("polling", "[live] mode = \"polling\" in config.toml")
    ok, why = await cdc()
    if ok:
        return LiveChoice("cdc", why, endpoint)
    if public_url:
        return LiveChoice("outbound", f"{why}; Salesforce calls {public_url}")
    if loopback_ok:
        return LiveChoice("outbound", f"{why}; the demo org calls this app on loopback")
    return LiveChoice("polling", f"{why}; no [webhook] public_url for Outbound Messages")


def build_mode(choice: LiveChoice, settings: LiveConfig, *, db: Any, org_id: str,
               session_factory: Callable[[], Any], client_factory: Callable[[], Any]) -> Any:
    """The LiveMode for a cdc or polling choice (Outbound Messages is LiveServices' own)."""
    if choice.mode == "cdc":
        from smvue_tui.services.cdc import ChangeDataCapture

        return ChangeDataCapture(db, org_id, session_factory(), choice.endpoint)
    from smvue_tui.services.polling import Polling, PollSettings

    return Polling(db, client_factory, PollSettings(interval=settings.poll_seconds,
                                                     budget_share=settings.poll_budget),
                   org_id=org_id)


class LiveReporter:
    """Saves the choice at once, then the running mode's state and counts every 30 s. The
    file is written off the event loop (a slow disk must not stall the screens or the
    listener); what it says is read on the loop, where the mode changes it."""

    def __init__(self, paths: Paths, choice: LiveChoice, mode_name: str) -> None:
        self.paths, self.choice, self.mode_name = paths, choice, mode_name
        self.mode: Any = None
        self._task: asyncio.Task[None] | None = None
        # A save cancelled on the loop (stop() cancels the timer) goes on on its thread: one
        # write at a time (they share a temporary file), and never one older than the last.
        self._lock, self._taken, self._written = threading.Lock(), 0, 0

    async def save(self) -> None:
        state = str(getattr(self.mode, "state", "") or "")
        stats = dict(getattr(self.mode, "stats", {}) or {})
        self._taken += 1
        await asyncio.to_thread(self._write, self._taken, state, stats)

    def _write(self, taken: int, state: str, stats: dict[str, int]) -> None:
        with self._lock:
            if taken > self._written:
                self._written = taken
                self._save(state, stats)

    def _save(self, state: str, stats: dict[str, int]) -> None:
        try:
            save_live_state(self.paths, self.mode_name, self.choice.reason, state=state,
                            stats=stats)
        except OSError as exc:
            log.warning("could not save the live-mode state: %s", exc.strerror)

    async def start(self, mode: Any) -> None:
        self.mode = mode
        await self.save()
        self._task = asyncio.get_running_loop().create_task(self._every())

    async def _every(self) -> None:
        while True:
            await asyncio.sleep(REPORT_EVERY)
            await self.save()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.save()


async def start_best_mode(live: Any, *, paths: Paths, config: dict[str, Any], db: Any,
                          connection: Any, public_url: str | None, loopback_ok: bool,
                          client_factory: Callable[[], Any],
                          demo_targets: list[Any] | None = None) -> LiveChoice:
    """Choose, start CDC or polling on ``live`` (a LiveServices), and save what was chosen.
    An "outbound" choice is returned unstarted: the caller starts its listener (and deploys)."""
    from smvue_tui.salesforce.session import Session
    from smvue_tui.salesforce.token_store import TokenStore

    try:
        settings = live_config(config)
    except ValueError as exc:
        log.warning("ignoring config.toml's [live]: %s", exc)
        settings = LiveConfig()
    endpoint = pubsub_endpoint(settings, connection, demo_targets or [])

    def session() -> Any:
        return Session.from_store(TokenStore(paths.token_file))

    async def cdc() -> tuple[bool, str]:
        try:
            return await probe_cdc(session(), connection.org_id, endpoint)
        except Exception as exc:  # no usable login: not CDC, and say why
            return False, f"Change Data Capture not checked: {exc}"

    choice = await choose(settings, public_url=public_url, loopback_ok=loopback_ok, cdc=cdc,
                          endpoint=endpoint)
    if choice.mode == "outbound":
        await LiveReporter(paths, choice, "Outbound Messages").save()
        return choice
    mode = build_mode(choice, settings, db=db, org_id=connection.org_id,
                      session_factory=session, client_factory=client_factory)
    if hasattr(mode, "restore"):  # polling: today's calls before a restart count too
        mode.restore(await asyncio.to_thread(load_live_state, paths))  # a file: off the loop
    await live.start_mode(mode)
    reporter = LiveReporter(paths, choice, mode.name)
    await reporter.start(mode)
    live.on_stop(reporter.stop)
    return choice


async def add_cdc_preflight(report: Any, creds: Any, config: dict[str, Any],
                            demo_targets: list[Any] | None = None) -> None:
    """Preflight's "Change Data Capture" line: on for which watched objects, and what an admin
    enables for the rest (a warning: live updates then come from Outbound Messages or polling)."""
    from smvue_tui.salesforce.preflight import OK, WARN
    from smvue_tui.salesforce.pubsub import cdc_enabled
    from smvue_tui.salesforce.session import Session

    try:
        settings = live_config(config)
    except ValueError:
        settings = LiveConfig()
    connection = SimpleNamespace(environment=creds.environment.name, org_id=creds.org_id)
    endpoint = pubsub_endpoint(settings, connection, demo_targets or [])
    name, fallback = "Change Data Capture", "live updates come from Outbound Messages or polling"
    if not endpoint:
        report.add(name, WARN, "this org serves no Pub/Sub API", f"Until then {fallback}.")
        return
    client = PubSubClient(Session(creds), creds.org_id, endpoint)
    try:
        enabled = await asyncio.wait_for(cdc_enabled(client), PROBE_SECONDS)
    except (PubSubError, TimeoutError, OSError) as exc:
        detail = getattr(exc, "detail", "") or "the Pub/Sub API could not be reached"
        report.add(name, WARN, f"not checked: {detail}", f"Until then {fallback}.")
        return
    finally:
        await client.aclose()
    on = [o for o, yes in enabled.items() if yes]
    off = [o for o, yes in enabled.items() if not yes]
    if not off:
        report.add(name, OK, f"on for {', '.join(on)}: changes arrive within seconds")
        return
    message = (f"on for {', '.join(on)}; " if on else "") + f"off for {', '.join(off)}"
    report.add(name, WARN, message,
               "An admin selects them in Setup → Integrations → Change Data Capture"
               + ("" if "Opportunity" in on else f"; until Opportunity is selected {fallback}")
               + ".")
