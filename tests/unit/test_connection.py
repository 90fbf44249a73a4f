"""Connection steps without Textual: choices, login preparation, the Connection row, the
integration card, disconnect, and the large-letter device code."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from smvue_tui.salesforce.consumer import ConsumerNotConfigured
from smvue_tui.salesforce.credentials import Credentials
from smvue_tui.salesforce.environments import SANDBOX, resolve_environment
from smvue_tui.services import connection as conn
from smvue_tui.services.app_services import DemoTarget
from smvue_tui.services.integration_card import RESYNC_ONLY, load_card
from smvue_tui.store import models as m
from smvue_tui.tui.widgets.big_text import big_lines

ORG_A, ORG_B = "00D8W0000000001QAA", "00D8W0000000002QAA"


def creds(org_id: str = ORG_A, environment=SANDBOX) -> Credentials:
    return Credentials(access_token="AT-secret", refresh_token="RT-secret",
                       instance_url="https://acme.my.salesforce.com",
                       identity_url=f"https://x/id/{org_id}/0058W0000000001QAA", org_id=org_id,
                       user_id="0058W0000000001QAA", environment=environment,
                       username="morgan@acme.com", client_id="3MVGkey")


def test_choices_real_and_demo():
    keys = [c.key for c in conn.choices([])]
    assert keys == ["production", "sandbox", "my-domain"]
    assert conn.choices([])[2].needs_host
    demo = conn.choices([DemoTarget("Production", "http://127.0.0.1:9", None),
                         DemoTarget("Sandbox", "http://127.0.0.1:10", None)])
    assert [c.title for c in demo] == ["Production", "Sandbox"]
    assert "127.0.0.1:10" in demo[1].hint and not demo[1].needs_host


def test_prepare_login(paths):
    demo = conn.choices([DemoTarget("Production", "http://127.0.0.1:9", None)])[0]
    flow = conn.prepare_login(demo, "", paths)
    assert flow.environment.is_demo and flow.consumer.client_id
    my_domain = conn.choices([])[2]
    with pytest.raises(ValueError, match="https"):
        conn.prepare_login(my_domain, "http://acme.example.com", paths)
    with pytest.raises(ConsumerNotConfigured):  # no consumer key configured for a real org
        conn.prepare_login(conn.choices([])[0], "", paths)
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text('[salesforce]\nclient_id = "3MVGkey"\nredirect_port = 1999\n')
    flow = conn.prepare_login(my_domain, "acme.my.salesforce.com", paths)
    assert flow.environment.login_url == "https://acme.my.salesforce.com"
    assert flow.redirect_uri == "http://localhost:1999/OauthRedirect"


def test_save_login_records_and_reactivates(paths):
    conn.save_login(paths, creds())
    row = m.Connection.get()
    assert (row.org_id, row.is_sandbox, row.environment) == (ORG_A, True, "sandbox")
    assert paths.token_file.stat().st_mode & 0o777 == 0o600
    conn.mark_disconnected()
    conn.save_login(paths, creds(ORG_B, resolve_environment("production")))
    rows = {r.org_id: r for r in m.Connection.select()}
    assert rows[ORG_A].disconnected_at is not None and rows[ORG_B].disconnected_at is None
    conn.save_login(paths, creds(ORG_A))  # back to the first org: same row, reactivated
    rows = {r.org_id: r for r in m.Connection.select()}
    assert rows[ORG_A].disconnected_at is None and rows[ORG_B].disconnected_at is not None
    assert m.Connection.select().count() == 2


def test_disconnect_keeps_data(paths):
    conn.save_login(paths, creds())
    m.Note.create(opportunity_id="0068W0000000001QAA", body="keep me")

    seen: list[str] = []

    def revoke_ok(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200)

    result = asyncio.run(conn.disconnect(paths, transport=httpx.MockTransport(revoke_ok)))
    assert result.logout.revoked and not paths.token_file.exists()
    assert (result.removed, result.left_behind) == (0, ())
    assert seen == ["https://test.salesforce.com/services/oauth2/revoke"]
    assert m.Connection.get().disconnected_at is not None
    assert m.Note.get().body == "keep me"


def test_card_shows_org_automation_and_usage(paths):
    assert not load_card(paths).ever_connected
    conn.save_login(paths, creds())

    class Report:
        org_name, edition, is_sandbox = "Acme", "Enterprise Edition", True

    conn.save_org_info(paths, ORG_A, Report())
    m.DeployedAutomation.create(full_name="SMVue_Opportunity", type="WorkflowOutboundMessage",
                                org_id=ORG_A, removed_at="2026-11-26T10:00:00+00:00",
                                leftover_reason="REQUEST_LIMIT_EXCEEDED",
                                setup_path="Setup > Process Automation > Outbound Messages")
    card = load_card(paths)
    assert (card.org_name, card.edition, card.connected) == ("Acme", "Enterprise Edition", True)
    assert card.notifications == RESYNC_ONLY
    assert card.automation[0].state == "left behind"
    assert "Outbound Messages" in card.automation[0].setup_path
    assert "no reading yet" in card.api_usage


def test_big_text_is_five_rows_per_character():
    lines = big_lines("AB-12")
    assert len(lines) == 5 and max(len(line) for line in lines) == 5 * 8 + 4 * 2
    assert all(set(line) <= {"█", " "} for line in lines)
