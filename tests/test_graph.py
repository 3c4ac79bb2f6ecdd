"""dezero graph: the DOT text (pure), and the separate rendering step."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from dezero_cli import graphviz
from dezero_cli.api import derivative_graph
from dezero_cli.engine import dot
from dezero_cli.engine.core import Variable
from dezero_cli.engine.functions import Sin

SQUARE_EXP_SQUARE = """\
digraph g {
  rankdir="TB";
  v0 [label="f", color=orange, style=filled]
  v1 [label="1.2840254166877414", color=white, style=filled]
  v2 [label="0.25", color=white, style=filled]
  v3 [label="x", color=orange, style=filled]
  f0 [label="Square", color=lightblue, style=filled, shape=box]
  v1 -> f0
  f0 -> v0
  f1 [label="Exp", color=lightblue, style=filled, shape=box]
  v2 -> f1
  f1 -> v1
  f2 [label="Square", color=lightblue, style=filled, shape=box]
  v3 -> f2
  f2 -> v2
}
"""


def graph_of(expr, order=0, **values):
    return dot.get_dot_graph(derivative_graph(expr, values, order))


def edges(text):
    """{(from label, to label)} of a DOT text written by get_dot_graph."""
    labels = dict(re.findall(r"^  (\w+) \[label=\"([^\"]*)\"", text, re.M))
    return {(labels[a], labels[b]) for a, b in re.findall(r"^  (\w+) -> (\w+)$", text, re.M)}


def test_textbook_graph_exactly(dezero):
    result = dezero("graph", "square(exp(square(x)))", "--x", "0.5")
    assert result == (0, SQUARE_EXP_SQUARE, "")


def test_a_variable_used_twice_is_one_node_with_two_edges():
    text = graph_of("x*x + sin(x)", x=2.0)
    assert text.count('[label="x"') == 1
    x_node = re.search(r"(v\d+) \[label=\"x\"", text).group(1)
    assert len(re.findall(rf"^  {x_node} -> ", text, re.M)) == 3  # Mul twice, Sin once
    assert edges(text) >= {("x", "Mul"), ("x", "Sin"), ("Add", "f")}


def test_node_ids_are_stable():
    assert graph_of("x*y + sin(x)", x=1.0, y=2.0) == graph_of("x*y + sin(x)", x=1.0, y=2.0)


def test_verbose_labels_and_vectors():
    x = Variable(np.array([1.0, 2.0]), "x")
    y = Sin()(x)
    text = dot.get_dot_graph(y, verbose=True)
    assert '[label="x: shape (2,) float64"' in text
    assert '[label="shape (2,)"' in text  # the unnamed output
    assert '[label="Sin"' in text


def test_backward_graph_of_the_first_derivative():
    # d/dx sin(x) = 1 * cos(x): Cos of x, then Mul with the seed.
    text = graph_of("sin(x)", order=1, x=0.5)
    assert edges(text) == {("x", "Cos"), ("Cos", "0.8775825618903728"),
                           ("0.8775825618903728", "Mul"), ("1.0", "Mul"),
                           ("Mul", "df/dx")}  # fmt: skip


def test_second_order_graph_grows_and_zero_derivative_is_a_node():
    first, second = graph_of("tanh(x)", 1, x=0.5), graph_of("tanh(x)", 2, x=0.5)
    assert second.count("shape=box") > first.count("shape=box") > 0
    assert 'label="d2f/dx2"' in second
    assert graph_of("2*x", 2, x=1.0) == (
        'digraph g {\n  rankdir="TB";\n  v0 [label="d2f/dx2", color=orange, style=filled]\n}\n'
    )


def test_deep_chains_do_not_recurse():
    x = Variable(np.array(0.5), "x")
    y = x
    for _ in range(30_000):
        y = Sin()(y)
    assert dot.count_functions(y) == 30_000
    assert dot.get_dot_graph(y).count("shape=box") == 30_000


def test_count_functions_of_tanh_first_derivative():
    # by hand from the rule gy * sech2(x): Sech2 and the product (Tanh itself is not needed)
    assert dot.count_functions(derivative_graph("tanh(x)", {"x": 0.5}, 1)) == 2


def test_dot_file_output(tmp_path, dezero):
    path = tmp_path / "g.dot"
    assert dezero("graph", "square(exp(square(x)))", "--x", "0.5", "-o", str(path)) == (0, "", "")
    assert path.read_text() == SQUARE_EXP_SQUARE


def test_missing_graphviz_is_a_clear_error(tmp_path, monkeypatch, dezero):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    path = tmp_path / "g.png"
    outcome = dezero("graph", "x", "--x", "1", "-o", str(path))
    assert outcome.code == 2
    assert outcome.stderr == (
        f"error: writing '{path}' needs Graphviz's 'dot' program, which is not installed: "
        "install Graphviz (e.g. 'apt install graphviz') or write DOT text with -o FILE.dot\n"
    )
    assert not path.exists()


def test_unknown_extension_fails_before_any_work(dezero):
    outcome = dezero("graph", "x", "-o", "g.txt")  # no value for x: never reached
    assert outcome.code == 2
    assert outcome.stderr == (
        "error: cannot tell what to write to 'g.txt': use one of .dot, .gv, .png, .svg, .pdf\n"
    )


def test_rendering_runs_dot_without_a_shell(tmp_path, monkeypatch):
    calls = []

    def fake_run(argv, **kwargs):
        calls.append((argv, kwargs))
        return subprocess.CompletedProcess(argv, 0, b"", b"")

    monkeypatch.setattr(shutil, "which", lambda name: "/opt/graphviz/bin/dot")
    monkeypatch.setattr(subprocess, "run", fake_run)
    graphviz.write_graph("digraph g {}\n", str(tmp_path / "a b.svg"))
    ((argv, kwargs),) = calls
    assert argv == ["/opt/graphviz/bin/dot", "-Tsvg", "-o", str(tmp_path / "a b.svg")]
    assert kwargs["input"] == b"digraph g {}\n" and not kwargs.get("shell")


def test_graphviz_failure_is_reported(tmp_path, monkeypatch, dezero):
    def failing(argv, **kwargs):
        return subprocess.CompletedProcess(argv, 1, b"", b"Error: syntax error in line 1\n")

    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setattr(subprocess, "run", failing)
    outcome = dezero("graph", "x", "--x", "1", "-o", str(tmp_path / "g.pdf"))
    assert outcome.code == 2
    assert outcome.stderr.endswith("Error: syntax error in line 1\n")


@pytest.mark.requires_tool("dot")
@pytest.mark.parametrize("order", [0, 2])
def test_graphviz_parses_the_text_and_renders(tmp_path, order, dezero):
    text = graph_of("x*y + sin(x)/(1+y^2)", order, x=1.0, y=2.0)
    done = subprocess.run(["dot", "-Tcanon"], input=text.encode(), capture_output=True)
    assert done.returncode == 0, done.stderr
    path = tmp_path / "g.svg"
    outcome = dezero("graph", "x*y + sin(x)/(1+y^2)", "--x", "1", "--y", "2", "-o", str(path))
    assert outcome == (0, "", "")
    assert path.read_text().lstrip().startswith("<?xml")
