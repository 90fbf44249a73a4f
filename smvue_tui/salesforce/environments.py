"""Where a login goes: Production, Sandbox, a My Domain host, or the local demo org.

An ``Environment`` is a name plus the login base URL; the OAuth endpoints hang off it. Only
https hosts are accepted, except loopback addresses (the demo org serves plain http on
127.0.0.1), so a token is never sent in clear over a network.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

PRODUCTION_URL = "https://login.salesforce.com"
SANDBOX_URL = "https://test.salesforce.com"
_SANDBOX_MY_DOMAIN = ".sandbox.my.salesforce.com"
_LIGHTNING = ".lightning.force.com"  # the Lightning UI's address: it serves no OAuth
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*$")


@dataclass(frozen=True)
class Environment:
    """``name`` is production, sandbox, my-domain or demo; ``login_url`` has no trailing slash."""

    name: str
    login_url: str

    @property
    def authorize_url(self) -> str:
        return f"{self.login_url}/services/oauth2/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.login_url}/services/oauth2/token"

    @property
    def revoke_url(self) -> str:
        return f"{self.login_url}/services/oauth2/revoke"

    @property
    def is_demo(self) -> bool:
        return self.name == "demo"

    @property
    def is_sandbox(self) -> bool:
        """test.salesforce.com, or a sandbox My Domain (``acme--uat.sandbox.my.salesforce.com``,
        the form Salesforce gives every sandbox since enhanced domains)."""
        host = urlsplit(self.login_url).hostname or ""
        return self.name == "sandbox" or host.endswith(_SANDBOX_MY_DOMAIN)

    def label(self) -> str:
        """What the user sees: ``Sandbox (test.salesforce.com)``."""
        host = urlsplit(self.login_url).netloc
        nice = {"production": "Production", "sandbox": "Sandbox", "my-domain": "My Domain",
                "demo": "Demo org"}.get(self.name, self.name)
        if self.name == "my-domain" and self.is_sandbox:
            nice = "Sandbox My Domain"
        return f"{nice} ({host})"

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "login_url": self.login_url}


PRODUCTION = Environment("production", PRODUCTION_URL)
SANDBOX = Environment("sandbox", SANDBOX_URL)
_ALIASES = {"production": PRODUCTION, "prod": PRODUCTION, "login": PRODUCTION,
            "sandbox": SANDBOX, "test": SANDBOX}


def is_loopback_host(host: str) -> bool:
    """localhost or a loopback IP (127.0.0.0/8, ::1)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_environment(value: str) -> Environment:
    """``production``/``sandbox``, a My Domain host or URL, or the demo org's loopback base URL.

    ``acme.my.salesforce.com`` becomes ``https://acme.my.salesforce.com``; a path pasted along
    with the host (``/lightning/page/home``) is dropped. Raises ValueError with a sentence the
    user can act on.
    """
    text = (value or "").strip()
    if not text:
        raise ValueError("No Salesforce environment given: use production, sandbox or a "
                         "My Domain URL such as https://acme.my.salesforce.com")
    alias = _ALIASES.get(text.lower())
    if alias is not None:
        return alias
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    try:
        host, port = parts.hostname or "", parts.port
    except ValueError as exc:  # a port that is not a number
        raise ValueError(f"{value!r} is not a valid Salesforce login URL: {exc}") from None
    if parts.username or parts.password or "@" in parts.netloc:
        raise ValueError(f"{value!r}: a login URL must not contain a user name or password")
    if not host or not (_HOST.match(host) or _is_ip(host)):
        raise ValueError(f"{value!r} is not a valid Salesforce login URL (no usable host name)")
    if host.lower().endswith(_LIGHTNING):
        raise ValueError(_lightning_hint(value, host.lower()))
    loopback = is_loopback_host(host)
    if scheme not in ("https", "http") or (scheme == "http" and not loopback):
        raise ValueError(f"{value!r}: Salesforce logins must use https:// (plain http is only "
                         "allowed for the local demo org on 127.0.0.1 or localhost)")
    shown_host = f"[{host}]" if ":" in host else host
    base = f"{scheme}://{shown_host.lower()}" + (f":{port}" if port else "")
    if base == PRODUCTION_URL:
        return PRODUCTION
    if base == SANDBOX_URL:
        return SANDBOX
    if loopback:
        return Environment("demo", base)
    return Environment("my-domain", base)


def _lightning_hint(value: str, host: str) -> str:
    """``acme.lightning.force.com`` is the address the browser shows, not where logins go."""
    name = host.removesuffix(_LIGHTNING)
    mine = (f"{name.removesuffix('.sandbox')}{_SANDBOX_MY_DOMAIN}" if name.endswith(".sandbox")
            else f"{name}.my.salesforce.com")
    return (f"{value!r} is the Lightning address your browser shows, not a login host: use "
            f"your My Domain, https://{mine} (Setup > My Domain shows it)")


def environment_from_dict(data: object) -> Environment:
    """An Environment read back from storage (validated like user input)."""
    if not isinstance(data, dict) or not isinstance(data.get("login_url"), str):
        raise ValueError("environment is missing its login_url")
    return resolve_environment(data["login_url"])


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
