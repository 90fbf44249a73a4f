"""Query throughput of the demo org: records/s served over loopback HTTP at 0 latency.

Run by hand:  python tests/benchmarks/demo_org_query_bench.py [--size large] [--batch 2000]
Prints one JSON line per query shape.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import httpx

from smvue_demo_org.server import build_org, serve_in_thread

SHAPES = {
    "flat": "SELECT Id, Name, Amount, CloseDate, StageName, Probability, OwnerId, AccountId, "
            "IsClosed, IsWon, SystemModstamp FROM Opportunity",
    "parents": "SELECT Id, Name, Amount, Account.Name, Account.Parent.Name, Owner.Email "
               "FROM Opportunity",
    "children": "SELECT Id, Name, (SELECT ContactId, Role, IsPrimary FROM "
                "OpportunityContactRoles) FROM Opportunity",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="large")
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "smvue-bench-cache")
    args = parser.parse_args()
    org = build_org(size=args.size, seed=1, cache_dir=args.cache)
    with serve_in_thread(org) as base:
        token = httpx.post(f"{base}/services/oauth2/token", data={
            "grant_type": "password", "client_id": org.client_id, "username": org.username,
            "password": org.password}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}",
                   "Sforce-Query-Options": f"batchSize={args.batch}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            for shape, soql in SHAPES.items():
                started = time.perf_counter()
                body = client.get("/services/data/v67.0/query", params={"q": soql}).json()
                records = len(body["records"])
                while not body["done"]:
                    body = client.get(body["nextRecordsUrl"]).json()
                    records += len(body["records"])
                seconds = time.perf_counter() - started
                print(json.dumps({"case": f"query-{shape}", "size": args.size,
                                  "records": records, "seconds": round(seconds, 3),
                                  "records_per_s": round(records / seconds)}))
    org.store.close()


if __name__ == "__main__":
    main()
