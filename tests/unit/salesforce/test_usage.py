"""Sforce-Limit-Info readings, the reset guess and the API budget."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smvue_tui.salesforce.errors import BudgetExceeded, RateLimitExceeded
from smvue_tui.salesforce.usage import (
    PACIFIC,
    ApiBudget,
    ApiUsage,
    next_pacific_midnight,
    parse_limit_info,
)

NOW = datetime(2026, 11, 26, 19, 0, tzinfo=UTC)


def test_parses_api_usage():
    usage = parse_limit_info("api-usage=10018/100000", now=NOW)
    assert (usage.used, usage.max, usage.updated_at) == (10018, 100000, NOW)
    assert usage.share == pytest.approx(0.10018)
    assert usage.remaining == 89982
    assert usage.bursts_used is None


@pytest.mark.parametrize("header", ["api-usage=25/100; api-bursts=1/750",
                                    " api-usage = 25 / 100 ;api-bursts=1/750 ",
                                    "api-bursts=1/750; api-usage=25/100"])
def test_parses_bursts_in_any_order(header):
    usage = parse_limit_info(header)
    assert (usage.used, usage.max, usage.bursts_used, usage.bursts_max) == (25, 100, 1, 750)


def test_ignores_unknown_pairs_and_garbage():
    assert parse_limit_info("api-usage=5/10; per-app-api-usage=2/5(appName=x)").used == 5
    assert parse_limit_info("") is None
    assert parse_limit_info("api-bursts=1/750") is None
    assert parse_limit_info("api-usage=lots") is None


def test_unknown_usage_has_no_share():
    assert ApiUsage().share is None and not ApiUsage().known
    assert ApiUsage().used == 0 and ApiUsage().remaining is None
    assert ApiUsage(used=3, max=0).share is None


def test_resets_at_next_midnight_pacific():
    # 19:00 UTC = 11:00 PST → 2026-11-27 00:00 PST = 08:00 UTC
    reset = next_pacific_midnight(NOW)
    assert reset.tzinfo == PACIFIC
    assert reset.astimezone(UTC) == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    # 07:30 UTC on the 27th is still 23:30 on the 26th in California
    late = datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
    assert next_pacific_midnight(late).astimezone(UTC) == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    # summer time: midnight PDT is 07:00 UTC
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert next_pacific_midnight(summer).astimezone(UTC) == datetime(2026, 7, 2, 7, 0, tzinfo=UTC)
    assert ApiUsage(used=1, max=2).resets_at(NOW) == reset


def test_budget_refuses_non_essential_at_share():
    budget = ApiBudget(0.8)
    over = ApiUsage(used=800, max=1000)
    assert budget.allows(ApiUsage(used=799, max=1000), essential=False)
    assert not budget.allows(over, essential=False)
    assert budget.allows(over, essential=True)
    assert budget.allows(ApiUsage(), essential=False)  # no reading yet: nothing to go on
    with pytest.raises(BudgetExceeded) as info:
        budget.check(over, essential=False)
    err = info.value
    assert isinstance(err, RateLimitExceeded)
    assert err.usage is over and err.resets_at is not None
    assert "800/1000" in str(err) and "80%" in str(err)
    assert err.user_message == "Salesforce API budget reached — sync paused"
    budget.check(over, essential=True)  # does not raise


@pytest.mark.parametrize("share", [0, -0.1, 1.5])
def test_budget_share_must_be_a_fraction(share):
    with pytest.raises(ValueError):
        ApiBudget(share)
