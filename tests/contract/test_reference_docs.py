"""docs/reference/ is generated from the code: regenerating it changes nothing, and it names every error code."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from simulator.cli import main
from simulator.docs_gen import GENERATORS, SETTING_MEANINGS
from simulator.errors import all_error_classes
from simulator.settings import Settings

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference"


def test_the_committed_reference_is_what_the_code_generates_now(tmp_path, capsys):
    assert main(["docs", "generate", "--out", str(tmp_path)]) == 0
    for name in GENERATORS:
        committed = (REFERENCE / name).read_text(encoding="utf-8")
        assert (tmp_path / name).read_text(encoding="utf-8") == committed, (
            f"docs/reference/{name} is stale: run `gosim docs generate --out docs/reference`")


def test_every_error_code_in_the_code_is_in_the_errors_table():
    table = (REFERENCE / "errors.md").read_text(encoding="utf-8")
    missing = [cls.code for cls in all_error_classes() if f"| `{cls.code}` |" not in table]
    assert missing == []


def test_every_setting_has_a_meaning_and_a_row():
    names = [f.name for f in dataclasses.fields(Settings)]
    assert [n for n in names if not SETTING_MEANINGS.get(n)] == [], "describe it in simulator/docs_gen.py"
    assert [n for n in SETTING_MEANINGS if n not in names] == []
    table = (REFERENCE / "settings.md").read_text(encoding="utf-8")
    assert all(f"`GOSIM_{n.upper()}`" in table for n in names)
