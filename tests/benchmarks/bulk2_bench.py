"""Bulk API 2.0 against REST paging in the demo org, both driven by simple-salesforce.

Run by hand: ``python tests/benchmarks/bulk2_bench.py [opportunities] [cache_dir]``. Prints wall
time, API calls and rows for one wide-ish Opportunity read each way, against one served org.
No target yet: the demo org has no cost model (issue 15, item 2), so this measures the wire and
the CSV, not what a real org spends on the server.
"""

from __future__ import annotations

import csv
import io
import sys
import tempfile
import time
from pathlib import Path

import requests
from simple_salesforce import Salesforce

from smvue_demo_org.server import build_org, serve_in_thread

SOQL = ("SELECT Id, Name, Amount, CloseDate, StageName, Probability, OwnerId, AccountId, "
        "Account.Name, CreatedDate, LastModifiedDate, SystemModstamp, IsClosed, IsWon, "
        "ForecastCategory, Type, LeadSource, NextStep, IsDeleted FROM Opportunity")


class _HttpsToHttp(requests.Session):
    def request(self, method, url, *args, **kwargs):  # simple-salesforce always says https
        return super().request(method, url.replace("https://", "http://", 1), *args, **kwargs)


def main(size: int, cache: Path) -> None:
    org = build_org(cache_dir=cache, size=size)
    with serve_in_thread(org) as url:
        token = requests.post(f"{url}/services/oauth2/token", data={
            "grant_type": "password", "client_id": org.client_id, "username": org.username,
            "password": org.password}, timeout=30).json()["access_token"]
        sf = Salesforce(instance_url=url.replace("http://", "https://"), session_id=token,
                        version="67.0", session=_HttpsToHttp())
        for name, read in (("REST query_all", _rest), ("Bulk 2.0 query", _bulk)):
            calls, start = org.usage.total_calls, time.perf_counter()
            rows = read(sf)
            took = time.perf_counter() - start
            print(f"{name:16} {rows:>7,} rows  {took:6.2f} s  "
                  f"{org.usage.total_calls - calls:>4} API calls  {rows / took:>9,.0f} rows/s")
    org.store.close()


def _rest(sf: Salesforce) -> int:
    return len(sf.query_all(SOQL)["records"])


def _bulk(sf: Salesforce) -> int:
    return sum(len(list(csv.DictReader(io.StringIO(page))))
               for page in sf.bulk2.Opportunity.query(SOQL, wait=0.05))


if __name__ == "__main__":
    opportunities = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    folder = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp())
    main(opportunities, folder)
