"""Every example in the README runs and prints what the README shows.

An example is a `$ dezero ...` line in an indented block, followed by its output up to the next
`$` line or the end of the block. `$ cat FILE` shows a file the examples after it read, and
`printf '...' | dezero ...` gives a command its standard input.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def examples() -> list[tuple[list[str], str, dict[str, str]]]:
    """(command line, expected output, files shown before it) for each example."""
    out = []
    files: dict[str, str] = {}
    for block in re.findall(r"(?:^ {4,}\S.*\n?(?:^\s*\n(?= {4}))?)+", README.read_text(), re.M):
        lines = block.splitlines()
        indent = len(lines[0]) - len(lines[0].lstrip())
        lines = [line[indent:] for line in lines]
        i = 0
        while i < len(lines):
            if not lines[i].startswith("$ "):
                i += 1
                continue
            command = lines[i][2:]
            j = i + 1
            while j < len(lines) and not lines[j].startswith("$ "):
                j += 1
            shown = "".join(line + "\n" for line in lines[i + 1 : j])
            if command.startswith("cat "):
                files[command[4:]] = shown
            elif "dezero" in command:
                out.append((command, shown, dict(files)))
            i = j
    return out


EXAMPLES = examples()


def test_the_readme_has_examples():
    assert len(EXAMPLES) >= 12 and len(INLINE) >= 6


# Inline examples: "`dezero eval "hypot(3, 4)"` gives 5.0" (or "gives df/dy = 6.0").
INLINE = re.findall(r"`(dezero [^`]*)` gives ([^|]*?)\s*\|", README.read_text())


@pytest.mark.parametrize("command, result", INLINE, ids=[c[:50] for c, _ in INLINE])
def test_readme_inline_example(command, result, dezero):
    outcome = dezero(*shlex.split(command)[1:])
    assert outcome.code == 0, outcome
    lines = outcome.stdout.splitlines()
    assert (f"f = {result}" if "=" not in result else result) in lines, (command, outcome)


@pytest.mark.parametrize("command, shown, files", EXAMPLES, ids=[e[0][:60] for e in EXAMPLES])
def test_readme_example(command, shown, files, dezero, tmp_path, monkeypatch):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    stdin = None
    if " | dezero " in command:
        producer, command = command.split(" | ", 1)
        words = shlex.split(producer)
        assert words[0] == "printf", producer
        stdin = words[1].encode().decode("unicode_escape").encode()
    argv = shlex.split(command)
    assert argv[0] == "dezero"
    outcome = dezero(*argv[1:], stdin=stdin, env={"COLUMNS": "80", "LINES": "24"})
    assert outcome.code in (0, 1), outcome
    # Warnings go to standard error; the README shows them above the output, as a terminal does.
    warnings = "".join(line + "\n" for line in outcome.stderr.splitlines())
    assert warnings + outcome.stdout == shown or outcome.stdout == shown, (command, outcome)
    assert os.getcwd() == str(tmp_path)
