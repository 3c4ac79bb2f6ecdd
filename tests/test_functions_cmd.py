"""dezero functions: the list comes from the registry, and the README agrees with it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dezero_cli.engine.functions import FUNCTIONS

README = Path(__file__).resolve().parent.parent / "README.md"


def classes():
    return {cls for cls in FUNCTIONS.values()}


def test_json_lists_every_registered_name_once(dezero):
    result = dezero("functions", "--format", "json")
    assert result.code == 0
    document = json.loads(result.stdout)
    assert list(document) == ["schema", "functions"]
    rows = document["functions"]
    names = [row["name"] for row in rows] + [a for row in rows for a in row["aliases"]]
    assert sorted(names) == sorted(FUNCTIONS)
    assert len(rows) == len(classes())
    for row in rows:
        cls = FUNCTIONS[row["name"]]
        assert row["arity"] == cls.arity
        assert row["derivative"] == cls.derivative
        assert row["convention"] == getattr(cls, "convention", None)


def test_json_row_exactly(dezero):
    rows = json.loads(dezero("functions", "--format", "json").stdout)["functions"]
    by_name = {row["name"]: row for row in rows}
    assert by_name["log"] == {
        "name": "log",
        "aliases": ["ln"],
        "arity": 1,
        "derivative": "1 / x",
        "convention": "natural logarithm; log(0) is -inf with derivative inf; nan for x < 0 "
        "(warning)",
    }
    assert by_name["sin"]["convention"] is None


def test_every_function_states_its_derivative_rule():
    assert [cls.__name__ for cls in classes() if not getattr(cls, "derivative", "")] == []


def text_conventions(text: str) -> dict[str, str]:
    """Each function's convention in the text output, its wrapped lines joined again."""
    conventions = {}
    for line in text.splitlines()[1:]:
        if not line.startswith(" "):
            name = line.split("(")[0]
        elif name in conventions:
            conventions[name] += " " + line.strip()
        else:
            conventions[name] = line.strip().removeprefix("convention: ")
    return conventions


def test_text_lines(dezero):
    result = dezero("functions")
    lines = result.stdout.splitlines()
    assert lines[0] == "function       arity  derivative"
    assert "log(x), ln(x)      1  1 / x" in lines
    assert "dot(a, b)          2  d/da = b;  d/db = a" in lines
    assert "square(x)          1  2 * x" in lines
    assert len([line for line in lines if not line.startswith(" ")]) == 1 + len(classes())
    assert max(len(line) for line in lines) <= 100


def test_text_shows_each_convention_exactly(dezero):
    conventions = text_conventions(dezero("functions").stdout)
    expected = {cls.name: cls.convention for cls in classes() if getattr(cls, "convention", None)}
    assert conventions == expected


def test_text_convention_lines(dezero):
    lines = dezero("functions").stdout.splitlines()
    square = lines.index("square(x)          1  2 * x")
    assert lines[square + 1] == "sum(x)             1  1 for each element"  # no convention line
    assert lines[square + 2] == (
        "                      convention: sums the elements (per row in batch mode)"
    )
    pow_ = lines.index("pow(a, b)          2  d/da = b * a^(b-1);  d/db = a^b * log(a)")
    assert lines[pow_ + 1 : pow_ + 6] == [
        "                      convention: the same as a^b. A negative a only with an integer b:"
        " (-2)^3 is -8",
        "                                  with d/da = 12 (at every order), and d/db is nan with"
        " a warning;",
        "                                  0^0 is 1; at a = 0 only, d/da is 0 where b = 0 and d/db"
        " is 0 where",
        "                                  b >= 0 (x^0 has derivative 0 even at x = 0)",
        "sech(x)            1  -sech(x) * tanh(x)",
    ]


def test_a_new_function_appears_without_touching_the_cli(monkeypatch, dezero):
    from dezero_cli.engine.functions import Sin

    class Sine2(Sin):
        __slots__ = ()
        name = "sine2"
        derivative = "cos(x), again"
        convention = "the same as sin"

    monkeypatch.setitem(FUNCTIONS, "sine2", Sine2)
    lines = dezero("functions").stdout.splitlines()
    sine2 = lines.index("sine2(x)           1  cos(x), again")
    assert lines[sine2 + 1] == "                      convention: the same as sin"


def readme_function_table(path: Path = README) -> list[dict[str, str]] | None:
    """Rows of the Markdown table under `## Functions`, keyed by its header, or None."""
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8")
    match = re.search(r"^## Functions[ \t]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if match is None:
        return None
    lines = [line.strip() for line in match.group(1).splitlines() if line.lstrip().startswith("|")]
    # Split on `|` but not on an escaped `\|` (as in `\|x\|`), which is text in the cell.
    table = [
        [
            cell.strip().replace("\\|", "|")
            for cell in re.split(r"(?<!\\)\|", line[1:].removesuffix("|"))
        ]
        for line in lines
    ]
    if not table:
        return []
    return [dict(zip(table[0], row)) for row in table[2:]]  # after the header and the |---| line


def names_in(row: dict[str, str]) -> list[str]:
    return re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", row["function"])


def readme_function_names(path: Path = README) -> list[str] | None:
    """Names in the first column of the Markdown table under `## Functions`, or None."""
    table = readme_function_table(path)
    return None if table is None else [name for row in table for name in names_in(row)]


def test_readme_function_table_matches_the_registry():
    names = readme_function_names()
    assert names is not None, "README.md has no '## Functions' section with the function table"
    assert sorted(names) == sorted(FUNCTIONS)


def test_readme_conventions_are_the_registry_s():
    table = readme_function_table()
    assert table, "README.md has no '## Functions' section with the function table"
    for row in table:
        cls = FUNCTIONS[names_in(row)[0]]
        # The README marks code with backticks; otherwise the text is the same.
        assert (row["convention"].replace("`", "") or None) == getattr(cls, "convention", None)


def test_the_readme_table_parser(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        "# dezero\n\n## Functions\n\nSome words.\n\n"
        "| function | arity | derivative |\n|---|---|---|\n"
        "| `log(x)`, `ln(x)` | 1 | `1 / x` |\n| `pow(a, b)` | 2 | `b * a^(b-1)` |\n"
        "| `abs(x)` | 1 | `sign(x)`, 0 at \\|x\\| = 0 |\n\n"
        "## Next\n\n| `exp(x)` | 1 | not in the section |\n"
    )
    assert readme_function_names(readme) == ["log", "ln", "pow", "abs"]
    assert readme_function_table(readme)[2] == {
        "function": "`abs(x)`",
        "arity": "1",
        "derivative": "`sign(x)`, 0 at |x| = 0",
    }
    readme.write_text("# dezero\n\n## Usage\n")
    assert readme_function_names(readme) is None


@pytest.mark.parametrize("command", ["graph", "check", "functions"])
def test_new_commands_have_help_with_an_example(command, dezero):
    result = dezero(command, "--help")
    assert result.code == 0
    assert "Example:" in result.stdout and f"$ dezero {command}" in result.stdout
