"""Payments: create (idempotent, one transaction), check, list, cancel and receipts; settlement and forced outcomes."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from ..domain import payments as rules
from ..domain.clock import MSK
from ..domain.identifiers import is_valid_uin
from ..errors import (
    AmountMismatch,
    ChargeAlreadyPaid,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    PaymentInProgress,
    PaymentNotFound,
    PaymentStateConflict,
    ServiceUnavailable,
    ValidationFailed,
    field_error,
)
from ..settings import Settings
from ..storage import Store, Tx
from .citizens import CHARGES_NS, CitizenService
from .clock import ClockService
from .ids import Uuid7
from .sessions import ns
from .webhooks import WebhookService, parse_schedule

PAYMENTS_NS = "payments"  # per session: payment id -> payment document
IDEMPOTENCY_NS = "idempotency"  # per session: "<client>:<key>" -> fingerprint and the exact first answer
LOCKS_NS = "charge_locks"  # per session: УИН -> the payment in flight for it (at most one)
PENDING_NS = "_payments_pending"  # global: "<session>:<payment id>" for payments that settle by time
SETTLEMENT_HEADER = "X-Gosim-Settlement"
_KEY_RE = re.compile(r"^[!-~]{1,255}$")


@dataclass(frozen=True)
class Plan:
    """What a payment is destined for: succeed, reject with a reason, or hold (processing until cancelled)."""

    outcome: str
    reason: str | None = None


SUCCEED = Plan(rules.SUCCEED_OUTCOME)

# Magic payer accounts, like test card numbers: a payment from one of these always ends the way the table says.
# Any other account (or none) succeeds. Documented in docs/payments.md; keep the two in step.
MAGIC_ACCOUNTS: dict[str, Plan] = {
    "40817810000000000002": Plan(rules.REJECT_OUTCOME, rules.INSUFFICIENT_FUNDS),
    "40817810000000000003": Plan(rules.REJECT_OUTCOME, rules.PAYEE_UNAVAILABLE),
    "40817810000000000004": Plan(rules.REJECT_OUTCOME, rules.LIMIT_EXCEEDED),
    "40817810000000000005": Plan(rules.REJECT_OUTCOME, rules.FRAUD_SUSPECTED),
    "40817810000000000006": Plan(rules.REJECT_OUTCOME, rules.CHARGE_ANNULLED),
    "40817810000000000009": Plan(rules.HOLD_OUTCOME),
}

REASON_TEXT = {
    rules.INSUFFICIENT_FUNDS: "Недостаточно средств на счёте плательщика.",
    rules.CHARGE_ANNULLED: "Начисление аннулировано администратором доходов.",
    rules.PAYEE_UNAVAILABLE: "Получатель платежа временно недоступен.",
    rules.LIMIT_EXCEEDED: "Превышен лимит операций плательщика.",
    rules.FRAUD_SUSPECTED: "Операция отклонена антифрод-контролем.",
}

EVENT_TYPES = {s: f"payment.{s}" for s in rules.STATES}


@dataclass(frozen=True)
class Answer:
    """CreatePayment's answer as exact bytes, so a replay under the same Idempotency-Key is identical."""

    status: int
    body: bytes
    payment_id: str
    replayed: bool


class _StaleQuote(Exception):
    """The charge changed between reading the amount due and taking the lock; quote again."""


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(at: str) -> datetime:
    return datetime.fromisoformat(at.replace("Z", "+00:00"))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def fingerprint(body: dict[str, Any], settlement: str | None) -> str:
    """The same request, whatever its key order or whitespace, gives the same fingerprint."""
    canonical = json.dumps({"body": body, "settlement": settlement}, ensure_ascii=False, sort_keys=True,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def plan_for(payer: dict[str, Any], charge_record: dict[str, Any]) -> Plan:
    if str(charge_record.get("change_status", "")).lower() == "annulled":
        return Plan(rules.REJECT_OUTCOME, rules.CHARGE_ANNULLED)
    return MAGIC_ACCOUNTS.get(str(payer.get("account") or ""), SUCCEED)


def check_payment_settings(settings: Settings) -> None:
    """Raises ValueError naming the bad payment or webhook setting, so `gosim serve` refuses before forking."""
    rules.Settlement.parse(settings.payment_settlement)
    parse_schedule(settings.webhook_retry_schedule)
    if settings.idempotency_ttl < 1 or settings.webhook_timeout_ms < 1 or settings.webhook_poll_ms < 1:
        raise ValueError("idempotency_ttl, webhook_timeout_ms and webhook_poll_ms must be positive")


class PaymentService:
    def __init__(
        self, store: Store, citizens: CitizenService, clock: ClockService, webhooks: WebhookService, settings: Settings,
    ) -> None:
        self._store = store
        self._ids = Uuid7()
        self._citizens = citizens
        self._clock = clock
        self._webhooks = webhooks
        self.settlement = rules.Settlement.parse(settings.payment_settlement)
        self._idempotency_ttl = timedelta(seconds=settings.idempotency_ttl)
        webhooks.add_periodic(self.settle_due)

    # -- CreatePayment ----------------------------------------------------------------------------------------------
    def create(
        self, session: str, client_id: str, body: dict[str, Any], idempotency_key: str | None,
        settlement: str | None = None,
    ) -> Answer:
        key = self._checked_key(idempotency_key)
        rule = self._checked_settlement(settlement)
        fp = fingerprint(body, str(rule) if settlement else None)
        uin = str(body.get("uin", ""))
        if not is_valid_uin(uin):
            raise ValidationFailed("УИН не прошёл проверку контрольного разряда.",
                                   errors=[field_error("uin", "check digit does not match")])
        _check_callback(body.get("callback_url"))
        # A payment holding the charge may have settled by time since anyone looked: let it, so the lock is current.
        held = self._store.get(ns(session, LOCKS_NS), uin)
        if held is not None:
            try:
                self._refresh(session, held["payment_id"], count_check=False)
            except PaymentNotFound:
                pass  # a stale lock; the transaction below drops it
        for _ in range(5):
            basis = self._citizens.charge_state(session, uin)
            charge, due, view = self._citizens.amount_due(session, uin)  # 404 CHARGE_NOT_FOUND for an unknown УИН
            now = self._clock.for_session(session).now()
            try:
                answer = self._store.atomic(lambda tx: self._create_in(
                    tx, session, client_id, key, fp, body, rule, basis, charge, due, view, now))
            except _StaleQuote:
                continue
            if not answer.replayed:
                self._webhooks.notify()
            return answer
        raise ServiceUnavailable(retry_after=1, detail="Начисление меняется слишком часто; повторите запрос.")

    def _create_in(
        self, tx: Tx, session: str, client_id: str, key: str, fp: str, body: dict[str, Any],
        rule: rules.Settlement, basis: dict[str, Any], charge: Any, due: int, view: dict[str, Any], now: datetime,
    ) -> Answer:
        """Everything CreatePayment writes, in one transaction: the key, the charge lock, the payment, its events."""
        idem_ns, idem_id = ns(session, IDEMPOTENCY_NS), f"{client_id}:{key}"
        record = tx.get(idem_ns, idem_id)
        if record is not None and _parse(record["expires_at"]) > now:
            if record["fingerprint"] != fp:
                raise IdempotencyKeyReused()
            return Answer(int(record["status"]), record["body"].encode(), record["payment_id"], replayed=True)
        if (tx.get(ns(session, CHARGES_NS), charge.uin) or {}) != basis:
            raise _StaleQuote()
        if view["status"] == "paid" or due <= 0:
            raise ChargeAlreadyPaid()
        lock = tx.get(ns(session, LOCKS_NS), charge.uin)
        if lock is not None and tx.get(ns(session, PAYMENTS_NS), lock["payment_id"]) is None:
            lock = None  # its payment is gone (never by design); do not let it block the charge forever
        if lock is not None:
            extra = {"payment_id": lock["payment_id"]} if lock.get("client_id") == client_id else {}
            raise PaymentInProgress(**extra)
        if body["amount"] != due:
            raise AmountMismatch(due, body["amount"])

        plan = plan_for(body["payer"], charge.record)
        payment_id = self._ids(self._clock.base.now())
        doc: dict[str, Any] = {
            "id": payment_id, "client_id": client_id, "session": session, "status": rules.CREATED,
            "uin": charge.uin, "amount": body["amount"], "bank_payment_id": body["bank_payment_id"],
            "payer": body["payer"], "charge_type": view["type"], "purpose": view["requisites"]["purpose"],
            "requisites": view["requisites"], "callback_url": body.get("callback_url"),
            "created_at": _iso(now), "updated_at": _iso(now), "settlement": rule.as_dict(),
            "plan": {"outcome": plan.outcome, "reason": plan.reason}, "checks": 0, "sequence": 0,
            "history": [{"status": rules.CREATED, "at": _iso(now)}],
            "rejection": None, "cancellation": None, "quittance": None,
        }
        self._event(tx, doc, None, now)
        tx.put(ns(session, LOCKS_NS), charge.uin, {"payment_id": payment_id, "client_id": client_id})
        if rule.time_based:
            tx.put(PENDING_NS, f"{session}:{payment_id}", {"session": session, "payment_id": payment_id})
        if rule.mode == rules.IMMEDIATE:
            self._advance(tx, doc, now, count_check=False)  # settles inside CreatePayment itself
        tx.put(ns(session, PAYMENTS_NS), payment_id, doc)
        answer = _dumps(self.view(doc))
        tx.put(idem_ns, idem_id, {
            "fingerprint": fp, "status": 201, "body": answer.decode(), "payment_id": payment_id,
            "created_at": _iso(now), "expires_at": _iso(now + self._idempotency_ttl),
        })
        return Answer(201, answer, payment_id, replayed=False)

    # -- CheckStatus / ListPayments / CancelPayment / GetReceipt ----------------------------------------------------
    def check(self, session: str, client_id: str, payment_id: str) -> dict[str, Any]:
        """The payment now; every CheckStatus counts towards `after_checks:N`."""
        self._owned(session, client_id, payment_id)
        return self.view(self._refresh(session, payment_id, count_check=True))

    def list(
        self, session: str, client_id: str, *, uin: str | None = None, status: str | None = None, limit: int = 20,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        docs = [d for _, d in self._store.items(ns(session, PAYMENTS_NS)) if d["client_id"] == client_id]
        if uin:
            docs = [d for d in docs if d["uin"] == uin]
        # Time-based settlement is lazy: bring in-flight payments up to date before filtering by status.
        now = self._clock.for_session(session).now()
        docs = [self._refresh(session, d["id"], count_check=False) if self._events_due(d, now, d.get("checks", 0)) else d
                for d in docs]
        if status:
            docs = [d for d in docs if d["status"] == status]
        docs.sort(key=lambda d: d["id"], reverse=True)  # ids are time-ordered: newest first
        total = len(docs)
        if cursor:
            # The cursor is a position (the last id seen), not a pointer: it stays valid whatever changed since.
            docs = [d for d in docs if d["id"] < cursor]
        page = docs[:limit]
        return {
            "items": [self.view(d) for d in page], "total": total,
            "next_cursor": page[-1]["id"] if len(docs) > limit else None,
        }

    def cancel(self, session: str, client_id: str, payment_id: str, reason: str | None = None) -> dict[str, Any]:
        self._owned(session, client_id, payment_id)
        payments = ns(session, PAYMENTS_NS)

        def cancel_in(tx: Tx) -> tuple[dict[str, Any], bool, bool]:
            doc = tx.get(payments, payment_id)
            if doc is None:
                raise PaymentNotFound()
            now = self._clock.for_session(session).now()
            # Settle by time first: a payment that has already gone through cannot be cancelled.
            moved = self._advance(tx, doc, now, count_check=False)
            if (doc["status"], rules.CANCEL) not in rules.TRANSITIONS:
                if moved:
                    tx.put(payments, payment_id, doc)
                return doc, moved, False
            doc["cancellation"] = {"reason": reason or None, "at": _iso(now)}
            self._apply(tx, doc, [rules.CANCEL], now)
            tx.put(payments, payment_id, doc)
            return doc, True, True

        doc, moved, cancelled = self._store.atomic(cancel_in)
        if moved:
            self._webhooks.notify()
        if not cancelled:
            raise PaymentStateConflict(doc["status"], "cancel")
        return self.view(doc)

    def receipt(self, session: str, client_id: str, payment_id: str) -> dict[str, Any]:
        self._owned(session, client_id, payment_id)
        doc = self._refresh(session, payment_id, count_check=False)
        if doc["status"] != rules.SUCCEEDED:
            raise PaymentStateConflict(
                doc["status"], "receipt", detail=f"Квитанция есть только у проведённого платежа; платёж в состоянии {doc['status']}.")
        req = doc["requisites"]
        paid_at = doc.get("succeeded_at") or doc["updated_at"]
        return {
            "receipt_number": "Q" + doc["id"].replace("-", "")[:20].upper(),
            "payment_id": doc["id"], "bank_payment_id": doc["bank_payment_id"], "status": doc["status"],
            "uin": doc["uin"], "charge_type": doc["charge_type"], "amount": doc["amount"], "currency": "RUB",
            "paid_at": paid_at, "date": _parse(paid_at).astimezone(MSK).date().isoformat(),
            "purpose": doc["purpose"], "payer": doc["payer"],
            "payee": {
                "name": req["payee_name"], "inn": req["payee_inn"], "kpp": req["payee_kpp"],
                "account": req["account"], "bik": req["bik"], "bank_name": req["bank_name"],
                "corr_account": req["corr_account"], "kbk": req["kbk"], "oktmo": req["oktmo"],
            },
            "quittance": doc.get("quittance"),
        }

    # -- the worker's periodic job -----------------------------------------------------------------------------------
    def settle_due(self) -> int:
        """Settle every time-based payment whose moment has come, so webhooks go out without anyone polling."""
        moved = 0
        for key, entry in self._store.items(PENDING_NS):
            session, payment_id = entry["session"], entry["payment_id"]
            doc = self._store.get(ns(session, PAYMENTS_NS), payment_id)
            if doc is None or doc["status"] in rules.TERMINAL:
                self._store.delete(PENDING_NS, key)  # reset session or settled elsewhere
                continue
            if self._events_due(doc, self._clock.for_session(session).now(), doc.get("checks", 0)):
                self._refresh(session, payment_id, count_check=False)
                moved += 1
        return moved

    # -- the state machine, applied -----------------------------------------------------------------------------------
    def _refresh(self, session: str, payment_id: str, *, count_check: bool) -> dict[str, Any]:
        """Bring one payment up to date in a transaction (and count a status check if asked); returns it."""
        payments = ns(session, PAYMENTS_NS)

        def refresh_in(tx: Tx) -> tuple[dict[str, Any] | None, bool]:
            doc = tx.get(payments, payment_id)
            if doc is None:
                return None, False
            moved = self._advance(tx, doc, self._clock.for_session(session).now(), count_check=count_check)
            if moved or (count_check and doc["status"] not in rules.TERMINAL):
                tx.put(payments, payment_id, doc)
            return doc, moved

        current = self._store.get(payments, payment_id)
        if current is None:
            raise PaymentNotFound()
        if current["status"] in rules.TERMINAL:
            return current
        doc, moved = self._store.atomic(refresh_in)
        if doc is None:
            raise PaymentNotFound()
        if moved:
            self._webhooks.notify()
        return doc

    def _events_due(self, doc: dict[str, Any], now: datetime, checks: int) -> list[str]:
        settlement = rules.Settlement.from_dict(doc["settlement"])
        elapsed = (now - _parse(doc["created_at"])).total_seconds()
        plan = doc["plan"]
        return rules.due_events(doc["status"], outcome=plan["outcome"], reason=plan.get("reason"),
                                settlement=settlement, checks=checks, elapsed=elapsed)

    def _advance(self, tx: Tx, doc: dict[str, Any], now: datetime, *, count_check: bool) -> bool:
        """Apply what is due by the settlement rule; True when the state changed. The caller writes `doc`."""
        if doc["status"] in rules.TERMINAL:
            return False
        if count_check:
            doc["checks"] = int(doc.get("checks", 0)) + 1
        events = self._events_due(doc, now, doc["checks"])
        if not events:
            return False
        self._apply(tx, doc, events, now)
        return True

    def _apply(self, tx: Tx, doc: dict[str, Any], events: list[str], now: datetime) -> None:
        settlement = rules.Settlement.from_dict(doc["settlement"])
        created = _parse(doc["created_at"])
        for event in events:
            previous = doc["status"]
            doc["status"] = rules.next_state(previous, event)
            # By time, a payment started when it was created and settled when its time ran out, whenever we look.
            at = now
            if settlement.time_based and event != rules.CANCEL:
                at = min(now, created if event == rules.PROCESS else created + timedelta(seconds=settlement.seconds))
            entry: dict[str, Any] = {"status": doc["status"], "at": _iso(at)}
            if event == rules.REJECT:
                reason = doc["plan"].get("reason") or rules.PAYEE_UNAVAILABLE
                doc["rejection"] = {"code": reason, "message": REASON_TEXT.get(reason, reason)}
                entry["reason"] = reason
            elif event == rules.SUCCEED:
                doc["succeeded_at"] = _iso(at)
                doc["quittance"] = {"status": "matched", "payment_id": doc["id"], "amount": doc["amount"], "date": _iso(at)}
                self._mark_paid(tx, doc, at)
            elif event == rules.CANCEL and (doc.get("cancellation") or {}).get("reason"):
                entry["reason"] = doc["cancellation"]["reason"]
            doc["history"].append(entry)
            doc["updated_at"] = _iso(at)
            self._event(tx, doc, previous, at)
        if doc["status"] in rules.TERMINAL:
            session = doc["session"]
            lock = tx.get(ns(session, LOCKS_NS), doc["uin"])
            if lock is not None and lock.get("payment_id") == doc["id"]:
                tx.delete(ns(session, LOCKS_NS), doc["uin"])
            tx.delete(PENDING_NS, f"{session}:{doc['id']}")

    def _mark_paid(self, tx: Tx, doc: dict[str, Any], at: datetime) -> None:
        """Квитирование: the charge's own state doc, in the same transaction, so fines and debts show it paid."""
        charges = ns(doc["session"], CHARGES_NS)
        state = tx.get(charges, doc["uin"]) or {}
        state["paid"] = int(state.get("paid", 0)) + int(doc["amount"])
        state["paid_on"] = at.astimezone(MSK).date().isoformat()
        state["quittance"] = dict(doc["quittance"])
        tx.put(charges, doc["uin"], state)

    def _event(self, tx: Tx, doc: dict[str, Any], previous: str | None, at: datetime) -> None:
        doc["sequence"] = int(doc.get("sequence", 0)) + 1
        self._webhooks.enqueue(
            tx, session=doc["session"], client_id=doc["client_id"],
            url=self._webhooks.target(doc["client_id"], doc.get("callback_url")),
            event_type=EVENT_TYPES[doc["status"]], at=at, subject=doc["id"],
            data={"payment": self.view(doc), "previous_status": previous, "sequence": doc["sequence"]},
        )

    # -- helpers ----------------------------------------------------------------------------------------------------
    def _owned(self, session: str, client_id: str, payment_id: str) -> dict[str, Any]:
        doc = self._store.get(ns(session, PAYMENTS_NS), payment_id)
        # Another bank's payment is "not found": a client must not learn that it exists.
        if doc is None or doc["client_id"] != client_id:
            raise PaymentNotFound()
        return doc

    @staticmethod
    def _checked_key(key: str | None) -> str:
        if key is None or key == "":
            raise IdempotencyKeyRequired(errors=[field_error("Idempotency-Key", "is required")])
        if not _KEY_RE.match(key):
            raise IdempotencyKeyRequired(
                "Idempotency-Key: от 1 до 255 печатных символов ASCII без пробелов.",
                errors=[field_error("Idempotency-Key", "must be 1-255 printable ASCII characters")],
            )
        return key

    def _checked_settlement(self, text: str | None) -> rules.Settlement:
        if text is None or text == "":
            return self.settlement
        try:
            return rules.Settlement.parse(text)
        except ValueError as exc:
            raise ValidationFailed(str(exc), errors=[field_error(SETTLEMENT_HEADER, str(exc))]) from None

    @staticmethod
    def view(doc: dict[str, Any]) -> dict[str, Any]:
        """The payment as banks see it (no internal bookkeeping: plan, check counter, session)."""
        return {
            "id": doc["id"], "status": doc["status"], "uin": doc["uin"], "amount": doc["amount"], "currency": "RUB",
            "bank_payment_id": doc["bank_payment_id"], "payer": doc["payer"], "charge_type": doc["charge_type"],
            "purpose": doc["purpose"], "requisites": doc["requisites"], "callback_url": doc.get("callback_url"),
            "settlement": str(rules.Settlement.from_dict(doc["settlement"])),
            "created_at": doc["created_at"], "updated_at": doc["updated_at"],
            "rejection": doc.get("rejection"), "cancellation": doc.get("cancellation"),
            "quittance": doc.get("quittance"), "history": doc["history"],
        }


def _check_callback(url: Any) -> None:
    if url is None:
        return
    try:
        parts = urlsplit(str(url))
        _ = parts.port  # a port out of range raises here, not later in the delivery thread
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and not (parts.username or parts.password)
    except ValueError:  # "http://[::1", "http://h:99999": not a URL anyone can deliver to
        usable = False
    if not usable:
        raise ValidationFailed("callback_url должен быть адресом http(s) без учётных данных.",
                               errors=[field_error("callback_url", "must be an absolute http(s) URL without credentials")])

