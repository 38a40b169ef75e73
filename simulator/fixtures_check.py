"""`gosim fixtures validate`: fixture files against their JSON Schemas, check digits, uniqueness and references."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml
from jsonschema import Draft202012Validator

from .domain.identifiers import is_valid_inn, is_valid_snils, is_valid_uin
from .settings import PACKAGE_DIR

_PAYEE_KEYS = {"name", "inn", "kpp", "account", "bik", "bank_name", "corr_account"}


def _person_validator() -> Draft202012Validator:
    schema = json.loads((PACKAGE_DIR / "schemas" / "person.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def check_persons(persons: Iterable[dict[str, Any]], payees: set[str], where: str) -> Iterator[str]:
    """Every problem in a stream of person records, each naming the record and the field."""
    validator = _person_validator()
    seen: dict[str, set[str]] = {"oid": set(), "phone": set(), "email": set(), "snils": set(), "inn": set(), "uin": set()}

    def unique(kind: str, value: Any, label: str) -> Iterator[str]:
        if value is None:
            return
        if value in seen[kind]:
            yield f"{label}: {kind} {value} is used twice"
        seen[kind].add(value)

    for index, person in enumerate(persons):
        label = f"{where}[{index}] (oid {person.get('oid', '?')})"
        for error in validator.iter_errors(person):
            path = "/".join(str(p) for p in error.absolute_path) or "(record)"
            yield f"{label}: {path}: {error.message}"
        for kind in ("oid", "phone", "email", "snils", "inn"):
            yield from unique(kind, person.get(kind), label)
        if person.get("inn") and not is_valid_inn(person["inn"]):
            yield f"{label}: inn {person['inn']} fails its check digits"
        if person.get("snils") and not is_valid_snils(person["snils"]):
            yield f"{label}: snils {person['snils']} fails its check digits"
        for kind in ("fines", "debts"):
            for j, charge in enumerate(person.get(kind) or []):
                uin = charge.get("uin")
                where_charge = f"{label}: {kind}[{j}]"
                if uin and not is_valid_uin(uin):
                    yield f"{where_charge}: УИН {uin} fails its check digit"
                yield from unique("uin", uin, where_charge)
                if charge.get("payee") not in payees:
                    yield f"{where_charge}: unknown payee {charge.get('payee')!r}"
                if uin and charge.get("kbk") and uin[:3] != charge["kbk"][:3]:
                    yield f"{where_charge}: КБК {charge['kbk']} does not start with the УИН's administrator {uin[:3]}"


def validate_dir(directory: Path) -> list[str]:
    """All problems in a fixtures directory (citizens.yaml, payees.yaml, clients.yaml) or a generated dataset."""
    problems: list[str] = []
    payees_file = directory / "payees.yaml"
    payees: dict[str, Any] = {}
    if payees_file.exists():
        payees = yaml.safe_load(payees_file.read_text(encoding="utf-8")) or {}
        for key, payee in payees.items():
            missing = _PAYEE_KEYS - set(payee or {})
            if missing:
                problems.append(f"payees.yaml: {key}: missing {', '.join(sorted(missing))}")
            elif not is_valid_inn(str(payee["inn"])):
                problems.append(f"payees.yaml: {key}: ИНН {payee['inn']} fails its check digit")
    else:
        from .settings import resource_path

        payees = yaml.safe_load((resource_path("fixtures") / "payees.yaml").read_text(encoding="utf-8")) or {}
    known = set(payees)
    stories = directory / "citizens.yaml"
    if stories.exists():
        persons = (yaml.safe_load(stories.read_text(encoding="utf-8")) or {}).get("persons", [])
        problems += check_persons(persons, known, "citizens.yaml")
    dataset = directory / "persons.jsonl"
    if dataset.exists():
        def records() -> Iterator[dict[str, Any]]:
            with dataset.open(encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        yield json.loads(line)
        problems += check_persons(records(), known, "persons.jsonl")
    clients = directory / "clients.yaml"
    if clients.exists():
        entries = (yaml.safe_load(clients.read_text(encoding="utf-8")) or {}).get("clients", [])
        for entry in entries:
            if entry.get("type", "confidential") == "confidential" and not entry.get("secret"):
                problems.append(f"clients.yaml: {entry.get('client_id')}: a confidential client needs a secret")
            if not entry.get("redirect_uris"):
                problems.append(f"clients.yaml: {entry.get('client_id')}: no redirect_uris")
    if not (stories.exists() or dataset.exists()):
        problems.append(f"{directory}: neither citizens.yaml nor persons.jsonl found")
    return problems
