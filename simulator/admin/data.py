"""Handlers of the `data` tag: the story citizens and their logins, for people and tests to pick from."""

from __future__ import annotations

from ..http.context import services


def list_story_citizens() -> dict:
    directory = services().directory
    items = []
    for oid in directory.stories:
        p = directory.persons[oid]
        items.append({
            "oid": oid, "story": p.get("story", ""), "level": p["level"], "locked": bool(p.get("locked")),
            "phone": p["phone"], "email": p.get("email", ""), "snils": p.get("snils", ""), "password": p["password"],
            "full_name": " ".join(x for x in (p["last_name"], p["first_name"], p.get("middle_name")) if x),
            "fines": [f["uin"] for f in p.get("fines", [])], "debts": [d["uin"] for d in p.get("debts", [])],
        })
    return {"items": items}
