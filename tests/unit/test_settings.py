"""Settings errors: one line per variable, never a secret, never a password."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings

SECRET = "k7Qm2v9Lr4Xs8Tn3Wd6Yh1Pz"


def error_of(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    return str(caught.value)


def test_tokens_that_are_not_json_are_named_without_their_value(monkeypatch: pytest.MonkeyPatch) -> None:
    text = error_of(monkeypatch, FLOORBOARD_API_TOKENS=f"{SECRET} not json")

    assert text == (
        "Invalid settings:\n"
        "  FLOORBOARD_API_TOKENS: is not valid JSON (Expecting value: line 1 column 1 (char 0)); "
        'set it to a JSON object such as {"<token of 16+ characters>": "<source>"}'
    )


def test_a_short_token_never_echoes_any_token(monkeypatch: pytest.MonkeyPatch) -> None:
    text = error_of(monkeypatch, FLOORBOARD_API_TOKENS=f'{{"x": "crm", "{SECRET}": "acd"}}')

    assert text == (
        "Invalid settings:\n"
        "  FLOORBOARD_API_TOKENS: tokens for ['crm'] are shorter than 16 characters "
        "(value not shown: it holds secrets)"
    )
    assert SECRET not in text


def test_a_token_bound_to_a_non_string_is_named_without_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    text = error_of(monkeypatch, FLOORBOARD_API_TOKENS=f'{{"{SECRET}": 5, "{SECRET}x": 6}}')

    assert text == (
        "Invalid settings:\n"
        "  FLOORBOARD_API_TOKENS: Input should be a valid string (value not shown: it holds secrets)"
    )


def test_other_values_are_shown_with_a_url_password_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    text = error_of(
        monkeypatch, FLOORBOARD_DATABASE_URL="mysql://ana:hunter2@db.example/fb", FLOORBOARD_WEB_PORT="99999"
    )

    assert text == (
        "Invalid settings:\n"
        "  FLOORBOARD_DATABASE_URL: must start with sqlite:/// or postgresql+psycopg:// "
        "(got 'mysql://ana:***@db.example/fb')\n"
        "  FLOORBOARD_WEB_PORT: Input should be less than or equal to 65535 (got '99999')"
    )
