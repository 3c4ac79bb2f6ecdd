"""Every JSON shape any command prints validates against docs/json-schema.json.

The outputs are real: each case runs the command through the real entry point. A few broken
documents must fail, so that the schema cannot pass everything.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from dezero_cli.render import results

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "docs" / "json-schema.json"
SCHEMA = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def validator(name: str) -> jsonschema.protocols.Validator:
    """A validator of the shape `#/$defs/NAME`, its references resolved within the file."""
    schema = {**SCHEMA, "$ref": f"#/$defs/{name}"}
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


DOCUMENTS = [
    ("grad", ["grad", "square(exp(square(x)))", "--x", "0.5"]),
    ("grad", ["grad", "x*y", "--x", "1,2,3", "--y", "2"]),
    ("grad", ["grad", "3"]),
    ("grad", ["grad", "log(x)", "--x", "-1,0,1"]),
    ("grad", ["grad", "x*y + sin(x)/(1+y^2)", "--x", "0.7", "--y", "-0.3", "--order", "3"]),
    ("grad", ["grad", "[x*y, x + sin(y)]", "--x", "1", "--y", "2"]),
    ("grad", ["grad", "[x*y, x]", "--x", "1,2", "--y", "2", "--order", "2"]),
    ("grad", ["grad", "x^2*y", "--x", "2±0.1", "--y", "3+-0.2"]),
    ("grad", ["grad", "[x^2, x]", "--x", "2±0.1", "--order", "2", "--wrt", "x"]),
    ("grad", ["grad", "square(exp(square(x)))", "--x", "0.5", "--trace"]),
    ("grad", ["grad", "x*2 + log(y)", "--x", "1,2", "--y", "-1", "--trace"]),
    ("grad", ["grad", "[x*y, sin(x)]", "--x", "1", "--y", "2", "--trace", "--order", "2"]),
    ("eval", ["eval", "x^2 + 1", "--x", "3"]),
    ("eval", ["eval", "1/x", "--x", "0"]),
    ("eval", ["eval", "[x^2, 2*x, 7]", "--x", "1,2"]),
    ("eval", ["eval", "x*y", "--x", "2±0.1", "--y", "1,2,3"]),
    ("check", ["check", "sin(x)*y", "--x", "0.5", "--y", "2"]),
    ("check", ["check", "x*y", "--x", "1,2", "--y", "3"]),
    ("check", ["check", "sqrt(x)", "--x", "0"]),
    ("diff", ["diff", "square(exp(square(x)))"]),
    ("diff", ["diff", "x*y + sin(x)/(1+y^2)", "--order", "2"]),
    ("diff", ["diff", "x*y", "--x", "2", "--y", "-1"]),
    ("diff", ["diff", "[x*y, sin(x)*y]", "--order", "2"]),
    ("functions", ["functions"]),
]


@pytest.mark.parametrize("shape, argv", DOCUMENTS, ids=[" ".join(a) for _, a in DOCUMENTS])
def test_every_document_validates(shape, argv, dezero):
    outcome = dezero(*argv, "--format", "json")
    assert outcome.code in (0, 1), outcome.stderr  # check's verdict is 1 where it fails
    document = json.loads(outcome.stdout)
    validator(shape).validate(document)
    assert document["schema"] == results.SCHEMA
    for other in {"grad", "eval", "check", "diff", "functions"} - {shape}:
        if (shape, other) != ("grad", "eval") and (shape, other) != ("eval", "grad"):
            assert not validator(other).is_valid(document), other


RECORDS = "\n".join(
    json.dumps(record)
    for record in [
        {"id": 1, "expr": "square(exp(square(x)))", "x": 0.5},
        {"expr": "x*y", "x": [1, 2, 3], "y": 2},
        {"expr": "log(x)", "x": -1},
        {"expr": "[x*y, x]", "x": 2, "y": 3},
        {"expr": "x^2", "x": 2, "x_sd": 0.1},
        {"expr": "2x", "x": 1},
        {"expr": "x", "x": "abc"},
    ]
)


@pytest.mark.parametrize(
    "argv, stdin",
    [
        (["batch"], RECORDS + "\n"),
        (["batch", "--order", "2"], RECORDS + "\n"),
        (["batch", "--no-grad"], RECORDS + "\n"),
        (["batch", "--expr", "x*y", "--output-format", "jsonl"], "id,x,y\na,1,2\nb,abc,3\n"),
        (["batch", "--expr", "[x*y, x]", "--output-format", "jsonl"], "x,y,x_sd\n1,2,0.1\n"),
        (["batch", "--expr", "x^y", "--order", "3", "--output-format", "jsonl"], "x,y\n0,0\n"),
    ],
)
def test_every_batch_record_validates(argv, stdin, dezero):
    outcome = dezero(*argv, stdin=stdin)
    assert outcome.code in (0, 1), outcome.stderr
    check = validator("batch_record")
    lines = outcome.stdout.splitlines()
    assert lines
    for line in lines:
        check.validate(json.loads(line))


def test_broken_documents_fail(dezero):
    grad = json.loads(dezero("grad", "x^2", "--x", "2", "--format", "json").stdout)
    shape = validator("grad")
    assert shape.is_valid(grad)
    for broken in (
        {key: v for key, v in grad.items() if key != "schema"},  # no version
        {**grad, "schema": 2},  # another version
        {**grad, "value": "4.0"},  # a number as text
        {**grad, "extra": 1},  # a field nobody documented
        {**grad, "uncertainty": 0.1},  # an uncertainty without the inputs' sd
        {**grad, "trace": {"forward": [], "backward": [{"function": "Square", "generation": 0,
                                                        "inputs": [2.0], "output": 4.0}],
                           "first_pass_only": False}},  # a backward step without gy, gx
    ):  # fmt: skip
        assert not shape.is_valid(broken), broken
    record = {key: v for key, v in grad.items() if key != "schema"}
    assert validator("batch_record").is_valid(record)
    assert not validator("batch_record").is_valid(grad)  # records carry no "schema"


def test_the_version_in_the_file_is_the_one_printed():
    assert SCHEMA["$defs"]["version"] == {"const": results.SCHEMA}
    assert f"schema version {results.SCHEMA}" in SCHEMA["title"]


def test_the_json_page_documents_every_shape():
    page = (SCHEMA_FILE.parent / "json.md").read_text(encoding="utf-8")
    for name in ("grad", "eval", "check", "diff", "functions", "batch"):
        assert f"## `dezero {name}`" in page, name
    for field in ("schema", "uncertainty", "input_sd", "trace", "first_pass_only", "pass", "gx"):
        assert f"`{field}`" in page, field


def test_the_json_pages_examples_print_what_it_says(dezero):
    import shlex

    page = (SCHEMA_FILE.parent / "json.md").read_text(encoding="utf-8")
    examples = re.findall(r"^    \$ dezero (.*)\n    (\{.*\})$", page, re.M)
    assert len(examples) == 2
    for command, output in examples:
        outcome = dezero(*shlex.split(command))
        assert (outcome.code, outcome.stdout) == (0, output + "\n")
