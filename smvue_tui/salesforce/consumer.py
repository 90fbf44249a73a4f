"""The connected app's consumer key/secret and the login settings, from config.toml and env.

``config.toml``::

    [salesforce]
    client_id = "3MVG9..."          # consumer key of the connected app / external client app
    client_secret = "..."           # only if the app requires a secret
    login = "production"            # or sandbox, or a My Domain URL (the CLI default)
    redirect_port = 1717            # loopback callback port (must match the app's callback URL)

``SMVUE_SF_CLIENT_ID`` / ``SMVUE_SF_CLIENT_SECRET`` override the file. The demo org uses its
built-in consumer key, unless settings name one (a key registered at the demo org, to rehearse
docs/real-org.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smvue_tui.config import CONFIG_REMEDY, ConfigError, app_paths, config_table, read_config
from smvue_tui.salesforce.environments import Environment
from smvue_tui.salesforce.errors import AuthorizationError

DEFAULT_REDIRECT_PORT = 1717
DEFAULT_SCOPE = "api refresh_token id"  # REST + a refresh token + the identity URL
ENV_CLIENT_ID = "SMVUE_SF_CLIENT_ID"
ENV_CLIENT_SECRET = "SMVUE_SF_CLIENT_SECRET"

# The demo org's connected app has this consumer key and no secret, as an installed app's would
# (the demo org defines it on its side; tests/unit/test_layers.py checks the two agree).
DEMO_CONSUMER_KEY = "3MVG9smvueDemoConsumerKey.local"


class ConsumerNotConfigured(AuthorizationError):
    """No consumer key for a real org, or config.toml could not be read."""

    user_message = "Salesforce login is not configured"
    remedy = (
        f"Set [salesforce] client_id (the connected app's consumer key) in config.toml, or the "
        f"{ENV_CLIENT_ID} environment variable ({ENV_CLIENT_SECRET} if the app needs a secret)."
    )


class ConfigUnreadable(ConsumerNotConfigured):
    """config.toml cannot be used: unreadable, not TOML, or ``[salesforce]`` not a table (its
    sentence, naming the file, is the detail)."""

    user_message = "config.toml could not be read"
    remedy = f"{CONFIG_REMEDY}."


@dataclass(frozen=True)
class Consumer:
    """The OAuth client: consumer key and optional secret (never shown)."""

    client_id: str
    client_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SalesforceSettings:
    client_id: str = ""
    client_secret: str | None = field(default=None, repr=False)
    login: str = "production"
    redirect_port: int = DEFAULT_REDIRECT_PORT


def load_settings(config_file: Path | None = None,
                  environ: dict[str, str] | None = None) -> SalesforceSettings:
    """The ``[salesforce]`` table of config.toml (missing file = defaults), env overriding it."""
    env = os.environ if environ is None else environ
    path = config_file or app_paths(environ).config_file
    try:
        table: dict[str, Any] = config_table(read_config(path), "salesforce", path)
    except ConfigError as exc:
        raise ConfigUnreadable(str(exc)) from None
    port = table.get("redirect_port", DEFAULT_REDIRECT_PORT)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ConsumerNotConfigured(f"{path}: [salesforce] redirect_port must be a port number")
    secret = env.get(ENV_CLIENT_SECRET) or _text(table, "client_secret", path) or None
    return SalesforceSettings(
        client_id=env.get(ENV_CLIENT_ID) or _text(table, "client_id", path),
        client_secret=secret,
        login=_text(table, "login", path) or "production",
        redirect_port=port,
    )


def consumer_for(environment: Environment, settings: SalesforceSettings | None = None) -> Consumer:
    """The consumer to log in to ``environment`` with; raises ConsumerNotConfigured if none."""
    if environment.is_demo:  # the built-in key, or one registered at the demo org
        return Consumer(settings.client_id if settings and settings.client_id
                        else DEMO_CONSUMER_KEY)
    settings = settings or load_settings()
    if not settings.client_id:
        raise ConsumerNotConfigured("no consumer key configured")
    return Consumer(settings.client_id, settings.client_secret)


def _text(table: dict[str, object], key: str, path: Path) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise ConsumerNotConfigured(f"{path}: [salesforce] {key} must be a string")
    return value.strip()
