from click.testing import CliRunner

from dezero_cli.cli import cli


def test_textbook_example():
    result = CliRunner().invoke(cli, ["grad", "square(exp(square(x)))", "--x", "0.5"])
    assert result.exit_code == 0
    assert result.stdout == "f = 1.648721270700128\ndf/dx = 3.297442541400256\n"
