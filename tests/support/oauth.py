"""Driving the login pages step by step (to test each step's refusals) with any httpx-style client."""

from __future__ import annotations

from typing import Any

# The page reading, PKCE and redirect parsing are the pytest plugin's (simulator/testing.py): one implementation.
from simulator.testing import PASSWORD, Form, PageParser, find_form, parse_page, pkce_pair, query_of  # noqa: F401

BANK_REDIRECT = "http://127.0.0.1:8081/callback"
MOBILE_REDIRECT = "http://127.0.0.1:8081/mobile-callback"


def parse(html: str) -> PageParser:
    return parse_page(html)


def form(html: str, action_suffix: str) -> Form:
    found = find_form(html, action_suffix)
    if found is None:
        raise AssertionError(f"no form posting to *{action_suffix} in the page:\n{html[:2000]}")
    return found


def alert(html: str) -> str | None:
    """The data-error code of the page's alert (None when the page shows no problem)."""
    return parse(html).alert


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
