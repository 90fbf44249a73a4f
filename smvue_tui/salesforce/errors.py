"""Typed errors for every Salesforce error shape, with what the user sees and can do.

Salesforce answers errors in three envelopes: the REST list ``[{"message", "errorCode",
"fields"}]``, the OAuth object ``{"error", "error_description"}``, and the SOAP fault. Each
becomes one of the classes below. ``user_message`` and ``remedy`` are the product page's words
(Troubleshooting); ``detail`` is Salesforce's own text for logs. No error ever carries a token.
"""

from __future__ import annotations


class SalesforceError(Exception):
    """Base class. ``code`` is Salesforce's errorCode / OAuth error / SOAP faultcode."""

    user_message = "Salesforce returned an error"
    remedy = "Try again; if it persists, contact support with your Salesforce Org ID."

    def __init__(self, detail: str = "", *, code: str = "", status: int | None = None) -> None:
        self.detail = detail
        self.code = code
        self.status = status
        super().__init__(self.describe())

    def describe(self) -> str:
        parts = [self.user_message]
        if self.code:
            parts.append(f"[{self.code}]")
        if self.detail:
            parts.append(f"— {self.detail}")
        return " ".join(parts)


class AuthorizationError(SalesforceError):
    """Login or consent failed (bad client, denied, wrong host, PKCE, …)."""

    user_message = "Unable to authorize Salesforce connection"
    remedy = (
        "Ensure you have System Administrator or API Enabled permissions, that your edition "
        "supports API access, and that you are logging into the correct environment "
        "(production vs sandbox)."
    )


class ReauthorizationNeeded(AuthorizationError):
    """The refresh token no longer works (revoked, expired, policy): the user must log in again."""

    user_message = "Salesforce connection expired — please reconnect"
    remedy = "Log in again (Settings > Integrations > Connect, or `smvue-tui login`)."


class WrongEnvironment(AuthorizationError):
    """The consumer key or user is not known on this login host (production vs sandbox)."""

    user_message = "Unable to authorize Salesforce connection"
    remedy = (
        "Ensure you're logging into the correct environment: Production is "
        "login.salesforce.com, Sandbox is test.salesforce.com."
    )


class LoginDenied(AuthorizationError):
    """The user (or Salesforce on their behalf) refused the login: ``access_denied``."""

    user_message = "Salesforce login was cancelled or denied"
    remedy = "Start the login again and choose Allow; ask your admin if access is blocked."


class LoginExpired(AuthorizationError):
    """A login did not finish in time: device code or authorization code expired."""

    user_message = "The Salesforce login took too long and expired"
    remedy = "Start the login again and finish it within a few minutes."


class RateLimitExceeded(SalesforceError):
    """403 REQUEST_LIMIT_EXCEEDED: the org's daily API allocation is spent."""

    user_message = "Salesforce API rate limit exceeded"
    # Set by the client when known: the usage reading (usage.ApiUsage) and the best guess of
    # when the allocation frees up (aware datetime; None for the concurrent-request limit).
    usage: object | None = None
    resets_at: object | None = None
    remedy = (
        "Salesforce limits API calls per 24 hours. Syncing resumes when the limit resets "
        "(daily at midnight Pacific Time); incremental syncs use far fewer calls."
    )


class BudgetExceeded(RateLimitExceeded):
    """Our own budget (a share of the daily limit) is reached; nothing was sent."""

    user_message = "Salesforce API budget reached — sync paused"


class PermissionDenied(SalesforceError):
    """INSUFFICIENT_ACCESS and friends: the user may not read this object or field."""

    user_message = "Insufficient permissions to access Salesforce data"
    remedy = (
        "Ensure you have API Enabled permission in your Salesforce profile, that field-level "
        "security allows read access to standard Opportunity fields, and ask your Salesforce "
        "admin if object or field permissions are restricted."
    )


class ApiDisabled(PermissionDenied):
    """API_DISABLED_FOR_ORG (edition without API) or API_CURRENTLY_DISABLED (user lacks it)."""

    user_message = "Salesforce API access is not enabled"
    remedy = (
        "Your Salesforce edition must support API access (Professional with the API add-on, "
        "Enterprise or Unlimited), and your profile needs the API Enabled permission."
    )


class FieldUnavailable(SalesforceError):
    """INVALID_FIELD: a field was removed or hidden by field-level security."""

    user_message = "A Salesforce field is missing or hidden"
    remedy = "The field is skipped; ask your admin to grant read access if you need it."


class ObjectUnavailable(SalesforceError):
    """INVALID_TYPE / NOT_FOUND for an object the org does not have or hides."""

    user_message = "A Salesforce object is not available in this org"
    remedy = "It is skipped; features that need it stay empty."


class QueryError(SalesforceError):
    """MALFORMED_QUERY and other SOQL errors: a bug on our side, never the user's."""

    user_message = "Salesforce rejected a query"


class QueryTimeout(QueryError):
    """QUERY_TIMEOUT: the query ran too long; narrow it and retry."""

    user_message = "A Salesforce query timed out"


class InvalidQueryLocator(QueryError):
    """INVALID_QUERY_LOCATOR: a paging cursor expired; restart from the last checkpoint."""

    user_message = "A Salesforce query cursor expired"
    # Set by the client: how far paging got before the cursor died, and the query it ran.
    pages_seen: int = 0
    records_seen: int = 0
    soql: str = ""


class ServerUnavailable(SalesforceError):
    """5xx, dropped connections and timeouts that outlived our retries."""

    user_message = "Salesforce is not responding"
    remedy = (
        "Check the Salesforce Trust status page for outages; the sync retries on its own. "
        "If stuck for over 1 hour, sync now: y in the app, or `smvue-tui sync`."
    )


class SessionUnstable(ServerUnavailable):
    """401s kept coming although every refresh worked: the login is fine, the sessions are not
    lasting (a very short session timeout, or sessions ended as fast as they are made)."""

    user_message = "Salesforce kept ending the session"
    remedy = ("Run it again; your login still works. If it keeps happening, ask your Salesforce "
              "admin about the session timeout of the connected app.")


class ReadOnlyViolation(SalesforceError):
    """Our own guard refused a request that would write to Salesforce (a bug, never sent)."""

    user_message = "Refused to write to Salesforce"
    remedy = "SMVue is read-only; this is a bug — please report it."


class MetadataFault(SalesforceError):
    """A Metadata API SOAP fault or failed SaveResult/DeleteResult."""

    user_message = "Salesforce refused the change-notification automation"
    remedy = (
        "Updates will come from the scheduled resync. An admin can check Setup > Process "
        "Automation > Outbound Messages."
    )


class MetadataSessionInvalid(MetadataFault):
    """``sf:INVALID_SESSION_ID`` from the Metadata API: refresh the access token and retry."""

    user_message = "Salesforce session expired while changing the automation"


# errorCode → class, for the REST list envelope.
REST_ERROR_CODES: dict[str, type[SalesforceError]] = {
    "INVALID_SESSION_ID": ReauthorizationNeeded,
    "REQUEST_LIMIT_EXCEEDED": RateLimitExceeded,
    "API_DISABLED_FOR_ORG": ApiDisabled,
    "API_CURRENTLY_DISABLED": ApiDisabled,
    "INSUFFICIENT_ACCESS": PermissionDenied,
    "INSUFFICIENT_ACCESS_OR_READONLY": PermissionDenied,
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": PermissionDenied,
    "INVALID_FIELD": FieldUnavailable,
    "INVALID_TYPE": ObjectUnavailable,
    "NOT_FOUND": ObjectUnavailable,
    "MALFORMED_QUERY": QueryError,
    "INVALID_QUERY_FILTER_OPERATOR": QueryError,
    "QUERY_TIMEOUT": QueryTimeout,
    "INVALID_QUERY_LOCATOR": InvalidQueryLocator,
    "EXCEEDED_ID_LIMIT": QueryError,  # getUpdated/getDeleted window too wide: narrow it
    "INVALID_REPLICATION_DATE": QueryError,  # getUpdated/getDeleted window out of range
    "SERVER_UNAVAILABLE": ServerUnavailable,
}

# OAuth error → class, for the OAuth envelope.
OAUTH_ERROR_CODES: dict[str, type[SalesforceError]] = {
    "invalid_grant": ReauthorizationNeeded,
    "invalid_client_id": WrongEnvironment,
    "access_denied": LoginDenied,
    "expired_token": LoginExpired,
}


def from_rest_body(status: int, body: object) -> SalesforceError:
    """The typed error for a REST error response (``[{"message", "errorCode"}]`` or other)."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        code = str(body[0].get("errorCode", ""))
        message = str(body[0].get("message", ""))
        cls = REST_ERROR_CODES.get(code)
        if cls is None:
            cls = ServerUnavailable if status >= 500 else SalesforceError
        return cls(message, code=code, status=status)
    if isinstance(body, dict) and "error" in body:
        return from_oauth_body(status, body)
    if status >= 500:
        return ServerUnavailable(f"HTTP {status}", status=status)
    return SalesforceError(f"HTTP {status}", status=status)


def from_oauth_body(status: int, body: object) -> SalesforceError:
    """The typed error for an OAuth endpoint's ``{"error", "error_description"}`` body."""
    if not isinstance(body, dict):
        return AuthorizationError(f"HTTP {status}", status=status)
    code = str(body.get("error", ""))
    description = str(body.get("error_description", ""))
    cls = OAUTH_ERROR_CODES.get(code, AuthorizationError)
    if code == "invalid_grant" and "authorization code" in description:
        cls = AuthorizationError  # a bad/expired code is a failed login, not a lost session
    return cls(description, code=code, status=status)
