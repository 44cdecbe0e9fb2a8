"""Request rate limits for the review workspace: token buckets kept in this process's memory.

Two places are limited, on top of the per-name lockout in `auth` (which only counts failures):
- signing in: every attempt, right or wrong, per login name and per client address, so one
  address cannot try many names and many addresses cannot hammer one name quickly;
- the JSON API (`/api/…`): per credential (session cookie or bearer token) and per client address.

A bucket holds `burst` requests and refills at `per_minute`; an empty bucket answers 429 with
Retry-After. The buckets live in the server process: run several server processes and each keeps
its own (the limit is then per process). The client address is the TCP peer: behind a reverse
proxy every request comes from the proxy, so set the proxy's own limits there.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from rightsledger import settings

__all__ = ["Rate", "Limits", "Limiter", "RateLimited"]

# Forget idle buckets once this many are held, so a flood of addresses cannot grow memory without end.
MAX_KEYS = 50_000


@dataclass(frozen=True, slots=True)
class Rate:
    """`per_minute` sustained, up to `burst` at once; per_minute <= 0 switches the limit off."""


    per_minute: float
    burst: int

    @property
    def off(self) -> bool:
        return self.per_minute <= 0


def _rate(name: str) -> Rate:
    per_minute = int(settings.get(name))
    return Rate(per_minute, max(1, per_minute))  # up to a minute's allowance at once


@dataclass(frozen=True, slots=True)
class Limits:
    """The workspace's limits; by default from the settings (and so the environment)."""

    login_per_name: Rate = field(default_factory=lambda: _rate("login_rate"))
    login_per_client: Rate = field(default_factory=lambda: _rate("login_client_rate"))
    api_per_user: Rate = field(default_factory=lambda: _rate("api_rate"))
    api_per_client: Rate = field(default_factory=lambda: _rate("api_client_rate"))


class RateLimited(Exception):
    """Too many requests; `retry_after` in whole seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Limiter:
    """Token buckets by key for one `Rate`; thread-safe (sync routes run in a thread pool)."""

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token for `key`: 0.0 if allowed, else the seconds until one is available."""
        if self.rate.off:
            return 0.0
        per_second = self.rate.per_minute / 60.0
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.get(key, (float(self.rate.burst), now))
            tokens = min(float(self.rate.burst), tokens + (now - then) * per_second)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return (1.0 - tokens) / per_second
            if len(self._buckets) >= MAX_KEYS and key not in self._buckets:
                self._forget_idle(now, per_second)
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0

    def _forget_idle(self, now: float, per_second: float) -> None:
        full = [k for k, (t, then) in self._buckets.items() if t + (now - then) * per_second >= self.rate.burst]
        for k in full or list(self._buckets)[: MAX_KEYS // 10]:
            del self._buckets[k]


def _key(value: str) -> str:
    """Credentials are not kept in memory as they are: only a short hash of them."""
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]


class Guard:
    """The limiters of one app (built by `create_app`)."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.login_name = Limiter(limits.login_per_name, clock)
        self.login_client = Limiter(limits.login_per_client, clock)
        self.api_user = Limiter(limits.api_per_user, clock)
        self.api_client = Limiter(limits.api_per_client, clock)

    def login(self, client: str, name: str) -> None:
        """Raise RateLimited if this address or this name has tried to sign in too often."""
        wait = max(self.login_client.take(client), self.login_name.take(_key(name.strip().lower())))
        if wait:
            raise RateLimited("Too many sign-in attempts. Wait a little and try again.", math.ceil(wait))

    def api(self, client: str, credential: str | None) -> None:
        """Raise RateLimited if this address or this signed-in user has called the API too often."""
        wait = self.api_client.take(client)
        if credential:
            wait = max(wait, self.api_user.take(_key(credential)))
        if wait:
            raise RateLimited("Too many API requests. Slow down and try again.", math.ceil(wait))
