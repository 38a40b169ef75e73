"""Handlers of the `discovery` tag: the OpenID configuration and the JWK set."""

from __future__ import annotations

from ..http.context import services


def get_openid_configuration() -> dict:
    svc = services()
    iss = svc.settings.issuer
    scopes = sorted({s for client in svc.clients for s in client.scopes})
    return {
        "issuer": iss,
        "authorization_endpoint": f"{iss}/oauth2/authorize",
        "token_endpoint": f"{iss}/oauth2/token",
        "jwks_uri": f"{iss}/oauth2/jwks",
        "userinfo_endpoint": f"{iss}/oauth2/userinfo",
        "revocation_endpoint": f"{iss}/oauth2/revoke",
        "introspection_endpoint": f"{iss}/oauth2/introspect",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "response_modes_supported": ["query"],
        "prompt_values_supported": ["consent", "login"],
        "ui_locales_supported": ["ru"],
        "scopes_supported": scopes,
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "at_hash", "urn:esia:sbj_id", "urn:esia:sbj",
            "urn:esia:sid", "family_name", "given_name", "middle_name", "name", "birthdate", "gender", "phone_number",
            "email", "snils", "inn",
        ],
    }


def get_jwks() -> dict:
    return services().tokens.jwks()
