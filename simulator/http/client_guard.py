"""Per-client rules from fixtures/clients.yaml: IP allowlist (403), mandatory HMAC request signing (401), rate limit (429)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..domain.signing import SignatureError, check_request_signature, ip_allowed
from ..errors import IpNotAllowed, RateLimited, SignatureInvalid
from ..scenarios.engine import rate_headers, take_token
from ..scenarios.model import Throttle
from ..services.sessions import ns
from ..services.tokens import TokenInfo
from .bodies import read_body, replay

if TYPE_CHECKING:
    from ..services.container import Services

TIMESTAMP_HEADER = b"x-gosim-timestamp"
SIGNATURE_HEADER = b"x-gosim-request-signature"


def _token(scope: dict) -> TokenInfo | None:
    """The token connexion's security step verified for this request (None for unsecured operations)."""
    info = ((scope.get("extensions") or {}).get("connexion_context") or {}).get("token_info")
    token = info.get("info") if isinstance(info, dict) else None
    return token if isinstance(token, TokenInfo) else None


class ClientGuardMiddleware:
    """Pure ASGI, placed after security so the client id comes from the verified token, never from a header."""

    def __init__(self, app: Any, services: "Services") -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        token = _token(scope) if scope["type"] == "http" else None
        client = self.services.clients.get(token.client_id) if token else None
        if client is None or not (client.ip_allowlist or client.signing_secret or client.rate_limit):
            await self.app(scope, receive, send)
            return
        if client.rate_limit:
            self._take_token(token, client.rate_limit)
        if client.ip_allowlist:
            address = (scope.get("client") or (None,))[0]
            if not ip_allowed(address, client.ip_allowlist):
                raise IpNotAllowed(f"Адрес {address} не входит в список разрешённых для системы {client.client_id}.")
        if client.signing_secret:
            body, whole = await read_body(receive)
            headers = dict(scope.get("headers") or [])
            path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
            if scope.get("query_string"):
                path += "?" + scope["query_string"].decode("latin-1")
            try:
                check_request_signature(
                    client.signing_secret, scope["method"], path,
                    _header(headers, TIMESTAMP_HEADER), _header(headers, SIGNATURE_HEADER), body,
                    now=self.services.clock.base.now().timestamp(), max_skew=client.signing_max_skew,
                )
            except SignatureError as exc:
                raise SignatureInvalid(f"Подпись запроса не принята: {exc}.") from None
            receive = replay(body, whole=whole)
        await self.app(scope, receive, send)

    def _take_token(self, token: TokenInfo, limit: dict[str, Any]) -> None:
        """One token from the client's bucket, shared by every worker and replica through the store; 429 when empty."""
        per_second = float(limit.get("per_second", 10))
        throttle = Throttle(rate=per_second, per=1.0, burst=int(limit.get("burst", max(1, int(per_second)))))
        now = self.services.clock.base.now().timestamp()  # rate limits run on real time, like the portal's gateway
        bucket_ns = ns(token.session, "client_rate_limits")

        def take(tx: Any) -> Any:
            bucket = take_token(tx.get(bucket_ns, token.client_id), now, throttle)
            tx.put(bucket_ns, token.client_id, bucket.state)
            return bucket

        bucket = self.services.store.atomic(take)
        if not bucket.allowed:
            raise RateLimited(
                retry_after=bucket.retry_after,
                detail=f"Система {token.client_id} превысила лимит: {throttle.burst} запросов, {per_second:g} в секунду.",
                headers=dict(rate_headers(throttle, bucket)),
            )


def _header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value is not None else None
