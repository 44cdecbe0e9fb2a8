"""Settings: one declarative table, and the only module that reads the environment.

Precedence: the default in `SETTINGS` < the environment variable < an explicit value (a CLI
flag or a keyword argument). Every setting is listed here with its help text, so `--help`,
the docs and validation all come from one place.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rightsledger.errors import ConfigError

DEFAULT_DB = "rightsledger.db"
DEMO_DB = "rightsledger-demo.db"
MAX_BYTES = 20 * 2**20


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    env: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str


def _int(value: str) -> int:
    try:
        return int(value.replace("_", ""))
    except ValueError:
        raise ConfigError(f"{value!r} is not a whole number", hint="set a number of bytes, e.g. 20000000") from None


def _per_minute(value: str) -> int:
    try:
        return max(0, int(value.replace("_", "")))
    except ValueError:
        raise ConfigError(f"{value!r} is not a number of requests per minute",
                          hint="set a whole number, e.g. 600; 0 switches the limit off") from None


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{value!r} is not a yes/no value", hint="use 1 or 0")


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "RIGHTSLEDGER_DB", DEFAULT_DB,
            "Ledger database: a file path or sqlite:///path (SQLite), or postgresql+psycopg://user@host/db."),
    Setting("max_bytes", "RIGHTSLEDGER_MAX_BYTES", MAX_BYTES,
            "Largest item accepted by ingest, in bytes (files, bundle lines, downloads).", _int),
    Setting("allow_private_urls", "RIGHTSLEDGER_ALLOW_PRIVATE_URLS", False,
            "Let --url fetch addresses on private or local networks.", _bool),
    Setting("login_rate", "RIGHTSLEDGER_LOGIN_RATE", 10,
            "Sign-in attempts allowed per login name per minute in the review workspace (0: no limit).", _per_minute),
    Setting("login_client_rate", "RIGHTSLEDGER_LOGIN_CLIENT_RATE", 30,
            "Sign-in attempts allowed per client address per minute (0: no limit).", _per_minute),
    Setting("api_rate", "RIGHTSLEDGER_API_RATE", 600,
            "Requests to /api/ allowed per signed-in session or token per minute (0: no limit).", _per_minute),
    Setting("api_client_rate", "RIGHTSLEDGER_API_CLIENT_RATE", 1200,
            "Requests to /api/ allowed per client address per minute (0: no limit).", _per_minute),
    Setting("user", "RIGHTSLEDGER_USER", None,
            "Name recorded as the ingesting user in custody records (default: the login name)."),
)
_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str, explicit: Any = None) -> Any:
    """The value of a setting: `explicit` if given, else its environment variable, else the default."""
    setting = _BY_NAME[name]
    if explicit is not None:
        return explicit
    raw = os.environ.get(setting.env)
    if raw is not None and raw != "":
        return setting.parse(raw)
    return setting.default


def database_url(value: str | os.PathLike[str] | None = None) -> str:
    """A SQLAlchemy URL for the ledger; a plain path means a SQLite file."""
    raw = str(get("db", value))
    if "://" in raw:
        if raw.startswith(("postgres://", "postgresql://")):
            # The driver shipped with RightsLedger is psycopg 3; plain URLs would look for psycopg2.
            raw = "postgresql+psycopg://" + raw.split("://", 1)[1]
        if not raw.startswith(("sqlite", "postgresql+psycopg://")):
            raise ConfigError(
                f"unsupported database URL {redact_url(raw)!r}",
                hint="use a file path, sqlite:///path or postgresql+psycopg://user@host/dbname",
            )
        return raw
    path = Path(raw).expanduser()
    return f"sqlite:///{path.resolve()}"


def redact_url(url: str) -> str:
    """The URL without its password, for messages and `stats`."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, at, host = rest.rpartition("@")
    if ":" in creds:
        creds = creds.split(":", 1)[0] + ":***"
    return f"{scheme}://{creds}@{host}"


def current_user() -> str:
    """Who is ingesting, for the chain of custody."""
    name = get("user")
    if name:
        return str(name)
    try:
        return getpass.getuser()
    except Exception:  # no login name (e.g. a container without passwd entry)
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"
