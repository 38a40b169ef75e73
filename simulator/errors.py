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


class IdempotencyKeyRequired(GosimError):
    status, code, title = 400, "IDEMPOTENCY_KEY_REQUIRED", "Нужен ключ идемпотентности"
    detail = "Передайте заголовок Idempotency-Key (1–255 печатных символов ASCII), уникальный для каждого нового платежа."


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


class IdempotencyKeyReused(ValidationFailed):
    code, title = "IDEMPOTENCY_KEY_REUSED", "Ключ идемпотентности уже использован"
    detail = "Этот Idempotency-Key уже использован с другим телом запроса; для нового платежа нужен новый ключ."


class RateLimited(GosimError):
    status, code, title = 429, "RATE_LIMITED", "Слишком много запросов"
    detail = "Превышен лимит запросов; повторите позже."

    def __init__(self, retry_after: int = 1, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("Retry-After", str(max(1, int(retry_after))))


# -- 5xx ---------------------------------------------------------------------------------------------------------
class InternalError(GosimError):
    pass


class ServiceUnavailable(GosimError):
    status, code, title = 503, "SERVICE_UNAVAILABLE", "Сервис недоступен"
    detail = "Сервис временно недоступен; повторите позже."

    def __init__(self, retry_after: int = 30, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("Retry-After", str(max(1, int(retry_after))))


def all_error_classes() -> list[type[GosimError]]:
    """Every error class, for the generated docs table (a test compares the two)."""
    seen: list[type[GosimError]] = []
    stack = [GosimError]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(reversed(cls.__subclasses__()))
    return seen
