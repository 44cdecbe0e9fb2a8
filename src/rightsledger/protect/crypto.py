"""Keys and authenticated encryption: AES-256-GCM with a key from a key file or a passphrase.

A sealed value is `MAGIC | nonce (12 bytes) | ciphertext+tag`; the associated data binds it to
what it is (a record id, a backup's header), so a sealed value copied elsewhere fails to open.
Passphrases are stretched with scrypt (n=2**15, r=8, p=1) and a random 16-byte salt kept beside
the sealed data; the key itself is never written anywhere by RightsLedger.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rightsledger.errors import ConfigError

MAGIC = b"RLG1"
NONCE = 12
KEY_BYTES = 32
SALT_BYTES = 16
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
KEY_FILE_ENV = "RIGHTSLEDGER_KEY_FILE"
PASSPHRASE_ENV = "RIGHTSLEDGER_PASSPHRASE"
_CHECK = b"rightsledger key check v1"


class KeyProblem(ConfigError):
    """No key, or the wrong one."""


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def derive_key(passphrase: str, salt: bytes, params: dict[str, int] | None = None) -> bytes:
    if not passphrase:
        raise KeyProblem("the passphrase is empty", hint=f"set {PASSPHRASE_ENV} or type a passphrase")
    p = params or SCRYPT
    return hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=p["n"], r=p["r"], p=p["p"],
                          maxmem=256 * 1024 * 1024, dklen=KEY_BYTES)


def read_key_file(path: str | os.PathLike[str]) -> bytes:
    """A key file holds 32 random bytes, raw or as 64 hex digits (`rightsledger key new` writes hex)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise KeyProblem(f"cannot read the key file {path}: {e.strerror}", hint=f"check {KEY_FILE_ENV}") from None
    text = data.strip()
    if len(text) == 2 * KEY_BYTES:
        try:
            return binascii.unhexlify(text)
        except binascii.Error:
            pass
    if len(data) == KEY_BYTES:
        return data
    raise KeyProblem(f"the key file {path} does not hold a 32-byte key",
                    hint="write one with `rightsledger key new FILE`")


def new_key_hex() -> str:
    return secrets.token_hex(KEY_BYTES)


def write_key_file(path: str | os.PathLike[str]) -> bytes:
    """Write a new random key (64 hex digits) to a new file readable by its owner only."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyProblem(f"{path} already exists; a key file is never overwritten",
                         hint="choose a new file name (the old key may still be needed)") from None
    except OSError as e:
        raise KeyProblem(f"cannot create the key file {path}: {e.strerror}", hint="check the folder") from None
    text = new_key_hex()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text + "\n")
        f.flush()
        os.fsync(f.fileno())
    return binascii.unhexlify(text)


def key_from_env(salt: bytes, *, key_file: str | None = None, passphrase: str | None = None) -> bytes | None:
    """The key named by the arguments or the environment (key file first), or None if none is set."""
    key_file = key_file or os.environ.get(KEY_FILE_ENV)
    if key_file:
        return read_key_file(key_file)
    passphrase = passphrase if passphrase is not None else os.environ.get(PASSPHRASE_ENV)
    if passphrase:
        return derive_key(passphrase, salt)
    return None


def seal(key: bytes, plaintext: bytes, aad: str | bytes) -> bytes:
    """Encrypt and authenticate `plaintext`, bound to `aad` (a fresh random nonce every time)."""
    nonce = secrets.token_bytes(NONCE)
    ad = aad.encode("utf-8") if isinstance(aad, str) else aad
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, plaintext, ad)


def is_sealed(data: bytes) -> bool:
    return data[:len(MAGIC)] == MAGIC and len(data) >= len(MAGIC) + NONCE + 16


def open_sealed(key: bytes, sealed: bytes, aad: str | bytes) -> bytes:
    """The plaintext, or KeyProblem if the key is wrong or the data or its `aad` was altered."""
    if not is_sealed(sealed):
        raise KeyProblem("this is not data RightsLedger encrypted", hint="check the file or record")
    nonce, body = sealed[len(MAGIC):len(MAGIC) + NONCE], sealed[len(MAGIC) + NONCE:]
    ad = aad.encode("utf-8") if isinstance(aad, str) else aad
    try:
        return AESGCM(key).decrypt(nonce, body, ad)
    except InvalidTag:
        raise KeyProblem("wrong key, or the encrypted data was altered",
                        hint=f"check {KEY_FILE_ENV} / {PASSPHRASE_ENV}") from None


def check_value(key: bytes) -> str:
    """A value that shows whether a key is the right one without revealing it (HMAC of a constant)."""
    return hmac.new(key, _CHECK, hashlib.sha256).hexdigest()


def matches(key: bytes, check: str) -> bool:
    return hmac.compare_digest(check_value(key), check)
