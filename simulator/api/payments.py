"""Handlers of the `payments` tag: CreatePayment, CheckStatus, ListPayments, CancelPayment, GetReceipt."""

from __future__ import annotations

import functools
from pathlib import Path

from connexion import request
from flask import Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..http.context import services, session, token
from ..services.payments import SETTLEMENT_HEADER

JSON = "application/json"


def create_payment(body: dict) -> Response:
    answer = services().payments.create(
        session(), token().client_id, body, request.headers.get("Idempotency-Key"),
        request.headers.get(SETTLEMENT_HEADER),
    )
    headers = {"Content-Type": JSON, "Location": f"/api/v1/payments/{answer.payment_id}"}
    if answer.replayed:
        headers["Idempotent-Replayed"] = "true"
    # A ready response, not a dict: a replay must be the stored bytes, untouched by any serializer.
    return Response(answer.body, status=answer.status, headers=headers)


def check_status(payment_id: str) -> dict:
    return services().payments.check(session(), token().client_id, payment_id)


def list_payments(uin: str | None = None, status: str | None = None, limit: int = 20, cursor: str | None = None) -> dict:
    return services().payments.list(session(), token().client_id, uin=uin, status=status, limit=limit, cursor=cursor)


def cancel_payment(payment_id: str, body: dict | None = None) -> dict:
    return services().payments.cancel(session(), token().client_id, payment_id, (body or {}).get("reason"))


def get_receipt(payment_id: str, format: str | None = None):  # noqa: A002 (the spec's name)
    receipt = services().payments.receipt(session(), token().client_id, payment_id)
    if format == "html" or (format is None and _prefers_html(request.headers.get("Accept", ""))):
        return _templates().get_template("receipt.html").render(r=receipt), 200, {"Content-Type": "text/html"}
    return receipt


def _prefers_html(accept: str) -> bool:
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return "text/html" in kinds and (JSON not in kinds or kinds.index("text/html") < kinds.index(JSON))


@functools.lru_cache(maxsize=1)
def _templates() -> Environment:
    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"]))
    env.filters["rub"] = lambda kop: f"{kop // 100:,}".replace(",", "\u00a0") + f",{kop % 100:02d}\u00a0₽"
    return env
