"""The login behind /oauth2/authorize: one transaction per login through password, SMS code, level check and consent."""

from __future__ import annotations

import hmac
import math
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from ..domain.oauth import (
    REQUIRED_SCOPES,
    IllegalStep,
    advance,
    normalize_phone,
    parse_scope,
    valid_pkce_value,
    with_query,
)
from ..errors import (
    InvalidParameter,
    OAuthAccessDenied,
    OAuthError,
    OAuthInvalidScope,
    OAuthLoginRequired,
    OAuthUnconfirmedAccount,
    OAuthUnsupportedResponseType,
    field_error,
)
from ..settings import Settings
from ..storage import Store
from ..storage.base import Tx
from .clients import Client, ClientRegistry
from .clock import ClockService
from .consents import ConsentService
from .directory import Directory
from .oauth import AMR, OAuthService
from .sessions import ns

TX = "login_tx"
SMS = "sms"
LOCKS = "login_locks"
OUTBOX_KEEP = 20  # messages kept per phone
MAX_STATE = 1024
MAX_NONCE = 512
_TX_ID = re.compile(r"^[0-9a-f]{32}$")


def secure_sms_code() -> str:
    """Six digits from the OS's secure source: workers and restarts never repeat a sequence."""
    return f"{secrets.randbelow(1_000_000):06d}"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Outcome:
    """What the pages show next: the login's current step (with an error or a notice), or a redirect to the bank."""

    tx: dict[str, Any] | None = None
    redirect: str | None = None
    error: str | None = None
    message: str | None = None
    notice: str | None = None
    retry_after: int | None = None


class FlowError(Exception):
    """A login that cannot be shown or go on (unknown client or redirect_uri, expired, forged form): an error page.

    Never a redirect: before the redirect_uri is proven, sending the browser there would make gosim an open redirector.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FormProof:
    """What every form post carries to find its login and prove it came from the page gosim served (CSRF)."""

    tx_id: str | None
    csrf_form: str | None
    csrf_cookie: str | None = field(repr=False, default=None)


class IdentityService:
    def __init__(
        self, settings: Settings, store: Store, clock: ClockService, directory: Directory, clients: ClientRegistry,
        consents: ConsentService, oauth: OAuthService, codes: Callable[[], str] = secure_sms_code,
    ) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        self._directory = directory
        self._clients = clients
        self._consents = consents
        self._oauth = oauth
        self._codes = codes

    def _now(self, session: str) -> float:
        return self._clock.for_session(session).now().timestamp()

    def client(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    # -- GET /oauth2/authorize ----------------------------------------------------------------------------------
    def begin(self, session: str, params: Mapping[str, str | None]) -> Outcome:
        """Check the authorization request (RFC 6749 §4.1.1, RFC 7636) and open a login transaction."""
        client_id = params.get("client_id")
        if not client_id:
            raise FlowError("CLIENT_ID_MISSING", "В запросе нет параметра client_id (ESIA-007014).")
        client = self._clients.get(client_id) if len(client_id) <= 128 else None
        if client is None:
            raise FlowError("UNKNOWN_CLIENT", f"Система «{client_id[:80]}» не зарегистрирована (ESIA-007002).")
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            raise FlowError("REDIRECT_URI_MISSING", "В запросе нет параметра redirect_uri (ESIA-007014).")
        if redirect_uri not in client.redirect_uris:
            raise FlowError(
                "REDIRECT_URI_MISMATCH",
                f"Адрес возврата не зарегистрирован для системы «{client.name}» (ESIA-007023). "
                "Он должен в точности совпадать с одним из адресов в настройках системы.",
            )
        state = params.get("state")
        if state and len(state) > MAX_STATE:
            return self._refuse(redirect_uri, OAuthError(f"state is longer than {MAX_STATE} characters"))
        problem = self._check_request(client, params)
        if problem is not None:
            problem.state = state
            return self._refuse(redirect_uri, problem)
        now = self._now(session)
        prompts = (params.get("prompt") or "").split()
        hint = params.get("login_hint")
        tx = {
            "id": secrets.token_hex(16), "session": session, "csrf": secrets.token_urlsafe(24),
            "client_id": client.client_id, "redirect_uri": redirect_uri,
            "scopes": parse_scope(params.get("scope")), "state": state, "nonce": params.get("nonce"),
            "code_challenge": params.get("code_challenge"), "force_consent": "consent" in prompts,
            "login_hint": hint if hint and len(hint) <= 100 else None,
            "step": "login", "created_at": now, "expires_at": now + self._settings.login_ttl,
            "oid": None, "phone": None, "sms": None, "auth_time": None, "sid": None, "return_url": None,
            "lock_until": None, "refusal": None,
        }
        self._store.put(ns(session, TX), tx["id"], tx)
        return Outcome(tx=tx)

    @staticmethod
    def _refuse(redirect_uri: str, problem: OAuthError) -> Outcome:
        return Outcome(redirect=with_query(redirect_uri, problem.params()))

    @staticmethod
    def _check_request(client: Client, params: Mapping[str, str | None]) -> OAuthError | None:
        response_type = params.get("response_type")
        if not response_type:
            return OAuthError("response_type is required")
        if response_type != "code":
            return OAuthUnsupportedResponseType()
        scopes = parse_scope(params.get("scope"))
        if not scopes:
            return OAuthInvalidScope("scope is missing or malformed")
        unknown = [s for s in scopes if s not in client.scopes]
        if unknown:
            return OAuthInvalidScope(f"scope {' '.join(unknown)[:200]} is not allowed for this client")
        challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
        if challenge is not None or method is not None:
            if method != "S256":
                return OAuthError("code_challenge_method must be S256 (plain is not supported)")
            if not valid_pkce_value(challenge):
                return OAuthError("code_challenge must be 43-128 characters of base64url")
        elif client.is_public:
            return OAuthError("PKCE is required for public clients: send code_challenge with code_challenge_method=S256")
        if len(params.get("nonce") or "") > MAX_NONCE:
            return OAuthError(f"nonce is longer than {MAX_NONCE} characters")
        if "none" in (params.get("prompt") or "").split():
            return OAuthLoginRequired()
        return None

    # -- the form steps -----------------------------------------------------------------------------------------
    def _step(self, session: str, proof: FormProof, fn: Callable[[Tx, dict[str, Any], float], Outcome]) -> Outcome:
        """Load the login the form names, prove the form, run one step atomically (workers race on double submits)."""
        if not proof.tx_id or not _TX_ID.match(proof.tx_id):
            raise FlowError("LOGIN_NOT_FOUND", "Сеанс входа не найден. Начните вход заново из приложения банка.")
        now = self._now(session)

        def run(t: Tx) -> Outcome:
            tx = t.get(ns(session, TX), proof.tx_id or "")
            if tx is None or tx.get("session") != session:
                raise FlowError("LOGIN_NOT_FOUND", "Сеанс входа не найден. Начните вход заново из приложения банка.")
            if now >= tx["expires_at"]:
                raise FlowError("LOGIN_EXPIRED", "Время на вход истекло. Начните вход заново из приложения банка.")
            if not (_same(proof.csrf_form, tx["csrf"]) and _same(proof.csrf_cookie, tx["csrf"])):
                raise FlowError(
                    "CSRF_FAILED",
                    "Форма устарела или отправлена не со страницы входа (нет cookie этого входа). "
                    "Начните вход заново из приложения банка.",
                )
            if tx["step"] == "done":
                raise FlowError("LOGIN_FINISHED", "Этот вход уже завершён. Вернитесь в приложение банка.")
            try:
                outcome = fn(t, tx, now)
            except IllegalStep:
                outcome = Outcome(tx=tx, error="WRONG_STEP", message="Это действие недоступно на текущем шаге входа.")
            t.put(ns(session, TX), tx["id"], tx)
            return outcome

        return self._store.atomic(run)

    def submit_login(self, session: str, proof: FormProof, login: str | None, password: str | None) -> Outcome:
        login = (login or "").strip()[:200]
        person = self._directory.find_login(login) if login else None

        def step(t: Tx, tx: dict[str, Any], now: float) -> Outcome:
            if tx["step"] != "login":
                raise IllegalStep(tx["step"], "password_ok")
            if not login or not password:
                return Outcome(tx=tx, error="CREDENTIALS_REQUIRED", message="Введите телефон, почту или СНИЛС и пароль.")
            tx["login_hint"] = login[:100]
            if person is None or not _same(password, str(person.get("password", ""))):
                return Outcome(tx=tx, error="INVALID_CREDENTIALS", message="Неверный логин или пароль.")
            lock = t.get(ns(session, LOCKS), str(person["oid"])) or {}
            if (lock.get("locked_until") or 0) > now:
                tx["lock_until"] = lock["locked_until"]
                return Outcome(tx=tx, error="LOGIN_LOCKED",
                               message="Вход временно заблокирован после неверных кодов из СМС.")
            if person.get("locked"):
                return Outcome(tx=tx, error="ACCOUNT_LOCKED",
                               message="Учётная запись заблокирована. Обратитесь в центр обслуживания.")
            phone = normalize_phone(person.get("phone"))
            if phone is None:
                return Outcome(tx=tx, error="NO_PHONE", message="В учётной записи нет мобильного телефона для кода.")
            tx["step"] = advance(tx["step"], "password_ok")
            tx.update(oid=int(person["oid"]), phone=phone, lock_until=None)
            self._send_code(t, session, tx, now)
            return Outcome(tx=tx)

        return self._step(session, proof, step)

    def _send_code(self, t: Tx, session: str, tx: dict[str, Any], now: float) -> None:
        code = self._codes()
        sends = (tx.get("sms") or {}).get("sends", 0) + 1
        tx["sms"] = {"code": code, "sent_at": now, "expires_at": now + self._settings.sms_code_ttl, "sends": sends}
        client = self._clients.get(tx["client_id"])
        message = {
            "phone": tx["phone"], "code": code, "purpose": "login", "client_id": tx["client_id"],
            "text": f"Код подтверждения: {code}. Вход в {client.name if client else tx['client_id']} через "
                    "Госуслуги. Никому не сообщайте код.",
            "sent_at": _iso(now), "expires_at": _iso(tx["sms"]["expires_at"]),
        }
        box = t.get(ns(session, SMS), tx["phone"]) or {"messages": []}
        t.put(ns(session, SMS), tx["phone"], {"messages": [message, *box["messages"]][:OUTBOX_KEEP]})

    def submit_code(self, session: str, proof: FormProof, code: str | None) -> Outcome:
        typed = re.sub(r"\s", "", code or "")[:64]
        limit = max(1, self._settings.sms_max_attempts)

        def step(t: Tx, tx: dict[str, Any], now: float) -> Outcome:
            if tx["step"] != "sms":
                raise IllegalStep(tx["step"], "code_ok")
            lock_key = str(tx["oid"])
            lock = t.get(ns(session, LOCKS), lock_key) or {"failures": 0, "locked_until": None}
            if (lock.get("locked_until") or 0) > now:  # another login of the same person used up the attempts
                return self._lock(tx, lock["locked_until"])
            if not re.fullmatch(r"[0-9]{6}", typed):  # not \d: it matches other scripts' digits too
                return Outcome(tx=tx, error="SMS_CODE_FORMAT", message="Код состоит из 6 цифр.")
            sms = tx["sms"]
            if now >= sms["expires_at"]:
                return Outcome(tx=tx, error="SMS_CODE_EXPIRED", message="Срок действия кода истёк. Запросите новый код.")
            if not sms.get("code") or not _same(typed, sms["code"]):
                failures = int(lock.get("failures", 0)) + 1
                if failures >= limit:
                    until = now + self._settings.login_lock_seconds
                    t.put(ns(session, LOCKS), lock_key, {"failures": 0, "locked_until": until, "locked_at": now})
                    return self._lock(tx, until)
                t.put(ns(session, LOCKS), lock_key, {**lock, "failures": failures})
                return Outcome(tx=tx, error="SMS_CODE_INVALID",
                               message=f"Неверный код. Осталось попыток: {limit - failures}.")
            t.put(ns(session, LOCKS), lock_key, {"failures": 0, "locked_until": None})
            tx["sms"] = {**sms, "code": None}  # a code opens one login only
            tx.update(auth_time=now, sid=str(uuid.uuid4()))
            person = self._directory.person(tx["oid"]) or {}
            if person.get("level") != "confirmed":
                tx["step"] = advance(tx["step"], "code_ok_unconfirmed")
                tx["return_url"] = with_query(tx["redirect_uri"], OAuthUnconfirmedAccount(state=tx["state"]).params())
                tx["refusal"] = _LEVEL_MESSAGE.get(person.get("level"), "Учётная запись не подтверждена.")
                return Outcome(tx=tx, error="ACCOUNT_NOT_CONFIRMED", message=tx["refusal"])
            if not tx["force_consent"] and self._consents.covers(session, tx["oid"], tx["client_id"], tx["scopes"], t):
                tx["step"] = advance(tx["step"], "code_ok_consented")
                return self._finish(t, session, tx, tx["scopes"], now)
            tx["step"] = advance(tx["step"], "code_ok")
            return Outcome(tx=tx)

        return self._step(session, proof, step)

    def _lock(self, tx: dict[str, Any], until: float) -> Outcome:
        tx["step"] = advance(tx["step"], "codes_exhausted")
        tx["lock_until"] = until
        denied = OAuthAccessDenied("the login is locked after too many wrong SMS codes", state=tx["state"])
        tx["return_url"] = with_query(tx["redirect_uri"], denied.params())
        return Outcome(tx=tx, error="LOGIN_LOCKED", message="Вы несколько раз ввели неверный код. Вход временно заблокирован.")

    def resend(self, session: str, proof: FormProof) -> Outcome:
        def step(t: Tx, tx: dict[str, Any], now: float) -> Outcome:
            if tx["step"] != "sms":
                raise IllegalStep(tx["step"], "resend")
            ready = tx["sms"]["sent_at"] + self._settings.sms_resend_cooldown
            if now < ready:
                wait = max(1, math.ceil(ready - now))
                return Outcome(tx=tx, error="SMS_RESEND_TOO_EARLY", retry_after=wait,
                               message=f"Новый код можно запросить через {wait} с.")
            tx["step"] = advance(tx["step"], "resend")
            self._send_code(t, session, tx, now)
            return Outcome(tx=tx, notice="Новый код отправлен.")

        return self._step(session, proof, step)

    def submit_consent(self, session: str, proof: FormProof, decision: str | None, chosen: list[str]) -> Outcome:
        def step(t: Tx, tx: dict[str, Any], now: float) -> Outcome:
            if tx["step"] != "consent":
                raise IllegalStep(tx["step"], "allow")
            if decision not in ("allow", "deny"):
                return Outcome(tx=tx, error="DECISION_REQUIRED", message="Нажмите «Разрешить» или «Отказать».")
            granted = [s for s in tx["scopes"] if s in REQUIRED_SCOPES or s in chosen]
            if decision == "deny" or not granted:
                tx["step"] = advance(tx["step"], "deny")
                return Outcome(redirect=with_query(tx["redirect_uri"], OAuthAccessDenied(state=tx["state"]).params()))
            tx["step"] = advance(tx["step"], "allow")
            moment = datetime.fromtimestamp(now, tz=timezone.utc)
            self._consents.grant(t, session, tx["oid"], tx["client_id"], granted, moment)
            return self._finish(t, session, tx, granted, now)

        return self._step(session, proof, step)

    def cancel(self, session: str, proof: FormProof) -> Outcome:
        def step(t: Tx, tx: dict[str, Any], now: float) -> Outcome:
            tx["step"] = advance(tx["step"], "cancel")
            denied = OAuthAccessDenied("the user cancelled the login", state=tx["state"])
            return Outcome(redirect=with_query(tx["redirect_uri"], denied.params()))

        return self._step(session, proof, step)

    def _finish(self, t: Tx, session: str, tx: dict[str, Any], scopes: list[str], now: float) -> Outcome:
        grant = {
            "client_id": tx["client_id"], "redirect_uri": tx["redirect_uri"], "oid": tx["oid"], "scopes": scopes,
            "nonce": tx["nonce"], "code_challenge": tx["code_challenge"], "auth_time": tx["auth_time"],
            "sid": tx["sid"], "amr": AMR, "consent_gen": self._consents.generation(session, tx["oid"], tx["client_id"], t),
        }
        code = self._oauth.new_code(t, session, grant, now)
        return Outcome(redirect=with_query(tx["redirect_uri"], {"code": code, "state": tx["state"]}))

    # -- the SMS outbox (/_sim/sms) -----------------------------------------------------------------------------
    def outbox(self, session: str, phone: str | None, limit: int = 10) -> dict[str, Any]:
        if phone is not None:
            number = normalize_phone(phone)
            if number is None:
                raise InvalidParameter(
                    "Телефон должен быть российским мобильным: +7XXXXXXXXXX (знак + в адресе кодируйте как %2B).",
                    errors=[field_error("phone", "must be a Russian mobile number like +79160000001")],
                )
            messages = (self._store.get(ns(session, SMS), number) or {"messages": []})["messages"]
        else:
            messages = [m for _, box in self._store.items(ns(session, SMS)) for m in box["messages"]]
            messages.sort(key=lambda m: m["sent_at"], reverse=True)
        return {"items": messages[:limit]}


_LEVEL_MESSAGE = {
    "simplified": "У вас упрощённая учётная запись. Привязать её к банку нельзя: подтвердите личность "
                  "в центре обслуживания, через онлайн-банк или электронной подписью.",
    "standard": "У вас стандартная учётная запись. Привязать её к банку можно только после подтверждения "
                "личности в центре обслуживания, через онлайн-банк или электронной подписью.",
}


def _same(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


__all__ = ["FlowError", "FormProof", "IdentityService", "Outcome", "secure_sms_code"]
