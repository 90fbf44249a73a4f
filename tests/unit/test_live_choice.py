"""Choosing the live mode: CDC, then Outbound Messages, then polling; config.toml overrides."""

from __future__ import annotations

import pytest

from smvue_tui.services.live_choice import LiveConfig, choose, live_config
from smvue_tui.sync.live_state import describe_live, load_live_state, save_live_state


def _probe(ok: bool):
    calls = []

    async def probe():
        calls.append(1)
        return ok, "Change Data Capture is on for Opportunity" if ok else "CDC is off"

    return probe, calls


async def test_cdc_first_when_the_org_has_it():
    probe, _ = _probe(True)
    choice = await choose(LiveConfig(), public_url="https://x.example/hook", loopback_ok=False,
                          cdc=probe, endpoint="api.pubsub.salesforce.com:7443")
    assert choice.mode == "cdc" and choice.endpoint == "api.pubsub.salesforce.com:7443"


async def test_then_outbound_messages_with_a_public_url_then_polling():
    probe, _ = _probe(False)
    outbound = await choose(LiveConfig(), public_url="https://x.example/hook",
                            loopback_ok=False, cdc=probe, endpoint="e:1")
    polling = await choose(LiveConfig(), public_url=None, loopback_ok=False, cdc=probe,
                           endpoint="e:1")
    assert outbound.mode == "outbound" and "https://x.example/hook" in outbound.reason
    assert polling.mode == "polling"
    assert polling.reason == "CDC is off; no [webhook] public_url for Outbound Messages"


async def test_config_overrides_without_probing():
    probe, calls = _probe(True)
    choice = await choose(live_config({"live": {"mode": "Polling"}}), public_url=None,
                          loopback_ok=False, cdc=probe, endpoint="e:1")
    assert choice.mode == "polling" and "config.toml" in choice.reason and not calls


def test_bad_live_settings_are_refused_in_words():
    with pytest.raises(ValueError, match="mode must be one of auto, cdc, outbound, polling"):
        live_config({"live": {"mode": "push"}})
    with pytest.raises(ValueError, match="poll_seconds must be at least 10"):
        live_config({"live": {"poll_seconds": 1}})
    assert live_config({}) == LiveConfig()
    assert live_config({"live": {"poll_budget_percent": 5}}).poll_budget == 0.05


def test_the_choice_is_kept_for_status_and_the_card(paths):
    assert describe_live(load_live_state(paths)).startswith("not started yet")
    save_live_state(paths, "Polling", "CDC is off", state="polling every 60 s",
                    stats={"polls": 3, "calls_today": 3, "found": 1})
    assert describe_live(load_live_state(paths)) == (
        "Polling (polling every 60 s) — CDC is off; 3 polling calls today")


def test_changed_fields_bitmap_names_the_schema_fields():
    from smvue_tui.salesforce.pubsub import bitmap_fields

    schema = {"fields": [{"name": n} for n in
                         ("ChangeEventHeader", "Name", "Amount", "StageName", "BillingAddress")]}
    assert bitmap_fields(["0x6"], schema) == ("Name", "Amount")
    assert bitmap_fields(["0x8", "4-0x01"], schema) == ("StageName", "BillingAddress")
    assert bitmap_fields([], schema) == ()


async def test_no_outbound_automation_is_deployed_when_cdc_was_chosen(paths):
    from types import SimpleNamespace

    from smvue_tui.services.connection import deploy_notifications

    save_live_state(paths, "Change Data Capture", "Change Data Capture is on for Opportunity")
    webhook = SimpleNamespace(endpoint_url="https://hooks.example.com/sf/outbound/x")
    line = await deploy_notifications(paths, webhook, creds=None)  # no login: nothing to call
    assert line == ("• Live updates: Change Data Capture — Change Data Capture is on for "
                    "Opportunity")


async def test_the_state_saved_at_stop_is_the_last_written_even_when_a_save_is_slow(
        paths, monkeypatch):
    """The reporter writes the file on worker threads. A save still on its thread when the
    mode stops (a slow disk; the timer task cancelled under it) must neither overlap stop's
    save (both write the same temporary file) nor land after it: the file keeps the mode's
    final counts, which polling restores after a restart."""
    import asyncio
    import threading

    from smvue_tui.services import live_choice

    entered, release, held_done, calls = (threading.Event(), threading.Event(),
                                          threading.Event(), [])

    def slow_second(*args, **kwargs):
        calls.append(dict(kwargs["stats"]))
        if len(calls) != 2:
            save_live_state(*args, **kwargs)
            return
        entered.set()  # the timer's save: held on its thread until released
        release.wait(5)
        save_live_state(*args, **kwargs)
        held_done.set()

    monkeypatch.setattr(live_choice, "save_live_state", slow_second)
    monkeypatch.setattr(live_choice, "REPORT_EVERY", 0.01)

    class Mode:
        state, stats = "running", {"calls_today": 1}

    mode = Mode()
    reporter = live_choice.LiveReporter(paths, live_choice.LiveChoice("polling", "why"),
                                        "Polling")
    await reporter.start(mode)
    assert await asyncio.to_thread(entered.wait, 5)
    mode.stats = {"calls_today": 7}  # what the mode has counted by the time it stops
    stopping = asyncio.create_task(reporter.stop())
    await asyncio.sleep(0.2)  # stop's own save has been handed to a thread by now
    release.set()
    await stopping
    assert await asyncio.to_thread(held_done.wait, 5)
    assert load_live_state(paths)["stats"] == {"calls_today": 7}
