"""A run over many files: each input part gives one output part, in the directory given with -o.

* The parts are the files given, the files a glob matches, and the files of a directory given
  (those with a known extension, or all with --input-format; never hidden ones or names that
  start with `_`, as the `_SUCCESS` markers other tools leave).
* Each output part keeps its input's name, with the output format's extension, and is written
  whole or not at all (storage.output): a part cut short is absent, never a prefix.
* Refused before any work (exit 2): an output that is an input, two inputs that would be
  written to one name, and -o that is a directory given as input or lies within one, or is
  the directory of an input file.
* The directory holds a manifest (MANIFEST): the expression, the options, the version, and
  the counts of each finished part. `--resume` refuses a manifest written for another
  expression, other options or another version, and skips the parts it lists as finished
  whose output is still there, as it was, and whose input has not changed since.

The parts run one after another in this process, or as tasks on Dask (batch.cluster): a task
is `run_part`, which takes a Part and a Job and returns the part's counts; its errors are
its own, and the other parts go on.
"""

from __future__ import annotations

import json
import os
import posixpath
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from ..errors import DezeroError
from ..limits import Limits
from ..output import OutputFailed
from . import storage
from .job import BatchError, BatchOptions, format_for

MANIFEST = "_dezero_manifest.json"
SUFFIXES = {"csv": ".csv", "tsv": ".tsv", "jsonl": ".jsonl", "parquet": ".parquet"}
MAX_WARNINGS = 20  # kept per part, as a single run shows at most this many

# Test-only fault injection (tests/test_batch_many.py, tests/test_batch_dask.py): with
# "ACTION:NAME:PATH" in the environment of the process running the part NAME, that process,
# after the part's first block, exits at once (ACTION `exit`, as a killed worker) or gets
# SIGINT (`interrupt`, Ctrl-C); the first time only: PATH is created to say it happened.
FAULT_ENV = "DEZERO_TEST_FAULT"


@dataclass(frozen=True)
class Job:
    """What every part is asked, in a form that travels to a worker (text, not a Program)."""

    expr: str | None
    wrt: tuple[str, ...] | None = None
    order: int = 1
    fail_fast: bool = False
    limits: Limits = field(default_factory=Limits)
    input_format: str | None = None  # None: each part's from its extension
    output_format: str | None = None  # None: each part's input format

    def options(self) -> BatchOptions:
        from .rows import compile_within

        program = None if self.expr is None else compile_within(self.expr, self.limits)
        return BatchOptions(
            expr=program,
            wrt=self.wrt,
            order=self.order,
            fail_fast=self.fail_fast,
            limits=self.limits,
        )

    def settings(self) -> dict:
        """The options, as the manifest keeps them (the expression apart)."""
        found = asdict(self)
        del found["expr"]
        found["wrt"] = None if self.wrt is None else list(self.wrt)
        return found


@dataclass(frozen=True)
class Part:
    name: str  # the output part's file name
    source: str  # path or URL
    target: str
    input_format: str
    output_format: str


def plan(inputs: Iterable[str], folder: str, job: Job) -> list[Part]:
    """The parts of a run, in order; BatchError for anything refused before any work."""
    from .. import batch

    sources: list[str] = []
    # (a directory -o may not be, whether -o may not lie within it either, what to say)
    homes: list[tuple[str, bool, str]] = []
    for given in inputs:
        if given == "-":
            raise BatchError("standard input is one stream: with many inputs, name files")
        if storage.has_magic(given):
            found = storage.expand(given)
            if not found:
                raise BatchError(f"no file matches {given}")
            homes += [(storage.parent(path), False, f"holds the input {path}") for path in found]
        elif storage.is_dir(given):
            found = [path for path in storage.listing(given) if _is_part(path, job)]
            if not found:
                kinds = ", ".join(sorted(SUFFIXES.values()))
                raise BatchError(f"the directory {given} holds no parts (files ending {kinds})")
            homes.append((given, True, f"is in the input directory {given}"))
        else:
            found = [given]
            homes.append((storage.parent(given), False, f"holds the input {given}"))
        sources += [path for path in found if path not in sources]
    for source in sources:
        if storage.same_place(source, folder):
            raise BatchError(
                f"the output {folder} is the input {source}: with many inputs, -o names a "
                "directory for one output part each"
            )
    for home, within, why in homes:
        if _inside(folder, home, within):
            raise BatchError(f"the output directory {folder} {why}: give -o a directory of its own")
    parts: dict[str, Part] = {}
    for source in sources:
        fmt_in = job.input_format or format_for(source)
        if fmt_in is None:
            raise BatchError(f"cannot tell the format of {source} from its name: --input-format")
        fmt_out = job.output_format or fmt_in
        batch.check_formats(fmt_in, fmt_out, job.expr is not None)
        stem = posixpath.basename(source.rstrip("/")) if storage.is_url(source) else None
        stem = os.path.splitext(stem or os.path.basename(storage.local(source)))[0]
        name = stem + SUFFIXES[fmt_out]
        if name in parts:
            raise BatchError(
                f"{parts[name].source} and {source} would both be written to {name}: "
                "run them separately, or rename one"
            )
        target = storage.join(folder, name)
        if storage.same_place(source, target):
            raise BatchError(f"the output {target} is the input file: give -o another directory")
        parts[name] = Part(name, source, target, fmt_in, fmt_out)
    return list(parts.values())


def _is_part(path: str, job: Job) -> bool:
    name = posixpath.basename(path) if storage.is_url(path) else os.path.basename(path)
    if name.startswith((".", "_")):
        return False
    return job.input_format is not None or format_for(name) is not None


def _inside(folder: str, home: str, within: bool) -> bool:
    """Whether the output directory `folder` is `home`, or (`within`) lies inside it."""
    if storage.is_url(folder) or storage.is_url(home):
        a, b = folder.rstrip("/"), home.rstrip("/")
        return a == b or (within and a.startswith(b + "/"))
    a = os.path.realpath(storage.local(folder))
    b = os.path.realpath(storage.local(home))
    return a == b or (within and os.path.commonpath([a, b]) == b)


# -- one part, wherever it runs ----------------------------------------------------------------


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as found

    try:
        return found("dezero-cli")
    except PackageNotFoundError:  # run from a source tree
        return "unknown"


def run_part(part: Part, job: Job) -> dict:
    """Evaluate one part into its output; its counts, or its error (a dict: it travels)."""
    from .. import batch

    started = time.monotonic()
    result = {"name": part.name, "source": part.source, "records": 0, "failed": 0}
    try:
        options = job.options()
        fmt_in, fmt_out = part.input_format, part.output_format
        progress = _fault(part.name)
        stats = batch.run_path(part.source, part.target, fmt_in, fmt_out, options, progress)
    except (BatchError, OutputFailed, DezeroError) as exc:
        result["error"] = getattr(exc, "message", str(exc))
        return result
    result.update(
        records=stats.records,
        failed=stats.failed,
        first_error=stats.first_error,
        unit=stats.unit,
        stopped=stats.stopped,
        warnings=stats.warnings[:MAX_WARNINGS],
        more_warnings=max(len(stats.warnings) - MAX_WARNINGS, 0),
        stamp=storage.stamp(part.source),
        bytes=storage.size(part.target),
        seconds=round(time.monotonic() - started, 6),
    )
    return result


def _fault(name: str) -> Callable[[int], None] | None:
    action, _, rest = os.environ.get(FAULT_ENV, "").partition(":")
    part, _, marker = rest.partition(":")
    if part != name or action not in ("exit", "interrupt") or not marker:
        return None

    def progress(done: int) -> None:
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        if action == "exit":
            os._exit(70)
        import signal

        os.kill(os.getpid(), signal.SIGINT)

    return progress


# -- the manifest ------------------------------------------------------------------------------


class Manifest:
    """The run's description and the counts of its finished parts, in -o DIR."""

    def __init__(self, folder: str, job: Job):
        self.path = storage.join(folder, MANIFEST)
        self.head = {
            "dezero": version(),
            "expression": job.expr,
            "options": job.settings(),
        }
        self.parts: dict[str, dict] = {}

    def resume(self) -> None:
        """Take the finished parts of the manifest there; BatchError when it is another run's."""
        text = storage.read_text(self.path)
        if text is None:
            return
        try:
            found = json.loads(text)
            head = {key: found[key] for key in self.head}
            parts = dict(found["parts"])
        except (ValueError, KeyError, TypeError):
            raise BatchError(f"{self.path} is not a manifest dezero can read") from None
        for key, what in (
            ("expression", "expression"),
            ("options", "options"),
            ("dezero", "dezero version"),
        ):
            if head[key] != self.head[key]:
                raise BatchError(
                    f"--resume: {self.path} was written for the {what} {_show(head[key])}, "
                    f"not {_show(self.head[key])}: give another -o directory, or run without "
                    "--resume to start again"
                )
        self.parts = parts

    def finished(self, part: Part) -> dict | None:
        """The counts of `part` when it is finished: its output there as written, its input
        as it was then."""
        done = self.parts.get(part.name)
        if not done or done.get("error") or done.get("source") != part.source:
            return None
        if done.get("bytes") is None or storage.size(part.target) != done["bytes"]:
            return None
        if storage.stamp(part.source) != done.get("stamp"):
            return None
        return done

    def record(self, result: dict) -> None:
        self.parts[result["name"]] = result
        self.save()

    def save(self) -> None:
        text = json.dumps({**self.head, "parts": self.parts}, indent=1, sort_keys=True)
        storage.write_text(self.path, text + "\n")


def _show(value) -> str:
    return json.dumps(value, sort_keys=True)


# -- a whole run ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a run over many parts did, part by part."""

    parts: list[Part]
    results: dict[str, dict] = field(default_factory=dict)
    skipped: int = 0

    @property
    def records(self) -> int:
        return sum(r.get("records", 0) for r in self.results.values())

    @property
    def failed(self) -> int:
        return sum(r.get("failed", 0) for r in self.results.values())

    def errors(self) -> list[dict]:
        found = [self.results.get(part.name, {}) for part in self.parts]
        return [result for result in found if result.get("error")]

    def first_failure(self) -> dict | None:
        for part in self.parts:
            if self.results.get(part.name, {}).get("failed"):
                return self.results[part.name]
        return None


Runner = Callable[[list[Part], Job, Callable[[dict], None]], None]


def run_many(
    inputs: list[str],
    folder: str,
    job: Job,
    resume: bool = False,
    runner: Runner | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> Outcome:
    """Plan the parts, check or start the manifest, and run the parts still to do with
    `runner` (default: one after another, here). `progress(parts done, parts, rows)`."""
    job.options()  # an expression that cannot compile is refused once, here
    parts = plan(inputs, folder, job)
    storage.make_dir(folder)
    manifest = Manifest(folder, job)
    if resume:
        manifest.resume()
    outcome = Outcome(parts)
    todo = []
    for part in parts:
        done = manifest.finished(part) if resume else None
        if done is None:
            todo.append(part)
            manifest.parts.pop(part.name, None)
        else:
            outcome.results[part.name] = done
            outcome.skipped += 1
        storage.remove_leftovers(folder, part.name)
    manifest.save()

    def finish(result: dict) -> None:
        outcome.results[result["name"]] = result
        if not result.get("error"):
            manifest.record(result)
        if progress is not None:
            progress(len(outcome.results), len(parts), outcome.records)

    if progress is not None:
        progress(len(outcome.results), len(parts), outcome.records)
    (runner or run_here)(todo, job, finish)
    for part in parts:
        storage.remove_leftovers(folder, part.name)
    return outcome


def run_here(parts: list[Part], job: Job, finish: Callable[[dict], None]) -> None:
    """The parts one after another in this process; --fail-fast stops after a failed part."""
    for part in parts:
        result = run_part(part, job)
        finish(result)
        if job.fail_fast and result.get("failed"):
            return
