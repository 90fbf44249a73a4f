"""Bulk 2.0 CSV as a CSV reader sees it: quoting, nulls, parent fields, delimiters, locators."""

from __future__ import annotations

import csv
import io

import pytest

from smvue_demo_org.bulk_jobs import (
    DELIMITERS,
    LINE_ENDINGS,
    column_paths,
    csv_rows,
    decode_locator,
    encode_locator,
)

RECORDS = [
    {"attributes": {"type": "Opportunity"}, "Id": "0061", "Name": 'Acme "Big", deal\nline 2',
     "Amount": 1200.0, "IsClosed": False, "LastModifiedDate": "2025-03-03T19:05:25.000+0000",
     "Account": {"attributes": {"type": "Account"}, "Name": "Acme|Co"}},
    {"attributes": {"type": "Opportunity"}, "Id": "0062", "Name": "Plain", "Amount": None,
     "IsClosed": True, "LastModifiedDate": None, "Account": None},
]
PATHS = column_paths([("Id",), ("Opportunity", "Name"), ("amount",), ("IsClosed",),
                      ("LastModifiedDate",), ("account", "name")], "Opportunity", None)


@pytest.mark.parametrize("delimiter", sorted(DELIMITERS))
@pytest.mark.parametrize("ending", sorted(LINE_ENDINGS))
def test_a_csv_reader_gets_every_value_back(delimiter, ending):
    header, lines = csv_rows(RECORDS, PATHS, DELIMITERS[delimiter], LINE_ENDINGS[ending])
    text = header + "".join(lines)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[delimiter]))
    assert rows[0] == ["Id", "Name", "Amount", "IsClosed", "LastModifiedDate", "Account.Name"]
    assert rows[1] == ["0061", 'Acme "Big", deal\nline 2', "1200.0", "false",
                       "2025-03-03T19:05:25.000Z", "Acme|Co"]
    assert rows[2] == ["0062", "Plain", "", "true", "", ""]
    assert text.endswith(LINE_ENDINGS[ending]) and len(rows) == 3


def test_nulls_are_empty_and_unquoted_values_quoted():
    _, lines = csv_rows(RECORDS[1:], PATHS, ",", "\n")
    assert lines == ['"0062","Plain",,"true",,\n']


@pytest.mark.parametrize("version", ["48.0", "67.0"])
def test_locators_round_trip_and_reject_strangers(version):
    for offset in (0, 7, 50_000):
        assert decode_locator(encode_locator(offset, version), version) == offset
    assert decode_locator("not a locator!", version) is None
    assert encode_locator(10000, "67.0") == "MTAwMDA"  # the guide's example locator
