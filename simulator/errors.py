"""The one error family: every failure a client can see, with its status, stable code and problem+json rendering."""

from __future__ import annotations

import json
from typing import Any, Iterable

PROBLEM_JSON = "application/problem+json"


class GosimError(Exception):
    """A failure with a stable machine-readable ``code``; rendered as RFC 9457 problem+json."""

    status = 500
    code = "INTERNAL_ERROR"
    title = "Внутренняя ошибка"
    detail = "Внутренняя ошибка симулятора."

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Iterable[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.detail)
        self.detail = detail or self.detail
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})
        self.extra = extra

    def body(self) -> dict[str, Any]:
        problem: dict[str, Any] = {
            "type": f"urn:gosim:error:{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if self.errors is not None:
            problem["errors"] = self.errors
        problem.update(self.extra)
        return problem

    def response_headers(self) -> dict[str, str]:
        return {"Content-Type": PROBLEM_JSON, **self.headers}

    def render(self) -> bytes:
        return json.dumps(self.body(), ensure_ascii=False, separators=(",", ":")).encode()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}: {self.detail})"


def field_error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


# -- 400 ---------------------------------------------------------------------------------------------------------
class MalformedRequest(GosimError):
    status, code, title = 400, "MALFORMED_REQUEST", "Некорректный запрос"
    detail = "Запрос не удалось разобрать."


class MalformedJson(GosimError):
    status, code, title = 400, "MALFORMED_JSON", "Некорректный JSON"
    detail = "Тело запроса не является корректным JSON в кодировке UTF-8."


class InvalidParameter(GosimError):
    status, code, title = 400, "INVALID_PARAMETER", "Некорректный параметр"
    detail = "Параметр запроса не соответствует спецификации."


class InvalidUin(GosimError):
    status, code, title = 400, "INVALID_UIN", "Некорректный УИН"
    detail = "УИН должен состоять из 20 или 25 цифр с верным контрольным разрядом."


class InvalidCursor(GosimError):
    status, code, title = 400, "INVALID_CURSOR", "Некорректный курсор"
    detail = "Курсор постраничного вывода повреждён или устарел."


# -- 401 / 403 ---------------------------------------------------------------------------------------------------
class Unauthorized(GosimError):
    status, code, title = 401, "UNAUTHORIZED", "Требуется авторизация"
    detail = "Передайте токен доступа в заголовке Authorization: Bearer."
    bearer_error = "invalid_request"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("WWW-Authenticate", f'Bearer error="{self.bearer_error}"')


class TokenInvalid(Unauthorized):
    code, title = "TOKEN_INVALID", "Недействительный токен"
    detail = "Токен доступа не прошёл проверку."
    bearer_error = "invalid_token"


class TokenExpired(TokenInvalid):
    code, title = "TOKEN_EXPIRED", "Срок действия токена истёк"
    detail = "Срок действия токена доступа истёк; обновите его."


class TokenRevoked(TokenInvalid):
    code, title = "TOKEN_REVOKED", "Токен отозван"
    detail = "Токен доступа отозван или согласие на доступ отменено."


class InsufficientScope(GosimError):
    status, code, title = 403, "INSUFFICIENT_SCOPE", "Недостаточно прав"
    detail = "Токену не выдано разрешение на эту операцию."

    def __init__(self, required: Iterable[str] = (), detail: str | None = None, **kwargs: Any) -> None:
        required = sorted(required)
        super().__init__(detail or (f"Требуются разрешения: {' '.join(required)}." if required else None), **kwargs)
        scope = f' scope="{" ".join(required)}"' if required else ""
        self.headers.setdefault("WWW-Authenticate", f'Bearer error="insufficient_scope"{scope}')
        if required:
            self.extra["required_scopes"] = required


class Forbidden(GosimError):
    status, code, title = 403, "FORBIDDEN", "Доступ запрещён"
    detail = "Доступ к ресурсу запрещён."


class AdminTokenRequired(Unauthorized):
    code, title = "ADMIN_TOKEN_REQUIRED", "Нужен токен администратора"
    detail = "Управляющий API доступен только с токеном GOSIM_ADMIN_TOKEN."
    bearer_error = "invalid_token"


class SignatureInvalid(GosimError):
    """The client must sign its requests (fixtures/clients.yaml request_signing) and this one is not signed right."""

    status, code, title = 401, "SIGNATURE_INVALID", "Подпись запроса неверна"
    detail = "Подпись запроса (X-Gosim-Request-Signature) отсутствует, неверна или устарела."

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("WWW-Authenticate", 'HMAC-SHA256 realm="gosim", headers="X-Gosim-Timestamp X-Gosim-Request-Signature"')


class IpNotAllowed(Forbidden):
    code, title = "IP_NOT_ALLOWED", "Адрес не разрешён"
    detail = "Запросы этой системы принимаются только с адресов из её списка разрешённых."


# -- 404 / 405 / 406 ---------------------------------------------------------------------------------------------
class NotFound(GosimError):
    status, code, title = 404, "NOT_FOUND", "Не найдено"
    detail = "Ресурс не найден."


class ChargeNotFound(NotFound):
    code, title = "CHARGE_NOT_FOUND", "Начисление не найдено"
    detail = "Начисление с таким УИН не найдено."


class PersonNotFound(NotFound):
    code, title = "PERSON_NOT_FOUND", "Пользователь не найден"
    detail = "Пользователь не найден."


class ClientNotFound(NotFound):
    code, title = "CLIENT_NOT_FOUND", "Система не найдена"
    detail = "Система (client_id) не зарегистрирована."


class ScenarioNotFound(NotFound):
    code, title = "SCENARIO_NOT_FOUND", "Сценарий не найден"
    detail = "Сценарий с таким именем не найден."


class PaymentNotFound(NotFound):
    code, title = "PAYMENT_NOT_FOUND", "Платёж не найден"
    detail = "Платёж с таким идентификатором не найден."


class WebhookDeliveryNotFound(NotFound):
    code, title = "WEBHOOK_DELIVERY_NOT_FOUND", "Уведомление не найдено"
    detail = "Доставка уведомления с таким идентификатором не найдена."


class MethodNotAllowed(GosimError):
    status, code, title = 405, "METHOD_NOT_ALLOWED", "Метод не поддерживается"
    detail = "Этот метод не поддерживается для данного ресурса."


class NotAcceptable(GosimError):
    status, code, title = 406, "NOT_ACCEPTABLE", "Формат ответа не поддерживается"
    detail = "Сервер отвечает только в формате application/json."


# -- 409 / 413 / 415 / 422 / 429 ---------------------------------------------------------------------------------
class Conflict(GosimError):
    status, code, title = 409, "CONFLICT", "Конфликт"
    detail = "Операция конфликтует с текущим состоянием ресурса."


class ScenarioExists(Conflict):
    code, title = "SCENARIO_EXISTS", "Сценарий уже существует"
    detail = "Сценарий с таким именем уже есть; замените его через PUT."


class ChargeAlreadyPaid(Conflict):
    code, title = "CHARGE_ALREADY_PAID", "Начисление уже оплачено"
    detail = "Начисление уже оплачено; повторный платёж не принимается."


class PaymentInProgress(Conflict):
    code, title = "PAYMENT_IN_PROGRESS", "Платёж уже выполняется"
    detail = "По этому начислению уже проводится платёж; дождитесь его завершения или отмените его."


class PaymentStateConflict(Conflict):
    code, title = "PAYMENT_STATE_CONFLICT", "Недопустимое действие для платежа"
    detail = "Действие недопустимо в текущем состоянии платежа."

    def __init__(self, state: str, action: str, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail or f"Платёж в состоянии {state}: действие {action} недопустимо.", **kwargs)
        self.extra.update({"current_status": state, "action": action})


class RequestTimeout(GosimError):
    status, code, title = 408, "REQUEST_TIMEOUT", "Тело запроса не получено вовремя"
    detail = "Тело запроса не пришло целиком за отведённое время; соединение закрыто."


class PayloadTooLarge(GosimError):
    status, code, title = 413, "PAYLOAD_TOO_LARGE", "Слишком большой запрос"
    detail = "Тело запроса больше 64 КБ."


class UnsupportedMediaType(GosimError):
    status, code, title = 415, "UNSUPPORTED_MEDIA_TYPE", "Неподдерживаемый тип содержимого"
    detail = "Тело запроса должно быть в формате application/json."


class ValidationFailed(GosimError):
    status, code, title = 422, "VALIDATION_FAILED", "Ошибка проверки данных"
    detail = "Данные запроса не прошли проверку."


class AmountMismatch(ValidationFailed):
    code, title = "AMOUNT_MISMATCH", "Неверная сумма платежа"
    detail = "Сумма платежа должна быть равна сумме к оплате на текущий момент."

    def __init__(self, expected: int, got: int, **kwargs: Any) -> None:
        super().__init__(
            f"Сумма к оплате сейчас {expected} коп., в запросе {got} коп.",
            errors=[field_error("amount", f"должно быть равно {expected}")], **kwargs,
        )
        self.extra["expected_amount"] = expected


class IdempotencyKeyRequired(ValidationFailed):
    code, title = "IDEMPOTENCY_KEY_REQUIRED", "Нужен ключ идемпотентности"
    detail = "Передайте заголовок Idempotency-Key (1–255 печатных символов ASCII), уникальный для каждого нового платежа."


class IdempotencyKeyReused(ValidationFailed):
    code, title = "IDEMPOTENCY_KEY_REUSED", "Ключ идемпотентности уже использован"
    detail = "Этот Idempotency-Key уже использован с другим телом запроса; для нового платежа нужен новый ключ."


class RateLimited(GosimError):
    status, code, title = 429, "RATE_LIMITED", "Слишком много запросов"
    detail = "Превышен лимит запросов; повторите позже."

    def __init__(self, retry_after: int = 1, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("Retry-After", str(max(1, int(retry_after))))


# -- OAuth 2.0 under /oauth2: RFC 6749 bodies, not problem+json ----------------------------------------------------
# RFC 6749 allows only these characters in error_description (no quote, no backslash, no non-ASCII).
_OAUTH_TEXT = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


class OAuthError(GosimError):
    """An RFC 6749 §5.2 error, rendered as ``{"error", "error_description"[, "state"]}`` in application/json.

    ``error_description`` starts with the ESIA code portal clients switch on ("ESIA-007014: ...") and is ASCII, as
    the RFC requires; ``title``/``detail`` stay Russian for the docs. Also used for redirect errors (``params()``).
    """

    status, code, title = 400, "OAUTH_INVALID_REQUEST", "Некорректный запрос OAuth"
    detail = "В запросе нет обязательного параметра или параметр некорректен."
    error = "invalid_request"
    esia = "ESIA-007014"
    description = "the request is missing a required parameter or has an invalid one"

    def __init__(self, description: str | None = None, *, esia: str | None = None, state: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(None, headers=headers)
        self.description = "".join(ch for ch in (description or self.description) if ch in _OAUTH_TEXT)[:300]
        self.esia = self.esia if esia is None else esia
        self.state = state

    @property
    def error_description(self) -> str:
        return f"{self.esia}: {self.description}" if self.esia else self.description

    def params(self) -> dict[str, str]:
        out = {"error": self.error, "error_description": self.error_description}
        if self.state:
            out["state"] = self.state
        return out

    def body(self) -> dict[str, Any]:
        return self.params()

    def response_headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache", **self.headers}

    @classmethod
    def wrap(cls, error: GosimError) -> "OAuthError":
        """A framework failure (415, 405, 413, bad parameter) on an /oauth2 path, told in the RFC's vocabulary."""
        if isinstance(error, OAuthError):
            return error
        kind: type[OAuthError] = OAuthServerError if error.status >= 500 else OAuthError
        if error.status == 503:
            kind = OAuthTemporarilyUnavailable
        wrapped = kind(error.code.lower().replace("_", " "), headers={
            k: v for k, v in error.headers.items() if k.lower() in ("retry-after", "allow")
        })
        wrapped.status = error.status
        return wrapped


class OAuthInvalidClient(OAuthError):
    status, code, title = 401, "OAUTH_INVALID_CLIENT", "Система не прошла аутентификацию"
    detail = "Неизвестный client_id, неверный client_secret или не указан способ аутентификации системы."
    error, esia = "invalid_client", "ESIA-007053"
    description = "client authentication failed"

    def __init__(self, description: str | None = None, **kwargs: Any) -> None:
        super().__init__(description, **kwargs)
        self.headers.setdefault("WWW-Authenticate", 'Basic realm="gosim"')


class OAuthInvalidGrant(OAuthError):
    code, title = "OAUTH_INVALID_GRANT", "Недействительный код или refresh-токен"
    detail = "Код авторизации или refresh-токен недействителен, истёк, уже использован или выдан другой системе."
    error, esia = "invalid_grant", "ESIA-007011"
    description = "the authorization code or refresh token is invalid"


class OAuthUnauthorizedClient(OAuthError):
    code, title = "OAUTH_UNAUTHORIZED_CLIENT", "Системе не разрешён этот способ"
    detail = "Системе не разрешено получать токены этим способом (grant_type)."
    error = "unauthorized_client"
    description = "the client is not allowed to use this grant type"


class OAuthUnsupportedGrantType(OAuthError):
    code, title = "OAUTH_UNSUPPORTED_GRANT_TYPE", "Неподдерживаемый grant_type"
    detail = "Поддерживаются authorization_code, refresh_token и client_credentials."
    error = "unsupported_grant_type"
    description = "grant_type must be authorization_code, refresh_token or client_credentials"


class OAuthUnsupportedResponseType(OAuthError):
    code, title = "OAUTH_UNSUPPORTED_RESPONSE_TYPE", "Неподдерживаемый response_type"
    detail = "Поддерживается только response_type=code."
    error = "unsupported_response_type"
    description = "response_type must be code"


class OAuthInvalidScope(OAuthError):
    code, title = "OAUTH_INVALID_SCOPE", "Некорректный scope"
    detail = "Запрошен scope, который не разрешён системе, или scope не указан."
    error, esia = "invalid_scope", "ESIA-007006"
    description = "the requested scope is invalid or not allowed for this client"


class OAuthAccessDenied(OAuthError):
    status, code, title = 403, "OAUTH_ACCESS_DENIED", "Пользователь отказал в доступе"
    detail = "Пользователь отказался предоставить доступ или отменил вход."
    error, esia = "access_denied", "ESIA-007004"
    description = "the user denied access"


class OAuthUnconfirmedAccount(OAuthAccessDenied):
    code, title = "OAUTH_UNCONFIRMED_ACCOUNT", "Учётная запись не подтверждена"
    detail = "Привязать к банку можно только подтверждённую учётную запись Госуслуг."
    esia = "ESIA-007055"
    description = "the account is not confirmed; linking requires a confirmed account"


class OAuthLoginRequired(OAuthError):
    code, title = "OAUTH_LOGIN_REQUIRED", "Требуется вход"
    detail = "prompt=none невозможен: gosim всегда показывает страницу входа."
    error = "login_required"
    description = "prompt=none is not possible: the user must log in"


class OAuthInvalidToken(OAuthError):
    """RFC 6750 for /oauth2/userinfo: 401 with a Bearer challenge."""

    status, code, title = 401, "OAUTH_INVALID_TOKEN", "Недействительный токен доступа"
    detail = "Токен доступа не передан, недействителен, истёк или отозван."
    error, esia = "invalid_token", ""
    description = "the access token is invalid"

    def __init__(self, description: str | None = None, **kwargs: Any) -> None:
        super().__init__(description, **kwargs)
        self.headers.setdefault("WWW-Authenticate", f'Bearer error="{self.error}", error_description="{self.description}"')


class OAuthInsufficientScope(OAuthInvalidToken):
    status, code, title = 403, "OAUTH_INSUFFICIENT_SCOPE", "Недостаточно прав токена"
    detail = "Токену не выдан scope openid, нужный для userinfo."
    error = "insufficient_scope"
    description = "the access token lacks the openid scope"


class OAuthServerError(OAuthError):
    status, code, title = 500, "OAUTH_SERVER_ERROR", "Внутренняя ошибка сервера авторизации"
    detail = "Внутренняя ошибка сервера авторизации."
    error, esia = "server_error", ""
    description = "internal error"


class OAuthTemporarilyUnavailable(OAuthServerError):
    status, code, title = 503, "OAUTH_TEMPORARILY_UNAVAILABLE", "Сервер авторизации недоступен"
    detail = "Сервер авторизации временно недоступен; повторите позже."
    error = "temporarily_unavailable"
    description = "temporarily unavailable"


# -- 5xx ---------------------------------------------------------------------------------------------------------
class InternalError(GosimError):
    pass


class ServiceUnavailable(GosimError):
    status, code, title = 503, "SERVICE_UNAVAILABLE", "Сервис недоступен"
    detail = "Сервис временно недоступен; повторите позже."

    def __init__(self, retry_after: int = 30, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("Retry-After", str(max(1, int(retry_after))))


class BadGateway(GosimError):
    status, code, title = 502, "BAD_GATEWAY", "Ошибка шлюза"
    detail = "Внутренняя система портала ответила ошибкой; повторите позже."


class GatewayTimeout(GosimError):
    status, code, title = 504, "GATEWAY_TIMEOUT", "Шлюз не дождался ответа"
    detail = "Внутренняя система портала не ответила вовремя; повторите позже."


def all_error_classes() -> list[type[GosimError]]:
    """Every error class, for the generated docs table (a test compares the two)."""
    seen: list[type[GosimError]] = []
    stack = [GosimError]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(reversed(cls.__subclasses__()))
    return seen
