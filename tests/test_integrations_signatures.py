"""Tracker webhooks are accepted only with a valid HMAC-SHA256 under a configured secret."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.integrations.signatures import (
    Rejected,
    Rejection,
    Verified,
    sign,
    verify_github,
    verify_jira,
    verify_linear,
)
from models.integration import Provider

SECRET = "whsec-test-7f3a"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
GITHUB_DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
LINEAR_DELIVERY = "234d1a4e-b617-4388-90fe-adc3633d6b72"
JIRA_DELIVERY = "1364478"


def hex_hmac(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def linear_body(at: datetime = NOW, **extra: object) -> bytes:
    payload = {
        "action": "update",
        "type": "Issue",
        "data": {"identifier": "ENG-123", "state": {"type": "started"}},
        "webhookTimestamp": int(at.timestamp() * 1000),
        **extra,
    }
    return json.dumps(payload).encode()


def github_headers(body: bytes, **overrides: str) -> dict[str, str]:
    headers = {
        "X-Hub-Signature-256": f"sha256={hex_hmac(body)}",
        "X-GitHub-Delivery": GITHUB_DELIVERY,
        "X-GitHub-Event": "issues",
    }
    headers.update(overrides)
    return headers


def linear_headers(body: bytes, **overrides: str) -> dict[str, str]:
    headers = {
        "Linear-Signature": hex_hmac(body),
        "Linear-Delivery": LINEAR_DELIVERY,
        "Linear-Event": "Issue",
    }
    headers.update(overrides)
    return headers


def jira_headers(body: bytes, **overrides: str) -> dict[str, str]:
    headers = {"X-Hub-Signature": f"sha256={hex_hmac(body)}", "X-Atlassian-Webhook-Identifier": JIRA_DELIVERY}
    headers.update(overrides)
    return headers


GITHUB_BODY = b'{"action":"opened","issue":{"number":123},"repository":{"full_name":"acme/app"}}'
JIRA_BODY = b'{"webhookEvent":"jira:issue_created","issue":{"key":"PROJ-123"}}'


def reason(result: Verified | Rejected) -> Rejection:
    assert isinstance(result, Rejected), result
    return result.reason


# GitHub


def test_github_delivery_signed_with_the_secret_is_verified_with_its_delivery_id_and_event() -> None:
    result = verify_github(body=GITHUB_BODY, headers=github_headers(GITHUB_BODY), secret=SECRET)
    assert result == Verified(provider=Provider.GITHUB, delivery_id=GITHUB_DELIVERY, event_name="issues")


def test_github_header_names_are_matched_case_insensitively() -> None:
    headers = {name.lower(): value for name, value in github_headers(GITHUB_BODY).items()}
    result = verify_github(body=GITHUB_BODY, headers=headers, secret=SECRET)
    assert isinstance(result, Verified)


def test_github_signature_in_upper_case_hex_is_accepted() -> None:
    headers = github_headers(
        GITHUB_BODY, **{"X-Hub-Signature-256": f"sha256={hex_hmac(GITHUB_BODY).upper()}"}
    )
    assert isinstance(verify_github(body=GITHUB_BODY, headers=headers, secret=SECRET), Verified)


def test_github_signature_of_a_different_body_is_a_mismatch() -> None:
    headers = github_headers(GITHUB_BODY)
    tampered = GITHUB_BODY.replace(b"123", b"124")
    assert (
        reason(verify_github(body=tampered, headers=headers, secret=SECRET)) is Rejection.SIGNATURE_MISMATCH
    )


def test_github_signature_made_with_another_secret_is_a_mismatch() -> None:
    headers = github_headers(
        GITHUB_BODY, **{"X-Hub-Signature-256": f"sha256={hex_hmac(GITHUB_BODY, 'other')}"}
    )
    assert (
        reason(verify_github(body=GITHUB_BODY, headers=headers, secret=SECRET))
        is Rejection.SIGNATURE_MISMATCH
    )


def test_github_delivery_without_a_signature_header_is_rejected_as_missing() -> None:
    headers = github_headers(GITHUB_BODY)
    del headers["X-Hub-Signature-256"]
    assert reason(verify_github(body=GITHUB_BODY, headers=headers, secret=SECRET)) is Rejection.HEADER_MISSING


def test_github_legacy_sha1_header_alone_is_not_accepted() -> None:
    sha1 = hmac.new(SECRET.encode(), GITHUB_BODY, hashlib.sha1).hexdigest()
    headers = {
        "X-Hub-Signature": f"sha1={sha1}",
        "X-GitHub-Delivery": GITHUB_DELIVERY,
        "X-GitHub-Event": "issues",
    }
    assert reason(verify_github(body=GITHUB_BODY, headers=headers, secret=SECRET)) is Rejection.HEADER_MISSING


@pytest.mark.parametrize(
    "value",
    [
        "",
        "sha256=",
        "sha256=" + "z" * 64,
        "sha256=" + "a" * 63,
        "sha256=" + "a" * 65,
        "sha1=" + "a" * 40,
        "a" * 64,
        "sha256=" + "é" * 64,
        "sha256=" + "a" * 1_000_000,
    ],
    ids=["empty", "no-digest", "not-hex", "short", "long", "sha1", "no-prefix", "non-ascii", "1mb"],
)
def test_github_malformed_signature_header_is_rejected_as_malformed(value: str) -> None:
    headers = github_headers(GITHUB_BODY, **{"X-Hub-Signature-256": value})
    assert (
        reason(verify_github(body=GITHUB_BODY, headers=headers, secret=SECRET)) is Rejection.HEADER_MALFORMED
    )


@pytest.mark.parametrize("missing", ["X-GitHub-Delivery", "X-GitHub-Event"])
def test_github_signed_delivery_without_delivery_id_or_event_name_is_rejected(missing: str) -> None:
    headers = github_headers(GITHUB_BODY)
    del headers[missing]
    result = verify_github(body=GITHUB_BODY, headers=headers, secret=SECRET)
    assert reason(result) is Rejection.HEADER_MISSING
    assert isinstance(result, Rejected) and missing in result.detail


@pytest.mark.parametrize(
    "delivery", ["", "has space", "line\nbreak", "x" * 256, "../../etc", "a" * 1_000_000]
)
def test_github_delivery_id_that_is_empty_spaced_or_too_long_is_rejected_as_malformed(delivery: str) -> None:
    headers = github_headers(GITHUB_BODY, **{"X-GitHub-Delivery": delivery})
    assert (
        reason(verify_github(body=GITHUB_BODY, headers=headers, secret=SECRET)) is Rejection.HEADER_MALFORMED
    )


def test_github_one_megabyte_body_verifies_when_signed() -> None:
    body = b'{"action":"opened","pad":"' + b"x" * 1_000_000 + b'"}'
    assert isinstance(verify_github(body=body, headers=github_headers(body), secret=SECRET), Verified)


# An unset secret


@pytest.mark.parametrize("secret", [None, "", "   "], ids=["none", "empty", "blank"])
def test_endpoint_without_a_secret_refuses_even_a_delivery_signed_with_the_empty_key(
    secret: str | None,
) -> None:
    # An empty HMAC key is still a key: anyone could sign with it.
    github = {**github_headers(GITHUB_BODY), "X-Hub-Signature-256": f"sha256={hex_hmac(GITHUB_BODY, '')}"}
    jira = {**jira_headers(JIRA_BODY), "X-Hub-Signature": f"sha256={hex_hmac(JIRA_BODY, '')}"}
    body = linear_body()
    linear = {**linear_headers(body), "Linear-Signature": hex_hmac(body, "")}
    assert reason(verify_github(body=GITHUB_BODY, headers=github, secret=secret)) is Rejection.SECRET_UNSET
    assert reason(verify_jira(body=JIRA_BODY, headers=jira, secret=secret)) is Rejection.SECRET_UNSET
    assert reason(verify_linear(body=body, headers=linear, secret=secret, now=NOW)) is Rejection.SECRET_UNSET


def test_endpoint_without_a_secret_refuses_a_delivery_with_no_headers_at_all() -> None:
    assert reason(verify_github(body=b"", headers={}, secret=None)) is Rejection.SECRET_UNSET


# Linear


def test_linear_delivery_signed_and_sent_just_now_is_verified() -> None:
    body = linear_body(NOW - timedelta(seconds=5))
    result = verify_linear(body=body, headers=linear_headers(body), secret=SECRET, now=NOW)
    assert result == Verified(provider=Provider.LINEAR, delivery_id=LINEAR_DELIVERY, event_name="Issue")


def test_linear_delivery_exactly_sixty_seconds_old_is_still_accepted() -> None:
    body = linear_body(NOW - timedelta(seconds=60))
    assert isinstance(
        verify_linear(body=body, headers=linear_headers(body), secret=SECRET, now=NOW), Verified
    )


@pytest.mark.parametrize("offset", [timedelta(seconds=-61), timedelta(minutes=-30), timedelta(seconds=61)])
def test_linear_delivery_more_than_sixty_seconds_from_now_is_rejected_as_stale(offset: timedelta) -> None:
    body = linear_body(NOW + offset)
    result = verify_linear(body=body, headers=linear_headers(body), secret=SECRET, now=NOW)
    assert reason(result) is Rejection.TIMESTAMP_STALE


@pytest.mark.parametrize(
    "stamp", ["1764676800000", True, None, [1], 1e400], ids=["str", "bool", "null", "list", "inf"]
)
def test_linear_delivery_whose_timestamp_is_not_a_number_is_rejected(stamp: object) -> None:
    body = json.dumps({"type": "Issue", "webhookTimestamp": stamp}).encode()
    result = verify_linear(body=body, headers=linear_headers(body), secret=SECRET, now=NOW)
    assert reason(result) is Rejection.TIMESTAMP_INVALID


def test_linear_delivery_without_a_timestamp_is_rejected() -> None:
    body = b'{"type":"Issue","action":"update"}'
    result = verify_linear(body=body, headers=linear_headers(body), secret=SECRET, now=NOW)
    assert reason(result) is Rejection.TIMESTAMP_INVALID


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"\xff\xfe", b"[" * 100_000])
def test_linear_signed_body_that_is_not_a_json_object_is_rejected_as_malformed(body: bytes) -> None:
    result = verify_linear(body=body, headers=linear_headers(body), secret=SECRET, now=NOW)
    assert reason(result) is Rejection.BODY_MALFORMED


def test_linear_checks_the_signature_before_reading_the_body() -> None:
    headers = linear_headers(b"something else")
    result = verify_linear(body=b"not json", headers=headers, secret=SECRET, now=NOW)
    assert reason(result) is Rejection.SIGNATURE_MISMATCH


def test_linear_signature_with_a_sha256_prefix_is_malformed() -> None:
    body = linear_body()
    headers = linear_headers(body, **{"Linear-Signature": f"sha256={hex_hmac(body)}"})
    assert (
        reason(verify_linear(body=body, headers=headers, secret=SECRET, now=NOW))
        is Rejection.HEADER_MALFORMED
    )


def test_linear_signature_of_a_replayed_body_with_a_fresh_timestamp_does_not_match() -> None:
    old = linear_body(NOW - timedelta(hours=1))
    fresh = linear_body(NOW)
    result = verify_linear(body=fresh, headers=linear_headers(old), secret=SECRET, now=NOW)
    assert reason(result) is Rejection.SIGNATURE_MISMATCH


def test_linear_delivery_without_a_delivery_id_is_rejected() -> None:
    body = linear_body()
    headers = linear_headers(body)
    del headers["Linear-Delivery"]
    assert (
        reason(verify_linear(body=body, headers=headers, secret=SECRET, now=NOW)) is Rejection.HEADER_MISSING
    )


def test_linear_delivery_without_an_event_header_is_verified_with_no_event_name() -> None:
    body = linear_body()
    headers = linear_headers(body)
    del headers["Linear-Event"]
    result = verify_linear(body=body, headers=headers, secret=SECRET, now=NOW)
    assert isinstance(result, Verified) and result.event_name is None


def test_linear_verification_refuses_a_naive_now() -> None:
    body = linear_body()
    with pytest.raises(ValueError, match="naive"):
        verify_linear(body=body, headers=linear_headers(body), secret=SECRET, now=NOW.replace(tzinfo=None))


# Jira


def test_jira_delivery_signed_with_the_secret_is_verified_with_its_identifier() -> None:
    result = verify_jira(body=JIRA_BODY, headers=jira_headers(JIRA_BODY), secret=SECRET)
    assert result == Verified(provider=Provider.JIRA, delivery_id=JIRA_DELIVERY, event_name=None)


def test_jira_signature_without_the_sha256_prefix_is_malformed() -> None:
    headers = jira_headers(JIRA_BODY, **{"X-Hub-Signature": hex_hmac(JIRA_BODY)})
    assert reason(verify_jira(body=JIRA_BODY, headers=headers, secret=SECRET)) is Rejection.HEADER_MALFORMED


def test_jira_signature_of_a_different_body_is_a_mismatch() -> None:
    headers = jira_headers(b"{}")
    assert reason(verify_jira(body=JIRA_BODY, headers=headers, secret=SECRET)) is Rejection.SIGNATURE_MISMATCH


def test_jira_delivery_without_a_signature_or_identifier_is_rejected_as_missing() -> None:
    unsigned = jira_headers(JIRA_BODY)
    del unsigned["X-Hub-Signature"]
    anonymous = jira_headers(JIRA_BODY)
    del anonymous["X-Atlassian-Webhook-Identifier"]
    assert reason(verify_jira(body=JIRA_BODY, headers=unsigned, secret=SECRET)) is Rejection.HEADER_MISSING
    assert reason(verify_jira(body=JIRA_BODY, headers=anonymous, secret=SECRET)) is Rejection.HEADER_MISSING


# Across providers


def test_sign_computes_the_hex_hmac_sha256_the_trackers_send() -> None:
    assert sign(body=GITHUB_BODY, secret=SECRET) == hex_hmac(GITHUB_BODY)


def test_rejection_details_never_contain_the_secret_or_the_signature() -> None:
    bad = "sha256=" + "0" * 64
    results = [
        verify_github(
            body=GITHUB_BODY,
            headers=github_headers(GITHUB_BODY, **{"X-Hub-Signature-256": bad}),
            secret=SECRET,
        ),
        verify_jira(
            body=JIRA_BODY, headers=jira_headers(JIRA_BODY, **{"X-Hub-Signature": bad}), secret=SECRET
        ),
        verify_linear(body=b"{}", headers=linear_headers(b"{}"), secret=SECRET, now=NOW),
    ]
    for result in results:
        assert isinstance(result, Rejected)
        assert (
            SECRET not in result.detail
            and "0" * 64 not in result.detail
            and hex_hmac(b"{}") not in result.detail
        )
