"""A batch results folder: where each partition's tables, done marker and the manifest live.

Everything is written atomically (a temporary name, then a rename) and the done marker last, so
a partition is either complete with its marker or will be processed again; a killed run never
leaves a partition that looks finished but is not.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rightsledger.batch.tables import TABLES, check_version, read_table
from rightsledger.errors import ConfigError

__all__ = ["Results", "write_json"]

MANIFEST = "manifest.json"
DONE = "_done"


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(value, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class Results:
    """A results folder (output of `rightsledger batch`, input of `rightsledger load`)."""

    root: Path

    def table_path(self, table: str, partition: str) -> Path:
        return self.root / table / f"{partition}.parquet"

    def marker_path(self, partition: str) -> Path:
        return self.root / DONE / f"{partition}.json"

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    def marker(self, partition: str) -> dict[str, Any] | None:
        """The done marker of a partition whose every table file exists, else None."""
        try:
            marker = json.loads(self.marker_path(partition).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not all(self.table_path(t, partition).is_file() for t in TABLES):
            return None
        return marker

    def is_done(self, partition: str, fingerprint: str) -> bool:
        marker = self.marker(partition)
        return marker is not None and marker.get("fingerprint") == fingerprint

    def manifest(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read {self.manifest_path}: {exc}", hint="re-run `rightsledger batch`") from None

    def check_compatible(self, settings: dict[str, Any]) -> None:
        """Refuse to mix results made with other settings (partition size, filter) in one folder."""
        old = self.manifest()
        if old is None:
            return
        check_version(old.get("schema_version"), str(self.manifest_path))
        for key, value in settings.items():
            if old.get("settings", {}).get(key) != value:
                raise ConfigError(
                    f"{self.root} holds results made with {key} = {old.get('settings', {}).get(key)!r}, not {value!r}",
                    hint="use the same settings to resume that run, or a new --out folder")

    def done_partitions(self) -> list[tuple[str, dict[str, Any]]]:
        """Finished partitions of the run the manifest describes (all finished ones without it)."""
        manifest = self.manifest()
        if manifest is None:
            raise ConfigError(f"{self.root} is not a batch results folder (no {MANIFEST})",
                              hint="give the --out folder of `rightsledger batch`")
        check_version(manifest.get("schema_version"), str(self.manifest_path))
        out = []
        for pid in manifest.get("partitions", []):
            marker = self.marker(pid)
            if marker is not None:
                out.append((pid, marker))
        return out

    def read_partition(self, partition: str, tables: tuple[str, ...] = TABLES) -> dict[str, list[dict[str, Any]]]:
        return {t: read_table(self.table_path(t, partition), t) for t in tables}

    def iter_partitions(self, tables: tuple[str, ...] = TABLES) -> Iterator[tuple[str, dict[str, list[dict[str, Any]]]]]:
        """Each finished partition's rows, one partition in memory at a time."""
        for pid, _marker in self.done_partitions():
            yield pid, self.read_partition(pid, tables)


