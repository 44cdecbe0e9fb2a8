"""Where packaged data files live; the one place that knows the data/ folder."""

from __future__ import annotations

import tomllib
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from rightsledger.errors import DataFileError


def data_file(*parts: str) -> Traversable:
    """A file shipped in rightsledger/data (works from a wheel or a source checkout)."""
    node = resources.files("rightsledger").joinpath("data")
    for p in parts:
        node = node.joinpath(p)
    return node


def load_toml(source: Traversable | Path) -> dict[str, Any]:
    """Parse a TOML data file, naming the file in the error when it is malformed."""
    try:
        return tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataFileError(f"cannot read data file {source}: {exc}", hint="fix the file or remove it") from exc
