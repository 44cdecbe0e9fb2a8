"""Typed errors with stable codes; the CLI and web layers turn them into sentences once."""

from __future__ import annotations


class RightsLedgerError(Exception):
    """Base of every error the library raises on purpose. `hint` says what the user can do."""

    code = "error"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        msg = super().__str__()
        return f"{msg} ({self.hint})" if self.hint else msg


class ConfigError(RightsLedgerError):
    code = "config"


class DatabaseError(ConfigError):
    """The ledger database cannot be used right now (unreachable, locked, damaged).

    The message names the database and the driver's reason: right for the command line, so the
    web workspace shows a generic page instead and logs the message."""


class DataFileError(RightsLedgerError):
    """A packaged or user data file (taxonomy, lexicon, gazetteer, outlets) is malformed."""

    code = "data_file"


class IngestError(RightsLedgerError):
    """One item could not be ingested; the others go on."""

    code = "ingest"


class FetchError(IngestError):
    code = "fetch"


class IntegrityError(RightsLedgerError):
    """A stored original no longer matches its SHA-256, or a record is inconsistent."""

    code = "integrity"


class NotFoundError(RightsLedgerError):
    code = "not_found"
