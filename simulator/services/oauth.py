"""Grants and tokens of the identity provider: client auth, codes with PKCE, rotating refresh tokens, revoke, introspect."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from typing import Any, Callable, Mapping
from urllib.parse import unquote_plus

import jwt

from ..domain.oauth import PERSON_SCOPES, at_hash, parse_scope, pkce_matches, valid_pkce_value
from ..errors import (
    InvalidParameter,
    OAuthError,
    OAuthInsufficientScope,
    OAuthInvalidClient,
    OAuthInvalidGrant,
    OAuthInvalidScope,
    OAuthInvalidToken,
    OAuthUnauthorizedClient,
    OAuthUnsupportedGrantType,
    TokenExpired,
    TokenInvalid,
    TokenRevoked,
)
from ..settings import Settings
from ..storage import Store
from ..storage.base import Tx
from .clients import Client, ClientRegistry
from .clock import ClockService
from .consents import REVOCATIONS, ConsentService, consent_key
from .directory import Directory
from .sessions import DEFAULT_SESSION, ns, parse_session
from .tokens import ALGORITHM, SESSION_CLAIM, TokenInfo, TokenService

CODES = "auth_codes"
REFRESH = "refresh_tokens"
FAMILIES = "token_families"
MAX_FIELD = 4096  # no OAuth parameter is legitimately longer; the body limit stops the rest
AMR = ["PWD", "SMS"]  # password, then a one-time SMS code
_SESSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

Form = Mapping[str, str]


def _digest(secret: str) -> str:
    """Codes and refresh tokens are stored under their hash: a copy of the store does not hand out live tokens."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def artifact(session: str) -> str:
    """A fresh code or refresh token that carries its session after a dot, so the token endpoint finds it without
    X-Gosim-Session (a bank's OAuth library will not send our header)."""
    return f"{secrets.token_urlsafe(32)}.{session}"


def artifact_session(value: str) -> str | None:
    _, dot, session = value.partition(".")
    return session if dot and _SESSION_RE.match(session) else None


class OAuthService:
    def __init__(
        self, settings: Settings, store: Store, clock: ClockService, clients: ClientRegistry, directory: Directory,
        tokens: TokenService, consents: ConsentService,
    ) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        self._clients = clients
        self._directory = directory
        self._tokens = tokens
        self._consents = consents
        # The grants table: grant_type -> handler(client, form, session_header) -> token response.
        self._grants: dict[str, Callable[[Client, Form, str | None], dict[str, Any]]] = {
            "authorization_code": self._authorization_code,
            "refresh_token": self._refresh_token,
            "client_credentials": self._client_credentials,
        }

    # -- helpers ------------------------------------------------------------------------------------------------
    def _now(self, session: str) -> float:
        return self._clock.for_session(session).now().timestamp()

    @staticmethod
    def _session(header: str | None, from_artifact: str | None = None) -> str:
        """X-Gosim-Session when sent; else the session the code, refresh token or JWT names; else the default one."""
        if header:
            try:
                return parse_session(header)
            except InvalidParameter:
                raise OAuthError("X-Gosim-Session is malformed") from None
        return from_artifact or DEFAULT_SESSION

    @staticmethod
    def _field(form: Form, name: str, state: str | None = None) -> str | None:
        value = form.get(name)
        if value is None or value == "":
            return None
        if len(value) > MAX_FIELD:
            raise OAuthError(f"{name} is too long", state=state)
        return value

    def _required(self, form: Form, name: str, state: str | None = None) -> str:
        value = self._field(form, name, state)
        if value is None:
            raise OAuthError(f"{name} is required", state=state)
        return value

    def authenticate(self, form: Form, authorization: str | None, state: str | None = None) -> Client:
        """client_secret_basic, client_secret_post, or a public client's bare client_id (RFC 6749 §2.3)."""
        basic: tuple[str, str] | None = None
        if authorization:
            scheme, _, value = authorization.strip().partition(" ")
            if scheme.lower() != "basic":
                raise OAuthInvalidClient("only Basic client authentication is accepted in the Authorization header",
                                         state=state)
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                raise OAuthInvalidClient("the Basic credentials are not valid base64", state=state) from None
            client_id, colon, secret = decoded.partition(":")
            if not colon:
                raise OAuthInvalidClient("the Basic credentials must be client_id:client_secret", state=state)
            basic = (unquote_plus(client_id), unquote_plus(secret))
        form_id = self._field(form, "client_id", state)
        form_secret = self._field(form, "client_secret", state)
        if basic and form_secret is not None:
            raise OAuthError("use one client authentication method, not Basic and client_secret together", state=state)
        if basic and form_id is not None and form_id != basic[0]:
            raise OAuthError("client_id differs from the one in the Basic credentials", state=state)
        client_id = basic[0] if basic else form_id
        if not client_id:
            raise OAuthInvalidClient("client authentication is required (client_secret_basic or client_secret_post)",
                                     state=state)
        client = self._clients.get(client_id)
        if client is None:
            raise OAuthInvalidClient("client_id is not registered", esia="ESIA-007002", state=state)
        secret = basic[1] if basic else form_secret
        if client.is_public:
            if secret:
                raise OAuthInvalidClient("a public client has no client_secret; use PKCE", state=state)
            return client
        if not secret:
            raise OAuthInvalidClient("client_secret is required for this client", state=state)
        if not client.secret_matches(secret):
            raise OAuthInvalidClient("client_secret is invalid", state=state)
        return client

    # -- codes, issued at the end of the login flow -------------------------------------------------------------
    def new_code(self, tx: Tx, session: str, grant: dict[str, Any], now: float) -> str:
        """Store a single-use authorization code for a finished login (inside the login's transaction)."""
        code = artifact(session)
        tx.put(ns(session, CODES), _digest(code), {
            **grant, "issued_at": now, "expires_at": now + self._settings.auth_code_ttl, "used_at": None, "family": None,
        })
        return code

    # -- the token endpoint -------------------------------------------------------------------------------------
    def token(self, form: Form, authorization: str | None, session_header: str | None) -> dict[str, Any]:
        state = form.get("state") if len(form.get("state") or "") <= 512 else None
        client = self.authenticate(form, authorization, state)
        grant_type = self._required(form, "grant_type", state)
        grant = self._grants.get(grant_type)
        if grant is None:
            raise OAuthUnsupportedGrantType(state=state)
        if client.is_public and grant_type == "client_credentials":
            raise OAuthUnauthorizedClient("a public client cannot use client_credentials", state=state)
        response = grant(client, form, session_header)
        if state:
            response["state"] = state
        return response

    def _authorization_code(self, client: Client, form: Form, session_header: str | None) -> dict[str, Any]:
        state = form.get("state")
        code = self._required(form, "code", state)
        session = self._session(session_header, artifact_session(code))
        key = _digest(code)
        doc = self._store.get(ns(session, CODES), key)
        if doc is None:
            raise OAuthInvalidGrant("the authorization code is unknown", state=state)
        if doc["client_id"] != client.client_id:
            raise OAuthInvalidGrant("the authorization code was issued to another client", state=state)
        now = self._now(session)
        if doc["used_at"] is not None:
            self._replayed(session, doc, now)
            raise OAuthInvalidGrant("the authorization code was already used; the tokens issued for it are revoked",
                                    state=state)
        if now >= doc["expires_at"]:
            raise OAuthInvalidGrant("the authorization code has expired", state=state)
        redirect_uri = self._required(form, "redirect_uri", state)
        if redirect_uri != doc["redirect_uri"]:
            raise OAuthInvalidGrant("redirect_uri differs from the one in the authorization request",
                                    esia="ESIA-007023", state=state)
        verifier = self._field(form, "code_verifier", state)
        if doc.get("code_challenge"):
            if verifier is None:
                raise OAuthInvalidGrant("code_verifier is required: the code was requested with a PKCE code_challenge",
                                        state=state)
            if not valid_pkce_value(verifier) or not pkce_matches(verifier, doc["code_challenge"]):
                raise OAuthInvalidGrant("code_verifier does not match the code_challenge", state=state)
        elif verifier is not None:
            raise OAuthInvalidGrant("code_verifier was sent but the authorization request had no code_challenge",
                                    state=state)
        if doc["consent_gen"] != self._consents.generation(session, doc["oid"], client.client_id):
            raise OAuthInvalidGrant("the user revoked the consent for this client", esia="ESIA-007004", state=state)

        family = f"{doc['oid']}:{client.client_id}:{secrets.token_hex(12)}"
        response, access, refresh = self._person_tokens(session, client, doc, family, now, nonce=doc.get("nonce"))
        refresh_doc = self._refresh_doc(doc, family, client.client_id, now, doc["scopes"])

        def commit(tx: Tx) -> bool:
            current = tx.get(ns(session, CODES), key)
            if current is None or current["used_at"] is not None:
                return False  # another worker exchanged it a moment ago: this is a replay too
            tx.put(ns(session, CODES), key, {**current, "used_at": now, "family": family})
            tx.put(ns(session, FAMILIES), family, {
                "client_id": client.client_id, "oid": doc["oid"], "created_at": now, "revoked_at": None,
                "consent_gen": doc["consent_gen"], "access": [access],
            })
            tx.put(ns(session, REFRESH), _digest(refresh), refresh_doc)
            return True

        if not self._store.atomic(commit):
            current = self._store.get(ns(session, CODES), key) or doc
            self._replayed(session, current, now)
            raise OAuthInvalidGrant("the authorization code was already used; the tokens issued for it are revoked",
                                    state=state)
        return response

    def _replayed(self, session: str, code_doc: dict[str, Any], now: float) -> None:
        """RFC 6749 §4.1.2: a code used twice revokes every token issued from it."""
        if code_doc.get("family"):
            self.revoke_family(session, code_doc["family"], now)

    def _refresh_doc(self, grant: Mapping[str, Any], family: str, client_id: str, now: float,
                     scopes: list[str]) -> dict[str, Any]:
        return {
            "family": family, "client_id": client_id, "oid": grant["oid"], "scopes": list(scopes),
            "auth_time": grant["auth_time"], "sid": grant["sid"], "status": "active",
            "issued_at": now, "expires_at": now + self._settings.refresh_token_ttl,
        }

    def _refresh_token(self, client: Client, form: Form, session_header: str | None) -> dict[str, Any]:
        state = form.get("state")
        refresh = self._required(form, "refresh_token", state)
        session = self._session(session_header, artifact_session(refresh))
        key = _digest(refresh)
        doc = self._store.get(ns(session, REFRESH), key)
        if doc is None:
            raise OAuthInvalidGrant("the refresh token is unknown", state=state)
        if doc["client_id"] != client.client_id:
            raise OAuthInvalidGrant("the refresh token was issued to another client", state=state)
        now = self._now(session)
        family = self._store.get(ns(session, FAMILIES), doc["family"]) or {}
        if family.get("revoked_at") is not None:
            raise OAuthInvalidGrant("the refresh token was revoked", state=state)
        if doc["status"] != "active":
            self.revoke_family(session, doc["family"], now)
            raise OAuthInvalidGrant("the refresh token was already used; every token of its family is now revoked",
                                    state=state)
        if now >= doc["expires_at"]:
            raise OAuthInvalidGrant("the refresh token has expired", state=state)
        if family.get("consent_gen") != self._consents.generation(session, doc["oid"], client.client_id):
            raise OAuthInvalidGrant("the user revoked the consent for this client", esia="ESIA-007004", state=state)
        scopes = list(doc["scopes"])
        asked = self._field(form, "scope", state)
        if asked is not None:
            wanted = parse_scope(asked)
            if wanted is None or not wanted or not set(wanted) <= set(scopes):
                raise OAuthInvalidScope("a refresh may only narrow the scopes originally granted", state=state)
            scopes = [s for s in scopes if s in wanted]
        response, access, refresh_new = self._person_tokens(session, client, doc, doc["family"], now, nonce=None,
                                                            scopes=scopes)
        new_doc = self._refresh_doc(doc, doc["family"], client.client_id, now, scopes)

        def rotate(tx: Tx) -> bool:
            current = tx.get(ns(session, REFRESH), key)
            fam = tx.get(ns(session, FAMILIES), doc["family"])
            if current is None or current["status"] != "active" or fam is None or fam.get("revoked_at") is not None:
                return False
            tx.put(ns(session, REFRESH), key, {**current, "status": "rotated", "rotated_at": now})
            tx.put(ns(session, REFRESH), _digest(refresh_new), new_doc)
            live = [a for a in fam["access"] if a["exp"] > now]
            tx.put(ns(session, FAMILIES), doc["family"], {**fam, "access": [*live[-50:], access]})
            return True

        if not self._store.atomic(rotate):
            self.revoke_family(session, doc["family"], now)
            raise OAuthInvalidGrant("the refresh token was already used; every token of its family is now revoked",
                                    state=state)
        return response

    def _client_credentials(self, client: Client, form: Form, session_header: str | None) -> dict[str, Any]:
        state = form.get("state")
        session = self._session(session_header)
        asked = self._field(form, "scope", state)
        scopes = parse_scope(asked)
        if scopes is None:
            raise OAuthInvalidScope("scope is malformed", state=state)
        if not scopes:
            scopes = sorted(client.scopes - PERSON_SCOPES)
            if not scopes:
                raise OAuthInvalidScope("this client has no scope it may use without a person", state=state)
        personal = [s for s in scopes if s in PERSON_SCOPES]
        if personal:
            raise OAuthInvalidScope(f"scope {' '.join(personal)} is about a person; use authorization_code",
                                    state=state)
        unknown = [s for s in scopes if s not in client.scopes]
        if unknown:
            raise OAuthInvalidScope(f"scope {' '.join(unknown)} is not allowed for this client", state=state)
        ttl = self._settings.access_token_ttl
        token, claims = self._tokens.mint(session=session, client_id=client.client_id, scopes=scopes, ttl=ttl)
        return {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "scope": claims["scope"]}

    def _person_tokens(
        self, session: str, client: Client, grant: Mapping[str, Any], family: str, now: float, *,
        nonce: str | None, scopes: list[str] | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any], str]:
        """Access token (+ id_token with openid) and a new refresh token; returns (response, access ref, refresh)."""
        scopes = list(grant["scopes"] if scopes is None else scopes)
        oid = int(grant["oid"])
        ttl = self._settings.access_token_ttl
        extra: dict[str, Any] = {"urn:esia:sid": grant["sid"]}
        # TokenService revokes a person's tokens with iat <= the consent cut; one issued after a re-grant in the same
        # (or a frozen) second must not fall under it, so its iat/nbf move just past the cut (within verify's skew).
        cut = self._consents.revoked_at(session, oid, client.client_id)
        if cut is not None and int(now) <= cut:
            extra.update(iat=int(cut) + 1, nbf=int(cut) + 1)
        access, claims = self._tokens.mint(
            session=session, client_id=client.client_id, scopes=scopes, ttl=ttl, oid=oid, extra=extra,
        )
        refresh = artifact(session)
        response: dict[str, Any] = {
            "access_token": access, "token_type": "Bearer", "expires_in": ttl, "refresh_token": refresh,
            "scope": claims["scope"],
        }
        if "openid" in scopes:
            response["id_token"] = self._id_token(session, client, grant, access, now, nonce)
        return response, {"jti": claims["jti"], "exp": claims["exp"]}, refresh

    def _id_token(self, session: str, client: Client, grant: Mapping[str, Any], access: str, now: float,
                  nonce: str | None) -> str:
        oid = int(grant["oid"])
        person = self._directory.person(oid) or {}
        subject: dict[str, Any] = {"typ": "P", "oid": oid}
        if person.get("level") == "confirmed":
            subject["is_tru"] = True
        claims: dict[str, Any] = {
            "iss": self._tokens.issuer, "sub": str(oid), "aud": client.client_id, "azp": client.client_id,
            "iat": int(now), "nbf": int(now), "exp": int(now) + self._settings.id_token_ttl,
            "auth_time": int(grant["auth_time"]), "amr": list(grant.get("amr") or AMR),
            "at_hash": at_hash(access), "urn:esia:sid": grant["sid"], "urn:esia:sbj": subject,
            SESSION_CLAIM: session,
        }
        if nonce:
            claims["nonce"] = nonce
        key = self._tokens.key
        return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": "JWT"})

    def revoke_family(self, session: str, family: str, now: float) -> None:
        """Every access token and refresh token descended from one code stops working."""

        def mark(tx: Tx) -> list[dict[str, Any]]:
            doc = tx.get(ns(session, FAMILIES), family)
            if doc is None:
                return []
            if doc.get("revoked_at") is None:
                tx.put(ns(session, FAMILIES), family, {**doc, "revoked_at": now})
            return list(doc["access"])

        for ref in self._store.atomic(mark):
            if ref["exp"] > now:
                self._tokens.revoke(session, ref["jti"], ref["exp"])

    # -- revocation (RFC 7009) and introspection (RFC 7662) -----------------------------------------------------
    def _find_refresh(self, token: str, session_header: str | None) -> tuple[str, str, dict[str, Any]] | None:
        session = self._session(session_header, artifact_session(token))
        doc = self._store.get(ns(session, REFRESH), _digest(token))
        return (session, _digest(token), doc) if doc is not None else None

    def _verify_access(self, token: str, session_header: str | None) -> TokenInfo | None:
        """The access token's verified info, or None for anything that is not a live token of ours."""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        claimed = claims.get(SESSION_CLAIM) if isinstance(claims, dict) else None
        session = self._session(session_header, claimed if isinstance(claimed, str) else None)
        try:
            return self._tokens.verify(token, session)
        except TokenInvalid:
            return None

    def revoke(self, form: Form, authorization: str | None, session_header: str | None) -> None:
        client = self.authenticate(form, authorization)
        token = self._required(form, "token")
        found = self._find_refresh(token, session_header)
        if found is not None:
            session, _, doc = found
            # Someone else's token is treated like an unknown one (RFC 7009 §2.2): nothing happens, and nothing leaks.
            if doc["client_id"] == client.client_id:
                self.revoke_family(session, doc["family"], self._now(session))
            return
        info = self._verify_access(token, session_header)
        if info is not None and info.client_id == client.client_id:
            self._tokens.revoke(info.session, info.jti, info.exp)

    def introspect(self, form: Form, authorization: str | None, session_header: str | None) -> dict[str, Any]:
        client = self.authenticate(form, authorization)
        token = self._required(form, "token")
        found = self._find_refresh(token, session_header)
        if found is not None:
            return self._introspect_refresh(client, *found)
        info = self._verify_access(token, session_header)
        if info is None or info.client_id != client.client_id:
            return {"active": False}
        out: dict[str, Any] = {
            "active": True, "token_type": "Bearer", "scope": " ".join(sorted(info.scopes)), "client_id": info.client_id,
            "sub": info.sub, "aud": info.client_id, "iss": self._tokens.issuer, "iat": info.iat, "nbf": info.iat,
            "exp": info.exp, "jti": info.jti,
        }
        if info.oid is not None:
            out["urn:esia:sbj_id"] = info.oid
        return out

    def _introspect_refresh(self, client: Client, session: str, key: str, doc: dict[str, Any]) -> dict[str, Any]:
        now = self._now(session)
        family = self._store.get(ns(session, FAMILIES), doc["family"]) or {}
        live = (
            doc["client_id"] == client.client_id and doc["status"] == "active" and now < doc["expires_at"]
            and family.get("revoked_at") is None
            and family.get("consent_gen") == self._consents.generation(session, doc["oid"], doc["client_id"])
        )
        if not live:
            return {"active": False}
        return {
            "active": True, "token_type": "refresh_token", "scope": " ".join(doc["scopes"]),
            "client_id": doc["client_id"], "sub": str(doc["oid"]), "iss": self._tokens.issuer,
            "iat": int(doc["issued_at"]), "exp": int(doc["expires_at"]), "urn:esia:sbj_id": doc["oid"],
        }

    # -- userinfo (OIDC Core §5.3) ------------------------------------------------------------------------------
    def userinfo(self, authorization: str | None, session_header: str | None) -> dict[str, Any]:
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > MAX_FIELD:
            raise OAuthInvalidToken("a Bearer access token is required")
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise OAuthInvalidToken("the access token is not a valid JWT") from None
        claimed = claims.get(SESSION_CLAIM) if isinstance(claims, dict) else None
        session = self._session(session_header, claimed if isinstance(claimed, str) else None)
        try:
            info = self._tokens.verify(token, session)
        except TokenExpired:
            raise OAuthInvalidToken("the access token has expired") from None
        except TokenRevoked:
            raise OAuthInvalidToken("the access token was revoked") from None
        except TokenInvalid:
            raise OAuthInvalidToken("the access token is invalid") from None
        if info.oid is None:
            raise OAuthInvalidToken("the access token was issued to a client, not to a person")
        if "openid" not in info.scopes:
            raise OAuthInsufficientScope()
        person = self._directory.person(info.oid)
        if person is None:
            raise OAuthInvalidToken("the person of this token no longer exists")
        return userinfo_claims(info.oid, person, info.scopes)


def userinfo_claims(oid: int, person: Mapping[str, Any], scopes: frozenset[str]) -> dict[str, Any]:
    """OIDC standard claims (and ESIA's own for СНИЛС, ИНН, documents), each group only with its scope."""
    out: dict[str, Any] = {"sub": str(oid), "urn:esia:sbj_id": oid, "trusted": person.get("level") == "confirmed"}
    if "fullname" in scopes:
        parts = [person.get("last_name"), person.get("first_name"), person.get("middle_name")]
        out.update(family_name=parts[0], given_name=parts[1], name=" ".join(p for p in parts if p))
        if parts[2]:
            out["middle_name"] = parts[2]
    if "birthdate" in scopes and person.get("birth_date"):
        out["birthdate"] = person["birth_date"]
        if person.get("birth_place"):
            out["birth_place"] = person["birth_place"]
    if "gender" in scopes and person.get("gender") in ("M", "F"):
        out["gender"] = "male" if person["gender"] == "M" else "female"
    if "contacts" in scopes:
        if person.get("phone"):
            out.update(phone_number=person["phone"], phone_number_verified=True)
        if person.get("email"):
            out.update(email=person["email"], email_verified=True)
    for scope, key in (("snils", "snils"), ("inn", "inn"), ("id_doc", "passport"),
                       ("drivers_licence_doc", "driving_licence"), ("vehicles", "vehicles")):
        if scope in scopes and person.get(key) is not None:
            out[key] = person[key]
    return {k: v for k, v in out.items() if v is not None}


__all__ = ["CODES", "FAMILIES", "REFRESH", "REVOCATIONS", "OAuthService", "artifact", "artifact_session",
           "consent_key", "userinfo_claims"]
