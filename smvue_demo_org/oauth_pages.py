"""The HTML a browser sees during a demo-org login: login + "Allow Access?" consent, the device
verification page, and the error page. Plain server-rendered forms, styled after Salesforce's.
"""

from __future__ import annotations

from html import escape

# What the consent page says for each scope (the scopes the demo app may ask for).
SCOPE_LABELS = {
    "api": "Access and manage your data (api)",
    "refresh_token": "Perform requests at any time (refresh_token, offline_access)",
    "offline_access": "Perform requests at any time (refresh_token, offline_access)",
    "id": "Access the identity URL service (id)",
    "profile": "Access your basic information (id, profile, email, address, phone)",
    "email": "Access your basic information (id, profile, email, address, phone)",
    "address": "Access your basic information (id, profile, email, address, phone)",
    "phone": "Access your basic information (id, profile, email, address, phone)",
    "openid": "Access unique user identifiers (openid)",
    "web": "Provide access to your data via the Web (web)",
    "chatter_api": "Access Connect REST API resources (chatter_api)",
    "full": "Full access (full)",
}
APP_NAME = "smvue-tui"

_STYLE = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;background:#f3f3f3;
margin:0;color:#181818}
.card{background:#fff;max-width:420px;margin:48px auto;padding:24px 28px;border:1px solid #d8dde6;
border-radius:4px}
h1{font-size:20px;font-weight:400;margin:0 0 16px}
.logo{color:#00a1e0;font-weight:700;font-size:22px;text-align:center;margin-bottom:18px}
label{display:block;font-size:13px;margin:10px 0 4px;color:#3e3e3c}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:10px;
border:1px solid #d8dde6;border-radius:4px;font-size:14px}
ul{padding-left:20px}li{margin:6px 0}
.buttons{display:flex;justify-content:flex-end;gap:8px;margin-top:18px}
button{padding:8px 16px;border-radius:4px;border:1px solid #d8dde6;background:#fff;font-size:14px}
button.allow{background:#0176d3;border-color:#0176d3;color:#fff}
.error{background:#fde8e8;border:1px solid #c23934;color:#c23934;padding:8px 10px;
border-radius:4px;font-size:13px}
.hint{background:#f4f6f9;padding:8px 10px;border-radius:4px;font-size:12px;color:#54698d}
"""
LOGIN_ERROR = ("Please check your username and password. If you still can't log in, "
               "contact your Salesforce administrator.")


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
            f'<body><div class="card"><div class="logo">salesforce · demo org</div>'
            f"{body}</div></body></html>")


def _credentials(username: str, hint: str, error: str) -> str:
    error_html = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return (f"{error_html}"
            f'<label for="username">Username</label>'
            f'<input type="text" id="username" name="username" value="{escape(username)}" '
            f'autocomplete="username">'
            f'<label for="password">Password</label>'
            f'<input type="password" id="password" name="password" '
            f'autocomplete="current-password">'
            f'<p class="hint">{escape(hint)}</p>')


def _buttons() -> str:
    # Allow comes first in the markup so pressing Enter in a field allows; Deny shows first.
    return ('<div class="buttons" style="flex-direction:row-reverse;justify-content:flex-start">'
            '<button class="allow" type="submit" name="decision" value="allow">Allow</button>'
            '<button type="submit" name="decision" value="deny">Deny</button></div>')


def scope_lines(scope: str) -> list[str]:
    """The consent page's list for a scope string, each line once, in request order."""
    lines: list[str] = []
    for name in scope.split():
        label = SCOPE_LABELS.get(name)
        if label and label not in lines:
            lines.append(label)
    return lines


def login_page(*, request_token: str, scope: str, username: str, hint: str,
               error: str = "") -> str:
    """Login and "Allow Access?" in one form, posted to POST /services/oauth2/authorize."""
    items = "".join(f"<li>{escape(line)}</li>" for line in scope_lines(scope))
    body = (f"<h1>Allow Access?</h1>"
            f'<form method="post" action="/services/oauth2/authorize">'
            f'<input type="hidden" name="request_token" value="{escape(request_token)}">'
            f"{_credentials(username, hint, error)}"
            f"<p><b>{escape(APP_NAME)}</b> is asking to:</p><ul>{items}</ul>"
            f"<p>Do you want to allow access for this user?</p>"
            f"{_buttons()}</form>")
    return _page("Allow Access? | Salesforce", body)


def device_page(*, user_code: str, username: str, hint: str, error: str = "") -> str:
    """Connect a device: enter the code shown by the app, log in, Allow or Deny."""
    body = ("<h1>Connect to Your Device</h1>"
            '<form method="post" action="/setup/connect">'
            '<label for="user_code">Enter the code displayed on your device</label>'
            f'<input type="text" id="user_code" name="user_code" value="{escape(user_code)}" '
            'autocomplete="off">'
            f"{_credentials(username, hint, error)}"
            f"<p><b>{escape(APP_NAME)}</b> is asking to access your data.</p>"
            f"{_buttons()}</form>")
    return _page("Connect to Your Device | Salesforce", body)


def message_page(title: str, text: str) -> str:
    return _page(f"{title} | Salesforce", f"<h1>{escape(title)}</h1><p>{escape(text)}</p>")


def error_page(error: str, description: str) -> str:
    """What Salesforce shows when it cannot redirect back: the error in the page itself."""
    body = (f"<h1>OAuth Error</h1>"
            f"<p>We can't authorize you because of an OAuth error. For more information, "
            f"contact your Salesforce administrator.</p>"
            f'<p class="error">error={escape(error)}&amp;error_description='
            f"{escape(description)}</p>")
    return _page("OAuth Error | Salesforce", body)
