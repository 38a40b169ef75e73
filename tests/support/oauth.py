"""Driving the login pages like a browser would (parse the HTML forms, post them) with any httpx-style client."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

PASSWORD = "Passw0rd!"
BANK_REDIRECT = "http://127.0.0.1:8081/callback"
MOBILE_REDIRECT = "http://127.0.0.1:8081/mobile-callback"


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    checkboxes: list[dict[str, Any]] = field(default_factory=list)
    buttons: list[dict[str, str]] = field(default_factory=list)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.alert: str | None = None
        self._in_alert = False
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", "")))
        elif tag == "input" and self.forms:
            kind = a.get("type", "text")
            if kind == "checkbox":
                self.forms[-1].checkboxes.append(
                    {"name": a.get("name"), "value": a.get("value"), "checked": "checked" in a, "disabled": "disabled" in a}
                )
            elif a.get("name"):
                self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms:
            self.forms[-1].buttons.append({"name": a.get("name", ""), "value": a.get("value", "")})
        elif tag == "div" and a.get("role") == "alert":
            self.alert = a.get("data-error")
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])


def parse(html: str) -> _Forms:
    parser = _Forms()
    parser.feed(html)
    return parser


def form(html: str, action_suffix: str) -> Form:
    for f in parse(html).forms:
        if f.action.endswith(action_suffix):
            return f
    raise AssertionError(f"no form posting to *{action_suffix} in the page:\n{html[:2000]}")


def alert(html: str) -> str | None:
    """The data-error code of the page's alert (None when the page shows no problem)."""
    return parse(html).alert


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorize_params(session: str, client_id: str = "demo-bank", redirect_uri: str = BANK_REDIRECT,
                     scope: str = "openid fullname fines", state: str = "st-1", nonce: str | None = "n-1",
                     challenge: str | None = None, **extra: str) -> dict[str, str]:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
              "state": state, "gosim_session": session, **extra}
    if nonce:
        params["nonce"] = nonce
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return params


class Login:
    """One walk through the pages with a client that keeps cookies (starlette TestClient or httpx.Client)."""

    def __init__(self, client: Any, session: str) -> None:
        self.client = client
        self.session = session
        self.page: Any = None

    def _post(self, html: str, suffix: str, **values: str) -> Any:
        f = form(html, suffix)
        data = {**f.fields, **values}
        self.page = self.client.post(f.action, data=data, follow_redirects=False)
        return self.page

    def start(self, **params: Any) -> Any:
        self.page = self.client.get("/oauth2/authorize", params=authorize_params(self.session, **params),
                                    follow_redirects=False)
        return self.page

    def login(self, login: str = "+79160000001", password: str = PASSWORD) -> Any:
        return self._post(self.page.text, "/login", login=login, password=password)

    def sms_code(self, phone: str = "+79160000001") -> str:
        r = self.client.get("/_sim/sms", params={"phone": phone}, headers={"X-Gosim-Session": self.session})
        assert r.status_code == 200, r.text
        return r.json()["items"][0]["code"]

    def code(self, code: str) -> Any:
        return self._post(self.page.text, "/sms", code=code)

    def resend(self) -> Any:
        return self._post(self.page.text, "/sms/resend")

    def consent(self, decision: str = "allow", keep: list[str] | None = None) -> Any:
        f = form(self.page.text, "/consent")
        boxes = [b["value"] for b in f.checkboxes if b["checked"] and not b["disabled"]]
        chosen = boxes if keep is None else [b for b in boxes if b in keep]
        data: dict[str, Any] = {**f.fields, "decision": decision, "scope": chosen}
        self.page = self.client.post(f.action, data=data, follow_redirects=False)
        return self.page

    def through_sms(self, login: str = "+79160000001", phone: str | None = None, **params: Any) -> Any:
        self.start(**params)
        assert self.page.status_code == 200, self.page.text
        self.login(login)
        assert self.page.status_code == 200, self.page.text
        return self.code(self.sms_code(phone or login))

    def authorize(self, login: str = "+79160000001", **params: Any) -> dict[str, str]:
        """Login, SMS code and consent; returns the query of the redirect back to the bank."""
        self.through_sms(login, **params)
        if self.page.status_code == 200:
            self.consent()
        assert self.page.status_code == 302, (self.page.status_code, self.page.text[:500])
        return query_of(self.page.headers["location"])


# -- token endpoint helpers ------------------------------------------------------------------------------------------
BANK = ("demo-bank", "demo-bank-secret")


def exchange(client: Any, code: str, *, verifier: str | None = None, redirect_uri: str = BANK_REDIRECT,
             auth: tuple[str, str] | None = BANK, session: str | None = None, **extra: str) -> Any:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, **extra}
    if verifier is not None:
        data["code_verifier"] = verifier
    headers = {"X-Gosim-Session": session} if session else {}
    return client.post("/oauth2/token", data=data, auth=auth, headers=headers)


def refresh(client: Any, refresh_token: str, *, auth: tuple[str, str] | None = BANK, **extra: str) -> Any:
    return client.post("/oauth2/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token, **extra},
                       auth=auth)


def me(client: Any, token: str, session: str) -> Any:
    return client.get("/api/v1/persons/me", headers={"Authorization": f"Bearer {token}", "X-Gosim-Session": session})


def advance(client: Any, session: str, duration: str) -> None:
    r = client.post("/_sim/clock/advance", json={"duration": duration}, headers={"X-Gosim-Session": session})
    assert r.status_code == 200, r.text


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"
