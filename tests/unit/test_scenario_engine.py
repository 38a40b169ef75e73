"""The engine's pure decisions: matching, firing by count or seeded draw, windows, token buckets, problem headers."""

from __future__ import annotations

import statistics
from datetime import datetime, timezone

import pytest

from simulator.scenarios.engine import Facts, build_error, draw, fires, matches, sample_delay, take_token
from simulator.scenarios.loader import load_text
from simulator.scenarios.model import Delay, Respond, Throttle, Window


def rule(yaml_rule: str):
    return load_text(f"scenarios:\n  - name: t\n    rules:\n      - {yaml_rule}\n")[0].rules[0]


def test_a_rule_matches_by_operation_path_method_client_and_header():
    r = rule('{match: {operation: ListFines, path: "/api/v1/*", method: GET, client: "demo-*", '
             'header: {X-Test: "a*"}}, status: 503}')
    good = Facts(operation="ListFines", path="/api/v1/fines", method="GET", client="demo-bank",
                 headers=(("x-test", "abc"),))
    assert matches(r.match, good)
    for change in ({"operation": "GetFine"}, {"path": "/oauth2/token"}, {"method": "POST"}, {"client": "strict-bank"},
                   {"client": None}, {"headers": (("x-test", "zzz"),)}, {"headers": ()}, {"target": "webhook"}):
        assert not matches(r.match, Facts(**{**good.__dict__, **change})), change


def test_a_path_regex_is_searched():
    r = rule(r'{match: {path_regex: "^/api/v1/fines/\\d{20}$"}, status: 404}')
    assert matches(r.match, Facts(path="/api/v1/fines/18810186987973091146"))
    assert not matches(r.match, Facts(path="/api/v1/fines"))


def test_every_third_fires_on_calls_3_6_9():
    r = rule("{when: {every: 3}, status: 502}")
    assert [n for n in range(1, 11) if fires(r, n, 0.99)] == [3, 6, 9]


def test_first_two_fire_only_on_the_first_two_calls():
    r = rule("{when: {first: 2}, status: 502}")
    assert [n for n in range(1, 6) if fires(r, n, 0.5)] == [1, 2]


def test_draws_repeat_for_the_same_seed_and_differ_for_another():
    a = [draw(42, "s", "sc", 0, n) for n in range(1, 50)]
    assert a == [draw(42, "s", "sc", 0, n) for n in range(1, 50)]
    assert a != [draw(43, "s", "sc", 0, n) for n in range(1, 50)]
    assert a != [draw(42, "other", "sc", 0, n) for n in range(1, 50)]
    assert all(0 <= u < 1 for u in a)


def test_probability_fires_about_that_often():
    r = rule("{when: {probability: 0.3}, status: 503}")
    hits = sum(fires(r, n, draw(1, "s", "t", 0, n)) for n in range(1, 5001))
    assert 1300 < hits < 1700


def test_lognormal_latency_has_the_asked_median_and_p99():
    d = Delay("lognormal", 0.3, 3.0)
    samples = sorted(sample_delay(d, draw(7, "s", "t", 0, n)) for n in range(20000))
    assert statistics.median(samples) == pytest.approx(0.3, rel=0.05)
    assert samples[int(0.99 * len(samples))] == pytest.approx(3.0, rel=0.15)


def test_uniform_latency_stays_in_its_range():
    d = Delay("uniform", 0.1, 0.2)
    assert all(0.1 <= sample_delay(d, draw(1, "s", "t", 0, n)) <= 0.2 for n in range(1000))


def test_a_token_bucket_allows_the_burst_then_refuses_until_it_refills():
    t = Throttle(rate=2, per=1.0, burst=3)
    state, results = None, []
    for _ in range(4):
        b = take_token(state, 1000.0, t)
        state, results = b.state, results + [b.allowed]
    assert results == [True, True, True, False]
    assert b.retry_after == 1 and b.remaining == 0
    assert take_token(state, 1000.5, t).allowed  # half a second at 2/s gives one token back
    assert not take_token(take_token(state, 1000.5, t).state, 1000.5, t).allowed


def test_a_daily_window_wraps_midnight_in_moscow_time_and_says_when_it_closes():
    w = Window(daily=(datetime(2000, 1, 1, 23, 0).time(), datetime(2000, 1, 1, 2, 0).time()))
    at = datetime(2026, 3, 2, 21, 30, tzinfo=timezone.utc)  # 00:30 MSK
    assert w.contains(at)
    assert w.seconds_left(at) == 90 * 60
    assert not w.contains(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))  # 12:00 MSK


def test_an_absolute_window_is_half_open():
    start = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
    end = datetime(2026, 3, 2, 11, tzinfo=timezone.utc)
    w = Window(start=start, end=end)
    assert w.contains(start) and not w.contains(end)


def test_a_503_carries_retry_after_and_a_problem_body():
    err = build_error(Respond(status=503), label="x/y")
    assert err.status == 503 and err.code == "SERVICE_UNAVAILABLE"
    assert err.response_headers()["Retry-After"] == "30"
    assert err.response_headers()["X-Gosim-Fault"] == "x/y"
    assert err.body()["detail"]


def test_a_503_inside_a_window_retries_after_the_window_closes():
    assert build_error(Respond(status=503), label="x", window_left=3599.2).headers["Retry-After"] == "3600"


def test_a_401_token_expired_carries_the_bearer_challenge():
    err = build_error(Respond(status=401, code="TOKEN_EXPIRED"), label="x")
    assert err.body()["code"] == "TOKEN_EXPIRED"
    assert err.body()["title"] == "Срок действия токена истёк"
    assert err.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_a_429_has_retry_after_and_unknown_codes_and_statuses_still_render():
    assert build_error(Respond(status=429), label="x").headers["Retry-After"] == "1"
    teapot = build_error(Respond(status=418, code="MY_CODE", detail="Чайник."), label="x").body()
    assert teapot["status"] == 418 and teapot["code"] == "MY_CODE" and teapot["detail"] == "Чайник."
    assert build_error(Respond(status=499), label="x").body()["code"] == "HTTP_499"
    assert build_error(Respond(status=502), label="x").body()["code"] == "BAD_GATEWAY"
    assert build_error(Respond(status=504), label="x").body()["code"] == "GATEWAY_TIMEOUT"
