"""Linking weights and thresholds, read once from data/lexicons/linking.toml."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rightsledger.errors import DataFileError
from rightsledger.resources import data_file, load_toml


@dataclass(frozen=True)
class LinkSettings:
    """Every number the linker uses; `load_settings()` fills it from the packaged TOML file."""

    version: str
    duplicates: dict[str, Any]
    quotes: dict[str, Any]
    cases: dict[str, Any]
    weights: dict[str, float]
    tolerance: dict[str, Any] = field(default_factory=dict)
    names: dict[str, Any] = field(default_factory=dict)
    organisations: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)
    # results of pure functions of these settings (place relations), shared by every run that uses them
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False, hash=False)

    def weight(self, name: str) -> float:
        try:
            return float(self.weights[name])
        except KeyError:
            raise DataFileError(f"linking weight {name!r} is missing", hint="add it under [cases.weights] in linking.toml") from None


def settings_from(doc: dict[str, Any]) -> LinkSettings:
    try:
        cases = dict(doc["cases"])
        weights = {k: float(v) for k, v in cases.pop("weights").items()}
        tolerance = dict(cases.pop("tolerance", {}))
        return LinkSettings(str(doc.get("version", "link.v1")), dict(doc["duplicates"]), dict(doc["quotes"]), cases, weights, tolerance,
                            dict(doc.get("names", {})), dict(doc.get("organisations", {})),
                            dict(doc.get("run", {})))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataFileError(f"linking settings are malformed: {exc!r}", hint="compare with the packaged linking.toml") from exc


@lru_cache(maxsize=4)
def load_settings(path: Path | None = None) -> LinkSettings:
    """The packaged settings, or a user file given as `path` (a complete copy of linking.toml)."""
    return settings_from(load_toml(path if path is not None else data_file("lexicons", "linking.toml")))
