"""dezero batch over many files, in one process: one output part per input part in -o DIR,
each part whole or absent, refusals before any work, the manifest and --resume."""

from __future__ import annotations

import json
import sys

import pytest

from dezero_cli.batch.parts import FAULT_ENV, MANIFEST

EXPR = "x*y + sin(x)/(1 + y^2)"


def write_parts(folder, count=4, rows=30, bad=()):
    """`count` CSV parts p0.csv... of `rows` rows each; the rows in `bad` (part, row) hold
    an unreadable y."""
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(count):
        lines = ["x,y"]
        for i in range(rows):
            y = "abc" if (k, i) in bad else f"{(i % 7) - 3}.5"
            lines.append(f"{k + i / 10},{y}")
        (folder / f"p{k}.csv").write_text("\n".join(lines) + "\n")
    return sorted(folder.glob("*.csv"))


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


def single_runs(dezero, sources, folder, *options):
    """Each source through a run of its own: what every part must equal, byte for byte."""
    folder.mkdir()
    for source in sources:
        out = folder / source.name
        code, _, _ = dezero("batch", "--expr", EXPR, str(source), "-o", str(out), *options)
        assert code in (0, 1)
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def outputs(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != MANIFEST}


def test_a_directory_gives_one_part_each_as_single_runs_do(dezero, tmp_path):
    sources = write_parts(tmp_path / "data")
    (tmp_path / "data" / "_SUCCESS").write_text("")
    (tmp_path / "data" / ".hidden.csv").write_text("x,y\n1,2\n")
    (tmp_path / "data" / "notes.txt").write_text("not a part\n")
    expected = single_runs(dezero, sources, tmp_path / "single")
    out = tmp_path / "out"
    outcome = dezero("batch", "--expr", EXPR, str(tmp_path / "data"), "-o", str(out))
    assert outcome == (0, "", "")
    assert outputs(out) == expected
    assert listing(out) == [MANIFEST, "p0.csv", "p1.csv", "p2.csv", "p3.csv"]


def test_files_and_globs_and_other_formats(dezero, tmp_path):
    sources = write_parts(tmp_path / "data", count=3)
    out = tmp_path / "out"
    code, _, err = dezero(
        "batch", "--expr", "x*y", str(sources[0]), str(tmp_path / "data" / "p[12].csv"),
        "-o", str(out), "--output-format", "jsonl",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert listing(out) == [MANIFEST, "p0.jsonl", "p1.jsonl", "p2.jsonl"]
    first = json.loads((out / "p0.jsonl").read_text().splitlines()[0])
    assert first == {
        "expr": "x*y",
        "inputs": {"x": 0.0, "y": -3.5},
        "value": -0.0,
        "grad": {"x": -3.5, "y": 0.0},
        "warnings": [],
    }


def test_bad_rows_in_parts_as_in_single_runs(dezero, tmp_path):
    sources = write_parts(tmp_path / "data", bad={(1, 4), (1, 9), (3, 0)})
    expected = single_runs(dezero, sources, tmp_path / "single")
    out = tmp_path / "out"
    outcome = dezero("batch", "--expr", EXPR, str(tmp_path / "data"), "-o", str(out))
    assert outcome == (
        1,
        "",
        "error: 3 of 120 records failed in 2 of 4 parts, the first in p1.csv line 6 "
        "(see the error field)\n",
    )
    assert outputs(out) == expected


def test_an_unreadable_part_is_its_own_error_and_the_others_go_on(dezero, tmp_path):
    write_parts(tmp_path / "data", count=2)
    (tmp_path / "data" / "p1.csv").write_text("x;y\n1;2\n")  # no column x
    missing = tmp_path / "data" / "gone.csv"
    out = tmp_path / "out"
    code, stdout, err = dezero(
        "batch", "--expr", "x*y", str(tmp_path / "data" / "p0.csv"),
        str(tmp_path / "data" / "p1.csv"), str(missing), "-o", str(out),
    )  # fmt: skip
    assert (code, stdout) == (2, "")
    assert err == (
        f"error: {tmp_path}/data/p1.csv: no column for variable 'x': the header (line 1) has "
        "'x;y'\n"
        f"error: {missing}: cannot read {missing}: No such file or directory\n"
        "error: 2 of 3 parts could not be read or written\n"
    )
    assert listing(out) == [MANIFEST, "p0.csv"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["data/p0.csv", "data/p1.csv", "-o", "data"],
            "the output directory data holds the input data/p0.csv: give -o a directory of its own",
        ),
        (
            ["data", "-o", "data/out"],
            "the output directory data/out is in the input directory data: "
            "give -o a directory of its own",
        ),
        (
            ["data/p0.csv", "other/p0.csv", "-o", "out"],
            "data/p0.csv and other/p0.csv would both be written to p0.csv: "
            "run them separately, or rename one",
        ),
        (
            ["data/p0.csv", "other/p0.tsv", "-o", "out", "--output-format", "csv"],
            "data/p0.csv and other/p0.tsv would both be written to p0.csv: "
            "run them separately, or rename one",
        ),
        (["data/p0.csv", "data/p1.csv"], "with many inputs, give the output directory with -o DIR"),
        (["data/p0.csv", "data/p1.csv", "-o", "data/p1.csv"],
         "the output data/p1.csv is the input data/p1.csv: with many inputs, -o names a "
         "directory for one output part each"),
        (["data/p0.csv", "--workers", "2"],
         "--workers runs over many files, one output part each: give the output directory with "
         "-o DIR"),
        (["data/p0.csv", "--resume"],
         "--resume runs over many files, one output part each: give the output directory with "
         "-o DIR"),
        (["data/p0.csv", "-", "-o", "out"],
         "standard input is one stream: with many inputs, name files"),
        (["data/*.tsv", "-o", "out"], "no file matches data/*.tsv"),
        (["empty", "-o", "out"],
         "the directory empty holds no parts (files ending .csv, .jsonl, .parquet, .tsv)"),
        (["data", "-o", "out", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
         "--scheduler and --workers exclude each other"),
    ],
)  # fmt: skip
def test_refused_before_any_work(dezero, tmp_path, monkeypatch, args, message):
    write_parts(tmp_path / "data", count=2)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "p0.csv").write_text("x,y\n1,2\n")
    (tmp_path / "other" / "p0.tsv").write_text("x\ty\n1\t2\n")
    (tmp_path / "empty").mkdir()
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    monkeypatch.chdir(tmp_path)
    outcome = dezero("batch", "--expr", "x*y", *args)
    assert outcome == (2, "", f"error: {message}\n")
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_the_manifest_and_resume(dezero, tmp_path):
    sources = write_parts(tmp_path / "data", bad={(2, 3)})
    out = tmp_path / "out"
    args = ["batch", "--expr", EXPR, str(tmp_path / "data"), "-o", str(out), "--timeout", "5"]
    assert dezero(*args)[0] == 1
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["expression"] == EXPR
    assert manifest["dezero"] == "0.1.0"
    assert manifest["options"] == {
        "wrt": None,
        "order": 1,
        "fail_fast": False,
        "limits": {"max_nodes": 2000000, "max_length": 10000000, "max_depth": 1000000,
                   "timeout": 5.0},
        "input_format": None,
        "output_format": None,
    }  # fmt: skip
    counts = {name: (p["records"], p["failed"]) for name, p in manifest["parts"].items()}
    assert counts == {"p0.csv": (30, 0), "p1.csv": (30, 0), "p2.csv": (30, 1), "p3.csv": (30, 0)}
    whole = outputs(out)
    (out / "p1.csv").unlink()
    (out / "p3.csv").write_bytes(whole["p3.csv"][:50])  # cut short by hand: not as written
    kept = (out / "p0.csv").stat().st_mtime_ns
    # The counts of every part, skipped or not, give the exit status and the summary.
    outcome = dezero(*args, "--resume")
    assert outcome == (
        1,
        "",
        "error: 1 of 120 records failed in 1 of 4 parts, the first in p2.csv line 5 "
        "(see the error field)\n",
    )
    assert outputs(out) == whole
    assert (out / "p0.csv").stat().st_mtime_ns == kept
    # Changed input: that part is done again.
    sources[0].write_text("x,y\n1,2\n")
    assert dezero(*args, "--resume")[0] == 1
    assert (out / "p0.csv").read_text().splitlines()[1].startswith("1,2,")


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (["--expr", "x+y"], f'expression "{EXPR}", not "x+y"'),
        (["--expr", EXPR, "--order", "2"], 'options {"fail_fast": false'),
        (["--expr", EXPR, "--timeout", "1"], "options {"),
        (["--expr", EXPR, "--no-grad"], "options {"),
    ],
)
def test_resume_refuses_another_run(dezero, tmp_path, change, what):
    write_parts(tmp_path / "data", count=1)
    out = tmp_path / "out"
    assert dezero("batch", "--expr", EXPR, str(tmp_path / "data"), "-o", str(out))[0] == 0
    code, stdout, err = dezero("batch", *change, str(tmp_path / "data"), "-o", str(out), "--resume")
    assert (code, stdout) == (2, "")
    assert err.startswith(f"error: --resume: {out}/{MANIFEST} was written for the {what}")
    assert err.endswith(": give another -o directory, or run without --resume to start again\n")


def test_without_dask_the_cluster_options_name_the_extra(dezero, tmp_path, monkeypatch):
    write_parts(tmp_path / "data", count=1)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    for option in (["--workers", "2"], ["--scheduler", "tcp://127.0.0.1:8786"]):
        outcome = dezero("batch", "--expr", "x", str(tmp_path / "data"), "-o", "out", *option)
        assert outcome == (
            2,
            "",
            "error: --scheduler and --workers run the parts on Dask, which is not installed: "
            "pip install 'dezero-cli[dask]'\n",
        )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("action", ["exit", "interrupt"])
def test_killed_or_interrupted_leaves_whole_parts_and_resume_finishes(
    dezero, dezero_process, tmp_path, action
):
    # A part of 200,000 rows is several blocks: the process stops in the middle of p2.
    sources = write_parts(tmp_path / "data", count=4, rows=200_000)
    expected = single_runs(dezero, sources, tmp_path / "single")
    out = tmp_path / "out"
    args = ["batch", "--expr", EXPR, str(tmp_path / "data"), "-o", str(out)]
    marker = tmp_path / "fault"
    outcome = dezero_process(*args, env={FAULT_ENV: f"{action}:p2.csv:{marker}"})
    if action == "exit":
        assert (outcome.code, outcome.stderr) == (70, "")
        names = listing(out)  # a killed process leaves its temporary file: the next run removes it
        assert names[0].startswith(".p2.csv.") and names[0].endswith(".tmp")
        assert names[1:] == [MANIFEST, "p0.csv", "p1.csv"]
    else:
        assert outcome == (130, "", "error: interrupted\n")
        assert listing(out) == [MANIFEST, "p0.csv", "p1.csv"]
    assert outputs(out)["p1.csv"] == expected["p1.csv"]
    assert dezero(*args, "--resume") == (0, "", "")
    assert listing(out) == [MANIFEST, "p0.csv", "p1.csv", "p2.csv", "p3.csv"]
    assert outputs(out) == expected


def test_fail_fast_stops_after_the_part_with_the_first_bad_record(dezero, tmp_path):
    write_parts(tmp_path / "data", count=3, bad={(1, 2)})
    out = tmp_path / "out"
    outcome = dezero(
        "batch", "--expr", "x*y", str(tmp_path / "data"), "-o", str(out), "--fail-fast"
    )
    assert outcome == (1, "", "error: stopped at the first bad record, p1.csv line 4\n")
    assert listing(out) == [MANIFEST, "p0.csv", "p1.csv"]


@pytest.mark.requires_module("pty")
def test_progress_on_a_terminal_counts_parts_and_rows(tmp_path, dezero_process):
    write_parts(tmp_path / "data", count=3, rows=1000)
    code, out, shown = dezero_process.on_terminal(
        "batch", "--expr", "x*y", str(tmp_path / "data"), "-o", str(tmp_path / "out")
    )
    assert (code, out) == (0, b"")
    assert b"of 3 parts" in shown and b"3,000 rows" in shown
    assert b"batch: 3 of 3 parts, 3,000 rows, 0 failed" in shown


@pytest.mark.requires_module("fsspec", extra="dask")
def test_urls_fsspec_opens_in_and_out_as_local_files(tmp_path, dezero):
    """fsspec's in-memory filesystem stands in for an object store (s3://, gs://): parts are
    read from URLs and each output part is written with one put, the same bytes as local."""
    import fsspec

    sources = write_parts(tmp_path / "data", count=3, bad={(1, 4)})
    expected = single_runs(dezero, sources, tmp_path / "single")
    memory = fsspec.filesystem("memory")
    root = f"/dezero-test-{tmp_path.name}"
    try:
        for source in sources:
            memory.pipe(f"{root}/data/{source.name}", source.read_bytes())
        urls = [f"memory://{root}/data/{source.name}" for source in sources]
        code, out, err = dezero("batch", "--expr", EXPR, *urls, "-o", f"memory://{root}/out")
        assert (code, out) == (1, "")
        assert err == (
            "error: 1 of 90 records failed in 1 of 3 parts, the first in p1.csv line 6 (see the "
            "error field)\n"
        )
        found = sorted(p.rsplit("/", 1)[-1] for p in memory.ls(f"{root}/out", detail=False))
        assert found == [MANIFEST, "p0.csv", "p1.csv", "p2.csv"]
        for name, data in expected.items():
            assert memory.cat(f"{root}/out/{name}") == data
    finally:
        memory.rm(root, recursive=True)
