"""Credentials never leave in a message that quotes a URL."""

from mantle.urls import redact_credentials


def test_user_password_and_token_forms_are_redacted():
    said = "fatal: could not read from https://bob:s3cret@git.example/x.git and ssh://tok@h/y"
    assert redact_credentials(said) == (
        "fatal: could not read from https://***@git.example/x.git and ssh://***@h/y"
    )
    assert redact_credentials("git@github.com:org/repo.git") == "git@github.com:org/repo.git"
