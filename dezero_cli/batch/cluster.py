"""The parts of a run over many files as tasks on Dask (dask.distributed): a scheduler given by
its address, or a local cluster of worker processes started for the run.

Each part is one task, `parts.run_part`, which writes its own output part and returns its
counts: only counts travel back. Before any task, every worker must import the same version
of dezero-cli as this process. A worker that dies while running a part (killed, out of
memory) loses nothing: its output part was never put in place, and Dask runs the task again
elsewhere; a part whose task killed workers Dask's `allowed-failures` times is that part's
error. Ctrl-C cancels the tasks not yet done; parts written by then are whole, and --resume
does the rest.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import replace

from .job import BatchError
from .parts import Job, Part, run_part, version
from .storage import DASK_EXTRA, absolute

CONNECT_TIMEOUT = 10.0  # seconds


def _import():
    try:
        import distributed
    except ImportError:
        raise BatchError(
            f"--scheduler and --workers run the parts on Dask, which is not installed: {DASK_EXTRA}"
        ) from None
    return distributed


class Cluster:
    """A context manager: connects (or starts a local cluster), checks the workers, and gives
    a runner for parts.run_many."""

    def __init__(
        self,
        scheduler: str | None = None,
        workers: int | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        threads_per_worker: int = 1,
    ):
        self.scheduler = scheduler
        self.workers = workers
        self.timeout = connect_timeout
        self.threads = threads_per_worker
        self.cluster = None
        self.client = None

    def __enter__(self) -> Callable[[list[Part], Job, Callable[[dict], None]], None]:
        distributed = _import()
        for name in ("distributed", "tornado", "asyncio"):  # their warnings are not ours to show
            logging.getLogger(name).setLevel(logging.CRITICAL)
        try:
            if self.scheduler is None:
                self.cluster = distributed.LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=self.threads,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=":0",  # its HTTP server on a free port: never "8787 in use"
                    silence_logs=logging.CRITICAL,
                )
                where = self.cluster
            else:
                where = self.scheduler
            self.client = self._connect(distributed, where)
            self._check_workers()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self.run

    def _connect(self, distributed, where):
        try:
            return distributed.Client(where, timeout=self.timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            if self.scheduler is None:
                raise BatchError(f"cannot start a local Dask cluster: {exc}") from None
            raise BatchError(
                f"cannot reach the Dask scheduler at {self.scheduler} within "
                f"{self.timeout:g} s (--connect-timeout)"
            ) from None

    def _check_workers(self) -> None:
        wanted = self.workers or 1
        try:
            self.client.wait_for_workers(wanted, timeout=self.timeout)
        except (TimeoutError, OSError):
            where = self.scheduler or "the local cluster"
            raise BatchError(
                f"{where} has no workers after {self.timeout:g} s (--connect-timeout)"
            ) from None
        found = self.client.run(_probe(), on_error="return")
        mine = version()
        for worker, answer in sorted(found.items()):
            if isinstance(answer, BaseException):
                raise BatchError(f"the Dask worker {worker} failed a check: {answer}")
            theirs, problem = answer
            if problem is not None:
                raise BatchError(
                    f"the Dask worker {worker} cannot import dezero_cli ({problem}): "
                    f"install dezero-cli {mine} where the workers run"
                )
            if theirs != mine:
                raise BatchError(
                    f"the Dask worker {worker} has dezero-cli {theirs}, this is {mine}: "
                    "install the same version where the workers run"
                )

    def run(self, parts: list[Part], job: Job, finish: Callable[[dict], None]) -> None:
        distributed = _import()
        futures = {}
        for i, part in enumerate(parts):
            # paths as workers see them: absolute (a worker's directory is its own)
            there = replace(part, source=absolute(part.source), target=absolute(part.target))
            key = f"dezero-{i}-{part.name}"
            futures[self.client.submit(run_part, there, job, key=key, pure=False)] = part
        try:
            with self.client.as_current():
                done = distributed.as_completed(list(futures))
            for future in done:
                part = futures[future]
                try:
                    result = future.result()
                except distributed.KilledWorker:
                    result = _failed(part, "workers died while running it, each time it ran")
                except Exception as exc:  # noqa: BLE001 (any task failure is that part's)
                    result = _failed(part, f"the task failed on its worker: {_why(exc)}")
                finish({**result, "source": part.source})
                if job.fail_fast and result.get("failed"):
                    break
        finally:
            pending = [f for f in futures if not f.done()]
            if pending:
                self.client.cancel(pending)

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close(timeout=math.ceil(self.timeout))
            self.client = None
        if self.cluster is not None:
            self.cluster.close(timeout=math.ceil(self.timeout))
            self.cluster = None


def _failed(part: Part, why: str) -> dict:
    return {"name": part.name, "source": part.source, "records": 0, "failed": 0, "error": why}


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _probe():
    """A function that travels to workers by value (it is local) and needs nothing of dezero
    there: (the version of dezero-cli, None), or (None, why it cannot be imported)."""

    def probe():
        import importlib
        import importlib.metadata

        try:
            importlib.import_module("dezero_cli.batch.parts")
        except ImportError as exc:
            return None, str(exc)
        try:
            return importlib.metadata.version("dezero-cli"), None
        except importlib.metadata.PackageNotFoundError:
            return "unknown", None

    return probe
