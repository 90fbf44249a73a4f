"""The cost model's arithmetic, settings and CLI flags (the wire is in test_demo_org_cost_model)."""

from __future__ import annotations

import argparse

import pytest

from smvue_demo_org.cli import configure, cost_model_from_args, run
from smvue_demo_org.cost_model import CostModel, QueryShape
from smvue_demo_org.soql import prepare
from tests.unit.demo_org.soql_fixture import catalog


def test_off_costs_nothing_and_admits_everything():
    off = CostModel()
    assert off.page_seconds(2000, QueryShape(60, 5, (4,)), 500) == 0.0
    assert off.bulk_seconds(10**6, QueryShape(60)) == 0.0
    assert off.admits()


def test_defaults_are_the_documented_figures():
    model = CostModel.default()
    assert (model.long_running_s, model.max_long_running, model.open_cursors,
            model.cursor_ttl_s) == (20.0, 25, 0, 2 * 86_400)
    # a 2,000-record page of 20 fields: 0.1 s + 2,000 × 20 × 25 µs = 1.1 s
    assert model.page_seconds(2000, QueryShape(20)) == pytest.approx(1.1)


def test_query_shape_counts_plain_parent_and_child_fields():
    q = prepare("SELECT o.Id, Name, Account.Name, Owner.Manager.Name, (SELECT Id, Role FROM "
                "OpportunityContactRoles) FROM Opportunity o", catalog())
    assert q.shape == QueryShape(2, 2, (2,))


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    configure(parser, "demo-org")
    return parser.parse_args(list(argv))


def test_flags_turn_the_model_on_and_set_each_knob():
    assert not cost_model_from_args(_args()).enabled
    model = cost_model_from_args(_args("--cost-model", "default", "--cost", "field_us=40",
                                       "--cost", "max_long_running=5"))
    assert (model.enabled, model.field_us, model.max_long_running) == (True, 40.0, 5)
    assert cost_model_from_args(_args("--cost", "page_base_ms=7")).enabled


@pytest.mark.parametrize(("spec", "words"), [("nope=1", "unknown cost setting 'nope'"),
                                              ("field_us=fast", "wants a number"),
                                              ("field_us", "NAME=VALUE"),
                                              ("field_us=-1", "cannot be negative")])
def test_bad_cost_flags_get_a_clear_error(spec, words, capsys, tmp_path):
    assert run(_args("--cost", spec), tmp_path) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
