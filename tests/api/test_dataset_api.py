"""A generated dataset (`--data`) is served through its index: its persons' fines, debts and counts over the API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import bearer

from simulator.app import ConfigurationError, create_app
from simulator.datagen import write_dataset
from simulator.services.dataset import index_path


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_dataset(11, 40, tmp_path_factory.mktemp("data")).parent


@pytest.fixture
def settings(settings, data):
    return settings.replace(data=data)


@pytest.fixture
def person(data) -> dict:
    people = [json.loads(line) for line in (data / "persons.jsonl").read_text(encoding="utf-8").splitlines()]
    return next(p for p in people if len(p["fines"]) >= 1 and p["debts"])


def test_readiness_counts_the_stories_and_the_generated_persons(client, data):
    ready = client.get("/_sim/ready").json()
    assert ready["persons"] == 7 + 40
    assert index_path(data / "persons.jsonl").exists()


def test_a_generated_persons_fines_and_debts_are_listed_and_fetched(client, mint, person):
    token = mint("fines debts", oid=person["oid"])
    fines = client.get("/api/v1/fines?limit=100", headers=bearer(token)).json()
    assert sorted(f["uin"] for f in fines["items"]) == sorted(f["uin"] for f in person["fines"])
    debts = client.get("/api/v1/debts?limit=100", headers=bearer(token)).json()
    assert sorted(d["uin"] for d in debts["items"]) == sorted(d["uin"] for d in person["debts"])
    one = client.get(f"/api/v1/fines/{person['fines'][0]['uin']}", headers=bearer(token))
    assert one.status_code == 200, one.text
    assert one.json()["amount"] == person["fines"][0]["amount"]


def test_a_generated_persons_fine_is_not_found_for_a_story_citizen(client, mint, person):
    r = client.get(f"/api/v1/fines/{person['fines'][0]['uin']}", headers=bearer(mint("fines")))
    assert r.status_code == 404 and r.json()["code"] == "CHARGE_NOT_FOUND"


def test_a_dataset_with_a_uin_used_twice_refuses_to_start_with_the_line(settings, tmp_path, person):
    twin = {**person, "oid": person["oid"] + 1, "phone": "+79990000000", "email": "twin@example.ru",
            "debts": [], "fines": person["fines"][:1]}
    lines = [json.dumps(p, ensure_ascii=False) for p in (person, twin)]
    (tmp_path / "persons.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=rf"persons.jsonl:2: УИН {person['fines'][0]['uin']} is used twice"):
        create_app(settings.replace(data=tmp_path))
