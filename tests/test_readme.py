"""The README's promises: exactly two commands for a fresh machine, and CI runs the second one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _fresh_machine_commands() -> list[str]:
    intro = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", intro, flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_readme_has_exactly_two_single_line_commands() -> None:
    commands = _fresh_machine_commands()
    assert len(commands) == 2
    assert commands[0].endswith("rightsledger demo")
    assert commands[1].endswith("pytest")


def test_ci_runs_the_readme_test_command_exactly() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert _fresh_machine_commands()[1] in ci
    assert any(line.startswith("export RIGHTSLEDGER_REQUIRE_PG=1") for line in ci)
