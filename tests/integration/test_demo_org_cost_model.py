"""The demo org's cost model over real loopback HTTP: its settings change the server time as set.

Time is measured where the server spends it: the model's ``sleep`` is replaced by one that
records each wait (and its ``clock`` by one the test moves), so nothing here hangs on wall time.
"""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest

from smvue_demo_org.bulk_jobs import EXTRA_KEY
from smvue_demo_org.cost_model import LONG_RUNNING_MESSAGE, CostModel


class Recorder:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _cost(demo, **settings) -> Recorder:
    recorder = Recorder()
    demo.org.cost = CostModel.default(sleep=recorder, **settings)
    return recorder


def _pages(client, soql: str, batch: int = 2000) -> list[dict]:
    headers = {"Sforce-Query-Options": f"batchSize={batch}"}
    body = client.get("/query", params={"q": soql}, headers=headers).json()
    pages = [body]
    while not body["done"]:
        body = client.get(body["nextRecordsUrl"].split("/v67.0")[1], headers=headers).json()
        pages.append(body)
    return pages


@pytest.mark.parametrize(("base_ms", "field_us"), [(50, 100), (200, 25)])
def test_page_time_is_base_plus_records_times_fields(demo, base_ms, field_us):
    recorder = _cost(demo, page_base_ms=base_ms, field_us=field_us)
    with demo.api() as client:
        pages = _pages(client, "SELECT Id, Name, Amount FROM Opportunity", batch=200)
    assert len(pages) > 1 and len(recorder.waits) == len(pages)
    for page, waited in zip(pages, recorder.waits, strict=True):
        assert waited == pytest.approx(base_ms / 1000 + len(page["records"]) * 3 * field_us / 1e6)


def test_a_setting_changed_on_the_running_org_changes_the_next_page(demo):
    recorder = _cost(demo, page_base_ms=0, field_us=100)
    with demo.api() as client:
        _pages(client, "SELECT Id, Name FROM Account LIMIT 50")
        demo.org.cost.set("field_us", 300)
        _pages(client, "SELECT Id, Name FROM Account LIMIT 50")
    assert recorder.waits == pytest.approx([50 * 2 * 100e-6, 50 * 2 * 300e-6])


def test_parent_fields_and_child_rows_cost_more(demo):
    recorder = _cost(demo, page_base_ms=1, field_us=100, parent_field_factor=3,
                     child_row_factor=5)
    with demo.api() as client:
        _pages(client, "SELECT Id, Account.Name, Owner.Name FROM Opportunity LIMIT 40")
        kids = _pages(client, "SELECT Id, (SELECT Id, Role FROM OpportunityContactRoles) "
                              "FROM Opportunity LIMIT 40")[0]["records"]
        _pages(client, "SELECT COUNT() FROM Opportunity")
    child_rows = sum(len(r["OpportunityContactRoles"]["records"]) for r in kids
                     if r["OpportunityContactRoles"])
    assert child_rows > 0
    assert recorder.waits == pytest.approx([
        0.001 + 40 * (1 + 3 * 2) * 100e-6,  # one plain field, two parent fields at 3×
        0.001 + (40 * 1 + child_rows * 2 * 5) * 100e-6,  # child rows: their 2 fields at 5×
        0.001,  # COUNT(): the base only
    ])


def test_the_cost_is_real_server_time_on_the_wire(demo):
    demo.org.cost = CostModel.default(page_base_ms=300, field_us=0)
    with demo.api() as client:
        started = time.perf_counter()
        client.get("/query", params={"q": "SELECT Id FROM User LIMIT 1"}).raise_for_status()
        assert time.perf_counter() - started >= 0.3


def test_a_bulk_job_stays_in_progress_for_the_models_job_time(demo):
    recorder = _cost(demo, bulk_job_base_s=1.5, bulk_field_us=10, parent_field_factor=2)
    with demo.api() as client:
        job = client.post("/jobs/query", json={
            "operation": "query", "query": "SELECT Id, Name, Account.Name FROM Opportunity"}
        ).json()
        deadline = time.monotonic() + 20
        while (info := client.get(f"/jobs/query/{job['id']}").json())["state"] != "JobComplete":
            assert time.monotonic() < deadline
            time.sleep(0.02)
    rows = info["numberRecordsProcessed"]
    assert rows > 100
    assert recorder.waits[-1] == pytest.approx(1.5 + rows * (2 + 2 * 1) * 10e-6)
    assert demo.org.extras[EXTRA_KEY].jobs[job["id"]].state == "JobComplete"


def test_requests_over_the_long_running_limit_are_refused_until_one_ends(demo):
    now = [1000.0]
    released = threading.Event()

    calls = []

    async def held(seconds: float) -> None:  # the first page runs until the test says
        calls.append(seconds)
        first = len(calls) == 1
        while first and not released.is_set():
            await asyncio.sleep(0.005)

    demo.org.cost = CostModel.default(clock=lambda: now[0], sleep=held, max_long_running=1,
                                      long_running_s=20)
    token = demo.password_login()["access_token"]
    url = f"{demo.base_url}/services/data/v67.0/query"
    headers = {"Authorization": f"Bearer {token}"}
    answers: list[httpx.Response] = []
    slow = threading.Thread(target=lambda: answers.append(httpx.get(
        url, params={"q": "SELECT Id FROM Account"}, headers=headers, timeout=30)))
    slow.start()
    deadline = time.monotonic() + 10
    while demo.org.cost.charged_s == 0:  # the slow page is being served
        assert time.monotonic() < deadline
        time.sleep(0.005)
    quick = httpx.get(url, params={"q": "SELECT Id FROM User LIMIT 1"}, headers=headers)
    assert quick.status_code == 200  # the slow one has run 0 s: not long-running yet
    now[0] += 20  # ... now it has run 20 s
    refused = httpx.get(url, params={"q": "SELECT Id FROM User LIMIT 1"}, headers=headers)
    assert refused.status_code == 403
    assert refused.json() == [{"message": LONG_RUNNING_MESSAGE,
                               "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    demo.org.cost.set("max_long_running", 2)  # a bigger org limit lets it through
    assert httpx.get(url, params={"q": "SELECT Id FROM User LIMIT 1"},
                     headers=headers).status_code == 200
    released.set()
    slow.join(timeout=10)
    assert answers and answers[0].status_code == 200


def test_open_cursors_follow_the_models_rule(demo):
    _cost(demo)  # no limit on open cursors (API 56.0+): twelve stay open
    with demo.api() as client:
        def first_pages() -> list[str]:
            return [client.get("/query", params={"q": "SELECT Id FROM Opportunity"},
                               headers={"Sforce-Query-Options": "batchSize=200"}
                               ).json()["nextRecordsUrl"].split("/v67.0")[1] for _ in range(12)]

        assert all(client.get(u).status_code == 200 for u in first_pages())
        demo.org.cost.set("open_cursors", 2)  # the old per-user limit: oldest released
        urls = first_pages()
        assert [client.get(u).status_code for u in (urls[0], urls[-1])] == [400, 200]


def test_the_admin_route_shows_and_sets_the_model(demo):
    assert demo.admin("GET", "/cost").json()["enabled"] is False
    answer = demo.admin("POST", "/cost", json={"enabled": True, "field_us": 7})
    assert answer.json()["enabled"] is True and answer.json()["field_us"] == 7.0
    assert demo.org.cost.enabled and demo.org.cost.field_us == 7.0
    bad = demo.admin("POST", "/cost", json={"fast": 1})
    assert bad.status_code == 400 and "unknown cost setting 'fast'" in bad.text
    with demo.api() as client:
        client.get("/query", params={"q": "SELECT Id FROM User LIMIT 1"}).raise_for_status()
    assert demo.admin("GET", "/cost").json()["charged_s"] > 0
