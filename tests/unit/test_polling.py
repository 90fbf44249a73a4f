"""The polling pace: back to normal after a find, slower while idle, within the budget."""

from smvue_tui.services.polling import PollSettings, next_interval

S = PollSettings(interval=60, max_interval=900, idle_after=3)


def test_a_find_polls_again_at_the_normal_pace():
    assert next_interval(S, 480, 0, None, 0) == 60


def test_idle_polls_slow_down_to_the_ceiling():
    waits, current = [], 60.0
    for empty in range(1, 9):
        current = next_interval(S, current, empty, None, 0)
        waits.append(current)
    assert waits == [60, 60, 120, 240, 480, 900, 900, 900]


def test_what_is_left_of_the_budget_spreads_over_the_rest_of_the_day():
    # 100 calls left and 10 hours to the reset: no faster than one per 360 s.
    assert next_interval(S, 60, 0, 100, 36_000) == 360
    # A generous budget changes nothing.
    assert next_interval(S, 60, 0, 2000, 36_000) == 60


def test_the_default_spends_at_most_60_calls_an_hour():
    assert 3600 / PollSettings().interval <= 60


def test_a_restart_the_same_day_keeps_counting_the_budget(paths):
    from datetime import UTC, datetime, timedelta

    from smvue_tui.services.polling import Polling
    from smvue_tui.sync.live_state import load_live_state, save_live_state

    save_live_state(paths, "Polling", "why", stats={"calls_today": 7})
    today = Polling(None, lambda: None)
    today.restore(load_live_state(paths))
    assert today.stats["calls_today"] == 7
    yesterday = load_live_state(paths)
    yesterday["updated_at"] = (datetime.now(UTC) - timedelta(days=1, hours=1)).isoformat()
    fresh = Polling(None, lambda: None)
    fresh.restore(yesterday)
    assert fresh.stats["calls_today"] == 0


async def test_a_mode_refuses_another_orgs_store(paths):
    import pytest

    from smvue_tui.services.polling import Polling
    from smvue_tui.store import models as m
    from smvue_tui.store.org_stores import StoreOrgMismatch

    m.Connection.create(org_id="00D000000000001AAA", environment="production",
                        login_url="https://login.salesforce.com",
                        instance_url="https://a.my.salesforce.com")
    mode = Polling(m.Connection._meta.database, lambda: None, org_id="00D000000000002AAA")
    with pytest.raises(StoreOrgMismatch):
        await mode.start(lambda _received: None)
    assert mode._task is None and mode._writer is None  # nothing left running
