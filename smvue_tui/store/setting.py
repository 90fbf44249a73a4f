"""Which store the settings name — ``SMVUE_STORE_URL`` in the environment, else ``[store] url``
in config.toml; none: the SQLite store per org — and the store URL's password kept out of sight
(messages, logs, a command's arguments).

No peewee here: a process that will only read the SQLite store decides so before peewee is
imported, and keeps psycopg out of it (``without_postgres_driver``).
"""

from __future__ import annotations

import os
import sys
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from smvue_tui.config import CONFIG_REMEDY, ConfigError, Paths, config_table, read_config

ENV_VAR = "SMVUE_STORE_URL"
SCHEMES = ("postgresql", "postgres")
# libpq's settings holding a secret: the login's password, the client key's passphrase.
SECRET_KEYS = ("password", "sslpassword")


class StoreUrlError(ValueError):
    """The store setting is not one we can use; the message says which and why, in words."""


class ConfigUnusable(StoreUrlError):
    """config.toml cannot be used, so neither can its store setting (``config.ConfigError``'s
    sentence, and that which store to open is not known)."""


def store_url(paths: Paths, environ: dict[str, str] | None = None,
              config: dict[str, Any] | None = None) -> str:
    """The PostgreSQL URL the store should use, or "" for the SQLite store per org.
    StoreUrlError when the setting is there but is not a postgresql:// URL, or when
    config.toml cannot be read (which store was meant is then not known). ``config``:
    config.toml as the caller read it already (None: read here when the environment does not
    say)."""
    env = os.environ if environ is None else environ
    value, source = env.get(ENV_VAR, "").strip(), ENV_VAR
    if not value:
        value, source = _from_config(paths, config), f"[store] url in {paths.config_file}"
    if not value:
        return ""
    return _checked(value, source)


def team_store_url(paths: Paths, error: type[Exception],
                   config: dict[str, Any] | None = None) -> str:
    """``store_url``, its StoreUrlError raised again as ``error`` (the caller's exception in
    words, e.g. TeamModeError): "" without a team store."""
    try:
        return store_url(paths, config=config)
    except StoreUrlError as exc:
        words = f"{exc}. {CONFIG_REMEDY}." if isinstance(exc, ConfigUnusable) else str(exc)
        raise error(words) from None


def _from_config(paths: Paths, config: dict[str, Any] | None) -> str:
    try:
        section = config_table(read_config(paths.config_file) if config is None else config,
                               "store", paths.config_file)
    except ConfigError as exc:  # which store was meant cannot be known: refused
        raise ConfigUnusable(f"{exc}, so which store to open ([store] url) is not known") \
            from None
    value = section.get("url", "")
    if not isinstance(value, str):
        raise StoreUrlError(f"[store] url in {paths.config_file} must be text "
                            '(url = "postgresql://user@host/dbname")')
    return value.strip()


def _checked(value: str, source: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in SCHEMES or not (parts.hostname or parts.path.strip("/")):
        raise StoreUrlError(f"{source} is not a PostgreSQL URL ({redact(value)}); expected "
                            "postgresql://user@host:5432/dbname, or no setting for the "
                            "SQLite store on this machine")
    _readable_by_libpq(value, source)
    return urlunsplit(("postgresql", *parts[1:]))


def _readable_by_libpq(value: str, source: str) -> None:
    """StoreUrlError when libpq cannot parse the URL. Said here, because libpq's own message
    quotes the token it could not read — the password itself when it holds a bare "%" or a
    space — and every later connect would carry that into errors, logs and tracebacks."""
    from psycopg import Error as PsycopgError
    from psycopg.conninfo import conninfo_to_dict

    try:
        conninfo_to_dict(value)
    except PsycopgError as exc:
        # Not errors.reason: the password is masked in the whole message before any cut.
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        password = urlsplit(value).password
        if password:
            reason = reason.replace(password, "***")
        raise StoreUrlError(f"{source} cannot be read as a PostgreSQL URL ({redact(value)}): "
                            f"{reason}. A user name or password holding %, a space, @, : or / "
                            "must percent-encode it (%25, %20, %40, %3A, %2F)") from None


def password_in_argv(value: str, flag: str = "--store") -> str | None:
    """Why a store URL given on the command line must not hold a password (None when it holds
    none). A process's arguments are readable by every user of the machine (``ps``,
    /proc/PID/cmdline) for as long as it runs; its environment and files are not. libpq takes
    the password from the URL's user part or its ``password=`` parameter, and the client key's
    passphrase from ``sslpassword=``: each is refused."""
    from psycopg import Error as PsycopgError
    from psycopg.conninfo import conninfo_to_dict

    try:
        read = conninfo_to_dict(value)
        has = bool(urlsplit(value).password) or any(read.get(k) for k in SECRET_KEYS)
    except (PsycopgError, ValueError):  # unreadable: the store check says so, password hidden
        has = bool(urlsplit(value).password) if "://" in value else False
    if not has:
        return None
    return (f"{flag} holds a password ({redact(value)}), and a command's arguments can be read "
            "by every user of this machine (ps) for as long as it runs. Give the password "
            "outside the command line: in ~/.pgpass (mode 0600), in PGPASSWORD or a "
            f"PGSERVICE entry in the environment, or give the whole URL in {ENV_VAR} or "
            "[store] url in config.toml instead of " + flag + " (docs/team-store.md, step 2)")


def adopt_store_argument(value: str | None, flag: str = "--store") -> str | None:
    """A command's ``--store URL`` made the store setting of this process and of every child
    it starts (``SMVUE_STORE_URL``). Why it is refused instead, in words, when it holds a
    password (``password_in_argv``; nothing is set then); None when adopted or not given."""
    if not value:
        return None
    if problem := password_in_argv(value, flag):  # refused before any use
        return problem
    os.environ[ENV_VAR] = value
    return None


def redact(url: str) -> str:
    """The URL without its password (the user part's or libpq's ``password=``, and the client
    key's ``sslpassword=``), for messages and logs. libpq reads a password where a URL parser
    sees none — "#" or "?" in it (libpq knows no fragment), a percent-encoded keyword, its
    key=value form: then the settings are shown as libpq reads them, the password masked."""
    parts = urlsplit(url)
    params = [q.split("=", 1) if "=" in q else [q] for q in parts.query.split("&")]
    query = "&".join(f"{q[0]}=***" if q[0] in SECRET_KEYS else "=".join(q) for q in params)
    masked = {unquote(q[1]) for q in params if q[0] in SECRET_KEYS}
    if parts.password is None:
        shown = urlunsplit((*parts[:3], query, parts.fragment))
    else:
        masked.add(unquote(parts.password))
        netloc = parts.netloc.rsplit("@", 1)
        user = netloc[0].split(":", 1)[0]
        shown = urlunsplit((parts.scheme, f"{user}:***@{netloc[1]}", parts.path, query,
                            parts.fragment))
    read = _libpq_settings(url)
    if any(read.get(k) and read[k] not in masked for k in SECRET_KEYS):
        return " ".join(f"{k}=***" if k in SECRET_KEYS else f"{k}={v}"
                        for k, v in sorted(read.items()))
    return shown


def _libpq_settings(url: str) -> dict[str, str]:
    """What libpq reads from the setting ({} when it cannot: the store check says so)."""
    from psycopg import Error as PsycopgError
    from psycopg.conninfo import conninfo_to_dict

    try:
        return {k: str(v) for k, v in conninfo_to_dict(url).items()}
    except (PsycopgError, ValueError):
        return {}


def without_postgres_driver(paths: Paths) -> None:
    """In a process of its own that will read the SQLite store only (no store setting), keep
    psycopg from being imported: peewee imports it eagerly, ~0.1 s of interpreter time — a
    tenth of what ``inspect`` may take at 100,000 deals. Call before peewee is imported; a
    later ``import psycopg`` in this process raises ImportError (nothing there needs it). A
    setting that cannot be read is left to the open to say in words (it needs psycopg)."""
    if "peewee" in sys.modules or "psycopg" in sys.modules:
        return
    try:
        if store_url(paths):
            return
    except StoreUrlError:
        return
    sys.modules["psycopg"] = None  # type: ignore[assignment]  # Python's "not importable" mark
