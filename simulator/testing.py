"""The client side of testing against gosim: start a real server, drive one X-Gosim-Session, log citizens in (httpx only)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

PASSWORD = "Passw0rd!"  # every story citizen's password (fixtures/citizens.yaml)
DEFAULT_SCOPES = ("openid", "fullname", "fines", "debts", "payments")
# The registered clients of fixtures/clients.yaml: their secrets (None: public, PKCE only) and first redirect URI.
CLIENT_SECRETS: dict[str, str | None] = {
    "demo-bank": "demo-bank-secret", "demo-mobile": None, "strict-bank": "strict-bank-secret",
    "limited-bank": "limited-bank-secret",
}
REDIRECT_URIS = {
    "demo-bank": "http://127.0.0.1:8081/callback", "demo-mobile": "http://127.0.0.1:8081/mobile-callback",
    "strict-bank": "http://127.0.0.1:8083/callback", "limited-bank": "http://127.0.0.1:8085/callback",
}
SESSION_HEADER = "X-Gosim-Session"
T = TypeVar("T")


class LoginFailed(AssertionError):
    """The login pages refused (bad password, locked account, refused consent …); `code` is the page's error code."""

    def __init__(self, message: str, code: str | None = None, page: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.page = page


# -- the login pages, read like a browser would ------------------------------------------------------------------------
@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    checkboxes: list[dict[str, Any]] = field(default_factory=list)
    buttons: list[dict[str, str]] = field(default_factory=list)


class PageParser(HTMLParser):
    """The forms, the alert (its data-error code) and the links of a gosim HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.alert: str | None = None
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


def parse_page(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def find_form(html: str, action_suffix: str) -> Form | None:
    for f in parse_page(html).forms:
        if f.action.endswith(action_suffix):
            return f
    return None


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorize_url(base_url: str, session: str, *, client_id: str = "demo-bank", redirect_uri: str | None = None,
                  scopes: Iterable[str] = ("openid", "fullname", "fines"), state: str | None = None,
                  nonce: str | None = None, code_challenge: str | None = None, **extra: str) -> str:
    """The URL a bank sends the citizen's browser to; `gosim_session` ties the login to the test's session."""
    params = {"response_type": "code", "client_id": client_id,
              "redirect_uri": redirect_uri or REDIRECT_URIS.get(client_id, ""), "scope": " ".join(scopes),
              "state": state or secrets.token_urlsafe(12), "gosim_session": session, **extra}
    if nonce:
        params["nonce"] = nonce
    if code_challenge:
        params.update(code_challenge=code_challenge, code_challenge_method="S256")
    return f"{base_url.rstrip('/')}/oauth2/authorize?{urlencode(params)}"


def _page_problem(page: httpx.Response) -> str | None:
    if "html" not in page.headers.get("content-type", ""):
        return None
    return parse_page(page.text).alert


def _submit(browser: httpx.Client, page: httpx.Response, suffix: str, step: str, **values: Any) -> httpx.Response:
    form = find_form(page.text, suffix)
    if form is None:
        code = _page_problem(page)
        raise LoginFailed(f"{step}: the page has no form posting to *{suffix} (status {page.status_code}, "
                          f"error {code or 'none'})", code, page)
    return browser.post(form.action, data={**form.fields, **values}, follow_redirects=False)


def walk_login(base_url: str, url: str, *, login: str = "+79160000001", password: str = PASSWORD,
               sms_code: Callable[[], str], session: str, consent: bool = True,
               headers: Mapping[str, str] | None = None) -> str:
    """The citizen's browser, without a browser: login form, SMS code, consent; returns the redirect back to the bank.

    `sms_code` reads the code the login sent (e.g. from GET /_sim/sms). Cookies (the CSRF cookie) are kept in a fresh
    httpx.Client, as a browser would. Raises LoginFailed with the page's error code when a step is refused.
    """
    with httpx.Client(base_url=base_url, timeout=30, headers=dict(headers or {})) as browser:
        page = browser.get(url, follow_redirects=False)
        if page.status_code == 302:  # an authorization request refused straight back to the bank
            return page.headers["location"]
        if page.status_code != 200:
            raise LoginFailed(f"authorize answered {page.status_code}", _page_problem(page), page)
        page = _submit(browser, page, "/login", "login", login=login, password=password)
        if page.status_code != 200 or find_form(page.text, "/sms") is None:
            raise LoginFailed(f"login as {login} refused ({page.status_code})", _page_problem(page), page)
        page = _submit(browser, page, "/sms", "sms", code=sms_code())
        if page.status_code == 200 and find_form(page.text, "/consent") is not None:
            form = find_form(page.text, "/consent")
            assert form is not None
            boxes = [b["value"] for b in form.checkboxes if b["checked"] and not b["disabled"]]
            data: dict[str, Any] = {**form.fields, "decision": "allow" if consent else "deny", "scope": boxes}
            page = browser.post(form.action, data=data, follow_redirects=False)
        if page.status_code != 302:
            raise LoginFailed(f"the login did not come back to the bank ({page.status_code})", _page_problem(page), page)
        return page.headers["location"]


# -- one simulator session ---------------------------------------------------------------------------------------------
def new_session_id(hint: str = "t") -> str:
    """A session id (`[A-Za-z0-9][A-Za-z0-9._-]{0,63}`) that reads like its test in the journal."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", hint).strip("-._")[:40] or "t"
    return f"{slug}-{uuid.uuid4().hex[:10]}"


def iso_duration(duration: str | int | float | timedelta) -> str:
    """'PT2H' stays as it is; seconds (a number) or a timedelta become 'PT<n>S'."""
    if isinstance(duration, str):
        return duration
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else float(duration)
    return f"PT{int(seconds)}S" if seconds == int(seconds) else f"PT{seconds}S"


class Gosim:
    """One test's view of gosim: its own X-Gosim-Session, an httpx client carrying it, and the /_sim helpers."""

    def __init__(self, base_url: str, session: str | None = None, *, admin_token: str = "", timeout: float = 30) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or new_session_id()
        self.headers = {SESSION_HEADER: self.session}
        self.client = httpx.Client(base_url=self.base_url, headers=self.headers, timeout=timeout)
        admin = {**self.headers, **({"Authorization": f"Bearer {admin_token}"} if admin_token else {})}
        self._admin = httpx.Client(base_url=self.base_url, headers=admin, timeout=timeout)

    def __enter__(self) -> "Gosim":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()
        self._admin.close()

    def _sim(self, method: str, path: str, expect: int | tuple[int, ...] = 200, **kwargs: Any) -> Any:
        r = self._admin.request(method, f"/_sim{path}", **kwargs)
        if r.status_code not in ((expect,) if isinstance(expect, int) else expect):
            raise AssertionError(f"{method} /_sim{path} answered {r.status_code}: {r.text[:500]}")
        return r.json() if r.content else None

    # -- tokens and logins --
    def auth(self, token: str) -> dict[str, str]:
        """Headers for an API call: the session and the bearer token."""
        return {**self.headers, "Authorization": f"Bearer {token}"}

    def mint_token(self, oid: int | None = None, scopes: Iterable[str] | str = DEFAULT_SCOPES,
                   client_id: str = "demo-bank", ttl: int | None = None) -> str:
        """An access token from /_sim/tokens, as the identity provider would issue it (oid None: the bank alone)."""
        body: dict[str, Any] = {"client_id": client_id,
                                "scopes": scopes.split() if isinstance(scopes, str) else list(scopes)}
        if oid is not None:
            body["oid"] = oid
        if ttl is not None:
            body["ttl"] = ttl
        return self._sim("POST", "/tokens", 201, json=body)["access_token"]

    def authorize_url(self, **kwargs: Any) -> str:
        return authorize_url(self.base_url, self.session, **kwargs)

    def walk_login(self, url: str, login: str = "+79160000001", password: str = PASSWORD, phone: str | None = None,
                   consent: bool = True) -> str:
        """Drive the login pages at `url` (an authorize URL of this session); returns the redirect back to the bank."""
        return walk_login(self.base_url, url, login=login, password=password, session=self.session, consent=consent,
                          sms_code=lambda: self.sms_code(phone or (login if login.startswith("+") else None)))

    def login(self, login: str = "+79160000001", password: str = PASSWORD,
              scopes: Iterable[str] | str = ("openid", "fullname", "fines", "debts"), client_id: str = "demo-bank",
              redirect_uri: str | None = None, phone: str | None = None) -> dict[str, Any]:
        """A story citizen links their account to the bank through the real pages; returns the token response.

        Authorization code with PKCE (S256), the bank's registered secret (fixtures/clients.yaml) for confidential
        clients; the answer holds access_token, refresh_token, id_token, expires_in, scope.
        """
        scope_list = scopes.split() if isinstance(scopes, str) else list(scopes)
        redirect_uri = redirect_uri or REDIRECT_URIS.get(client_id, "")
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(12)
        url = self.authorize_url(client_id=client_id, redirect_uri=redirect_uri, scopes=scope_list, state=state,
                                 nonce=secrets.token_urlsafe(8), code_challenge=challenge)
        back = query_of(self.walk_login(url, login, password, phone))
        if "error" in back:
            raise LoginFailed(f"the bank got error={back['error']}: {back.get('error_description', '')}", back["error"])
        if back.get("state") != state:
            raise LoginFailed("the state that came back is not the one sent")
        return self.exchange_code(back["code"], verifier, client_id=client_id, redirect_uri=redirect_uri)

    def exchange_code(self, code: str, verifier: str | None, *, client_id: str = "demo-bank",
                      redirect_uri: str | None = None) -> dict[str, Any]:
        data = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri or REDIRECT_URIS.get(client_id, "")}
        if verifier:
            data["code_verifier"] = verifier
        return self._token(data, client_id)

    def refresh(self, refresh_token: str, client_id: str = "demo-bank") -> dict[str, Any]:
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token}, client_id)

    def _token(self, data: dict[str, str], client_id: str) -> dict[str, Any]:
        secret = CLIENT_SECRETS.get(client_id)
        auth = (client_id, secret) if secret else None
        if not secret:
            data = {**data, "client_id": client_id}
        r = self.client.post("/oauth2/token", data=data, auth=auth)
        if r.status_code != 200:
            raise AssertionError(f"/oauth2/token answered {r.status_code}: {r.text[:500]}")
        return r.json()

    # -- the simulator's controls --
    def sms(self, phone: str | None = None, limit: int = 10) -> list[dict[str, Any]]:
        """The SMS outbox of this session, newest first (one phone, or every phone)."""
        params: dict[str, Any] = {"limit": limit, **({"phone": phone} if phone else {})}
        return self._sim("GET", "/sms", params=params)["items"]

    def sms_code(self, phone: str | None = None) -> str:
        messages = self.sms(phone, limit=1)
        if not messages:
            raise AssertionError(f"no SMS in session {self.session}" + (f" for {phone}" if phone else ""))
        return messages[0]["code"]

    def enable_scenario(self, scenario: str | Mapping[str, Any]) -> dict[str, Any]:
        """Switch a scenario on for this session: a preset or stored one by name, or a definition (created/replaced)."""
        if isinstance(scenario, str):
            return self._sim("POST", f"/scenarios/{scenario}/enable")
        body = {"enabled": True, **dict(scenario)}
        return self._sim("PUT", f"/scenarios/{body['name']}", (200, 201), json=body)

    def disable_scenario(self, name: str) -> dict[str, Any]:
        return self._sim("POST", f"/scenarios/{name}/disable")

    def advance_clock(self, duration: str | int | float | timedelta) -> dict[str, Any]:
        """Move this session's simulated clock forward ('PT2H', 'P21D', seconds or a timedelta)."""
        return self._sim("POST", "/clock/advance", json={"duration": iso_duration(duration)})

    def clock(self) -> dict[str, Any]:
        return self._sim("GET", "/clock")

    def webhooks(self, **filters: Any) -> list[dict[str, Any]]:
        """Webhook events of this session with their delivery attempts (payment_id=, status=, event_type=, limit=)."""
        return self._sim("GET", "/webhooks", params=filters)["items"]

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        """The request journal of this session, newest first (client=, operation=, status='5xx', limit=)."""
        return self._sim("GET", "/requests", params=filters)["items"]

    def reset(self) -> None:
        """Forget everything this session did (payments, tokens, clock, scenarios, journal)."""
        self._sim("POST", "/reset", (200, 204))

    def wait_for(self, probe: Callable[[], T], timeout: float = 15, interval: float = 0.1) -> T:
        """Call `probe` until it returns something truthy (e.g. lambda: gosim.webhooks(status="delivered"))."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value or time.monotonic() >= deadline:
                if not value:
                    raise AssertionError(f"nothing after {timeout}s: {value!r}")
                return value
            time.sleep(interval)


# -- a real server ----------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class GosimServer:
    """A running gosim: one this process started (`process`), or one already running elsewhere (`process` None)."""

    url: str
    process: subprocess.Popen | None = None
    workdir: Path | None = None
    log: Path | None = None
    admin_token: str = ""

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 80

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=kwargs.pop("timeout", 30), **kwargs)

    def session(self, hint: str = "t") -> Gosim:
        return Gosim(self.url, new_session_id(hint), admin_token=self.admin_token)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log and self.log.exists() else ""

    def wait_ready(self, timeout: float = 60) -> float:
        """Seconds until /_sim/ready answers 200; raises RuntimeError with the server's log when it never does."""
        started = time.monotonic()
        headers = {"Authorization": f"Bearer {self.admin_token}"} if self.admin_token else {}
        while time.monotonic() - started < timeout:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"gosim exited with {self.process.returncode}:\n{self.log_text()}")
            try:
                if httpx.get(f"{self.url}/_sim/ready", headers=headers, timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"gosim at {self.url} was not ready in {timeout}s:\n{self.log_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=15)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def __enter__(self) -> "GosimServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_server(workdir: Path, *, workers: int = 2, port: int | None = None, storage: str | None = None,
                 env: Mapping[str, str] | None = None, args: Iterable[str] = (), timeout: float = 60) -> GosimServer:
    """`gosim serve` (gunicorn + uvicorn workers) on 127.0.0.1 and a free port, SQLite in `workdir`; waits until ready.

    The server inherits this process's GOSIM_* settings (plus `env`); host, port, workers and storage come from here.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    environment = {**os.environ, "GOSIM_LOG_LEVEL": os.environ.get("GOSIM_LOG_LEVEL", "warning"), **(env or {})}
    log = workdir / f"gosim-{port}.log"
    cmd = [sys.executable, "-m", "simulator.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--storage", storage or f"sqlite:///{workdir / 'state.db'}", *args]
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, env=environment, stdout=out, stderr=subprocess.STDOUT, cwd=str(workdir),
                                   start_new_session=True)
    server = GosimServer(url=f"http://127.0.0.1:{port}", process=process, workdir=workdir, log=log,
                         admin_token=environment.get("GOSIM_ADMIN_TOKEN", ""))
    server.wait_ready(timeout)
    return server
