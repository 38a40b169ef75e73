"""The read-only world: persons, their fines and debts, and payees, loaded from fixtures and generated datasets."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..domain.requisites import Payee
from .dataset import DatasetIndex

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


# Decoded generated persons kept per worker: a page of fines or a payment touches the same few persons again and again,
# and 2 048 of them take about 15 MB where all 100 000 took 900.
PERSON_CACHE = 2048


class Directory:
    """Story persons (and any added in code) in memory; a generated dataset behind its on-disk index, read on demand."""

    def __init__(self, payees: dict[str, Payee], anchor: date) -> None:
        self.payees = payees
        self.anchor = anchor
        self._persons: dict[int, dict[str, Any]] = {}
        self._charges: dict[str, Charge] = {}
        self._logins: dict[str, int] = {}
        self._index: DatasetIndex | None = None
        self._cached: Callable[[int], dict[str, Any] | None] | None = None  # the index's person(), behind an LRU
        self.stories: list[int] = []
        # Read-only mappings over both, for callers that index, count or iterate (`persons[oid]`, `len(charges)`).
        self.persons: Mapping[int, dict[str, Any]] = _View(
            self, int, self.person, self._persons, lambda index: index.persons, lambda index: index.oids())
        self.charges: Mapping[str, Charge] = _View(
            self, str, self.charge, self._charges, lambda index: index.charges, lambda index: index.uins())

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
            directory.attach(DatasetIndex.open(Path(data)))
        return directory

    def add_persons(self, persons: Iterable[dict[str, Any]], story: bool = False) -> None:
        for person in persons:
            oid = int(person["oid"])
            if oid in self.persons:
                raise ValueError(f"person {oid} is defined twice")
            self._persons[oid] = person
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
                    self._charges[uin] = Charge(uin=uin, kind=kind, oid=oid, record=record)

    def attach(self, index: DatasetIndex) -> None:
        """Serve a generated dataset from its index, after checking it against what is already here."""
        for payee in index.payees:
            if payee not in self.payees:
                raise ValueError(f"УИН {index.first_with_payee(payee)}: unknown payee {payee!r}")
        for oid in self._persons:
            if index.person(oid) is not None:
                raise ValueError(f"person {oid} is defined twice")
        for uin in self._charges:
            if index.charge(uin) is not None:
                raise ValueError(f"УИН {uin} is used twice")
        self._index = index
        self._cached = lru_cache(maxsize=PERSON_CACHE)(index.person)

    def person(self, oid: int) -> dict[str, Any] | None:
        person = self._persons.get(oid)
        if person is None and self._cached is not None:
            person = self._cached(oid)
        return person

    def find_login(self, login: str) -> dict[str, Any] | None:
        for key in login_keys(login):
            oid = self._logins.get(key)
            if oid is None and self._index is not None:
                oid = self._index.login(key)
            if oid is not None:
                return self.person(oid)
        return None

    def charge(self, uin: str) -> Charge | None:
        charge = self._charges.get(uin)
        if charge is not None or self._index is None:
            return charge
        found = self._index.charge(uin)
        if found is None:
            return None
        kind, oid = found
        person = self.person(oid) or {}
        for record in person.get("fines" if kind == "fine" else "debts") or []:
            if record["uin"] == uin:
                return Charge(uin=uin, kind=kind, oid=oid, record=record)
        return None

    def charges_of(self, oid: int, kind: str) -> list[Charge]:
        """A person's fines or debts, straight from the person's record: no look-up per УИН, no scan of others."""
        person = self.person(oid) or {}
        return [Charge(uin=r["uin"], kind=kind, oid=oid, record=r)
                for r in person.get("fines" if kind == "fine" else "debts") or []]

    def date(self, value: str | None) -> date | None:
        return resolve_date(value, self.anchor)

    def close(self) -> None:
        if self._index is not None:
            self._index.close()


class _View(Mapping[Any, Any]):
    """A read-only mapping over the story records in memory and, behind them, the dataset's index."""

    def __init__(self, directory: Directory, key_type: type, find: Callable[[Any], Any], local: dict[Any, Any],
                 count: Callable[[DatasetIndex], int], keys: Callable[[DatasetIndex], Iterable[Any]]) -> None:
        self._d, self._type, self._find, self._local, self._count, self._keys = \
            directory, key_type, find, local, count, keys

    def __getitem__(self, key: Any) -> Any:
        found = self._find(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, self._type) and self._find(key) is not None

    def __len__(self) -> int:
        index = self._d._index
        return len(self._local) + (self._count(index) if index is not None else 0)

    def __iter__(self) -> Iterator[Any]:
        yield from self._local
        if self._d._index is not None:
            yield from self._keys(self._d._index)
