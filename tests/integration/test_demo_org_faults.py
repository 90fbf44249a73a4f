"""Each injected fault, seen from a client over loopback."""

from __future__ import annotations

import time

import httpx
import pytest


def test_error_rate_gives_500_and_503_with_salesforce_bodies(demo):
    demo.admin("POST", "/faults", json={"error_rate": 1.0})
    with demo.api() as client:
        codes = {client.get("/limits").status_code for _ in range(20)}
    assert codes == {500, 503}


def test_dropped_connection_mid_body(demo):
    with demo.api() as client:
        demo.admin("POST", "/faults", json={"drop_rate": 1.0})
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/query", params={"q": "SELECT Id, Name FROM Opportunity"})
        demo.admin("POST", "/faults", json={"drop_rate": 0.0})
        assert client.get("/limits").status_code == 200


def test_session_expires_after_n_calls_and_refresh_recovers(demo):
    demo.admin("POST", "/faults", json={"session_expiry_calls": 3})
    token = demo.web_login()  # the password flow issues no refresh token, as in Salesforce
    with demo.api(token["access_token"]) as client:
        statuses = [client.get("/limits").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 401]
    refreshed = httpx.post(f"{demo.base_url}/services/oauth2/token", data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"],
        "client_id": demo.org.client_id}).json()
    with demo.api(refreshed["access_token"]) as client:
        assert client.get("/limits").status_code == 200


def test_query_timeout_on_large_queries_only(demo):
    demo.admin("POST", "/faults", json={"query_timeout_rows": 50})
    with demo.api() as client:
        big = client.get("/query", params={"q": "SELECT Id FROM Opportunity"})
        small = client.get("/query", params={"q": "SELECT Id FROM Opportunity LIMIT 10"})
    assert big.status_code == 400 and big.json()[0]["errorCode"] == "QUERY_TIMEOUT"
    assert small.status_code == 200


def test_latency_is_added(demo):
    demo.admin("POST", "/faults", json={"latency_ms": 150})
    with demo.api() as client:
        started = time.monotonic()
        client.get("/limits")
        assert time.monotonic() - started >= 0.15  # a lower bound only: cannot flake


def test_unknown_fault_is_refused_clearly(demo):
    response = demo.admin("POST", "/faults", json={"explode": 1})
    assert response.status_code == 400 and "unknown fault" in response.json()["error"]
