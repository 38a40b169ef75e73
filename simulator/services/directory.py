"""The read-only world: persons, their fines and debts, and payees, loaded from fixtures and generated datasets."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from ..domain.requisites import Payee

_RELATIVE = re.compile(r"^([+-]?\d+)d$")


def resolve_date(value: str | None, anchor: date) -> date | None:
    """Fixture dates are absolute (YYYY-MM-DD) or relative to the anchor date ("-12d"), so stories stay fresh."""
    if value is None:
        return None
    match = _RELATIVE.match(value)
    if match:
        return anchor + timedelta(days=int(match.group(1)))
    return date.fromisoformat(value)


def login_keys(login: str) -> list[str]:
    """Phone, e-mail or СНИЛС as a person types them -> the index keys it may mean (11 bare digits are ambiguous)."""
    text = login.strip()
    if "@" in text:
        return ["email:" + text.lower()]
    digits = re.sub(r"\D", "", text)
    if re.search(r"[^\d\s()+-]", text):
        return []
    if len(digits) == 10:
        return ["phone:7" + digits]
    if len(digits) != 11:
        return []
    keys = []
    if digits[0] in "78" and not re.fullmatch(r"\d{3}-\d{3}-\d{3}[ -]?\d{2}", text):
        keys.append("phone:7" + digits[1:])
    if not text.startswith("+"):
        keys.append("snils:" + digits)
    return keys


@dataclass(frozen=True)
class Charge:
    uin: str
    kind: str  # "fine" | "debt"
    oid: int
    record: dict[str, Any]


class Directory:
    def __init__(self, payees: dict[str, Payee], anchor: date) -> None:
        self.payees = payees
        self.anchor = anchor
        self.persons: dict[int, dict[str, Any]] = {}
        self.charges: dict[str, Charge] = {}
        self._logins: dict[str, int] = {}
        self.stories: list[int] = []

    @classmethod
    def load(cls, fixtures: Path, anchor: date, data: Path | None = None) -> "Directory":
        payees_raw = yaml.safe_load((fixtures / "payees.yaml").read_text(encoding="utf-8")) or {}
        payees = {key: Payee(**value) for key, value in payees_raw.items()}
        directory = cls(payees, anchor)
        story_file = fixtures / "citizens.yaml"
        if story_file.exists():
            stories = (yaml.safe_load(story_file.read_text(encoding="utf-8")) or {}).get("persons", [])
            directory.add_persons(stories, story=True)
        if data is not None:
            directory.add_persons(_read_jsonl(data / "persons.jsonl" if data.is_dir() else data))
        return directory

    def add_persons(self, persons: Iterable[dict[str, Any]], story: bool = False) -> None:
        for person in persons:
            oid = int(person["oid"])
            if oid in self.persons:
                raise ValueError(f"person {oid} is defined twice")
            self.persons[oid] = person
            if story:
                self.stories.append(oid)
            for login in (person.get("phone"), person.get("email"), person.get("snils")):
                for key in login_keys(login or "")[:1]:
                    self._logins.setdefault(key, oid)
            for kind, items in (("fine", person.get("fines", [])), ("debt", person.get("debts", []))):
                for record in items:
                    uin = record["uin"]
                    if uin in self.charges:
                        raise ValueError(f"УИН {uin} is used twice")
                    if record.get("payee") not in self.payees:
                        raise ValueError(f"УИН {uin}: unknown payee {record.get('payee')!r}")
                    self.charges[uin] = Charge(uin=uin, kind=kind, oid=oid, record=record)

    def person(self, oid: int) -> dict[str, Any] | None:
        return self.persons.get(oid)

    def find_login(self, login: str) -> dict[str, Any] | None:
        for key in login_keys(login):
            if key in self._logins:
                return self.persons[self._logins[key]]
        return None

    def charge(self, uin: str) -> Charge | None:
        return self.charges.get(uin)

    def date(self, value: str | None) -> date | None:
        return resolve_date(value, self.anchor)


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
