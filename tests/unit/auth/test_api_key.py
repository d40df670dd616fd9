"""Operator API keys: their format, parsing, and the constant-time hash comparison."""

from __future__ import annotations

import hashlib

import pytest

from ova.auth.api_key import KEY_FORMAT, ApiKey, generate, hash_secret, matches, parse

KEY_ID = "0123456789abcdef"
SECRET = "A" * 21 + "-" + "b" * 20 + "_"


def test_generated_keys_have_the_documented_format_and_differ() -> None:
    keys = [generate() for _ in range(20)]

    for key in keys:
        assert KEY_FORMAT.fullmatch(key.value), key.value
        assert key.value == f"ova_{key.key_id}_{key.secret}"
    assert len({key.key_id for key in keys}) == len({key.secret for key in keys}) == 20


def test_parse_round_trips() -> None:
    key = generate()

    assert parse(key.value) == key
    assert parse(f"ova_{KEY_ID}_{SECRET}") == ApiKey(KEY_ID, SECRET)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "ova",
        f"OVA_{KEY_ID}_{SECRET}",
        f"key_{KEY_ID}_{SECRET}",
        f"ova_{KEY_ID.upper()}_{SECRET}",
        f"ova_{KEY_ID[:-1]}_{SECRET}",
        f"ova_{KEY_ID}0_{SECRET}",
        f"ova_{KEY_ID}_{SECRET[:-1]}",
        f"ova_{KEY_ID}_{SECRET}A",
        f"ova_{KEY_ID}_{SECRET[:-1]}=",
        f"ova_{KEY_ID}_{SECRET}\n",
        f" ova_{KEY_ID}_{SECRET}",
        f"ova_{KEY_ID}_{SECRET}" + "A" * 200,
    ],
)
def test_parse_refuses_anything_else(value: str) -> None:
    assert parse(value) is None


def test_only_the_hash_of_the_secret_is_compared() -> None:
    key = generate()
    stored = key.secret_hash

    assert stored == hashlib.sha256(key.secret.encode()).hexdigest() == hash_secret(key.secret)
    assert key.secret not in stored
    assert matches(key, stored)
    assert not matches(ApiKey(key.key_id, key.secret[:-1] + ("A" if key.secret[-1] != "A" else "B")), stored)
    assert not matches(generate(), stored)
