"""The `dezero` command: a thin Click layer over `dezero_cli.api`.

This module holds the group, the entry point and the one place where failures become an
`error:` line and an exit status. Each command lives in its own module under `commands/`,
imported only when that command runs; so `dezero --help` loads Click alone, and `dezero grad`
never pays for batch, plot or diff.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from .options import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK
from .output import (
    OutputFailed,
    ReaderGone,
    discard,
    guard,
    is_terminal,
    printable,
    tell,
    terminal_width,
)

# Each command: the module under dezero_cli.commands that defines it, and its function there.
COMMANDS = {
    "batch": ("batch", "batch"),
    "check": ("check", "check"),
    "diff": ("diff", "diff"),
    "eval": ("point", "eval_"),
    "functions": ("listing", "functions"),
    "grad": ("point", "grad"),
    "graph": ("graph", "graph"),
    "plot": ("plot", "plot"),
}


class DezeroGroup(click.Group):
    """Loads a command's module when the command is looked up (the table is COMMANDS), and
    turns Ctrl-C and a closed pipe into our exits before Click's own handling sees them
    (Click would print a blank line for the one and exit with 1 for the other)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        module = importlib.import_module(f"{__package__}.commands.{where[0]}")
        return getattr(module, where[1])

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0]
        if name not in COMMANDS and not name.startswith("-") and not ctx.resilient_parsing:
            # Click would suggest from the commands already loaded: none, here
            raise click.exceptions.NoSuchCommand(name, possibilities=sorted(COMMANDS), ctx=ctx)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted() from None
        except BrokenPipeError:
            return quiet_broken_pipe()


@click.group(cls=DezeroGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dezero-cli", prog_name="dezero", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for internal errors.")
def cli(debug: bool) -> None:
    """Differentiate expressions from the shell with DeZero's define-by-run engine.

    \b
    Example:
        dezero grad "square(exp(square(x)))" --x 0.5
    """


class Interrupted(click.ClickException):
    exit_code = EXIT_INTERRUPTED

    def __init__(self):
        super().__init__("interrupted")


def quiet_broken_pipe() -> int:
    """The reader went away (`| head`): stop quietly, and keep Python from complaining again
    when it flushes stdout at exit."""
    discard(sys.stdout)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; map every failure to one `error:` line and a documented exit status."""
    args = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in args or bool(os.environ.get("DEZERO_DEBUG"))
    stdout = sys.stdout
    sys.stdout = guard(stdout)  # a failed write is OutputFailed, wherever it happens
    try:
        code = _run(args)
        sys.stdout.flush()
        return code
    except (ReaderGone, BrokenPipeError):
        discard(stdout)
        return EXIT_OK
    except OutputFailed as exc:
        discard(stdout)  # what is still buffered would fail again at exit
        return _fail(exc.message, exc.exit_code)
    except click.exceptions.Abort:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except click.ClickException as exc:
        message = exc.format_message()
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            message += f" (see '{exc.ctx.command_path} --help')"
        return _fail(message, exc.exit_code)
    except Exception as exc:
        from .errors import DezeroError

        if isinstance(exc, DezeroError):
            return _fail(exc.message, exc.exit_code, getattr(exc, "context", None))
        if debug:
            raise
        return _fail(
            f"internal error: {type(exc).__name__}: {exc} (run with --debug for "
            "details, and please report it)",
            EXIT_INTERNAL,
        )
    finally:
        sys.stdout = stdout


def _run(args: list[str]) -> int:
    try:
        code = cli.main(args, prog_name="dezero", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:  # bare `dezero`: the help, as --help
        click.echo(exc.ctx.get_help())
        return EXIT_OK
    return code if isinstance(code, int) else EXIT_OK


def _fail(message: str, code: int, context=None) -> int:
    lines = []
    if context is not None:  # the expression around the error, cut to fit a terminal
        width = terminal_width(sys.stderr) - 8 if is_terminal(sys.stderr) else 72
        lines = [f"  {line}" for line in context(max(width, 20))]
    tell(f"error: {printable(message)}", lines)
    return code
