"""Keys and AES-GCM sealing: wrong keys, altered bytes and moved records all fail to open."""

from __future__ import annotations

import pytest

from rightsledger.protect import crypto


def test_seal_round_trip_and_fresh_nonces() -> None:
    key = bytes(range(32))
    a, b = crypto.seal(key, b"secret informant", "doc:1"), crypto.seal(key, b"secret informant", "doc:1")
    assert a != b and b"secret informant" not in a
    assert crypto.open_sealed(key, a, "doc:1") == b"secret informant"


@pytest.mark.parametrize("change", ["key", "aad", "byte"])
def test_tampering_fails_to_open(change: str) -> None:
    key = bytes(range(32))
    sealed = crypto.seal(key, b"payload", "doc:1")
    other_key, aad = key, "doc:1"
    if change == "key":
        other_key = bytes(32)
    elif change == "aad":
        aad = "doc:2"
    else:
        sealed = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(crypto.KeyProblem):
        crypto.open_sealed(other_key, sealed, aad)


def test_passphrase_key_depends_on_salt_and_passphrase() -> None:
    salt = b"s" * 16
    k = crypto.derive_key("correct horse", salt)
    assert len(k) == 32 and k == crypto.derive_key("correct horse", salt)
    assert k != crypto.derive_key("correct horse", b"t" * 16) and k != crypto.derive_key("wrong horse", salt)
    assert crypto.matches(k, crypto.check_value(k)) and not crypto.matches(bytes(32), crypto.check_value(k))
    with pytest.raises(crypto.KeyProblem):
        crypto.derive_key("", salt)


def test_key_file_hex_or_raw_and_env(tmp_path, monkeypatch) -> None:
    hex_file, raw_file, bad = tmp_path / "k.hex", tmp_path / "k.raw", tmp_path / "bad"
    hex_file.write_text(crypto.new_key_hex() + "\n")
    raw_file.write_bytes(bytes(range(32)))
    bad.write_text("too short")
    assert len(crypto.read_key_file(hex_file)) == 32 and crypto.read_key_file(raw_file) == bytes(range(32))
    with pytest.raises(crypto.KeyProblem):
        crypto.read_key_file(bad)
    with pytest.raises(crypto.KeyProblem):
        crypto.read_key_file(tmp_path / "missing")
    monkeypatch.delenv(crypto.KEY_FILE_ENV, raising=False)
    monkeypatch.delenv(crypto.PASSPHRASE_ENV, raising=False)
    assert crypto.key_from_env(b"s" * 16) is None
    monkeypatch.setenv(crypto.PASSPHRASE_ENV, "pass phrase")
    assert crypto.key_from_env(b"s" * 16) == crypto.derive_key("pass phrase", b"s" * 16)
    monkeypatch.setenv(crypto.KEY_FILE_ENV, str(raw_file))
    assert crypto.key_from_env(b"s" * 16) == bytes(range(32))
