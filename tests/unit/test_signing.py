"""Request signing (strict banks), webhook signatures and IP allowlists: the pure rules."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from simulator.domain.signing import (
    SignatureError,
    check_request_signature,
    ip_allowed,
    request_signature,
    request_string,
    verify_webhook_signature,
    webhook_signature,
)

NOW = 1_772_442_000


def test_the_request_string_is_method_path_timestamp_and_the_exact_body():
    assert request_string("post", "/api/v1/payments?x=1", "123", b'{"a":1}') == b'POST\n/api/v1/payments?x=1\n123\n{"a":1}'


def test_a_correct_request_signature_passes_with_or_without_the_v1_prefix():
    sig = request_signature("s3cret", "POST", "/p", str(NOW), b"{}")
    check_request_signature("s3cret", "POST", "/p", str(NOW), sig, b"{}", now=NOW, max_skew=300)
    check_request_signature("s3cret", "POST", "/p", str(NOW), "v1=" + sig.upper(), b"{}", now=NOW + 300, max_skew=300)


@pytest.mark.parametrize(
    ("timestamp", "signature", "body", "now"),
    [
        (None, "x", b"{}", NOW),
        (str(NOW), None, b"{}", NOW),
        ("yesterday", "x", b"{}", NOW),
        (str(NOW), "bad", b"{}", NOW),
        (str(NOW), "SIG", b"{ }", NOW),  # body changed after signing
        (str(NOW), "SIG", b"{}", NOW + 301),  # outside the skew window
        (str(NOW), "SIG", b"{}", NOW - 301),
        (str(NOW), "\u0416", b"{}", NOW),  # non-ASCII must be refused, not crash
    ],
)
def test_a_wrong_missing_or_stale_request_signature_is_refused(timestamp, signature, body, now):
    if signature == "SIG":
        signature = request_signature("s3cret", "POST", "/p", str(NOW), b"{}")
    with pytest.raises(SignatureError):
        check_request_signature("s3cret", "POST", "/p", timestamp, signature, body, now=now, max_skew=300)


def test_the_webhook_signature_is_hmac_of_timestamp_dot_body():
    header = webhook_signature("whsec", NOW, b'{"id":"evt_1"}')
    mac = hmac.new(b"whsec", f"{NOW}.".encode() + b'{"id":"evt_1"}', hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={mac}"
    assert verify_webhook_signature("whsec", header, b'{"id":"evt_1"}', now=NOW)
    assert not verify_webhook_signature("whsec", header, b'{"id":"evt_2"}', now=NOW)
    assert not verify_webhook_signature("other", header, b'{"id":"evt_1"}', now=NOW)
    assert not verify_webhook_signature("whsec", header, b'{"id":"evt_1"}', now=NOW + 301)
    assert not verify_webhook_signature("whsec", "garbage", b"", now=NOW)


def test_ip_allowlists_match_cidr_blocks_of_both_families():
    allow = ("127.0.0.1/32", "::1/128", "10.0.0.0/8")
    assert ip_allowed("127.0.0.1", allow)
    assert ip_allowed("::1", allow)
    assert ip_allowed("10.20.30.40", allow)
    assert not ip_allowed("203.0.113.5", allow)
    assert not ip_allowed("testclient", allow)
    assert not ip_allowed(None, allow)
    assert not ip_allowed("127.0.0.1", ("not-a-network",))
