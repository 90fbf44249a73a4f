"""Login environments (production, sandbox, My Domain, demo org) and consumer settings."""

from __future__ import annotations

import pytest

from smvue_demo_org.org import DEMO_CLIENT_ID
from smvue_tui.config import app_paths
from smvue_tui.salesforce.consumer import (
    ConsumerNotConfigured,
    consumer_for,
    load_settings,
)
from smvue_tui.salesforce.environments import PRODUCTION, SANDBOX, resolve_environment


@pytest.mark.parametrize(("value", "expected"), [
    ("production", PRODUCTION), ("Production", PRODUCTION), ("prod", PRODUCTION),
    ("sandbox", SANDBOX), ("test", SANDBOX), ("login.salesforce.com", PRODUCTION),
    ("https://test.salesforce.com/", SANDBOX),
])
def test_named_environments(value, expected):
    assert resolve_environment(value) == expected


def test_my_domain_is_normalised_to_https_without_path():
    env = resolve_environment("  Acme.my.salesforce.com/lightning/page/home ")
    assert env.name == "my-domain"
    assert env.login_url == "https://acme.my.salesforce.com"
    assert env.token_url == "https://acme.my.salesforce.com/services/oauth2/token"
    assert env.authorize_url.endswith("/services/oauth2/authorize")
    assert env.revoke_url.endswith("/services/oauth2/revoke")
    sandbox = resolve_environment("https://acme--uat.sandbox.my.salesforce.com:443")
    assert sandbox.login_url == "https://acme--uat.sandbox.my.salesforce.com:443"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8123", "http://localhost:9000/",
                                 "http://[::1]:7000", "https://127.0.0.1:8443"])
def test_loopback_urls_are_the_demo_org(url):
    env = resolve_environment(url)
    assert env.is_demo
    assert env.login_url == url.rstrip("/")
    assert "Demo org" in env.label()


@pytest.mark.parametrize(("value", "words"), [
    ("", "No Salesforce environment"),
    ("http://acme.my.salesforce.com", "https"),
    ("ftp://acme.my.salesforce.com", "https"),
    ("https://user:pw@acme.my.salesforce.com", "user name or password"),
    ("https://acme .my.salesforce.com", "no usable host"),
    ("https://acme.my.salesforce.com:notaport", "not a valid"),
    ("https://", "no usable host"),
])
def test_bad_environments_get_a_clear_value_error(value, words):
    with pytest.raises(ValueError, match=words):
        resolve_environment(value)


def test_settings_from_config_file_and_env_override(monkeypatch):
    path = app_paths().config_file
    path.parent.mkdir(parents=True)
    path.write_text('[salesforce]\nclient_id = "3MVG9FromFile"\nclient_secret = "s3cret"\n'
                    'login = "sandbox"\nredirect_port = 1818\n')
    settings = load_settings()
    assert (settings.client_id, settings.client_secret) == ("3MVG9FromFile", "s3cret")
    assert (settings.login, settings.redirect_port) == ("sandbox", 1818)
    assert "s3cret" not in repr(settings)
    monkeypatch.setenv("SMVUE_SF_CLIENT_ID", "3MVG9FromEnv")
    monkeypatch.setenv("SMVUE_SF_CLIENT_SECRET", "env-secret")
    consumer = consumer_for(PRODUCTION, load_settings())
    assert (consumer.client_id, consumer.client_secret) == ("3MVG9FromEnv", "env-secret")
    assert "env-secret" not in repr(consumer)


def test_defaults_without_config_file():
    settings = load_settings()
    assert (settings.client_id, settings.login, settings.redirect_port) == ("", "production", 1717)
    with pytest.raises(ConsumerNotConfigured) as info:
        consumer_for(PRODUCTION, settings)
    assert "SMVUE_SF_CLIENT_ID" in info.value.remedy


def test_demo_org_uses_its_built_in_consumer_key(monkeypatch):
    monkeypatch.setenv("SMVUE_SF_CLIENT_ID", "3MVG9ForTheRealOrg")
    consumer = consumer_for(resolve_environment("http://127.0.0.1:8000"))
    assert consumer.client_id == DEMO_CLIENT_ID
    assert consumer.client_secret is None


@pytest.mark.parametrize(("text", "words"), [
    ("[salesforce\nclient_id=1", "not valid TOML"),
    ("[salesforce]\nclient_id = 3\n", "client_id must be a string"),
    ("[salesforce]\nredirect_port = 'x'\n", "redirect_port"),
    ("salesforce = 1\n", "must be a table"),
])
def test_bad_config_file_is_a_clear_error(text, words):
    path = app_paths().config_file
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(ConsumerNotConfigured, match=words):
        load_settings()


@pytest.mark.parametrize(("value", "sandbox"), [
    ("acme--uat.sandbox.my.salesforce.com", True),  # a sandbox's My Domain (enhanced domains)
    ("https://acme--dev.sandbox.my.salesforce.com/lightning/page/home", True),
    ("sandbox", True),
    ("acme.my.salesforce.com", False),
    ("production", False),
])
def test_a_sandbox_my_domain_is_a_sandbox(value, sandbox):
    assert resolve_environment(value).is_sandbox is sandbox


@pytest.mark.parametrize(("value", "suggested"), [
    ("acme.lightning.force.com", "https://acme.my.salesforce.com"),
    ("https://acme--uat.sandbox.lightning.force.com/lightning/page/home",
     "https://acme--uat.sandbox.my.salesforce.com"),
])
def test_the_lightning_address_is_refused_with_the_login_host_to_use(value, suggested):
    with pytest.raises(ValueError, match="not a login host") as refused:
        resolve_environment(value)
    assert suggested in str(refused.value)
