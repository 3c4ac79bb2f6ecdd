"""`dezero batch` over many files, as the command runs it (batch/parts.py does the work):
which runs are runs over many files, where the parts run, what is said on stderr, and the exit
status.

Exit status: 2 when any part could not be read or written (each such part says why on a line
of its own; the other parts go on), else 1 when any record failed, else 0. Progress, on a
terminal only, counts parts and rows.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from ..batch import storage
from ..batch.job import BatchError
from ..batch.parts import Job, Outcome, run_many
from ..options import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from ..output import is_terminal, tell, warn


@dataclass(frozen=True)
class Where:
    """Where the parts run: a Dask scheduler, N local Dask workers, or (neither) here."""

    scheduler: str | None = None
    workers: int | None = None
    connect_timeout: float = 10.0


def wanted(inputs, resume, scheduler, workers) -> bool:
    """Whether this is a run over many files rather than one stream in and out: several
    inputs, a glob or a directory, or an option only such runs have. (One file with -o DIR
    stays a run of one file, and -o must name a file.)"""
    if len(inputs) > 1 or resume or scheduler is not None or workers is not None:
        return True
    return (
        bool(inputs)
        and inputs[0] != "-"
        and (storage.has_magic(inputs[0]) or storage.is_dir(inputs[0]))
    )


def main(inputs, output_path, job: Job, resume: bool, where: Where) -> int:
    if not output_path or output_path == "-":
        one_file = len(inputs) == 1 and not wanted(inputs, False, None, None)
        if one_file:  # a run over many files only for an option such runs have: name it
            option = "--resume" if resume else "--scheduler" if where.scheduler else "--workers"
            raise BatchError(
                f"{option} runs over many files, one output part each: give the output "
                "directory with -o DIR"
            )
        raise BatchError("with many inputs, give the output directory with -o DIR")
    if where.scheduler is not None and where.workers is not None:
        raise BatchError("--scheduler and --workers exclude each other")
    started = time.monotonic()
    with _Progress() as progress:
        if where.scheduler is None and where.workers is None:
            outcome = run_many(list(inputs), output_path, job, resume, None, progress)
        else:
            from ..batch.cluster import Cluster

            cluster = Cluster(where.scheduler, where.workers, where.connect_timeout)
            job.options()  # refused here, before a cluster starts
            with cluster as runner:
                outcome = run_many(list(inputs), output_path, job, resume, runner, progress)
    return report(outcome, time.monotonic() - started)


def report(outcome: Outcome, seconds: float) -> int:
    """Say what the run did on stderr; the exit status."""
    shown = 0
    for part in outcome.parts:
        result = outcome.results.get(part.name, {})
        for line, message in result.get("warnings", []):
            if shown < 20:
                warn(f"{part.name} line {line}: {message}")
            shown += 1
        shown += result.get("more_warnings", 0)
    if shown > 20:
        warn(f"{shown - 20} more warnings (JSON Lines output keeps each with its row)")
    errors = outcome.errors()
    for result in errors:
        tell(f"error: {result['source']}: {result['error']}")
    done = len(outcome.results)
    if is_terminal(sys.stderr):
        skipped = f" ({outcome.skipped:,} already done)" if outcome.skipped else ""
        tell(
            f"batch: {done:,} of {len(outcome.parts):,} parts{skipped}, {outcome.records:,} "
            f"rows, {outcome.failed:,} failed, {seconds:.2f} s"
        )
    if errors:
        tell(f"error: {len(errors)} of {len(outcome.parts)} parts could not be read or written")
        return EXIT_USAGE
    first = outcome.first_failure()
    if first is not None:
        failing = sum(1 for r in outcome.results.values() if r.get("failed"))
        where = f"{first['name']} {first.get('unit', 'line')} {first['first_error']}"
        if first.get("stopped"):
            tell(f"error: stopped at the first bad record, {where}")
        else:
            tell(
                f"error: {outcome.failed} of {outcome.records} records failed in {failing} of "
                f"{len(outcome.parts)} parts, the first in {where} (see the error field)"
            )
        return EXIT_FAILED
    if outcome.records == 0:
        warn("the inputs have no records: nothing to evaluate")
    return EXIT_OK


class _Progress:
    """Parts and rows done, on stderr when it is a terminal."""

    def __enter__(self):
        if not is_terminal(sys.stderr):
            return None
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.completed:,.0f} of {task.total:,.0f} parts"),
            BarColumn(),
            TextColumn("{task.fields[rows]:,} rows"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.progress.__enter__()
        self.task = None
        return self.update

    def update(self, done: int, total: int, rows: int) -> None:
        if self.task is None:
            self.task = self.progress.add_task("batch", total=total, rows=0)
        self.progress.update(self.task, completed=done, rows=rows)

    def __exit__(self, *exc):
        if is_terminal(sys.stderr):
            return self.progress.__exit__(*exc)
        return None
