"""An independent OAuth client (authlib's httpx client) logs in to the demo org with PKCE S256,
reads the identity URL, refreshes and revokes: proof the wire format is standard enough."""

from __future__ import annotations

import re

from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client

from smvue_demo_org.org import DEMO_CLIENT_ID, DEMO_PASSWORD, DEMO_USERNAME
from tests.unit.demo_org.oauth_support import AUTHORIZE_PATH, CALLBACK, TOKEN_PATH, served_org


async def test_authlib_pkce_login_through_the_consent_form() -> None:
    async with served_org() as demo:
        base = demo.org.base_url
        async with AsyncOAuth2Client(client_id=DEMO_CLIENT_ID, redirect_uri=CALLBACK,
                                     scope="api refresh_token id",
                                     code_challenge_method="S256") as client:
            verifier = generate_token(64)
            url, state = client.create_authorization_url(base + AUTHORIZE_PATH,
                                                         code_verifier=verifier)
            assert "code_challenge=" in url and "code_challenge_method=S256" in url
            browser = demo.http  # the user's browser, not the OAuth client
            page = await browser.get(url)
            assert page.status_code == 200
            found = re.search(r'name="request_token" value="([^"]+)"', page.text)
            assert found
            redirect = await browser.post(base + AUTHORIZE_PATH, data={
                "request_token": found.group(1), "username": DEMO_USERNAME,
                "password": DEMO_PASSWORD, "decision": "allow"})
            assert redirect.status_code == 302
            token = await client.fetch_token(
                base + TOKEN_PATH, authorization_response=redirect.headers["Location"],
                state=state, code_verifier=verifier)
            assert token["instance_url"] == base and "expires_in" not in token
            assert token["issued_at"].isdigit()

            identity = await client.get(token["id"])
            assert identity.status_code == 200
            assert identity.json()["username"] == DEMO_USERNAME

            renewed = await client.refresh_token(base + TOKEN_PATH)
            assert renewed["access_token"] != token["access_token"]
            assert renewed["refresh_token"] == token["refresh_token"]  # kept by authlib
            assert (await client.get(token["id"])).status_code == 200

            revoked = await client.revoke_token(base + "/services/oauth2/revoke",
                                                token=renewed["refresh_token"],
                                                token_type_hint="refresh_token")
            assert revoked.status_code == 200
            assert (await client.get(token["id"])).status_code == 403


async def test_authlib_with_client_secret_basic_and_auto_approve() -> None:
    async with served_org(client_secret="s3cr3t", auto_approve=True) as demo:
        base = demo.org.base_url
        async with AsyncOAuth2Client(client_id=DEMO_CLIENT_ID, client_secret="s3cr3t",
                                     redirect_uri=CALLBACK, scope="api refresh_token",
                                     code_challenge_method="S256") as client:
            assert client.token_endpoint_auth_method == "client_secret_basic"
            verifier = generate_token(64)
            url, state = client.create_authorization_url(base + AUTHORIZE_PATH,
                                                         code_verifier=verifier)
            redirect = await demo.http.get(url)  # the browser
            assert redirect.status_code == 302
            token = await client.fetch_token(
                base + TOKEN_PATH, authorization_response=redirect.headers["Location"],
                state=state, code_verifier=verifier)
            assert demo.tokens.check_access(token["access_token"]) is not None
