"""The option machinery the commands share: `--NAME VALUE` pairs for variables, the
expression argument (or standard input), the output and limit options, and warnings.

Only Click is imported here: the rest loads when a command runs, so `--help` stays instant.
"""

from __future__ import annotations

import sys

import click

from .limits import DEFAULT_MAX_DEPTH, DEFAULT_MAX_LENGTH, DEFAULT_MAX_NODES, Limits

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
VALUES_KEY = "dezero.values"
LIMITS_KEY = "dezero.limits"


class UserError(click.ClickException):
    exit_code = EXIT_USAGE


class ExpressionCommand(click.Command):
    """A command that takes `--NAME VALUE` for any variable NAME besides its own options.

    Each argument is, from left to right, the first of these that fits:

    1. `--`: every argument after it is positional.
    2. One of the command's own options, written whole (`-q`, `-h`, `--format json`,
       `--format=json`, `-v x=1`, `-vx=1`), with its value: the next argument, whatever it is.
    3. `--NAME VALUE` or `--NAME=VALUE` with NAME starting with a letter or `_`: a variable's
       value, which may start with a dash (`--x -1`). After EXPR, any `--TEXT` is taken so.
    4. Anything else is positional. The first positional argument is EXPR, so an expression
       that starts with a dash is never an option (`-v*t`, `-h*x`, `--2`, `-x`, `-1`), unless
       it is written exactly as one of the command's options (`-h`) or starts with `--` and a
       letter (`--x`): those go after `--`.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        options = [p for p in self.get_params(ctx) if isinstance(p, click.Option)]
        own = {opt for p in options for opt in p.opts + p.secondary_opts}
        takes_value = {opt for p in options if not p.is_flag for opt in p.opts + p.secondary_opts}
        known: list[str] = []  # our own options with their values, for Click to parse
        positional: list[str] = []
        pairs: list[tuple[str, str | None]] = []  # (NAME, VALUE or None when none followed)
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                positional.extend(args[i:])
                break
            if arg == "--debug":
                continue  # the group's option, honoured by main() wherever it is written
            if (
                arg in own
                or (arg[:2] == "--" and arg.partition("=")[0] in own)
                or _attached_variable(arg, takes_value)
            ):
                known.append(arg)
                if arg in takes_value and i < len(args):
                    known.append(args[i])
                    i += 1
                continue
            if arg[:2] == "--" and (_starts_name(arg[2:]) or (positional and arg[2:])):
                name, eq, value = arg[2:].partition("=")
                if not eq:
                    value = None
                    if i < len(args) and not _is_long_option(args[i]):
                        value = args[i]
                        i += 1
                pairs.append((name, value))
                continue
            positional.append(arg)
        ctx.meta[VALUES_KEY] = pairs
        return super().parse_args(ctx, [*known, "--", *positional])

    def invoke(self, ctx: click.Context):
        """Run the command under its resource limits (graph size, time)."""
        import gc

        from .limits import enforce

        # Graphs hold no reference cycles (outputs are weak references), so the cyclic
        # collector only walks them, again and again: 3x the time of a 2,000,000-node graph.
        # One expression is bounded work (unlike batch), and nothing cyclic outlives it.
        collecting = gc.isenabled()
        gc.disable()
        try:
            with enforce(ctx.meta.get(LIMITS_KEY, Limits())):
                return super().invoke(ctx)
        finally:
            if collecting:
                gc.enable()


def _starts_name(text: str) -> bool:
    return text[:1].isalpha() or text[:1] == "_"


def _is_long_option(arg: str) -> bool:
    """`--y` or `--y=1` (never a value); `--`, `-1` and `-.5` can be values."""
    return arg.startswith("--") and _starts_name(arg[2:])


def _attached_variable(arg: str, takes_value: set[str]) -> bool:
    """`-vNAME=VALUE`: a short option with its value attached, when that value has the form
    NAME=VALUE (so `-v*t` and `-vx` stay expressions)."""
    name, eq, _ = arg[2:].partition("=")
    return arg[:2] in takes_value and arg[:2] != "--" and bool(eq) and name.isidentifier()


def collect_values(
    ctx: click.Context,
    var_options: tuple[str, ...],
    program,
    grid: bool = False,
    sd: dict | None = None,
) -> dict:
    """Every `--NAME VALUE` and `-v NAME=VALUE`, parsed to float64 arrays; with `grid`, the
    vectors spread over every combination of their elements (see `grid_arrays`).

    A `--NAME` that is a name of the expression `program` (a variable, or a definition, which
    api refuses a value) is always taken as that name. One that is not, and is a near miss of
    one of the command's options (`--oder`), is an error: it was meant as that option, and
    running without it would mislead.

    A value written VALUE±SD (or VALUE+-SD) has a standard uncertainty: it goes into the
    dict `sd` of a command that propagates it (grad, eval); for any other it is an error.
    """
    return value_arrays(ctx, read_values(ctx, var_options, program, sd=sd), program, grid)


def read_values(
    ctx: click.Context, var_options: tuple[str, ...], program, points=None, sd=None
) -> dict:
    """Every `--NAME VALUE` and `-v NAME=VALUE` as written (values.Value: number, list or
    range, a range's points not made yet); `points` for a range without a step. A value
    written VALUE±SD puts its uncertainty in `sd`, or is an error where `sd` is None."""
    from .values import parse_sd, read_value, split_uncertainty

    names = {*program.variables, *program.definitions}
    pairs = []
    for name, value in ctx.meta.get(VALUES_KEY, []):
        if name not in names:
            meant = _meant_option(ctx, name)
            if meant or "-" in name:  # `--max-nodez`, `--no-such`: no variable has a dash
                hint = f" (did you mean --{meant}?)" if meant else ""
                raise UserError(f"no such option --{name}{hint}")
        if value is None:
            raise UserError(f"--{name} needs a value")
        pairs.append((name, value))
    for item in var_options:
        name, eq, value = item.partition("=")
        if not eq:
            raise UserError(f"--var takes NAME=VALUE, got {item!r}")
        pairs.append((name.strip(), value))
    values = {}
    for name, value in pairs:
        if not name.isidentifier() or not name.isascii():
            raise UserError(f"{name!r} is not a variable name (letters, digits and _)")
        if name in values:
            raise UserError(f"variable {name!r} is given twice")
        value, uncertainty = split_uncertainty(value)
        values[name] = read_value(value, name, points)
        if uncertainty is not None:
            if sd is None:
                raise UserError(
                    f"value of {name}: an uncertainty (±) is propagated by grad and eval only, "
                    f"not by {ctx.command.name}"
                )
            sd[name] = parse_sd(uncertainty, values[name], name)
    return values


def value_arrays(ctx: click.Context, written: dict, program, grid: bool = False) -> dict:
    """The arrays of values as written, each range checked against the graph-size limit
    before its points are made (a value of n numbers counts 1 + n/64 nodes)."""
    from .values import check_value_size

    limit = ctx.meta.get(LIMITS_KEY, Limits()).max_nodes
    option = "--max-nodes" if _has_option(ctx, "--max-nodes") else "the default of --max-nodes"
    if grid:
        return grid_arrays(written, program.variables, limit, option)
    for name, value in written.items():
        check_value_size(value, name, limit, option)
    return {name: value.array() for name, value in written.items()}


def grid_arrays(written: dict, order, max_nodes: int | None, option: str) -> dict:
    """--grid: the vectors among the variables in `order` take every combination of their
    elements, the first varying slowest (as nested loops, or numpy.meshgrid(indexing="ij")),
    each flattened to one point per combination. Numbers stay numbers."""
    import numpy as np

    from .limits import value_nodes

    axes = [name for name in order if name in written and written[name].kind != "number"]
    total = 1
    for name in axes:
        total *= written[name].size
    if max_nodes is not None and len(axes) * value_nodes(total) > max_nodes:
        sizes = " by ".join(f"{name} ({written[name].size:,})" for name in axes)
        raise UserError(
            f"--grid of {sizes} has {total:,} points for each of {len(axes)} variables, more "
            f"than the limit allows: a value of n points counts 1 + n/64 graph nodes, and the "
            f"limit is {max_nodes:,} ({option})"
        )
    arrays = {name: value.array() for name, value in written.items() if name not in axes}
    if len(axes) < 2:
        arrays.update({name: written[name].array() for name in axes})
        return arrays
    vectors = [written[name].array() for name in axes]
    try:
        mesh = np.meshgrid(*vectors, indexing="ij")
    except MemoryError:
        raise UserError(f"not enough memory for --grid of {total:,} points") from None
    arrays.update({name: m.reshape(-1) for name, m in zip(axes, mesh)})
    return {name: arrays[name] for name in written}  # in the order given


def _has_option(ctx: click.Context, option: str) -> bool:
    return any(option in p.opts for p in ctx.command.get_params(ctx) if isinstance(p, click.Option))


def _meant_option(ctx: click.Context, name: str) -> str | None:
    """The option of the command (or `debug`) that NAME misspells: at most 2 edits away, and
    fewer edits than NAME has letters (`--t` is no misspelling of `--wrt`)."""
    from .spelling import closest

    params = [p for p in ctx.command.get_params(ctx) if isinstance(p, click.Option)]
    options = [opt[2:] for p in params for opt in p.opts + p.secondary_opts if opt[:2] == "--"]
    options.append("debug")
    return closest(name, options, min(2, len(name) - 1))


def read_program(expr: str):
    """EXPR (or standard input for `-`) compiled: a syntax error comes before any value's."""
    from .api import compile

    return compile(read_expression(expr))


def read_expression(expr: str, stdin: bool = True) -> str:
    """EXPR itself, the file PATH for `@PATH` (as curl reads `@file`), or standard input for
    `-` (unless `stdin` is False: batch reads its data there); refused when larger than the
    limits allow."""
    from .limits import check_expression_size

    ctx = click.get_current_context(silent=True)
    limits = ctx.meta.get(LIMITS_KEY, Limits()) if ctx is not None else Limits()
    if expr == "-" and stdin:
        stream = getattr(sys.stdin, "buffer", sys.stdin)
        if stream is None:
            raise UserError("standard input is closed: give the expression as an argument")
        text = _read_text(stream, "standard input", limits.max_length)
    elif expr.startswith("@") and len(expr) > 1:
        path = expr[1:]
        try:
            with open(path, "rb") as stream:
                text = _read_text(stream, path, limits.max_length)
        except OSError as exc:
            raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    else:
        text = expr
    check_expression_size(text, limits)
    return text


def _read_text(stream, where: str, max_length: int | None, block: int = 1 << 16) -> str:
    """The expression in a binary stream, as text, stripped. Counted as argv is (characters,
    without the whitespace around them), and refused as soon as it is longer than `max_length`:
    read past the limit by one block at most, and whitespace after it held as a count, not as
    text."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    parts: list[str] = []
    read = length = trailing = (
        0  # bytes read; characters from the first non-space; spaces at the end
    )
    while True:
        try:
            data = stream.read(block)
        except OSError as exc:
            raise UserError(f"cannot read {where}: {exc.strerror or exc}") from None
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        held = len(decoder.getstate()[0])  # bytes of a character cut at the last block's end
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            at = read - held + exc.start
            raise UserError(f"the expression {_in(where)} is not UTF-8 (byte {at})") from None
        read += len(data)
        if not length:
            text = text.lstrip()
        if text:
            body = text.rstrip()
            trailing = len(text) - len(body) if body else trailing + len(text)
            length += len(text)
            if max_length is not None and length - trailing > max_length:
                raise UserError(
                    f"the expression {_in(where)} is longer than the limit of {max_length} "
                    "characters (--max-length)"
                )
            if body or max_length is None or trailing <= max_length:
                parts.append(text)  # past the limit, spaces only count: more text is too long
        if not data:
            break
    text = "".join(parts).rstrip()
    if not text:
        raise UserError(f"{where} is empty: expected an expression")
    return text


def _in(where: str) -> str:
    return "on standard input" if where == "standard input" else f"in {where}"


def _names(ctx, param, value):
    return None if value is None else tuple(w.strip() for w in value.split(",") if w.strip())


# Options that several commands share, declared once.
expr_argument = click.argument("expr")
var_option = click.option(
    "-v",
    "--var",
    "var_options",
    multiple=True,
    metavar="NAME=VALUE",
    help="Give a variable a value (for names that clash with options).",
)
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
quiet_option = click.option("-q", "--quiet", is_flag=True, help="Bare numbers only, one line each.")


def wrt_option(help: str = "Comma-separated variables to differentiate by."):
    return click.option("--wrt", metavar="NAMES", callback=_names, help=help)


digits_option = click.option(
    "--digits",
    type=click.IntRange(1, 17),
    metavar="N",
    help="On a terminal, round numbers to N significant digits (piped text, -q and JSON keep "
    "every digit).",
)


def output_options(f):
    """The argument and options every value-printing expression command shares."""
    return expr_argument(var_option(format_option(quiet_option(digits_option(f)))))


# grad and eval: the formats above, and one row per point (table on a terminal, csv, tsv).
TABLE_FORMATS = ("table", "csv", "tsv")
table_format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", *TABLE_FORMATS]),
    default="text",
    show_default=True,
    help="Output format; table, csv and tsv give one row per point, with batch's column names.",
)
grid_option = click.option(
    "--grid",
    is_flag=True,
    help="Vector values take every combination (first variable slowest), not pairs.",
)


def table_output_options(f):
    """output_options, with the table formats and --grid (grad, eval)."""
    return expr_argument(
        var_option(table_format_option(grid_option(quiet_option(digits_option(f)))))
    )


def limit_options(graph: bool = True, per_record: bool = False):
    """--timeout, --max-length, --max-depth and (for commands that build graphs) --max-nodes.

    With `per_record` (batch) the help says that the limits hold for each record.

    The values go to `ctx.meta`, where ExpressionCommand.invoke and read_expression find them,
    so command functions need no parameters for them.
    """

    def store(field: str):
        def callback(ctx: click.Context, param, value):
            from dataclasses import replace

            if value is not None:
                value = None if value == 0 else value
                ctx.meta[LIMITS_KEY] = replace(ctx.meta.get(LIMITS_KEY, Limits()), **{field: value})
            return value

        return callback

    # (option, field, type, metavar, help), in help order.
    table = [
        ("--max-nodes", "max_nodes", click.IntRange(min=0), "N",
         "Most graph nodes (one of n values counts 1 + n/64); 0 for no limit.  "
         f"[default: {DEFAULT_MAX_NODES}]"),
        ("--max-length", "max_length", click.IntRange(min=0), "N",
         "Longest expression in characters; 0 for no limit.  "
         f"[default: {DEFAULT_MAX_LENGTH}]"),
        ("--max-depth", "max_depth", click.IntRange(min=0), "N",
         "Most levels of nested parentheses; 0 for no limit.  "
         f"[default: {DEFAULT_MAX_DEPTH}]"),
        ("--timeout", "timeout", click.FloatRange(min=0, min_open=True, max=1e9), "SECONDS",
         "Most wall time for each record; a record over it gets an error and the batch goes "
         "on.  [default: none]" if per_record else
         "Stop with exit status 124 after this much wall time.  [default: none]"),
    ]  # fmt: skip

    def add(f):
        for option, field, kind, metavar, text in reversed(table):
            if field == "max_nodes" and not graph:
                continue
            f = click.option(option, type=kind, metavar=metavar, expose_value=False,
                             callback=store(field), help=text)(f)  # fmt: skip
        return f

    return add
