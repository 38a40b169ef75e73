"""Bulk fixture generation: the schema, valid and unique identifiers, realistic shares, and byte-identical output."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from simulator.datagen import DATA_EPOCH, PAYEE_KEYS, PLATE_LETTERS, generate_persons, write_dataset
from simulator.domain.fines import discount_eligible, enforcement_fee
from simulator.domain.identifiers import is_valid_inn, is_valid_snils, is_valid_uin

COUNT = 10_000
PERSON_KEYS = {
    "oid", "level", "locked", "password", "phone", "email", "last_name", "first_name", "middle_name", "gender",
    "birth_date", "birth_place", "snils", "inn", "passport", "vehicles", "fines", "debts",
}  # fmt: skip
OPTIONAL_PERSON_KEYS = {"driving_licence"}
FINE_KEYS = {
    "uin", "resolution_number", "resolution_date", "article", "description", "amount", "offence", "department",
    "payee", "kbk", "oktmo", "vehicle", "licence", "paid",
}  # fmt: skip
DEBT_KEYS = {"uin", "type", "description", "amount", "issued_date", "due_date", "payee", "kbk", "oktmo", "paid"}
OFFSET = re.compile(r"-[1-9]\d*d")
CYRILLIC_NAME = re.compile(r"[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?")
PLATE = re.compile(rf"[{PLATE_LETTERS}]\d{{3}}[{PLATE_LETTERS}]{{2}}\d{{2,3}}")


@pytest.fixture(scope="module")
def persons() -> list[dict]:
    return list(generate_persons(seed=42, count=COUNT))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _charges(persons: list[dict]) -> list[dict]:
    return [charge for p in persons for charge in p["fines"] + p["debts"]]


def test_the_same_seed_writes_identical_bytes(tmp_path):
    first = write_dataset(7, 2000, tmp_path / "a")
    second = write_dataset(7, 2000, tmp_path / "b")
    assert first.name == "persons.jsonl"
    assert _digest(first) == _digest(second)


def test_another_seed_writes_different_bytes(tmp_path):
    assert _digest(write_dataset(7, 500, tmp_path / "a")) != _digest(write_dataset(8, 500, tmp_path / "b"))


def test_the_bytes_do_not_depend_on_the_process_hash_seed(tmp_path):
    # Iterating a set of strings follows PYTHONHASHSEED; a generator that did would differ between CI runs.
    script = "import sys; from pathlib import Path; from simulator.datagen import write_dataset; " \
             "write_dataset(3, 300, Path(sys.argv[1]))"  # fmt: skip
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", script, str(tmp_path / hash_seed)], check=True, env=env)
    assert _digest(tmp_path / "1" / "persons.jsonl") == _digest(tmp_path / "2" / "persons.jsonl")


def test_the_file_is_one_sorted_compact_json_object_per_line(tmp_path):
    path = write_dataset(5, 50, tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 50
    for line in lines:
        record = json.loads(line)
        assert line == json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def test_progress_is_reported_up_to_the_total():
    calls = []
    list(generate_persons(1, 2500, progress=lambda done, total: calls.append((done, total))))
    assert calls == [(1000, 2500), (2000, 2500), (2500, 2500)]


def test_every_person_has_exactly_the_documented_keys(persons):
    for person in persons:
        assert PERSON_KEYS <= set(person) <= PERSON_KEYS | OPTIONAL_PERSON_KEYS
        for fine in person["fines"]:
            assert FINE_KEYS <= set(fine) <= FINE_KEYS | {"delivered_date"}
        for debt in person["debts"]:
            assert set(debt) == DEBT_KEYS | {"tax" if debt["type"] == "tax" else "proceeding"}


def test_every_inn_snils_and_uin_passes_its_check_digit(persons):
    assert all(is_valid_inn(p["inn"]) and len(p["inn"]) == 12 for p in persons)
    assert all(is_valid_snils(p["snils"]) and len(p["snils"]) == 14 for p in persons)
    assert all(is_valid_uin(c["uin"]) and len(c["uin"]) == 20 for c in _charges(persons))


@pytest.mark.parametrize("field", ["oid", "inn", "snils", "phone", "email"])
def test_personal_identifiers_are_unique(persons, field):
    values = [p[field] for p in persons]
    assert len(set(values)) == len(values)


def test_uins_passports_and_plates_are_unique(persons):
    for values in (
        [c["uin"] for c in _charges(persons)],
        [(p["passport"]["series"], p["passport"]["number"]) for p in persons],
        [v["number_plate"] for p in persons for v in p["vehicles"]],
    ):
        assert len(set(values)) == len(values)


def test_contacts_look_real(persons):
    for person in persons:
        assert re.fullmatch(r"\+79\d{9}", person["phone"])
        assert re.fullmatch(r"[a-z.]+\d*@[a-z]+\.(ru|com)", person["email"]), person["email"]
        assert isinstance(person["oid"], int) and 100_000_000 <= person["oid"] < 10_000_000_000


def test_names_are_cyrillic_and_agree_with_gender(persons):
    for person in persons:
        for field in ("last_name", "first_name", "middle_name"):
            assert CYRILLIC_NAME.fullmatch(person[field]), person[field]
        ending = ("ич",) if person["gender"] == "M" else ("на",)
        assert person["middle_name"].endswith(ending), person


def test_passports_are_issued_at_fourteen_or_later(persons):
    for person in persons:
        passport, born = person["passport"], date.fromisoformat(person["birth_date"])
        issued = date.fromisoformat(passport["issue_date"])
        assert re.fullmatch(r"\d{4}", passport["series"]) and re.fullmatch(r"\d{6}", passport["number"])
        assert re.fullmatch(r"\d{3}-\d{3}", passport["issue_id"]) and passport["issued_by"]
        assert date(born.year + 14, born.month, min(born.day, 28)) <= issued < DATA_EPOCH
        assert passport["series"][2:] == f"{issued.year % 100:02d}"


def test_vehicles_have_russian_plates_and_registration_certificates(persons):
    for vehicle in (v for p in persons for v in p["vehicles"]):
        assert PLATE.fullmatch(vehicle["number_plate"]), vehicle
        assert re.fullmatch(r"\d{4}", vehicle["sts"]["series"]) and re.fullmatch(r"\d{6}", vehicle["sts"]["number"])


def test_fines_follow_the_uin_rules(persons):
    for person in persons:
        plates = {v["number_plate"] for v in person["vehicles"]}
        for fine in person["fines"]:
            assert fine["uin"][:6] in ("188101", "188100")
            assert fine["kbk"][:3] == fine["uin"][:3] and len(fine["kbk"]) == 20
            if fine["uin"].startswith("188101"):
                assert fine["resolution_number"] == fine["uin"]
            assert fine["vehicle"] is None or fine["vehicle"] in plates
            assert isinstance(fine["amount"], int) and fine["amount"] > 0 and 0 <= fine["paid"] <= fine["amount"]
            assert fine["payee"] in PAYEE_KEYS and fine["payee"].startswith("gibdd_")
            discount_eligible(fine["article"])  # parses, or raises
            dates = [fine["resolution_date"], fine["offence"]["date"], fine.get("delivered_date", "-1d")]
            assert all(OFFSET.fullmatch(d) for d in dates), fine


def test_debts_follow_the_uin_rules(persons):
    for debt in (d for p in persons for d in p["debts"]):
        prefix = "182" if debt["type"] == "tax" else "322"
        assert debt["uin"].startswith(prefix) and debt["kbk"].startswith(prefix)
        assert debt["payee"] in PAYEE_KEYS
        assert OFFSET.fullmatch(debt["issued_date"]) and OFFSET.fullmatch(debt["due_date"])
        if debt["type"] == "fssp":
            proceeding = debt["proceeding"]
            assert re.fullmatch(r"\d{1,7}/\d{2}/\d{5}-ИП", proceeding["number"])
            assert proceeding["fee"] == enforcement_fee(debt["amount"])
        else:
            assert debt["tax"]["kind"] in ("transport", "property", "land", "income")


def test_the_shares_of_levels_fines_and_debts_are_realistic(persons):
    levels = Counter(p["level"] for p in persons)
    assert levels["confirmed"] / COUNT == pytest.approx(0.80, abs=0.02)
    assert levels["standard"] / COUNT == pytest.approx(0.15, abs=0.02)
    assert levels["simplified"] / COUNT == pytest.approx(0.05, abs=0.01)
    assert sum(1 for p in persons if p["fines"]) / COUNT == pytest.approx(0.60, abs=0.02)
    assert all(len(p["fines"]) <= 3 for p in persons)
    for kind, share in (("tax", 0.2), ("fssp", 0.1)):
        with_debt = sum(1 for p in persons if any(d["type"] == kind for d in p["debts"]))
        assert with_debt / COUNT == pytest.approx(share, abs=0.02), kind


def test_a_negative_count_is_refused():
    with pytest.raises(ValueError):
        list(generate_persons(1, -1))
