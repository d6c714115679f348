"""Encryption of environment secrets at rest (`cloud.aws.crypto`) and the redaction of AWS
error messages (`cloud.aws.errors`)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from mantle.aws.errors import cloud_error, describe, redact
from mantle.cloud.aws.crypto import SecretBox, derive_key, key_id_of
from mantle.errors import ConfigurationError

OLD, NEW = "old-server-key-0123456789abcdefghijklmnop", "new-server-key-0123456789abcdefghijklmnop"
AAD = b"mantle:aws-environment:tenant:row"


def test_round_trip_and_fresh_nonces() -> None:
    box = SecretBox(NEW)
    first, second = box.encrypt(b"secret", AAD), box.encrypt(b"secret", AAD)
    assert first != second and b"secret" not in first.encode()
    assert box.decrypt(first, AAD) == b"secret"
    assert key_id_of(first) == box.key_id and first.startswith("v1.")


def test_the_key_is_derived_not_the_secret_key_itself() -> None:
    key = derive_key(NEW)
    assert len(key) == 32 and NEW.encode() not in key
    assert SecretBox(NEW).key_id == SecretBox(NEW).key_id != SecretBox(OLD).key_id
    assert NEW not in repr(SecretBox(NEW))


def test_associated_data_binds_a_ciphertext_to_its_row() -> None:
    box = SecretBox(NEW)
    token = box.encrypt(b"secret", AAD)
    with pytest.raises(ConfigurationError, match="altered or copied"):
        box.decrypt(token, b"mantle:aws-environment:other-tenant:row")


def test_tampering_is_detected() -> None:
    box = SecretBox(NEW)
    version, kid, body = box.encrypt(b"secret", AAD).split(".")
    flipped = body[:-4] + ("AAAA" if body[-4:] != "AAAA" else "BBBB")
    with pytest.raises(ConfigurationError):
        box.decrypt(f"{version}.{kid}.{flipped}", AAD)


def test_a_new_key_names_the_missing_one_and_older_keys_still_decrypt() -> None:
    token = SecretBox(OLD).encrypt(b"secret", AAD)
    with pytest.raises(ConfigurationError, match="mantle aws reencrypt") as caught:
        SecretBox(NEW).decrypt(token, AAD)
    assert OLD not in str(caught.value) and NEW not in str(caught.value)
    assert SecretBox(NEW, OLD).decrypt(token, AAD) == b"secret"


def test_unknown_formats_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="format"):
        SecretBox(NEW).decrypt("plaintext", AAD)


def _client_error(code: str, message: str, status: int = 400) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "PutObject")


def test_aws_errors_are_sorted_and_redacted() -> None:
    secret = "wJalrXUtnFEMI-K7MDENG-SECRET"
    denied = describe(_client_error("AccessDenied", f"no for {secret}", 403), [secret])
    assert (denied.code, denied.retryable, denied.denied) == ("AccessDenied", False, True)
    assert secret not in str(denied) and "***" in str(denied)
    assert describe(_client_error("SlowDown", "slow down", 503)).retryable
    assert describe(_client_error("InternalError", "oops", 500)).retryable
    assert describe(EndpointConnectionError(endpoint_url="http://x")).retryable
    assert describe(_client_error("InvalidAccessKeyId", "bad", 403)).bad_credentials


def test_cloud_error_says_what_was_being_done_without_the_secret() -> None:
    secret = "wJalrXUtnFEMI-K7MDENG-SECRET"
    error = cloud_error(_client_error("Throttling", f"echo {secret}", 400), "creating X", [secret])
    assert error.retryable and "creating X" in error.message and secret not in error.message
    assert redact("a secret b", ["secret"]) == "a *** b"
