"""A generated dataset is served through its on-disk index: built once, rebuilt when stale, refused if inconsistent."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.datagen import write_dataset
from simulator.services.dataset import index_path
from simulator.services.directory import Directory
from simulator.settings import resource_path

FIXTURES = resource_path("fixtures")
ANCHOR = date(2026, 3, 2)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return write_dataset(5, 60, tmp_path_factory.mktemp("pristine"))


@pytest.fixture
def dataset(pristine, tmp_path) -> Path:
    """A private copy of a small dataset with no index yet."""
    out = tmp_path / "data"
    out.mkdir()
    shutil.copy(pristine, out / "persons.jsonl")
    return out


def _people(data: Path) -> list[dict]:
    return [json.loads(line) for line in (data / "persons.jsonl").read_text(encoding="utf-8").splitlines()]


def _write(path: Path, persons: list[dict]) -> None:
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in persons), encoding="utf-8")


def _with_charges(persons: list[dict]) -> dict:
    return next(p for p in persons if p["fines"] and p["debts"])


def test_a_missing_index_is_built_beside_the_dataset_and_a_person_is_read_from_it(dataset):
    assert not index_path(dataset / "persons.jsonl").exists()
    person = _people(dataset)[17]
    directory = Directory.load(FIXTURES, ANCHOR, dataset)
    assert index_path(dataset / "persons.jsonl").exists()
    assert directory.person(person["oid"]) == person
    assert directory.persons[person["oid"]] == person
    assert person["oid"] in directory.persons


def test_story_citizens_stay_and_the_counts_add_up(dataset):
    people = _people(dataset)
    directory = Directory.load(FIXTURES, ANCHOR, dataset)
    assert directory.person(1000000001)["phone"] == "+79160000001"
    assert directory.stories[0] == 1000000001 and len(directory.stories) == 7
    assert len(directory.persons) == 7 + len(people)
    story_charges = len([c for oid in directory.stories for c in directory.charges_of(oid, "fine")
                         + directory.charges_of(oid, "debt")])
    assert len(directory.charges) == story_charges + sum(len(p["fines"]) + len(p["debts"]) for p in people)
    assert sorted(directory.persons) == sorted([*directory.stories, *(p["oid"] for p in people)])


def test_a_generated_person_logs_in_by_phone_email_or_snils_as_typed(dataset):
    person = _people(dataset)[3]
    directory = Directory.load(FIXTURES, ANCHOR, dataset)
    phone = person["phone"]  # +7XXXXXXXXXX
    typed_phone = f"8 ({phone[2:5]}) {phone[5:8]}-{phone[8:10]}-{phone[10:]}"
    for login in (phone, typed_phone, person["email"].upper(), person["snils"]):
        assert directory.find_login(login)["oid"] == person["oid"], login
    assert directory.find_login("nobody@example.invalid") is None


def test_a_charge_is_found_by_its_uin_with_its_kind_owner_and_record(dataset):
    person = _with_charges(_people(dataset))
    directory = Directory.load(FIXTURES, ANCHOR, dataset)
    fine, debt = person["fines"][0], person["debts"][0]
    charge = directory.charge(fine["uin"])
    assert (charge.kind, charge.oid, charge.record) == ("fine", person["oid"], fine)
    assert directory.charges[debt["uin"]].kind == "debt"
    assert directory.charge("18810177000000000000") is None
    with pytest.raises(KeyError):
        directory.charges["18810177000000000000"]


def test_a_persons_charges_come_from_its_record_without_a_lookup_per_uin(dataset, monkeypatch):
    person = _with_charges(_people(dataset))
    directory = Directory.load(FIXTURES, ANCHOR, dataset)
    monkeypatch.setattr(directory._index, "charge", lambda uin: pytest.fail("looked up a УИН"))
    monkeypatch.setattr(directory._index, "oids", lambda: pytest.fail("scanned the persons"))
    fines = directory.charges_of(person["oid"], "fine")
    assert [c.uin for c in fines] == [f["uin"] for f in person["fines"]]
    assert {c.kind for c in directory.charges_of(person["oid"], "debt")} == {"debt"}


def test_a_stale_index_is_rebuilt_from_the_new_dataset(dataset):
    people = _people(dataset)
    Directory.load(FIXTURES, ANCHOR, dataset).close()
    renamed = {**people[0], "last_name": "Переименованный"}
    _write(dataset / "persons.jsonl", [renamed, *people[1:-1]])  # edited, and one person fewer
    directory = Directory.load(FIXTURES, ANCHOR, dataset)
    assert directory.person(people[0]["oid"])["last_name"] == "Переименованный"
    assert directory.person(people[-1]["oid"]) is None
    assert len(directory.persons) == 7 + len(people) - 1


def test_an_index_that_is_not_an_index_is_rebuilt(dataset):
    index_path(dataset / "persons.jsonl").write_bytes(b"not a database, just junk" * 100)
    person = _people(dataset)[0]
    assert Directory.load(FIXTURES, ANCHOR, dataset).person(person["oid"]) == person


def test_the_dataset_may_be_named_by_its_file(dataset):
    person = _people(dataset)[1]
    assert Directory.load(FIXTURES, ANCHOR, dataset / "persons.jsonl").person(person["oid"]) == person


_LOADER = """
import sys
from datetime import date
from pathlib import Path
from simulator.services.directory import Directory
from simulator.settings import resource_path
d = Directory.load(resource_path("fixtures"), date(2026, 3, 2), Path(sys.argv[1]))
print(len(d.persons), len(d.charges))
"""


def test_two_loaders_starting_together_leave_one_whole_index(dataset):
    procs = [subprocess.Popen([sys.executable, "-c", _LOADER, str(dataset)], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert len({out for out, _ in outputs}) == 1
    index = index_path(dataset / "persons.jsonl")
    with sqlite3.connect(index) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not list(dataset.glob("*.tmp"))  # no builder left half a file behind
    person = _people(dataset)[5]
    assert Directory.load(FIXTURES, ANCHOR, dataset).person(person["oid"]) == person


def test_a_uin_used_twice_is_refused_with_its_line_and_no_index_is_left(dataset):
    people = _people(dataset)
    first = _with_charges(people)
    second = _with_charges([p for p in people if p is not first])
    clash = {**second, "fines": [{**second["fines"][0], "uin": first["fines"][0]["uin"]}, *second["fines"][1:]]}
    _write(dataset / "persons.jsonl", [first, clash])
    with pytest.raises(ValueError, match=rf"persons.jsonl:2: УИН {first['fines'][0]['uin']} is used twice"):
        Directory.load(FIXTURES, ANCHOR, dataset)
    assert not index_path(dataset / "persons.jsonl").exists()
    assert not list(dataset.glob("*.tmp"))


def test_a_person_defined_twice_is_refused(dataset):
    people = _people(dataset)
    _write(dataset / "persons.jsonl", [people[0], people[1], {**people[2], "oid": people[0]["oid"], "fines": [],
                                                               "debts": []}])
    with pytest.raises(ValueError, match=rf"persons.jsonl:3: person {people[0]['oid']} is defined twice"):
        Directory.load(FIXTURES, ANCHOR, dataset)


def test_a_generated_person_with_a_story_oid_is_refused(dataset):
    people = _people(dataset)
    _write(dataset / "persons.jsonl", [{**people[0], "oid": 1000000001}])
    with pytest.raises(ValueError, match="person 1000000001 is defined twice"):
        Directory.load(FIXTURES, ANCHOR, dataset)


def test_a_charge_to_an_unknown_payee_is_refused_with_its_uin(dataset):
    person = _with_charges(_people(dataset))
    odd = {**person, "debts": [{**person["debts"][0], "payee": "nobody"}]}
    _write(dataset / "persons.jsonl", [odd])
    with pytest.raises(ValueError, match=rf"УИН {person['debts'][0]['uin']}: unknown payee 'nobody'"):
        Directory.load(FIXTURES, ANCHOR, dataset)


def test_fixtures_generate_writes_the_index_with_the_dataset(tmp_path, capsys):
    assert main(["fixtures", "generate", "--seed", "5", "--persons", "20", "--out", str(tmp_path)]) == 0
    assert index_path(tmp_path / "persons.jsonl").exists()
    assert "indexed them" in capsys.readouterr().out
    with sqlite3.connect(index_path(tmp_path / "persons.jsonl")) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'persons'").fetchone()[0] == "20"
