"""Failure scenarios per session: the global layer from the scenario file, session overrides, presets, counters, seed."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import InvalidParameter, ScenarioExists, ScenarioNotFound, ValidationFailed, field_error
from ..scenarios.engine import Decision, Evaluated, Facts, decide, draw, fires, matches, sample_delay, take_token
from ..scenarios.loader import check_scenario, format_path, load_file
from ..scenarios.model import Delay, Scenario, Throttle, digest_of
from ..storage import Store, Tx
from .clock import ClockService
from .sessions import ns

GLOBAL_NS = "_scenarios"  # the layer every session sees; loaded from the scenario file at start
LAYER_KEY = "layer"
SESSION = "session"
GLOBAL = "global"
PRESET = "preset"
FORCE_HEADER = "X-Gosim-Scenario"
_PARSED_CACHE = 512


@dataclass(frozen=True)
class Preset:
    scenario: Scenario
    document: dict[str, Any]


def _entry(document: dict[str, Any], enabled: bool, source: str) -> dict[str, Any]:
    return {"definition": document, "digest": digest_of(document), "enabled": enabled, "source": source}


def _scenarios_of(doc: dict[str, Any] | None) -> dict[str, Any]:
    return dict((doc or {}).get("scenarios") or {})


class ScenarioService:
    """Resolves which scenarios a session runs under and moves their counters atomically through the store.

    Layers: the global one (`_scenarios`, from `--scenarios FILE`, or written with `layer=global`) applies to
    every session; a session's own layer (`<session>/scenarios`) adds scenarios or overrides global ones by name
    (its own definition, or just enabled/disabled). Presets are templates: enabling one copies it into the layer.
    """

    def __init__(
        self, store: Store, clock: ClockService, *, seed: int, presets: dict[str, Preset],
        file_documents: list[dict[str, Any]] | None = None, operations: frozenset[str] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._seed = seed
        self._presets = presets
        self._file = [copy.deepcopy(d) for d in (file_documents or [])]
        self.operations = operations
        # Parsed definitions by digest: parsing is pure, so a cache cannot go stale; bounded, per process.
        self._parsed: dict[str, Scenario] = {}

    # --- construction ---------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, store: Store, clock: ClockService, *, seed: int, fixtures: Path, scenario_file: Path | None,
             operations: frozenset[str] | None) -> "ScenarioService":
        presets: dict[str, Preset] = {}
        for path in sorted((fixtures / "scenarios").glob("*.yaml")):
            scenarios, docs = load_file(path, operations)
            for scenario, doc in zip(scenarios, docs):
                presets[scenario.name] = Preset(scenario, doc)
        documents: list[dict[str, Any]] = []
        if scenario_file is not None:
            _, documents = load_file(scenario_file, operations)
        service = cls(store, clock, seed=seed, presets=presets, file_documents=documents, operations=operations)
        service.install_file_layer()
        return service

    def install_file_layer(self, force: bool = False) -> None:
        """Put the scenario file's scenarios in the global layer, unless this very file is already there.

        Every worker calls this at start; the file's digest makes it idempotent, so a scenario disabled at run
        time stays disabled when a worker restarts, while a changed file (or none) replaces the layer.
        """
        digest = digest_of({"file": self._file})

        def install(doc: dict[str, Any] | None) -> dict[str, Any]:
            if doc is not None and doc.get("file_digest") == digest and not force:
                return doc
            return {
                "file_digest": digest,
                "scenarios": {d["name"]: _entry(d, d.get("enabled", True), "file") for d in self._file},
            }

        self._store.update(GLOBAL_NS, LAYER_KEY, install)

    # --- reading --------------------------------------------------------------------------------------------------
    def _layers(self, session: str) -> tuple[dict[str, Any], dict[str, Any]]:
        return (
            _scenarios_of(self._store.get(GLOBAL_NS, LAYER_KEY)),
            _scenarios_of(self._store.get(ns(session, "scenarios"), LAYER_KEY)),
        )

    def _parse(self, entry: dict[str, Any]) -> Scenario:
        digest = entry["digest"]
        scenario = self._parsed.get(digest)
        if scenario is None:
            scenario, problems = check_scenario(entry["definition"])
            if scenario is None:  # stored documents were checked on the way in; this is a store edited by hand
                raise ValidationFailed(f"Сохранённый сценарий повреждён: {problems[0].message}.")
            if len(self._parsed) >= _PARSED_CACHE:
                self._parsed.clear()
            self._parsed[digest] = scenario
        return scenario

    def _effective(self, session: str) -> dict[str, tuple[dict[str, Any], bool, str, str]]:
        """name -> (entry with the definition, enabled, layer, source) as this session sees it."""
        glob, own = self._layers(session)
        out: dict[str, tuple[dict[str, Any], bool, str, str]] = {}
        for name in sorted(set(glob) | set(own)):
            mine, shared = own.get(name), glob.get(name)
            if mine is not None and mine.get("definition") is not None:
                out[name] = (mine, bool(mine["enabled"]), SESSION, mine.get("source", "api"))
            elif shared is not None:
                enabled = bool(mine["enabled"]) if mine is not None else bool(shared["enabled"])
                out[name] = (shared, enabled, GLOBAL, shared.get("source", "api"))
        return out

    @staticmethod
    def _view(entry: dict[str, Any], enabled: bool, layer: str, source: str) -> dict[str, Any]:
        d = entry["definition"]
        return {
            "name": d["name"], "description": d.get("description", ""), "enabled": enabled, "layer": layer,
            "source": source, "rules": copy.deepcopy(d["rules"]),
        }

    def list(self, session: str) -> list[dict[str, Any]]:
        return [self._view(*item) for item in self._effective(session).values()]

    def get(self, session: str, name: str) -> dict[str, Any]:
        item = self._effective(session).get(name)
        if item is not None:
            return self._view(*item)
        preset = self._presets.get(name)
        if preset is not None:
            return self._view(_entry(preset.document, False, PRESET), False, PRESET, PRESET)
        raise ScenarioNotFound(f"Сценарий {name!r} не найден ни в сессии, ни в общем слое, ни среди пресетов.")

    def presets(self) -> list[dict[str, Any]]:
        return [self._view(_entry(p.document, False, PRESET), False, PRESET, PRESET)
                for _, p in sorted(self._presets.items())]

    def global_list(self) -> list[dict[str, Any]]:
        """The global layer alone, as a session without overrides sees it (the admin console shows both)."""
        glob = _scenarios_of(self._store.get(GLOBAL_NS, LAYER_KEY))
        return [self._view(e, bool(e["enabled"]), GLOBAL, e.get("source", "api"))
                for _, e in sorted(glob.items()) if e.get("definition") is not None]

    # --- writing --------------------------------------------------------------------------------------------------
    def _where(self, session: str, layer: str) -> tuple[str, str]:
        return (GLOBAL_NS, LAYER_KEY) if layer == GLOBAL else (ns(session, "scenarios"), LAYER_KEY)

    def _checked(self, document: Any) -> dict[str, Any]:
        scenario, problems = check_scenario(document, self.operations)
        if scenario is None:
            raise ValidationFailed(
                "Сценарий не прошёл проверку.",
                errors=[field_error(format_path(p.path), p.message) for p in problems],
            )
        return document

    def _change(self, session: str, layer: str, fn: Callable[[dict[str, Any]], Any]) -> Any:
        space, key = self._where(session, layer)

        def run(tx: Tx) -> Any:
            doc = tx.get(space, key) or {}
            scenarios = _scenarios_of(doc)
            result = fn(scenarios)
            tx.put(space, key, {**doc, "scenarios": scenarios})
            return result

        return self._store.atomic(run)

    def create(self, session: str, document: Any, layer: str = SESSION) -> dict[str, Any]:
        document = self._checked(document)
        name = document["name"]

        def add(scenarios: dict[str, Any]) -> None:
            if (scenarios.get(name) or {}).get("definition") is not None:
                raise ScenarioExists(f"Сценарий {name!r} уже есть; замените его через PUT /_sim/scenarios/{name}.")
            scenarios[name] = _entry(document, document.get("enabled", True), "api")

        self._change(session, layer, add)
        self._forget_counters(session, name)
        return self.get(session, name) if layer == SESSION else self._global_view(name)

    def replace(self, session: str, name: str, document: Any, layer: str = SESSION) -> tuple[dict[str, Any], bool]:
        if isinstance(document, dict) and "name" not in document:
            document = {"name": name, **document}
        document = self._checked(document)
        if document["name"] != name:
            raise ValidationFailed(
                "Имя в теле не совпадает с именем в пути.",
                errors=[field_error("name", f"must be {name!r}, as in the path")],
            )

        def put(scenarios: dict[str, Any]) -> bool:
            created = (scenarios.get(name) or {}).get("definition") is None
            scenarios[name] = _entry(document, document.get("enabled", True), "api")
            return created

        created = self._change(session, layer, put)
        self._forget_counters(session, name)
        return (self.get(session, name) if layer == SESSION else self._global_view(name)), created

    def delete(self, session: str, name: str, layer: str = SESSION) -> None:
        def remove(scenarios: dict[str, Any]) -> None:
            if scenarios.pop(name, None) is None:
                hint = "" if layer == GLOBAL else (
                    " Если он из общего слоя, отключите его (/disable) или удалите с ?layer=global."
                )
                raise ScenarioNotFound(f"В слое {layer} нет сценария {name!r}.{hint}")

        self._change(session, layer, remove)
        self._forget_counters(session, name)

    def set_enabled(self, session: str, name: str, enabled: bool, layer: str = SESSION) -> dict[str, Any]:
        glob, _ = self._layers(session)
        preset = self._presets.get(name)

        def toggle(scenarios: dict[str, Any]) -> None:
            if name in scenarios:
                scenarios[name] = {**scenarios[name], "enabled": enabled}
            elif layer == SESSION and name in glob:
                scenarios[name] = {"definition": None, "enabled": enabled, "source": "override"}
            elif preset is not None:
                scenarios[name] = _entry(preset.document, enabled, PRESET)
            else:
                raise ScenarioNotFound(f"Сценарий {name!r} не найден ни в слоях, ни среди пресетов.")

        self._change(session, layer, toggle)
        self._forget_counters(session, name)
        return self.get(session, name) if layer == SESSION else self._global_view(name)

    def _global_view(self, name: str) -> dict[str, Any]:
        entry = _scenarios_of(self._store.get(GLOBAL_NS, LAYER_KEY))[name]
        return self._view(entry, bool(entry["enabled"]), GLOBAL, entry.get("source", "api"))

    # --- seed and counters ----------------------------------------------------------------------------------------
    def seed(self, session: str) -> int:
        doc = self._store.get(ns(session, "seed"), "current")
        return int(doc["seed"]) if doc else self._seed

    def reseed(self, session: str, seed: int | None) -> dict[str, Any]:
        """A new seed for the session's draws; every counter restarts so the sequence starts from its beginning."""
        value = self._seed if seed is None else int(seed)
        self._store.put(ns(session, "seed"), "current", {"seed": value})
        self._store.clear(ns(session, "scenario_state"))
        return {"session": session, "seed": value}

    def _forget_counters(self, session: str, name: str) -> None:
        self._store.delete(ns(session, "scenario_state"), name)

    # --- the engine's questions -----------------------------------------------------------------------------------
    def active(self, session: str, forced: str | None = None) -> list[Scenario]:
        """The scenarios a call of this session runs under: a forced one first, then every enabled one."""
        effective = self._effective(session)
        out: list[Scenario] = []
        if forced is not None:
            item = effective.get(forced)
            if item is not None:
                out.append(self._parse(item[0]))
            elif forced in self._presets:
                out.append(self._presets[forced].scenario)
            else:
                raise InvalidParameter(
                    f"Сценарий {forced!r} из заголовка {FORCE_HEADER} не найден.",
                    errors=[field_error(FORCE_HEADER, f"no scenario or preset named {forced!r}")],
                )
        out.extend(self._parse(entry) for name, (entry, enabled, _, _) in effective.items()
                   if enabled and name != forced)
        return out

    def evaluate(self, session: str, facts: Facts, forced: str | None = None) -> Decision | None:
        """What the scenarios of this session do to one call; counters move in one transaction for all rules."""
        scenarios = self.active(session, forced)
        candidates = [(s, r) for s in scenarios for r in s.rules if matches(r.match, facts)]
        if not candidates:
            return None
        # The session clock is one more store read: only windows and token buckets need it.
        timed = any(r.when.window is not None or isinstance(r.action, Throttle) for _, r in candidates)
        now = self._clock.for_session(session).now() if timed else self._clock.base.now()
        live = []
        for scenario, rule in candidates:
            window = rule.when.window
            if window is None or window.contains(now):
                live.append((scenario, rule, window.seconds_left(now) if window else None))
        if not live:
            return None
        stateful = [(s, r) for s, r, _ in live if r.counted or isinstance(r.action, Throttle)]
        seed = self.seed(session) if stateful else self._seed
        moved = self._advance(session, seed, stateful, facts.caller, now.timestamp()) if stateful else {}
        evaluated: list[Evaluated] = []
        for scenario, rule, left in live:
            count, bucket = moved.get((scenario.name, rule.index), (1, None))
            fired = fires(rule, count, draw(seed, session, scenario.name, rule.index, count))
            if isinstance(rule.action, Throttle):
                evaluated.append(Evaluated(scenario, rule, fired, bucket=bucket))
                continue
            delay = 0.0
            if fired and isinstance(rule.action, Delay):
                delay = sample_delay(rule.action, draw(seed, session, scenario.name, rule.index, count, "delay"))
            evaluated.append(Evaluated(scenario, rule, fired, delay=delay, window_left=left))
        return decide(evaluated)

    def _advance(self, session: str, seed: int, rules: list, who: str, now: float) -> dict:
        """Count this call for every stateful rule, and take a bucket token where a throttle fires; one transaction."""
        space = ns(session, "scenario_state")

        def move(tx: Tx) -> dict:
            out: dict = {}
            docs: dict[str, dict[str, Any]] = {}
            for scenario, rule in rules:
                doc = docs.get(scenario.name)
                if doc is None:
                    doc = tx.get(space, scenario.name) or {}
                    if doc.get("rev") != scenario.digest:  # a new definition starts counting afresh
                        doc = {"rev": scenario.digest, "calls": {}, "buckets": {}}
                    docs[scenario.name] = doc
                key = str(rule.index)
                count = int(doc["calls"].get(key, 0)) + 1
                doc["calls"][key] = count
                bucket = None
                if isinstance(rule.action, Throttle) and fires(rule, count, draw(seed, session, scenario.name, rule.index, count)):
                    bucket_key = f"{key}|{who}"
                    bucket = take_token(doc["buckets"].get(bucket_key), now, rule.action)
                    doc["buckets"][bucket_key] = bucket.state
                out[(scenario.name, rule.index)] = (count, bucket)
            for name, doc in docs.items():
                tx.put(space, name, doc)
            return out

        return self._store.atomic(move)

    def webhook_decision(self, session: str, client_id: str, event: str) -> Decision | None:
        """For the webhook sender: what the scenarios say about delivering `event` to `client_id`'s receiver.

        A Decision with `error` means "the receiver answered error.status", `broken` means "the connection was
        reset / closed without an answer", and `delay` is how long the receiver takes; None means deliver as usual.
        """
        return self.evaluate(session, Facts(target="webhook", client=client_id, event=event))
