"""dezero batch on Dask: a LocalCluster on 127.0.0.1 with 2 worker processes of 2 threads each,
driven by real `dezero batch --scheduler ADDRESS` processes. Outputs must be byte-identical to
runs in one process, a worker killed in the middle of a part included."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import sysconfig
import time
from functools import partial

import pytest

from dezero_cli.batch.parts import FAULT_ENV, MANIFEST

pytestmark = pytest.mark.requires_module("distributed", extra="dask")

EXPR = "x*y + sin(x)/(1 + y^2)"
DOOMED = "doomed.csv"  # the part whose worker exits the first time it runs it


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    import distributed

    marker = tmp_path_factory.mktemp("fault") / "happened"
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=2,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        silence_logs=50,
        env={FAULT_ENV: f"exit:{DOOMED}:{marker}"},
    ) as local:
        local.marker = marker
        yield local


def write_parts(folder, count=8, rows=2_000, bad=(), name="p{k}.csv"):
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(count):
        lines = ["id,x,y"]
        for i in range(rows):
            y = "abc" if (k, i) in bad else f"{(i % 13) - 6}.25"
            lines.append(f"r{k}-{i},{k + i / 100},{y}")
        (folder / name.format(k=k)).write_text("\n".join(lines) + "\n")
    return sorted(folder.iterdir())


def single_runs(dezero, sources, folder, *options):
    """Each source through a run of its own (`options` start with --expr, for points)."""
    folder.mkdir()
    for source in sources:
        dezero("batch", str(source), "-o", str(folder / source.name), *options)
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def outputs(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != MANIFEST}


def test_eight_csv_parts_with_bad_rows_as_in_one_process(cluster, dezero, dezero_process, tmp_path):
    sources = write_parts(tmp_path / "data", bad={(2, 10), (5, 0), (5, 1999)})
    expected = single_runs(dezero, sources, tmp_path / "single", "--expr", EXPR)
    out = tmp_path / "out"
    outcome = dezero_process(
        "batch", "--expr", EXPR, str(tmp_path / "data"), "-o", str(out),
        "--scheduler", cluster.scheduler_address,
    )  # fmt: skip
    assert outcome == (
        1,
        "",
        "error: 3 of 16000 records failed in 2 of 8 parts, the first in p2.csv line 12 "
        "(see the error field)\n",
    )
    assert outputs(out) == expected
    assert sorted(os.listdir(out)) == [MANIFEST, *sorted(expected)]


@pytest.mark.requires_module("pyarrow", extra="fast")
def test_eight_parquet_parts_as_in_one_process(cluster, dezero, dezero_process, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "data"
    folder.mkdir()
    for k in range(8):
        x = [k + i / 100 for i in range(2_000)]
        y = [None if (k, i) == (3, 5) else (i % 13) - 6.25 for i in range(2_000)]
        table = pa.table({"id": [f"r{k}-{i}" for i in range(2_000)], "x": x, "y": y})
        pq.write_table(table, folder / f"p{k}.parquet", row_group_size=500)
    sources = sorted(folder.iterdir())
    expected = single_runs(dezero, sources, tmp_path / "single", "--expr", EXPR)
    out = tmp_path / "out"
    outcome = dezero_process(
        "batch", "--expr", EXPR, str(folder), "-o", str(out),
        "--scheduler", cluster.scheduler_address,
    )  # fmt: skip
    assert outcome == (
        1,
        "",
        "error: 1 of 16000 records failed in 1 of 8 parts, the first in p3.parquet row 6 "
        "(see the error field)\n",
    )
    assert outputs(out) == expected
    assert pq.read_table(out / "p3.parquet").column("error")[5].as_py() == (
        "row 6: no value for variable 'y'"
    )


def test_a_worker_killed_in_the_middle_of_a_part_loses_nothing(
    cluster, dezero, dezero_process, tmp_path
):
    sources = write_parts(tmp_path / "data", count=7)
    write_parts(tmp_path / "data", count=1, name=DOOMED)
    sources = sorted((tmp_path / "data").iterdir())
    expected = single_runs(dezero, sources, tmp_path / "single", "--expr", EXPR)
    out = tmp_path / "out"
    assert not cluster.marker.exists()
    outcome = dezero_process(
        "batch", "--expr", EXPR, str(tmp_path / "data"), "-o", str(out),
        "--scheduler", cluster.scheduler_address,
    )  # fmt: skip
    assert cluster.marker.exists()  # a worker did exit in the middle of doomed.csv
    assert outcome == (0, "", "")
    assert outputs(out) == expected  # and nothing else: its temporary file is gone too
    assert sorted(os.listdir(out)) == [MANIFEST, *sorted(expected)]
    cluster.wait_for_workers(2, timeout=60)  # the nanny restarts it, for the tests after


def test_time_limits_hold_per_record_in_worker_threads(cluster, dezero, dezero_process, tmp_path):
    # JSON Lines parts whose records include one far too slow for --timeout, evaluated by two
    # threads on each worker at once: each slow record, and only it, gets the time-limit error.
    slow = "+".join(["x"] * 200_000)
    folder = tmp_path / "data"
    folder.mkdir()
    for k in range(4):
        records = [{"expr": "x*y", "x": k, "y": 2}, {"expr": slow, "x": 1}, {"expr": "2*x", "x": k}]
        (folder / f"r{k}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    expected = single_runs(
        dezero, sorted(folder.iterdir()), tmp_path / "single", "--timeout", "0.05"
    )
    out = tmp_path / "out"
    outcome = dezero_process(
        "batch", str(folder), "-o", str(out), "--timeout", "0.05",
        "--scheduler", cluster.scheduler_address,
    )  # fmt: skip
    assert outcome == (
        1,
        "",
        "error: 4 of 12 records failed in 4 of 4 parts, the first in r0.jsonl line 2 "
        "(see the error field)\n",
    )
    assert outputs(out) == expected
    second = json.loads((out / "r3.jsonl").read_text().splitlines()[1])
    assert second["error"] == "line 2: stopped after the time limit of 0.05 s (--timeout)"


def test_an_unreachable_scheduler_is_one_line_within_the_timeout(dezero, tmp_path):
    # In this process, where Dask is imported already: the time is the connection's alone.
    import distributed  # noqa: F401

    write_parts(tmp_path / "data", count=1, rows=3)
    started = time.monotonic()
    outcome = dezero(
        "batch", "--expr", "x", str(tmp_path / "data"), "-o", str(tmp_path / "out"),
        "--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "2",
    )  # fmt: skip
    took = time.monotonic() - started
    assert outcome == (
        2,
        "",
        "error: cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 2 s "
        "(--connect-timeout)\n",
    )
    assert 2 <= took < 2 + 3  # the timeout, and a little for a busy machine
    assert not (tmp_path / "out").exists()


@pytest.fixture
def bare_worker(tmp_path):
    """A scheduler whose one worker runs in a second virtual environment, which has Dask but
    not dezero-cli: its site-packages reach this one's packages through a folder of links to
    each of them but dezero-cli (installed for editing or not)."""
    import distributed

    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    links = tmp_path / "packages"
    links.mkdir()
    ours = ("dezero_cli", "_dezero_cli", "__editable__", "_editable_impl_dezero_cli")
    for folder in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        for entry in os.scandir(folder):
            if not entry.name.startswith(ours) and not (links / entry.name).exists():
                (links / entry.name).symlink_to(entry.path)
    with open(os.path.join(purelib, "packages_from_elsewhere.pth"), "w") as f:
        f.write(f"{links}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    with distributed.LocalCluster(
        n_workers=0, host="127.0.0.1", dashboard_address=":0", silence_logs=50
    ) as scheduler:
        worker = subprocess.Popen(
            [python, "-m", "distributed.cli.dask_worker", scheduler.scheduler_address,
             "--nthreads", "2", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"],
            cwd=venv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            with distributed.Client(scheduler) as client:
                client.wait_for_workers(1, timeout=60)
            yield scheduler.scheduler_address
        finally:
            worker.terminate()
            worker.wait(30)


def test_a_worker_without_dezero_cli_is_one_line(bare_worker, dezero_process, tmp_path):
    write_parts(tmp_path / "data", count=2, rows=3)
    outcome = dezero_process(
        "batch", "--expr", "x", str(tmp_path / "data"), "-o", str(tmp_path / "out"),
        "--scheduler", bare_worker,
    )  # fmt: skip
    assert (outcome.code, outcome.stdout) == (2, "")
    assert re.fullmatch(
        r"error: the Dask worker tcp://127\.0\.0\.1:\d+ cannot import dezero_cli \(No module "
        r"named 'dezero_cli'\): install dezero-cli 0\.1\.0 where the workers run\n",
        outcome.stderr,
    ), outcome.stderr
    assert not (tmp_path / "out" / "p0.csv").exists()


@pytest.mark.requires_module("pandas", extra="dask")
def test_the_map_partitions_recipe_gives_the_same_numbers(cluster, dezero, tmp_path):
    import dask.dataframe as dd
    import distributed
    import pandas as pd

    from dezero_cli.api import grad_table

    source = write_parts(tmp_path / "data", count=1, bad={(0, 7)})[0]
    frame = pd.read_csv(source, dtype=str)
    # The recipe of docs/api.md.
    parts = dd.from_pandas(frame, npartitions=4)
    meta = grad_table(EXPR, frame.iloc[:0])
    with distributed.Client(cluster) as client:
        found = parts.map_partitions(partial(grad_table, EXPR), meta=meta).compute(scheduler=client)
    whole = grad_table(EXPR, frame)
    columns = ["value", "grad_x", "grad_y"]
    assert found[columns].equals(whole[columns])
    assert found["error"].tolist() == whole["error"].tolist()
    # The same numbers as batch writes (its text is the shortest that reads back exactly).
    dezero("batch", "--expr", EXPR, str(source), "-o", str(tmp_path / "out.csv"))
    written = pd.read_csv(tmp_path / "out.csv", dtype={"error": object})
    for name in columns:
        assert found[name].tolist() == pytest.approx(written[name].tolist(), nan_ok=True, rel=0)
    assert found["error"].tolist()[7] == "value of y is not a number: 'abc'"
    assert written["error"].tolist()[7] == "line 9: value of y is not a number: 'abc'"


def test_a_worker_with_another_version_is_one_line(cluster, dezero, tmp_path, monkeypatch):
    # This process says it is another version than the workers' (which are this tree's).
    monkeypatch.setattr("dezero_cli.batch.cluster.version", lambda: "9.9.9")
    write_parts(tmp_path / "data", count=1, rows=3)
    outcome = dezero(
        "batch", "--expr", "x", str(tmp_path / "data"), "-o", str(tmp_path / "out"),
        "--scheduler", cluster.scheduler_address,
    )  # fmt: skip
    assert (outcome.code, outcome.stdout) == (2, "")
    assert re.fullmatch(
        r"error: the Dask worker tcp://127\.0\.0\.1:\d+ has dezero-cli 0\.1\.0, this is 9\.9\.9: "
        r"install the same version where the workers run\n",
        outcome.stderr,
    ), outcome.stderr


def test_ctrl_c_leaves_whole_parts_and_resume_finishes(cluster, dezero, dezero_process, tmp_path):
    sources = write_parts(tmp_path / "data", count=8, rows=100_000)
    expected = single_runs(dezero, sources, tmp_path / "single", "--expr", EXPR)
    out = tmp_path / "out"
    args = ["batch", "--expr", EXPR, str(tmp_path / "data"), "-o", str(out)]
    proc = dezero_process.start(
        *args, "--scheduler", cluster.scheduler_address,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (out / "p0.csv").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (130, b"error: interrupted\n")
    # Tasks already running finish on their workers and put their part in place, whole; give
    # them time, then every part there is whole.
    time.sleep(3)
    found = outputs(out)
    assert all(found[name] == expected[name] for name in found)
    assert len(json.loads((out / MANIFEST).read_text())["parts"]) < 8  # the run was cut short
    outcome = dezero_process(*args, "--resume", "--scheduler", cluster.scheduler_address)
    assert outcome == (0, "", "")
    assert outputs(out) == expected
    assert sorted(os.listdir(out)) == [MANIFEST, *sorted(expected)]
