"""English titles and generic details of every error code, for problems answered with `Accept-Language: en`."""

from __future__ import annotations

from http import HTTPStatus
from typing import NamedTuple


class English(NamedTuple):
    title: str
    detail: str


# One entry per code of simulator.errors (a test checks every code is here). The Russian texts stay on the classes;
# a raise site's own Russian detail has no translation, so English mode answers the code's generic detail instead.
EN: dict[str, English] = {
    "INTERNAL_ERROR": English("Internal error", "Internal error of the simulator."),
    "MALFORMED_REQUEST": English("Malformed request", "The request could not be parsed."),
    "MALFORMED_JSON": English("Malformed JSON", "The request body is not valid UTF-8 JSON."),
    "INVALID_PARAMETER": English("Invalid parameter", "A request parameter does not match the specification."),
    "INVALID_UIN": English("Invalid UIN", "A UIN has 20 or 25 digits with a valid check digit."),
    "INVALID_CURSOR": English("Invalid cursor", "The pagination cursor is damaged or stale."),
    "UNAUTHORIZED": English("Authorization required", "Send an access token in the header Authorization: Bearer."),
    "TOKEN_INVALID": English("Invalid token", "The access token failed verification."),
    "TOKEN_EXPIRED": English("Token expired", "The access token has expired; refresh it."),
    "TOKEN_REVOKED": English("Token revoked", "The access token was revoked or the consent was withdrawn."),
    "ADMIN_TOKEN_REQUIRED": English(
        "Admin token required", "The control API needs the GOSIM_ADMIN_TOKEN bearer token."),
    "INSUFFICIENT_SCOPE": English("Insufficient scope", "The token lacks a scope this operation requires."),
    "FORBIDDEN": English("Forbidden", "Access to the resource is forbidden."),
    "IP_NOT_ALLOWED": English(
        "Address not allowed", "This client's requests are accepted only from the addresses on its allowlist."),
    "SIGNATURE_INVALID": English(
        "Invalid request signature",
        "The request signature (X-Gosim-Request-Signature) is missing, wrong or too old."),
    "NOT_FOUND": English("Not found", "The resource was not found."),
    "CHARGE_NOT_FOUND": English("Charge not found", "No charge has this UIN."),
    "PERSON_NOT_FOUND": English("Person not found", "The person was not found."),
    "CLIENT_NOT_FOUND": English("Client not found", "No client (client_id) is registered under this id."),
    "SCENARIO_NOT_FOUND": English("Scenario not found", "No scenario has this name."),
    "PAYMENT_NOT_FOUND": English("Payment not found", "No payment has this id."),
    "WEBHOOK_DELIVERY_NOT_FOUND": English("Webhook delivery not found", "No webhook delivery has this id."),
    "METHOD_NOT_ALLOWED": English("Method not allowed", "This method is not supported for the resource."),
    "NOT_ACCEPTABLE": English("Not acceptable", "The server answers in application/json only."),
    "CONFLICT": English("Conflict", "The operation conflicts with the current state of the resource."),
    "SCENARIO_EXISTS": English("Scenario exists", "A scenario with this name exists; replace it with PUT."),
    "CHARGE_ALREADY_PAID": English("Charge already paid", "The charge is already paid; a second payment is refused."),
    "PAYMENT_IN_PROGRESS": English(
        "Payment in progress", "A payment for this charge is in progress; wait for it to finish or cancel it."),
    "PAYMENT_STATE_CONFLICT": English(
        "Action not allowed for the payment", "The action is not allowed in the payment's current state."),
    "REQUEST_TIMEOUT": English(
        "Request body not received in time", "The request body did not arrive in full in time; the connection is closed."),
    "PAYLOAD_TOO_LARGE": English("Payload too large", "The request body is larger than 64 KB."),
    "UNSUPPORTED_MEDIA_TYPE": English("Unsupported media type", "The request body must be application/json."),
    "VALIDATION_FAILED": English("Validation failed", "The request data failed validation."),
    "AMOUNT_MISMATCH": English("Amount mismatch", "The payment amount must equal the amount due right now."),
    "IDEMPOTENCY_KEY_REQUIRED": English(
        "Idempotency key required",
        "Send an Idempotency-Key header (1-255 printable ASCII characters), unique for each new payment."),
    "IDEMPOTENCY_KEY_REUSED": English(
        "Idempotency key reused",
        "This Idempotency-Key was used with another request body; a new payment needs a new key."),
    "RATE_LIMITED": English("Too many requests", "The request limit is exceeded; retry later."),
    "OAUTH_INVALID_REQUEST": English(
        "Invalid OAuth request", "A required parameter is missing or a parameter is invalid."),
    "OAUTH_INVALID_CLIENT": English(
        "Client authentication failed",
        "Unknown client_id, wrong client_secret, or no client authentication method given."),
    "OAUTH_INVALID_GRANT": English(
        "Invalid code or refresh token",
        "The authorization code or refresh token is invalid, expired, already used or issued to another client."),
    "OAUTH_UNAUTHORIZED_CLIENT": English(
        "Grant not allowed for the client", "The client may not obtain tokens with this grant_type."),
    "OAUTH_UNSUPPORTED_GRANT_TYPE": English(
        "Unsupported grant_type", "Supported: authorization_code, refresh_token and client_credentials."),
    "OAUTH_UNSUPPORTED_RESPONSE_TYPE": English("Unsupported response_type", "Only response_type=code is supported."),
    "OAUTH_INVALID_SCOPE": English(
        "Invalid scope", "The requested scope is not allowed for the client, or no scope was given."),
    "OAUTH_ACCESS_DENIED": English("Access denied by the user", "The user refused access or cancelled the login."),
    "OAUTH_UNCONFIRMED_ACCOUNT": English(
        "Account not confirmed", "Only a confirmed Gosuslugi account can be linked to a bank."),
    "OAUTH_LOGIN_REQUIRED": English("Login required", "prompt=none is impossible: gosim always shows the login page."),
    "OAUTH_INVALID_TOKEN": English(
        "Invalid access token", "The access token is missing, invalid, expired or revoked."),
    "OAUTH_INSUFFICIENT_SCOPE": English(
        "Insufficient token scope", "The token lacks the openid scope that userinfo needs."),
    "OAUTH_SERVER_ERROR": English("Authorization server error", "Internal error of the authorization server."),
    "OAUTH_TEMPORARILY_UNAVAILABLE": English(
        "Authorization server unavailable", "The authorization server is temporarily unavailable; retry later."),
    "SERVICE_UNAVAILABLE": English("Service unavailable", "The service is temporarily unavailable; retry later."),
    "BAD_GATEWAY": English("Bad gateway", "A back-end system of the portal answered with an error; retry later."),
    "GATEWAY_TIMEOUT": English("Gateway timeout", "A back-end system of the portal did not answer in time; retry later."),
}


def english(code: str, status: int) -> English:
    """The code's English texts; a code added without them falls back to the HTTP reason phrase, never to Russian."""
    found = EN.get(code)
    if found is not None:
        return found
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return English(phrase, f"{phrase} ({code}).")
