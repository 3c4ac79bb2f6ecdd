"""The documentation's examples run, and print what the page says they print."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


def examples(text: str) -> str:
    """The ```pycon blocks of a Markdown page, as one doctest text."""
    return "\n".join(re.findall(r"^```pycon\n(.*?)^```$", text, re.S | re.M))


@pytest.mark.parametrize("name", ["api.md"])
def test_examples_in_the_docs_run(name):
    text = examples((DOCS / name).read_text(encoding="utf-8"))
    test = doctest.DocTestParser().get_doctest(text, {}, name, name, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 10
    assert result.failed == 0
