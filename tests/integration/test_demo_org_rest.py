"""REST behaviour of the demo org over loopback: paging, usage, composite, bad input."""

from __future__ import annotations

import httpx

from smvue_demo_org.profile import OrgProfile


def _pages(client: httpx.Client, soql: str, batch: int = 200) -> list[dict]:
    headers = {"Sforce-Query-Options": f"batchSize={batch}"}
    body = client.get("/query", params={"q": soql}, headers=headers).json()
    pages = [body]
    while not body["done"]:
        body = client.get(body["nextRecordsUrl"].split("/v67.0", 1)[1], headers=headers).json()
        pages.append(body)
    return pages


def test_versions_list_needs_no_auth_and_is_not_counted(demo):
    response = httpx.get(f"{demo.base_url}/services/data/")
    assert response.status_code == 200
    assert response.json()[-1] == {"label": "Summer '26", "url": "/services/data/v67.0",
                                   "version": "67.0"}
    assert "Sforce-Limit-Info" not in response.headers


def test_paging_is_complete_and_retrying_a_page_is_safe(demo):
    with demo.api() as client:
        pages = _pages(client, "SELECT Id FROM Opportunity ORDER BY Id")
        ids = [r["Id"] for p in pages for r in p["records"]]
        assert len(pages) > 1 and all(len(p["records"]) == 200 for p in pages[:-1])
        assert ids == sorted(ids) and len(ids) == pages[0]["totalSize"]
        # asking for the same page again (a lost response) returns the same rows
        first = client.get("/query", params={"q": "SELECT Id, Name FROM Opportunity"},
                           headers={"Sforce-Query-Options": "batchSize=200"}).json()
        url = first["nextRecordsUrl"].split("/v67.0", 1)[1]
        assert client.get(url).json() == client.get(url).json()


def test_expired_and_unknown_locators(demo):
    with demo.api() as client:
        client.get("/query", params={"q": "SELECT Id FROM Account"})  # a fresh locator
        bad = client.get("/query/01gNOPE00000000-2000")
        assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
        demo.admin("POST", "/faults", json={"max_locators": 1})
        a = client.get("/query", params={"q": "SELECT Id FROM Opportunity"},
                       headers={"Sforce-Query-Options": "batchSize=200"}).json()
        client.get("/query", params={"q": "SELECT Id FROM Task"},
                   headers={"Sforce-Query-Options": "batchSize=200"})  # evicts a's locator
        evicted = client.get(a["nextRecordsUrl"].split("/v67.0", 1)[1])
        assert evicted.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_limit_info_counts_and_limit_exceeded(demo):
    with demo.api() as client:
        first = client.get("/limits")
        used = int(first.headers["Sforce-Limit-Info"].split("=")[1].split("/")[0])
        second = client.get("/sobjects")
        assert second.headers["Sforce-Limit-Info"].startswith(f"api-usage={used + 1}/")
        limit = demo.org.usage.daily_limit
        demo.admin("POST", "/usage", json={"used": limit})
        refused = client.get("/limits")
        assert refused.status_code == 403
        assert refused.json() == [{"message": "TotalRequests Limit exceeded.",
                                   "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        assert refused.headers["Sforce-Limit-Info"] == f"api-usage={limit}/{limit}"


def test_composite_counts_one_call_and_batch_counts_each(demo):
    with demo.api() as client:
        subs = [{"method": "GET", "url": "/services/data/v67.0/sobjects/Account/describe",
                 "referenceId": f"d{i}"} for i in range(20)]
        subs.append({"method": "GET", "referenceId": "acct",
                     "url": "/services/data/v67.0/query?q=SELECT+Id+FROM+Account+LIMIT+1"})
        subs.append({"method": "GET", "referenceId": "one",
                     "url": "/services/data/v67.0/sobjects/Account/@{acct.records[0].Id}"})
        before = demo.org.usage.used
        body = client.post("/composite", json={"compositeRequest": subs}).json()
        assert demo.org.usage.used == before + 1
        results = body["compositeResponse"]
        assert [r["httpStatusCode"] for r in results] == [200] * 22
        assert results[-1]["body"]["Id"] == results[-2]["body"]["records"][0]["Id"]
        too_many = client.post("/composite", json={"compositeRequest": subs * 2})
        assert too_many.status_code == 400
        six_queries = [{"method": "GET", "referenceId": f"q{i}",
                        "url": "/services/data/v67.0/query?q=SELECT+Id+FROM+User"}
                       for i in range(6)]
        limited = client.post("/composite", json={"compositeRequest": six_queries}).json()
        assert limited["compositeResponse"][5]["httpStatusCode"] == 400
        before = demo.org.usage.used
        batch = client.post("/composite/batch", json={"batchRequests": [
            {"method": "GET", "url": "v67.0/limits"}, {"method": "GET", "url": "v67.0/sobjects"},
            {"method": "GET", "url": "v67.0/sobjects/Nope/describe"}]}).json()
        assert demo.org.usage.used == before + 3
        assert batch["hasErrors"] and [r["statusCode"] for r in batch["results"]] == [200, 200, 404]


def test_bad_input_gets_salesforce_errors_never_tracebacks(demo):
    with demo.api() as client:
        cases = [
            (client.get("/nowhere"), 404, "NOT_FOUND"),
            (client.post("/sobjects/Opportunity", json={"Name": "x"}), 405, "METHOD_NOT_ALLOWED"),
            (client.post("/composite", content=b"{not json"), 400, "JSON_PARSER_ERROR"),
            (client.get("/query"), 400, "MALFORMED_QUERY"),
            (client.get("/query", params={"q": "SELEC Id FROM"}), 400, "MALFORMED_QUERY"),
            (client.get("/sobjects/Opportunity/006000000000000"), 404, "NOT_FOUND"),
            (client.get("/sobjects/Opportunity/updated", params={"start": "garbage",
                                                                 "end": "x"}),
             400, "INVALID_DATE_FORMAT"),
        ]
        for response, status, code in cases:
            assert response.status_code == status, response.text
            assert response.json()[0]["errorCode"] == code
    assert httpx.get(f"{demo.base_url}/services/data/v20.0/limits").status_code == 410
    assert httpx.get(f"{demo.base_url}/services/data/v99.0/limits").status_code == 404
    unauthorized = httpx.get(f"{demo.base_url}/services/data/v67.0/limits",
                             headers={"Authorization": "Bearer 00Dbogus!token"})
    assert unauthorized.status_code == 401
    assert unauthorized.json() == [{"message": "Session expired or invalid",
                                    "errorCode": "INVALID_SESSION_ID"}]


def test_api_disabled_edition(make_org):
    org = make_org(profile=OrgProfile(edition="Professional", api_enabled=False))
    with org.api() as client:
        response = client.get("/limits")
    assert response.status_code == 403
    assert response.json()[0]["errorCode"] == "API_DISABLED_FOR_ORG"


def test_sandbox_is_its_own_org_and_tokens_do_not_cross(make_org):
    prod = make_org()
    sandbox = make_org(profile=OrgProfile(sandbox=True))
    assert prod.org.org_id != sandbox.org.org_id
    with sandbox.api() as client:
        org_row = client.get("/query", params={"q": "SELECT IsSandbox FROM Organization"})
        assert org_row.json()["records"][0]["IsSandbox"] is True
    prod_token = prod.password_login()["access_token"]
    with sandbox.api(token=prod_token) as client:
        assert client.get("/limits").status_code == 401


def test_hidden_fields_are_absent_from_describe_and_soql(make_org):
    org = make_org(profile=OrgProfile(hidden_fields=("Opportunity.NextStep",),
                                      team_selling=False))
    with org.api() as client:
        fields = {f["name"] for f in client.get("/sobjects/Opportunity/describe").json()["fields"]}
        assert "NextStep" not in fields and "StageName" in fields
        hidden = client.get("/query", params={"q": "SELECT NextStep FROM Opportunity"})
        assert hidden.json()[0]["errorCode"] == "INVALID_FIELD"
        team = client.get("/query", params={"q": "SELECT Id FROM OpportunityTeamMember"})
        assert team.json()[0]["errorCode"] == "INVALID_TYPE"


def test_stage_sets_differ_per_record_type(demo):
    with demo.api() as client:
        rts = client.get("/query", params={
            "q": "SELECT Id, DeveloperName FROM RecordType WHERE SobjectType = 'Opportunity'"})
        by_name = {r["DeveloperName"]: r["Id"] for r in rts.json()["records"]}
        assert set(by_name) == {"New_Business", "Renewal", "Partner"}
        url = "/ui-api/object-info/Opportunity/picklist-values/{}/StageName"
        new = [v["value"] for v in client.get(url.format(by_name["New_Business"])).json()["values"]]
        renewal = [v["value"] for v in client.get(url.format(by_name["Renewal"])).json()["values"]]
        assert new[0] == "Prospecting" and "Renewal Due" in renewal and new != renewal


def test_admin_api_refuses_bad_writes_clearly(demo):
    with demo.api() as client:
        deal = client.get("/query", params={"q": "SELECT Id FROM Opportunity LIMIT 1"}).json()
    deal_id = deal["records"][0]["Id"]
    wrong_type = demo.admin("PATCH", f"/records/Opportunity/{deal_id}", json={"Amount": "lots"})
    assert wrong_type.status_code == 400 and wrong_type.json()["error"]
    assert demo.admin("DELETE", f"/records/Opportunity/{deal_id}").status_code == 200
    again = demo.admin("DELETE", f"/records/Opportunity/{deal_id}")
    assert again.status_code == 404
    unknown = demo.admin("PATCH", f"/records/Opportunity/{deal_id}", json={"Nope__c": 1})
    assert unknown.status_code in (400, 404)
