"""Citizen data use cases: the profile by granted scope, fines and debts with amounts due now and payment requisites."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from ..domain import fines as fine_rules
from ..domain.requisites import charge_qr
from ..errors import ChargeNotFound, InvalidCursor, PersonNotFound
from ..storage import Store
from .clock import ClockService
from .directory import Charge, Directory
from .sessions import ns

# Which profile fields each scope releases (ESIA grants person data field group by field group).
PROFILE_SCOPES: dict[str, tuple[str, ...]] = {
    "fullname": ("last_name", "first_name", "middle_name"),
    "birthdate": ("birth_date", "birth_place"),
    "gender": ("gender",),
    "snils": ("snils",),
    "inn": ("inn",),
    "id_doc": ("passport",),
    "drivers_licence_doc": ("driving_licence",),
    "vehicles": ("vehicles",),
    "contacts": ("phone", "email"),
}

CHARGES_NS = "charges"


_VIEW_CACHE = 1024  # views per worker (~3 KB each); past it the cache starts over


class CitizenService:
    def __init__(self, directory: Directory, store: Store, clock: ClockService) -> None:
        self.directory = directory
        self._store = store
        self._clock = clock
        # A view is a pure function of the charge (read-only), its state in the session and the date; banks ask for
        # the same few charges over and over, so views are kept by that key. Views are never changed once built.
        self._views: dict[tuple[str, date, str], dict[str, Any]] = {}

    # -- profile ------------------------------------------------------------------------------------------------
    def profile(self, oid: int, scopes: frozenset[str]) -> dict[str, Any]:
        person = self.directory.person(oid)
        if person is None:
            raise PersonNotFound()
        view: dict[str, Any] = {"oid": oid, "level": person["level"], "trusted": person["level"] == "confirmed"}
        for scope, keys in PROFILE_SCOPES.items():
            if scope in scopes:
                for key in keys:
                    if person.get(key) is not None:
                        view[key] = person[key]
        return view

    # -- charges ------------------------------------------------------------------------------------------------
    def today(self, session: str) -> date:
        return self._clock.for_session(session).today()

    def charge_state(self, session: str, uin: str) -> dict[str, Any]:
        """The mutable part of a charge in this session: what was paid, by which payment, how it was matched."""
        return self._store.get(ns(session, CHARGES_NS), uin) or {}

    def view(self, session: str, charge: Charge, today: date | None = None) -> dict[str, Any]:
        today = today or self.today(session)
        state = self.charge_state(session, charge.uin)
        key = (charge.uin, today, json.dumps(state, sort_keys=True) if state else "")
        found = self._views.get(key)
        if found is None:
            found = self._fine_view(charge, state, today) if charge.kind == "fine" else self._debt_view(charge, state, today)
            if len(self._views) >= _VIEW_CACHE:
                self._views.clear()
            self._views[key] = found
        return found

    def list_charges(
        self, session: str, oid: int, kind: str, *, status: str | None = None, type_: str | None = None,
        vehicle: str | None = None, limit: int = 20, cursor: str | None = None,
    ) -> dict[str, Any]:
        person = self.directory.person(oid)
        if person is None:
            raise PersonNotFound()
        today = self.today(session)
        views = [self.view(session, charge, today) for charge in self.directory.charges_of(oid, kind)]
        if status:
            views = [v for v in views if v["status"] == status]
        if type_:
            views = [v for v in views if v["type"] == type_]
        if vehicle:
            wanted = vehicle.replace(" ", "").upper()
            views = [v for v in views if (v.get("vehicle") or {}).get("number_plate", "").upper() == wanted]
        # Newest first, then by УИН, so pages are stable whatever the clock does.
        views.sort(key=lambda v: (v["issued_date"], v["uin"]), reverse=True)
        total = len(views)
        if cursor:
            # A cursor is a position in the sort order, not a pointer to an item, so it stays valid when
            # the item it names leaves the list (paid, filtered out): the page starts right after that position.
            after = _decode_cursor(cursor)
            views = [v for v in views if (v["issued_date"], v["uin"]) < after]
        page = views[:limit]
        more = limit < len(views)
        return {
            "items": page,
            "total": total,
            "next_cursor": _encode_cursor(page[-1]["issued_date"], page[-1]["uin"]) if more and page else None,
        }

    def get_charge(self, session: str, oid: int, uin: str, kind: str) -> dict[str, Any]:
        charge = self.directory.charge(uin)
        # Someone else's charge is "not found", not "forbidden": a bank must not learn that a УИН exists.
        if charge is None or charge.kind != kind or charge.oid != oid:
            raise ChargeNotFound()
        return self.view(session, charge)

    # -- views --------------------------------------------------------------------------------------------------
    def _requisites(self, charge: Charge, amount_due: int, purpose: str) -> tuple[dict[str, Any], str | None]:
        record = charge.record
        payee = self.directory.payees[record["payee"]]
        person = self.directory.persons[charge.oid]
        requisites = {
            "payee_name": payee.name,
            "payee_inn": payee.inn,
            "payee_kpp": payee.kpp,
            "account": payee.account,
            "bik": payee.bik,
            "bank_name": payee.bank_name,
            "corr_account": payee.corr_account,
            "kbk": record["kbk"],
            "oktmo": record["oktmo"],
            "purpose": purpose,
        }
        if amount_due <= 0:
            return requisites, None  # nothing to pay: a QR would only invite a second payment
        qr = charge_qr(
            payee, amount=amount_due, purpose=purpose, kbk=record["kbk"], oktmo=record["oktmo"], uin=charge.uin,
            payer_inn=person.get("inn"), last_name=person["last_name"], first_name=person["first_name"],
            middle_name=person.get("middle_name") or "",
        )
        return requisites, qr

    def _fine_view(self, charge: Charge, state: dict[str, Any], today: date) -> dict[str, Any]:
        r = charge.record
        d = self.directory.date
        resolution_date = d(r["resolution_date"])
        terms = fine_rules.fine_terms(
            r["article"], int(r["amount"]), resolution_date, d(r.get("delivered_date")), bool(r.get("deferred", False))
        )
        paid = int(r.get("paid", 0)) + int(state.get("paid", 0))
        paid_on = state.get("paid_on") or r.get("paid_on")
        last_paid_on = date.fromisoformat(paid_on) if state.get("paid_on") else d(paid_on)
        due = terms.amount_due(today, paid, last_paid_on=last_paid_on)
        purpose = f"Штраф по постановлению № {r['resolution_number']} от {resolution_date:%d.%m.%Y}"
        requisites, qr = self._requisites(charge, due, purpose)
        vehicle = None
        if r.get("vehicle"):
            person = self.directory.persons[charge.oid]
            match = next((v for v in person.get("vehicles", []) if v.get("number_plate") == r["vehicle"]), None)
            vehicle = {"number_plate": r["vehicle"], **({"sts": match["sts"]} if match and match.get("sts") else {})}
        return {
            "uin": charge.uin,
            "type": "fine",
            "status": terms.status(today, paid, last_paid_on=last_paid_on),
            "issued_date": resolution_date.isoformat(),
            "resolution": {"number": r["resolution_number"], "date": resolution_date.isoformat()},
            "article": r["article"],
            "description": r.get("description", ""),
            "offence": {"date": d(r["offence"]["date"]).isoformat(), "place": r["offence"].get("place", "")},
            "department": r.get("department", ""),
            "vehicle": vehicle,
            "licence": r.get("licence"),
            "amount": terms.amount,
            "discount": (
                {"amount": terms.discount_amount, "until": terms.discount_until.isoformat(), "active": terms.discount_active(today)}
                if terms.discount_amount is not None and terms.discount_until is not None else None
            ),
            "amount_due": due,
            "paid_amount": paid,
            "due_date": terms.due_date.isoformat(),
            "requisites": requisites,
            "qr": qr,
            "quittance": state.get("quittance"),
        }

    def _debt_view(self, charge: Charge, state: dict[str, Any], today: date) -> dict[str, Any]:
        r = charge.record
        d = self.directory.date
        amount = int(r["amount"])
        paid = int(r.get("paid", 0)) + int(state.get("paid", 0))
        due = max(0, amount - paid)
        due_date = d(r["due_date"])
        status = _balance_status(amount, paid, today > due_date)
        purpose = r.get("description") or ("Единый налоговый платёж" if r["type"] == "tax" else "Задолженность по ИП")
        requisites, qr = self._requisites(charge, due, purpose)
        view = {
            "uin": charge.uin,
            "type": r["type"],
            "status": status,
            "issued_date": d(r["issued_date"]).isoformat(),
            "description": r.get("description", ""),
            "amount": amount,
            "amount_due": due,
            "paid_amount": paid,
            "due_date": due_date.isoformat(),
            "requisites": requisites,
            "qr": qr,
            "quittance": state.get("quittance"),
        }
        if r["type"] == "tax" and r.get("tax"):
            view["tax"] = r["tax"]
        if r["type"] == "fssp" and r.get("proceeding"):
            view["proceeding"] = r["proceeding"]
        return view

    def amount_due(self, session: str, uin: str) -> tuple[Charge, int, dict[str, Any]]:
        """What a payment for this УИН must be now; the payments service asks this at CreatePayment."""
        charge = self.directory.charge(uin)
        if charge is None:
            raise ChargeNotFound()
        view = self.view(session, charge)
        return charge, view["amount_due"], view


def _balance_status(amount: int, paid: int, past_due: bool) -> str:
    if paid >= amount:
        return "paid"
    if past_due:
        return "overdue"
    return "partially_paid" if paid > 0 else "unpaid"


def _encode_cursor(issued: str, uin: str) -> str:
    return f"{issued}_{uin}"


_CURSOR = re.compile(r"^(\d{4}-\d{2}-\d{2})_(\d{20}|\d{25})$")


def _decode_cursor(cursor: str) -> tuple[str, str]:
    """Keyset pagination: the cursor is the (date, УИН) position the last page ended at, compared as strings."""
    match = _CURSOR.match(cursor)
    if not match:
        raise InvalidCursor()
    return match.group(1), match.group(2)
