"""dezero functions: the list comes from the registry, and the README agrees with it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dezero_cli.engine.functions import FUNCTIONS

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TABLE = ROOT / "docs" / "functions.md"  # the full table, with derivatives and conventions


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
        least, most = cls.arity if isinstance(cls.arity, tuple) else (cls.arity, cls.arity)
        assert (row["arity"], row["variadic"]) == (least, most is None)
        assert len(row["parameters"]) == least + row["variadic"]  # `...` last if variadic
        assert row["static_args"] == getattr(cls, "static_args", 0)
        assert row["derivative"] == cls.derivative
        assert row["convention"] == getattr(cls, "convention", None)


def test_json_row_exactly(dezero):
    rows = json.loads(dezero("functions", "--format", "json").stdout)["functions"]
    by_name = {row["name"]: row for row in rows}
    assert by_name["log"] == {
        "name": "log",
        "aliases": ["ln"],
        "parameters": ["x"],
        "arity": 1,
        "variadic": False,
        "static_args": 0,
        "derivative": "1 / x",
        "convention": "natural logarithm; log(0) is -inf with derivative inf; nan for x < 0 "
        "(warning)",
    }
    assert by_name["sin"]["convention"] is None
    assert {key: by_name["max"][key] for key in ("parameters", "arity", "variadic")} == {
        "parameters": ["a", "b", "..."],
        "arity": 2,
        "variadic": True,
    }
    polygamma = by_name["polygamma"]
    assert (polygamma["parameters"], polygamma["arity"], polygamma["static_args"]) == (
        ["n", "x"],
        2,
        1,
    )
    assert by_name["where"]["parameters"] == ["c", "a", "b"]


def test_every_function_states_its_derivative_rule():
    assert [cls.__name__ for cls in classes() if not getattr(cls, "derivative", "")] == []


def text_entries(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """Each function's derivative and convention in the text output, the lines of each joined
    again (a derivative by several arguments takes a line for each when it is long)."""
    derivatives, conventions = {}, {}
    for line in text.splitlines()[1:]:
        if not line.startswith(" "):
            name = line.split("(")[0]
            derivatives[name] = line.split("  ", 2)[-1].lstrip().split(maxsplit=1)[1]
        elif line.strip().startswith("convention: "):
            conventions[name] = line.strip().removeprefix("convention: ")
        elif name in conventions:
            conventions[name] += " " + line.strip()
        else:
            derivatives[name] += "  " + line.strip()
    return derivatives, conventions


def text_conventions(text: str) -> dict[str, str]:
    """Each function's convention in the text output, its wrapped lines joined again."""
    return text_entries(text)[1]


def test_text_lines(dezero):
    result = dezero("functions")
    lines = result.stdout.splitlines()
    assert lines[0] == "function         arity  derivative"
    assert "log(x), ln(x)        1  1 / x" in lines
    assert "dot(a, b)            2  d/da = b;  d/db = a" in lines
    assert "square(x)            1  2 * x" in lines
    assert "atan2(y, x)          2  d/dy = x / (x^2 + y^2);  d/dx = -y / (x^2 + y^2)" in lines
    assert "max(a, b, ...)      2+  1 by the largest argument, 0 by the others" in lines
    assert "polygamma(n, x)      2  polygamma(n + 1, x)" in lines
    assert len([line for line in lines if not line.startswith(" ")]) == 1 + len(classes())
    assert max(len(line) for line in lines) <= 100


def test_text_puts_a_long_derivative_by_several_arguments_on_a_line_each(dezero):
    lines = dezero("functions").stdout.splitlines()
    clip = lines.index("clip(x, lo, hi)      3  d/dx = 1 where lo <= x <= hi, else 0;")
    assert lines[clip + 1 : clip + 3] == [
        "                        d/dlo = 1 where x < lo <= hi, else 0;",
        "                        d/dhi = 1 where hi < x or hi < lo, else 0",
    ]
    assert lines[clip + 3].lstrip().startswith("convention: ")


def test_text_shows_each_derivative_exactly(dezero):
    derivatives = text_entries(dezero("functions").stdout)[0]
    assert derivatives == {cls.name: cls.derivative for cls in classes()}


def test_text_shows_each_convention_exactly(dezero):
    conventions = text_conventions(dezero("functions").stdout)
    expected = {cls.name: cls.convention for cls in classes() if getattr(cls, "convention", None)}
    assert conventions == expected


def test_text_convention_lines(dezero):
    lines = dezero("functions").stdout.splitlines()
    square = lines.index("square(x)            1  2 * x")
    assert lines[square + 1] == "sum(x)               1  1 for each element"  # no convention
    assert lines[square + 2] == (
        "                        convention: sums the elements (per row in batch mode)"
    )
    pow_ = lines.index("pow(a, b)            2  d/da = b * a^(b-1);  d/db = a^b * log(a)")
    assert lines[pow_ + 1 : pow_ + 6] == [
        "                        convention: the same as a^b. A negative a only with an integer b:"
        " (-2)^3 is",
        "                                    -8 with d/da = 12 (at every order), and d/db is nan"
        " with a",
        "                                    warning; 0^0 is 1; at a = 0 only, d/da is 0 where b ="
        " 0 and d/db",
        "                                    is 0 where b >= 0 (x^0 has derivative 0 even at x ="
        " 0)",
        "relu(x)              1  1 where x > 0, else 0",
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
    sine2 = lines.index("sine2(x)             1  cos(x), again")
    assert lines[sine2 + 1] == "                        convention: the same as sin"


def readme_function_table(path: Path = TABLE) -> list[dict[str, str]] | None:
    """Rows of the Markdown table under `# Functions` (or `## Functions`), keyed by its
    header, or None."""
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8")
    match = re.search(r"^##? Functions[ \t]*\n(.*?)(?=^##? |\Z)", text, re.M | re.S)
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


def readme_function_names(path: Path = TABLE) -> list[str] | None:
    """Names in the first column of the Markdown table under `## Functions`, or None."""
    table = readme_function_table(path)
    return None if table is None else [name for row in table for name in names_in(row)]


def test_readme_function_table_matches_the_registry():
    names = readme_function_names()
    assert names is not None, "docs/functions.md has no 'Functions' section with the table"
    assert sorted(names) == sorted(FUNCTIONS)


def test_the_readme_names_every_function_and_gives_an_example_of_each_family():
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^\| functions \| example \|\n\|---\|---\|\n((?:\|.*\n)+)", text, re.M)
    assert match, "README.md has no table of functions with examples"
    rows = [line.split("|")[1:3] for line in match.group(1).splitlines()]
    named = {n for functions, _ in rows for n in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", functions)}
    assert set(FUNCTIONS) <= named
    assert all("dezero " in example for _, example in rows)


def test_readme_conventions_are_the_registry_s():
    table = readme_function_table()
    assert table, "docs/functions.md has no 'Functions' section with the table"
    for row in table:
        cls = FUNCTIONS[names_in(row)[0]]
        # The README marks code with backticks; otherwise the text is the same.
        assert (row["convention"].replace("`", "") or None) == getattr(cls, "convention", None)


def test_readme_derivatives_are_the_registry_s():
    table = readme_function_table()
    assert table, "docs/functions.md has no 'Functions' section with the table"
    for row in table:
        cls = FUNCTIONS[names_in(row)[0]]
        assert row["derivative"].replace("`", "") == cls.derivative, cls.name


def test_readme_calls_are_the_listing_s(dezero):
    # The README writes each function as `dezero functions` does: its parameters, `...` last
    # where it takes any number.
    listed = [line.split("  ")[0] for line in dezero("functions").stdout.splitlines()[1:]]
    table = readme_function_table()
    assert table, "docs/functions.md has no 'Functions' section with the table"
    written = [row["function"].replace("`", "") for row in table]
    assert sorted(written) == sorted(c for c in listed if c)


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
