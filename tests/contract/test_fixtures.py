"""Shipped and generated fixtures pass their schemas and check digits; broken ones are refused loudly."""

from __future__ import annotations

import shutil
import subprocess
import sys

import yaml

from simulator.app import create_app
from simulator.datagen import write_dataset
from simulator.fixtures_check import validate_dir
from simulator.settings import Settings, resource_path


def test_the_shipped_fixtures_are_valid():
    assert validate_dir(resource_path("fixtures")) == []


def test_a_broken_check_digit_and_an_unknown_payee_are_named(tmp_path):
    shutil.copytree(resource_path("fixtures"), tmp_path / "fx")
    path = tmp_path / "fx" / "citizens.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["persons"][0]["inn"] = "770858813913"
    data["persons"][0]["fines"][0]["uin"] = "18810186987973091147"
    data["persons"][1]["fines"][0]["payee"] = "nowhere"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    problems = "\n".join(validate_dir(tmp_path / "fx"))
    assert "inn 770858813913 fails its check digits" in problems
    assert "УИН 18810186987973091147 fails its check digit" in problems
    assert "unknown payee 'nowhere'" in problems


def test_the_validate_command_exits_non_zero_on_a_broken_fixture(tmp_path):
    shutil.copytree(resource_path("fixtures"), tmp_path / "fx")
    path = tmp_path / "fx" / "citizens.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('"668-315-472 27"', '"668-315-472 28"'), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "simulator.cli", "fixtures", "validate", str(tmp_path / "fx")],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "snils 668-315-472 28 fails its check digits" in result.stderr


def test_a_generated_dataset_validates_and_loads_beside_the_stories(tmp_path):
    write_dataset(7, 300, tmp_path / "data")
    assert validate_dir(tmp_path / "data") == []
    app = create_app(Settings.from_env({}, storage="memory://", data=tmp_path / "data"))
    with app.test_client() as c:
        ready = c.get("/_sim/ready").json()
    assert ready["persons"] == 300 + 7
