"""The checked spec bundle that `gosim serve` caches across starts: same answers with or without it, never stale."""

from __future__ import annotations

import json
import shutil

import pytest
from connexion.exceptions import InvalidSpecification
from connexion.spec import OpenAPISpecification

import simulator.spec as spec_module
from simulator.app import create_app
from simulator.scenarios.loader import known_operations
from simulator.settings import Settings
from simulator.spec import SPECS, load_bundle, load_spec, spec_dir, validated_already

PRESENT = [name for name in SPECS if (spec_dir() / f"{name}.yaml").exists()]
MOUNTS = {"idp": "", "citizen": "/api/v1", "payments": "/api/v1", "admin": "/_sim", "ops": ""}
CACHE_FILE = "openapi-bundle.json"


@pytest.fixture(autouse=True)
def fresh_memo():
    """Each test sees the file cache, not what an earlier test left in this process."""
    spec_module._bundle_pickle.cache_clear()
    yield
    spec_module._bundle_pickle.cache_clear()


@pytest.fixture
def own_specs(tmp_path, monkeypatch):
    """A private copy of openapi/ that a test may change."""
    copy = tmp_path / "openapi"
    shutil.copytree(spec_dir(), copy)
    monkeypatch.setattr(spec_module, "spec_dir", lambda: copy)
    return copy


def load_spec_from(directory, name):
    """load_spec, reading another openapi/ directory."""
    return spec_module._bundle((directory / f"{name}.yaml").resolve(), lambda p: spec_module._parse(p.read_text("utf-8")))


def test_the_bundle_is_the_specs_as_load_spec_bundles_them_built_or_read_from_the_cache(tmp_path):
    built = load_bundle(tmp_path)
    assert (tmp_path / CACHE_FILE).is_file()
    spec_module._bundle_pickle.cache_clear()
    cached = load_bundle(tmp_path)
    for bundle in (built, cached):
        assert list(bundle.specs) == PRESENT
        for name in PRESENT:
            assert bundle.specs[name] == load_spec(name)
        assert bundle.operations == known_operations(spec_dir())


def test_each_call_gets_its_own_copy(tmp_path):
    first = load_bundle(tmp_path)
    first.specs[PRESENT[0]]["paths"].clear()
    assert load_bundle(tmp_path).specs[PRESENT[0]]["paths"]


def test_the_served_specs_are_the_same_with_and_without_the_cache(tmp_path):
    def served(cache_dir):
        app = create_app(Settings.from_env({}, storage="memory://", cache_dir=cache_dir))
        with app.test_client() as client:
            return {name: client.get(f"{MOUNTS[name]}/openapi/{name}.json").json() for name in PRESENT}

    unwritable = tmp_path / "a-file"
    unwritable.write_text("not a directory")
    without = served(unwritable / "cache")  # cannot be created: no file cache at all
    assert not (unwritable / "cache").exists()
    built = served(tmp_path / "cache")  # a miss: built and written
    spec_module._bundle_pickle.cache_clear()
    read = served(tmp_path / "cache")  # read back from the file
    assert without == built == read


def test_a_changed_spec_file_invalidates_the_cache(tmp_path, own_specs):
    cache = tmp_path / "cache"
    before = load_bundle(cache)
    head_before = (cache / CACHE_FILE).read_text(encoding="utf-8").partition("\n")[0]
    target = own_specs / "citizen.yaml"
    target.write_text(target.read_text(encoding="utf-8").replace("openapi: 3.0.3", "openapi: 3.0.2", 1),
                      encoding="utf-8")
    spec_module._bundle_pickle.cache_clear()  # a new process: only the file is left
    after = load_bundle(cache)
    assert before.specs["citizen"]["openapi"] == "3.0.3"
    assert after.specs["citizen"]["openapi"] == "3.0.2"
    assert (cache / CACHE_FILE).read_text(encoding="utf-8").partition("\n")[0] != head_before


def test_a_changed_shared_component_invalidates_the_cache_too(tmp_path, own_specs):
    cache = tmp_path / "cache"
    load_bundle(cache)
    common = own_specs / "components" / "common.yaml"
    common.write_text(common.read_text(encoding="utf-8") + "\nx-cache-probe: changed\n", encoding="utf-8")
    spec_module._bundle_pickle.cache_clear()
    assert load_bundle(cache).specs == {name: load_spec_from(own_specs, name) for name in PRESENT}


@pytest.mark.parametrize("damage", [
    lambda text: text[: len(text) // 2],  # cut short, e.g. a full disk
    lambda text: text.partition("\n")[0] + "\n{\"specs\": [1, 2], \"operations\": 3}",  # right key, wrong shape
    lambda text: "\x00\xff garbage",
])
def test_a_corrupt_cache_file_is_ignored_and_rebuilt(tmp_path, damage):
    expected = load_bundle(tmp_path)
    cache_file = tmp_path / CACHE_FILE
    cache_file.write_text(damage(cache_file.read_text(encoding="utf-8")), encoding="utf-8")
    spec_module._bundle_pickle.cache_clear()
    assert load_bundle(tmp_path) == expected
    assert json.loads(cache_file.read_text(encoding="utf-8").partition("\n")[2])["specs"] == expected.specs


def test_a_cache_file_that_cannot_be_decoded_is_rebuilt(tmp_path):
    expected = load_bundle(tmp_path)
    (tmp_path / CACHE_FILE).write_bytes(b"\xff\xfe\x00 not utf-8")
    spec_module._bundle_pickle.cache_clear()
    assert load_bundle(tmp_path) == expected


def test_a_spec_connexion_refuses_is_refused_on_a_miss_and_never_cached(tmp_path, own_specs):
    ops = own_specs / "ops.yaml"
    if not ops.exists():
        pytest.skip("ops.yaml is not part of this build")
    ops.write_text("openapi: 3.0.3\ninfo: {title: broken}\npaths: {}\n", encoding="utf-8")  # info.version missing
    with pytest.raises(InvalidSpecification):
        load_bundle(tmp_path / "cache")
    assert not (tmp_path / "cache" / CACHE_FILE).exists()


def test_connexion_validates_specs_again_once_the_block_is_left():
    with validated_already():
        OpenAPISpecification({"openapi": "3.0.3", "paths": {}})  # no info: passes only inside
    assert "_validate_spec" not in OpenAPISpecification.__dict__
    with pytest.raises(InvalidSpecification):
        OpenAPISpecification({"openapi": "3.0.3", "paths": {}})
