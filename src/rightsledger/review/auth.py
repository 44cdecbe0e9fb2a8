"""Accounts for the review workspace: argon2 password hashes, login backoff, sessions, roles, CSRF.

Passwords are hashed here (argon2id via argon2-cffi) and only the hash reaches the ledger.
Session cookies and API tokens are random; the ledger stores only their SHA-256, so a copy of the
database does not let anyone sign in. Every state-changing form (and every cookie-authenticated API
call) carries the session's CSRF token; API calls with a bearer token need none (no cookie is involved).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from rightsledger.errors import ConfigError
from rightsledger.ledger import ROLES, Ledger

__all__ = ["ROLES", "PERMISSIONS", "Policy", "User", "LoginRefused", "hash_password", "verify_password",
           "may", "login", "new_session", "token_hash", "add_user", "check_csrf", "new_token", "token_user",
           "TOKEN_PREFIX"]

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# A hash to check against when the name is unknown, so both cases take the same time.
SESSION_COOKIE = "rl_session"  # the workspace's session cookie (pages and cookie-authenticated API calls)
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
MIN_PASSWORD = 10

# What each role may do; the server checks these on every request, the templates only hide buttons.
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "review": frozenset({"analyst", "admin"}),
    "export": frozenset({"analyst", "admin"}),
    "export_confidential": frozenset({"admin"}),
    "users": frozenset({"admin"}),
}


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: str
    csrf: str  # "" when signed in with an API token (no cookie, so no CSRF)
    token_id: int | None = None  # the API token used, if any

    def may(self, action: str) -> bool:
        return may(self.role, action)


def may(role: str, action: str) -> bool:
    return role in PERMISSIONS.get(action, frozenset())


@dataclass(frozen=True, slots=True)
class Policy:
    """Login backoff and session lifetime. After `free_failures` wrong passwords for a name,
    each further one locks that name for `base_lock` doubled per failure, up to `max_lock`."""

    free_failures: int = 5
    base_lock: timedelta = timedelta(seconds=30)
    max_lock: timedelta = timedelta(minutes=15)
    session_length: timedelta = timedelta(hours=12)

    def lock_for(self, failures: int) -> timedelta | None:
        if failures < self.free_failures:
            return None
        return min(self.base_lock * (2 ** (failures - self.free_failures)), self.max_lock)


class LoginRefused(Exception):
    """A login that failed; `retry_after` (seconds) is set while the name is locked."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password is too short ({len(password)} characters)",
                          hint=f"use at least {MIN_PASSWORD} characters; a passphrase of several words is best")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def login(ledger: Ledger, name: str, password: str, policy: Policy, now: datetime | None = None) -> dict[str, Any]:
    """The account for a correct name and password, or LoginRefused (with backoff)."""
    now = now or _now()
    name = name.strip()[:200]
    throttle = ledger.login_throttle(name)
    if throttle and throttle["locked_until"] and _aware(throttle["locked_until"]) > now:
        wait = int((_aware(throttle["locked_until"]) - now).total_seconds()) + 1
        raise LoginRefused(f"Too many failed logins for this name. Try again in {wait} seconds.", wait)
    user = ledger.user(name) if name else None
    ok = verify_password(user["password_hash"] if user else _DUMMY_HASH, password)
    if not ok or user is None or user["disabled"]:
        failures = (throttle["failures"] if throttle else 0) + 1
        lock = policy.lock_for(failures)
        ledger.record_login_failure(name, failures, now, now + lock if lock else None)
        raise LoginRefused("Wrong name or password.", int(lock.total_seconds()) if lock else None)
    if throttle:
        ledger.clear_login_failures(name)
    if _hasher.check_needs_rehash(user["password_hash"]):
        ledger.update_user(name, by=name, password_hash=_hasher.hash(password))
    return user


def new_session(ledger: Ledger, user_id: int, policy: Policy, now: datetime | None = None) -> tuple[str, str]:
    """A fresh session (a new token at every login: no session fixation); returns (token, csrf)."""
    now = now or _now()
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    ledger.start_session(user_id, token_hash(token), csrf, now, now + policy.session_length)
    return token, csrf


def current_user(ledger: Ledger, token: str | None, now: datetime | None = None) -> User | None:
    if not token or len(token) > 200:
        return None
    found = ledger.session(token_hash(token), now or _now())
    if found is None:
        return None
    user, csrf = found
    return User(user["id"], user["name"], user["role"], csrf)


def check_csrf(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def add_user(ledger: Ledger, name: str, role: str, password: str, created_by: str | None = None) -> None:
    """Create an account (`rightsledger user add`, the users page)."""
    ledger.add_user(name, role, hash_password(password), created_by)


TOKEN_PREFIX = "rl_"  # makes a leaked token easy to recognise (and to scan for)


def new_token(ledger: Ledger, user_name: str, name: str = "", expires_days: int | None = None,
              by: str | None = None, now: datetime | None = None) -> tuple[int, str]:
    """A fresh API token for `user_name`: returns (id, token). The token is shown once; the ledger
    keeps only its SHA-256. `expires_days` None means it lasts until revoked."""
    if expires_days is not None and expires_days < 1:
        raise ConfigError(f"a token cannot expire in {expires_days} days", hint="give 1 or more days, or no --expires")
    now = now or _now()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = now + timedelta(days=expires_days) if expires_days is not None else None
    token_id = ledger.add_token(user_name, token_hash(token), name or "api", expires, by)
    return token_id, token


def token_user(ledger: Ledger, token: str | None, now: datetime | None = None) -> User | None:
    """The user a bearer token acts for (with that user's current role), or None."""
    if not token or len(token) > 200:
        return None
    found = ledger.token_user(token_hash(token), now or _now())
    if found is None:
        return None
    user, token_id = found
    return User(user["id"], user["name"], user["role"], "", token_id)
