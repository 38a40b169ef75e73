"""Handlers of the `scenarios` tag: list, create, replace, enable, disable and delete failure scenarios; re-seed."""

from __future__ import annotations

from typing import Any

from ..http.context import services, session


def list_scenarios() -> dict:
    return {"items": services().scenarios.list(session())}


def list_scenario_presets() -> dict:
    return {"items": services().scenarios.presets()}


def create_scenario(body: dict, layer: str = "session") -> tuple[dict, int]:
    return services().scenarios.create(session(), body, layer), 201


def get_scenario(name: str) -> dict:
    return services().scenarios.get(session(), name)


def replace_scenario(name: str, body: dict, layer: str = "session") -> tuple[dict, int]:
    view, created = services().scenarios.replace(session(), name, body, layer)
    return view, 201 if created else 200


def delete_scenario(name: str, layer: str = "session") -> tuple[Any, int]:
    services().scenarios.delete(session(), name, layer)
    return None, 204


def enable_scenario(name: str, layer: str = "session") -> dict:
    return services().scenarios.set_enabled(session(), name, True, layer)


def disable_scenario(name: str, layer: str = "session") -> dict:
    return services().scenarios.set_enabled(session(), name, False, layer)


def seed_random(body: dict | None = None) -> dict:
    return services().scenarios.reseed(session(), (body or {}).get("seed"))
