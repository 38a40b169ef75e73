"""Access tokens: RS256 JWTs signed with the key from fixtures/keys, verified against the session's simulated clock."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from ..errors import TokenExpired, TokenInvalid, TokenRevoked
from ..storage import Store
from .clients import ClientRegistry
from .clock import ClockService
from .sessions import ns

ALGORITHM = "RS256"
CLOCK_SKEW = 30  # seconds of leeway for nbf/iat, as most verifiers allow
SESSION_CLAIM = "gosim_session"


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: RSAPrivateKey

    @classmethod
    def load(cls, path: Path) -> "SigningKey":
        # The operator's own key file, not outside input: OpenSSL's consistency check of the RSA key costs ~30 ms of
        # every worker start, and a broken key still fails every signature check the tests make.
        private = serialization.load_pem_private_key(path.read_bytes(), password=None,
                                                     unsafe_skip_rsa_key_validation=True)
        if not isinstance(private, RSAPrivateKey):
            raise ValueError(f"{path}: the signing key must be RSA")
        numbers = private.public_key().public_numbers()
        # RFC 7638 thumbprint: the same key file gives the same kid on every replica and after restarts.
        thumb = json.dumps({"e": _b64(numbers.e), "kty": "RSA", "n": _b64(numbers.n)}, separators=(",", ":"), sort_keys=True)
        kid = base64.urlsafe_b64encode(hashlib.sha256(thumb.encode()).digest()).rstrip(b"=").decode()[:16]
        return cls(kid=kid, private=private)

    def jwk(self) -> dict[str, str]:
        numbers = self.private.public_key().public_numbers()
        return {"kty": "RSA", "use": "sig", "alg": ALGORITHM, "kid": self.kid, "n": _b64(numbers.n), "e": _b64(numbers.e)}


@dataclass(frozen=True)
class TokenInfo:
    """What a verified access token says; handlers read the subject, client and scopes from here."""

    sub: str
    client_id: str
    scopes: frozenset[str]
    session: str
    jti: str
    iat: int
    exp: int
    oid: int | None  # the person, when the token was issued for one

    def as_dict(self) -> dict[str, Any]:
        return {
            "sub": self.sub, "client_id": self.client_id, "scope": sorted(self.scopes), "session": self.session,
            "jti": self.jti, "iat": self.iat, "exp": self.exp, "oid": self.oid,
        }


class TokenService:
    def __init__(self, key: SigningKey, issuer: str, clients: ClientRegistry, clock: ClockService, store: Store) -> None:
        self.key = key
        self.issuer = issuer
        self._clients = clients
        self._clock = clock
        self._store = store
        self._public = key.private.public_key()
        # Signature checks cost ~100 µs; a token is verified on every call, so remember the ones that passed.
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def mint(
        self, *, session: str, client_id: str, scopes: list[str] | frozenset[str], ttl: int,
        oid: int | None = None, extra: dict[str, Any] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        now = int(self._clock.for_session(session).now().timestamp())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": str(oid) if oid is not None else client_id,
            "aud": client_id,
            "client_id": client_id,
            "scope": " ".join(sorted(scopes)),
            "iat": now,
            "nbf": now,
            "exp": now + int(ttl),
            "jti": str(uuid.uuid4()),
            SESSION_CLAIM: session,
        }
        if oid is not None:
            claims["urn:esia:sbj_id"] = oid
        claims.update(extra or {})
        token = jwt.encode(claims, self.key.private, algorithm=ALGORITHM, headers={"kid": self.key.kid, "typ": "JWT"})
        return token, claims

    def _signature_claims(self, token: str) -> dict[str, Any]:
        with self._lock:
            cached = self._verified.get(token)
            if cached is not None:
                self._verified.move_to_end(token)
                return cached
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenInvalid("Токен не является корректным JWT.") from exc
        if header.get("alg") != ALGORITHM:
            raise TokenInvalid(f"Алгоритм подписи токена должен быть {ALGORITHM}.")
        if header.get("kid") not in (None, self.key.kid):
            raise TokenInvalid("Токен подписан неизвестным ключом.")
        try:
            claims = jwt.decode(
                token, self._public, algorithms=[ALGORITHM],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False,
                         "require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
            )
        except jwt.InvalidSignatureError as exc:
            raise TokenInvalid("Подпись токена не подтверждена.") from exc
        except jwt.PyJWTError as exc:
            raise TokenInvalid("Токен не прошёл проверку.") from exc
        with self._lock:
            self._verified[token] = claims
            if len(self._verified) > 10_000:
                self._verified.popitem(last=False)
        return claims

    def verify(self, token: str, session: str) -> TokenInfo:
        """Signature, issuer, audience, lifetime on the session's clock, session, revocation: in that order."""
        claims = self._signature_claims(token)
        if claims.get("iss") != self.issuer:
            raise TokenInvalid("Токен выпущен другим издателем.")
        client_id = claims.get("client_id")
        if claims.get("aud") != client_id or self._clients.get(client_id) is None:
            raise TokenInvalid("Токен выпущен для неизвестной системы.")
        if claims.get(SESSION_CLAIM) != session:
            raise TokenInvalid("Токен выпущен в другой сессии симулятора.")
        now = self._clock.for_session(session).now().timestamp()
        try:
            exp, iat, nbf = int(claims["exp"]), int(claims["iat"]), int(claims.get("nbf", claims["iat"]))
        except (TypeError, ValueError) as exc:
            raise TokenInvalid("Поля времени в токене некорректны.") from exc
        if now >= exp:
            raise TokenExpired()
        if nbf > now + CLOCK_SKEW or iat > now + CLOCK_SKEW:
            raise TokenInvalid("Токен ещё не действителен.")
        scopes = frozenset(str(claims.get("scope", "")).split())
        oid = claims.get("urn:esia:sbj_id")
        info = TokenInfo(
            sub=str(claims["sub"]), client_id=client_id, scopes=scopes, session=session, jti=str(claims["jti"]),
            iat=iat, exp=exp, oid=int(oid) if isinstance(oid, int) else None,
        )
        self._check_not_revoked(info)
        return info

    def _check_not_revoked(self, info: TokenInfo) -> None:
        if self._store.get(ns(info.session, "revoked_tokens"), info.jti) is not None:
            raise TokenRevoked()
        if info.oid is not None:
            cut = self._store.get(ns(info.session, "consent_revocations"), f"{info.oid}:{info.client_id}")
            if cut is not None and info.iat <= float(cut["at"]):
                raise TokenRevoked("Пользователь отозвал согласие на доступ для этой системы.")

    def revoke(self, session: str, jti: str, exp: int) -> None:
        self._store.put(ns(session, "revoked_tokens"), jti, {"exp": exp})

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.jwk()]}
