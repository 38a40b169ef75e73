"""Payment requisites of a payee and the ГОСТ Р 56042-2014 payment QR payload built from them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .identifiers import is_valid_inn

__all__ = [
    "MANDATORY_KEYS",
    "OPTIONAL_KEYS",
    "Payee",
    "charge_qr",
    "parse_qr",
    "qr_payload",
]

# "ST" + version "0001"; the next character names the encoding. We always emit UTF-8 because a payload is a str here.
_FORMAT = "ST0001"
_ENCODINGS = {"1": "windows-1251", "2": "utf-8", "3": "koi8-r"}
_UTF8 = "2"
_SEPARATOR = "|"

MANDATORY_KEYS: tuple[str, ...] = ("Name", "PersonalAcc", "BankName", "BIC", "CorrespAcc")
OPTIONAL_KEYS: tuple[str, ...] = (
    "Sum", "Purpose", "PayeeINN", "PayerINN", "DrawerStatus", "KPP", "CBC", "OKTMO", "PaytReason", "TaxPeriod",
    "DocNo", "DocDate", "TaxPaytKind", "LastName", "FirstName", "MiddleName", "PayerAddress", "PersonalAccount",
    "DocIdx", "PensAcc", "Contract", "PersAcc", "Flat", "Phone", "PayerIdType", "PayerIdNum", "ChildFio", "BirthDate",
    "PaymTerm", "PaymPeriod", "Category", "ServiceName", "CounterId", "CounterVal", "QuittId", "QuittDate", "InstNum",
    "ClassNum", "SpecFio", "AddAmount", "RuleId", "ExecId", "RegType", "UIN", "TechCode",
)  # fmt: skip
_KNOWN_KEYS = frozenset(MANDATORY_KEYS + OPTIONAL_KEYS)


def _require_digits(value: str, lengths: tuple[int, ...], what: str) -> None:
    if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) in lengths):
        raise ValueError(f"{what} must be {' or '.join(map(str, lengths))} digits, got {value!r}")


@dataclass(frozen=True)
class Payee:
    """Who receives the money: for state charges a Treasury account (03…) held through the single treasury
    account (ЕКС, 40102…), which plays the role of the correspondent account in a payment order."""

    name: str
    inn: str
    kpp: str
    account: str
    bik: str
    bank_name: str
    corr_account: str

    def __post_init__(self) -> None:
        # Checked at construction so that a typo in fixtures fails at start-up, not inside a bank's payment.
        if not self.name or not self.bank_name:
            raise ValueError("a payee needs a name and a bank name")
        if not is_valid_inn(self.inn):
            raise ValueError(f"payee {self.name!r}: ИНН {self.inn!r} fails its check digit")
        _require_digits(self.kpp, (9,), "КПП")
        _require_digits(self.account, (20,), "account")
        _require_digits(self.bik, (9,), "БИК")
        _require_digits(self.corr_account, (20,), "correspondent account")


def _pairs(
    fields: Iterable[tuple[str, str]] | Mapping[str, str], separator: str = _SEPARATOR
) -> list[tuple[str, str]]:
    pairs = list(fields.items()) if isinstance(fields, Mapping) else list(fields)
    seen: set[str] = set()
    for key, value in pairs:
        if key not in _KNOWN_KEYS:
            raise ValueError(f"{key!r} is not a ГОСТ Р 56042-2014 key (keys are Latin and case-sensitive)")
        if key in seen:
            raise ValueError(f"key {key!r} appears twice")
        seen.add(key)
        if not isinstance(value, str):
            raise ValueError(f"{key}: value must be a string, got {type(value).__name__}")
        if separator in value:
            raise ValueError(f"{key}: value must not contain the separator {separator!r}")
    return pairs


def _check_fields(fields: Mapping[str, str]) -> None:
    missing = [key for key in MANDATORY_KEYS if not fields.get(key)]
    if missing:
        raise ValueError(f"mandatory QR fields missing or empty: {', '.join(missing)}")
    if "Sum" in fields:
        _require_digits(fields["Sum"], tuple(range(1, 19)), "Sum (kopecks)")


def qr_payload(fields: Iterable[tuple[str, str]] | Mapping[str, str]) -> str:
    """`ST00012|Name=…|PersonalAcc=…|BankName=…|BIC=…|CorrespAcc=…|…`: mandatory keys first in the standard's
    order, then the optional ones in the order given."""
    pairs = _pairs(fields)
    by_key = dict(pairs)
    _check_fields(by_key)
    ordered = [(key, by_key[key]) for key in MANDATORY_KEYS] + [(k, v) for k, v in pairs if k not in MANDATORY_KEYS]
    return _FORMAT + _UTF8 + "".join(f"{_SEPARATOR}{key}={value}" for key, value in ordered)


def parse_qr(payload: str) -> dict[str, str]:
    """Fields of a ГОСТ payload, in payload order; ValueError for a bad header, unknown key or missing field."""
    header_length = len(_FORMAT) + 1
    if not isinstance(payload, str) or payload[: len(_FORMAT)] != _FORMAT or len(payload) <= header_length:
        raise ValueError("not a ГОСТ Р 56042-2014 payload: it must start with 'ST0001', an encoding digit and '|'")
    if payload[len(_FORMAT)] not in _ENCODINGS:
        raise ValueError(f"unknown encoding flag {payload[len(_FORMAT)]!r}; expected one of {sorted(_ENCODINGS)}")
    # The standard lets the writer pick any separator absent from the data and puts it right after the header.
    separator = payload[header_length]
    pairs = []
    for item in payload[header_length + 1 :].split(separator):
        key, sign, value = item.partition("=")
        if not sign:
            raise ValueError(f"QR element {item!r} is not Key=Value")
        pairs.append((key, value))
    if tuple(key for key, _ in pairs[: len(MANDATORY_KEYS)]) != MANDATORY_KEYS:
        raise ValueError(f"a QR payload must start with {', '.join(MANDATORY_KEYS)} in that order")
    fields = dict(_pairs(pairs, separator))
    _check_fields(fields)
    return fields


def charge_qr(
    payee: Payee,
    *,
    amount: int,
    purpose: str,
    kbk: str,
    oktmo: str,
    uin: str,
    payer_inn: str | None = None,
    last_name: str | None = None,
    first_name: str | None = None,
    middle_name: str | None = None,
) -> str:
    """The QR a bank scans to pay a state charge (fine, tax, enforcement debt) of `amount` kopecks.

    An amount of 0 (a charge already paid) leaves `Sum` out, as the standard allows, rather than asking for 0 ₽.
    """
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise ValueError(f"amount must be a non-negative number of kopecks, got {amount!r}")
    fields: list[tuple[str, str]] = [
        ("Name", payee.name),
        ("PersonalAcc", payee.account),
        ("BankName", payee.bank_name),
        ("BIC", payee.bik),
        ("CorrespAcc", payee.corr_account),
        *([("Sum", str(amount))] if amount else []),
        ("Purpose", purpose),
        ("PayeeINN", payee.inn),
        ("KPP", payee.kpp),
        ("CBC", kbk),
        ("OKTMO", oktmo),
        ("UIN", uin),
    ]
    payer = (("PayerINN", payer_inn), ("LastName", last_name), ("FirstName", first_name), ("MiddleName", middle_name))
    fields += [(key, value) for key, value in payer if value]
    return qr_payload(fields)
