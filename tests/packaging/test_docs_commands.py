"""The README's command-line section lists every ``nurse-app`` sub-command (as sqlite-utils'
tests/test_docs.py does for its CLI reference): a new command cannot ship undocumented."""

from __future__ import annotations

import argparse
import re

import pytest
from repo_paths import ROOT

from nurse_app.cli import build_parser


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((*prefix, name))
                found += _commands(sub, (*prefix, name))
    return found


COMMANDS = _commands(build_parser())


def _command_line_section() -> str:
    """The sh block of the README's "Command line" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Command line\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert blocks, "README.md: the Command line section has no sh block"
    return "\n".join(blocks)


def test_the_parser_has_sub_commands():
    assert ("calc",) in COMMANDS and ("guides", "search") in COMMANDS and len(COMMANDS) >= 15


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_sub_command_is_in_the_readme(command):
    # nurse-app, any global options (--db PATH, --policy FILE), then the command's words
    pattern = r"^nurse-app(?: --(?:db|policy) \S+)* " + re.escape(" ".join(command)) + r"(?=\s|$)"
    assert re.search(pattern, _command_line_section(), flags=re.M), (
        f"README.md, Command line: add an example of `nurse-app {' '.join(command)}`"
    )
