"""``smvue-tui login`` and ``smvue-tui logout``: headless login, stored tokens, revoke.

``login`` prints the authorization URL, then waits for the browser's redirect on the loopback
listener OR a pasted redirected URL / code on stdin, whichever comes first (over SSH the
browser's redirect cannot reach this machine). ``--device`` uses the device flow instead.
Errors go to stderr as the typed error's message and remedy; the token is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import webbrowser
from collections.abc import AsyncIterator
from typing import TextIO

from smvue_tui.errors import reason
from smvue_tui.salesforce.auth import LoginFlow, logout
from smvue_tui.salesforce.consumer import ConsumerNotConfigured, consumer_for, load_settings
from smvue_tui.salesforce.credentials import Credentials
from smvue_tui.salesforce.device import DeviceFlow
from smvue_tui.salesforce.environments import Environment
from smvue_tui.salesforce.errors import LoginExpired, SalesforceError
from smvue_tui.salesforce.redaction import install_redaction
from smvue_tui.salesforce.token_store import TokenStore
from smvue_tui.services.connection import check_reachable, login_environment

LOGIN_TIMEOUT = 900.0  # seconds to wait for the browser or a paste
# Paste problems the user can fix by pasting again; any other error ends the login.
_RETRYABLE_PASTE = frozenset({"state_mismatch", "unrecognised_paste"})


def configure(parser: argparse.ArgumentParser, command: str) -> None:
    if command == "logout":
        return
    parser.add_argument("--env", metavar="ENV",
                        help="production (default), sandbox, or a My Domain / demo org URL")
    parser.add_argument("--device", action="store_true",
                        help="use the device flow (enter a code on another device)")
    parser.add_argument("--port", type=int, metavar="N",
                        help="loopback callback port (default 1717; must match the app)")
    parser.add_argument("--no-browser", action="store_true",
                        help="do not try to open a browser; just print the URL")


def run(args: argparse.Namespace) -> int:
    if not logging.getLogger().handlers:  # warnings to stderr, never with a token in them
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    install_redaction()
    if args.command == "logout":
        return asyncio.run(_logout(sys.stdout, sys.stderr))
    return asyncio.run(_login(args, sys.stdout, sys.stderr))


async def _login(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        settings = load_settings()
        environment = login_environment(args.env or settings.login)
        if environment.name in ("my-domain", "demo"):  # a host typed by someone: it must answer
            await check_reachable(environment)
        consumer = consumer_for(environment, settings)
        if args.device:
            creds = await _device_login(DeviceFlow(environment, consumer), out)
        else:
            port = settings.redirect_port if args.port is None else args.port
            if not 0 <= port <= 65535:
                raise ValueError(f"--port {port} is not a port number")
            flow = LoginFlow(environment, consumer, port=port)
            creds = await _web_login(flow, environment, not args.no_browser, out, err)
        TokenStore().save(creds)
    except ValueError as exc:
        print(f"error: {exc}", file=err)
        return 2
    except SalesforceError as exc:
        _print_error(exc, err)
        return 1
    except OSError as exc:
        print(f"error: could not store the login: {reason(exc)}", file=err)
        return 1
    print(f"Logged in as {creds.who()}", file=out)
    print(f"Org {creds.org_id or '(unknown)'} at {creds.instance_url} "
          f"({environment.label()})", file=out)
    print(store_line(creds.org_id), file=out)
    return 0


def store_line(org_id: str) -> str:
    """Which store this login opens: each org has its own (``store/org_stores.py``)."""
    from smvue_tui.config import app_paths
    from smvue_tui.store.org_stores import paths_for_org, same_org, store_orgs

    try:
        paths = paths_for_org(app_paths(), org_id)
    except ValueError:
        return "This login names no org id; `smvue-tui sync` will say so."
    store = paths.database
    if store.exists() or any(same_org(o.org_id, org_id)
                             for o in store_orgs(paths.unassigned_database)):
        return f"Store: {store} — this org's data is kept; `smvue-tui sync` catches up"
    return f"Store: {store} — new; the first `smvue-tui sync` reads everything"


async def _web_login(flow: LoginFlow, environment: Environment, open_browser: bool,
                     out: TextIO, err: TextIO) -> Credentials:
    async with flow:
        print(f"Open this URL to log in: {flow.authorization_url}", file=out)
        if open_browser:
            _open_browser(flow.authorization_url)
        print(f"Waiting for the browser to come back to {flow.redirect_uri} ...\n"
              "If your browser is on another machine, paste the URL it ended on (or just "
              "the code) here and press Enter.", file=out, flush=True)
        waiter = asyncio.ensure_future(flow.wait_for_redirect())
        paster = asyncio.ensure_future(_paste_loop(flow, stdin_lines(), err))
        pending: set[asyncio.Future[Credentials | None]] = {waiter, paster}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LOGIN_TIMEOUT
        try:
            while True:
                done, pending = await asyncio.wait(
                    pending, timeout=max(0.0, deadline - loop.time()),
                    return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    raise LoginExpired(f"no login after {LOGIN_TIMEOUT:.0f} s",
                                       code="login_timeout")
                if waiter in done:
                    return waiter.result()
                creds = paster.result()  # a terminal paste error raises here
                if creds is not None:
                    return creds
                # stdin ended: only the browser redirect can finish the login now
        finally:
            for task in (waiter, paster):
                task.cancel()
            await asyncio.gather(waiter, paster, return_exceptions=True)


async def _paste_loop(flow: LoginFlow, lines: AsyncIterator[str],
                      err: TextIO) -> Credentials | None:
    """Try each pasted line; None at end of input or when the browser finished first."""
    async for line in lines:
        if not line.strip():
            continue
        try:
            return await flow.complete_with_pasted(line)
        except SalesforceError as exc:
            if exc.code == "login_finished":
                return None
            if exc.code not in _RETRYABLE_PASTE:
                raise
            print(f"That did not work: {exc.detail}. Paste again, or press Ctrl-C.",
                  file=err, flush=True)
    return None


async def _device_login(flow: DeviceFlow, out: TextIO) -> Credentials:
    codes = await flow.start()
    print("To log in, open this URL on any device:\n"
          f"\n    {codes.verification_uri}\n\n"
          "and enter the code:\n"
          f"\n    {codes.user_code}\n\n"
          "Waiting for you to approve (Ctrl-C to cancel) ...", file=out, flush=True)
    return await flow.poll()


async def _logout(out: TextIO, err: TextIO) -> int:
    result = await logout()
    if not result.had_login:
        print("Not logged in; nothing to forget.", file=out)
        return 0
    if result.error is not None:
        print("Warning: Salesforce did not confirm the revoke "
              f"({result.error.describe()}).", file=err)
        print("Revoke it by hand if needed: Salesforce Setup > Connected Apps OAuth Usage, "
              "or your personal settings > Connected Apps.", file=err)
    print("Logged out: the stored Salesforce login was forgotten"
          + (" and revoked." if result.revoked else "."), file=out)
    return 0


def _print_error(exc: SalesforceError, err: TextIO) -> None:
    print(f"error: {exc.user_message}", file=err)
    if exc.detail or exc.code:  # a setting of ours is said as it is, not as Salesforce's
        said = "" if isinstance(exc, ConsumerNotConfigured) else "Salesforce said: "
        print(f"  {said}{exc.detail or ''} {f'[{exc.code}]' if exc.code else ''}".rstrip(),
              file=err)
    print(f"  {exc.remedy}", file=err)


def _open_browser(url: str) -> None:
    """Only where a graphical browser can exist; a console browser would grab the terminal."""
    graphical = sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if not graphical or os.environ.get("SSH_CONNECTION"):
        return
    with contextlib.suppress(Exception):
        webbrowser.open(url, new=2)


async def stdin_lines() -> AsyncIterator[str]:
    """Lines typed or piped on stdin, without blocking the event loop or leaving a thread."""
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return  # no real stdin (tests, daemons): only the browser can finish the login
    loop = asyncio.get_running_loop()
    buffer = b""
    while True:
        ready = loop.create_future()
        try:
            loop.add_reader(fd, lambda f=ready: f.done() or f.set_result(None))
        except (OSError, ValueError, NotImplementedError):
            data = os.read(fd, 65536)  # a regular file is always readable
        else:
            try:
                await ready
            finally:
                loop.remove_reader(fd)
            data = os.read(fd, 65536)
        if not data:
            if buffer:
                yield buffer.decode(errors="replace")
            return
        buffer += data
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield line.decode(errors="replace")
