"""The wheel ships the generated parse tables, and a non-editable install runs from any
directory without writing a file anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TABLES_IN_WHEEL = "dezero_cli/language/tables.py"


def run(cmd: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kwargs)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)])
    assert proc.returncode == 0, proc.stderr
    (path,) = out.glob("dezero_cli-*.whl")
    return path


def test_wheel_contains_the_tables(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        assert TABLES_IN_WHEEL in names
        packaged = z.read(TABLES_IN_WHEEL).decode()
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt")))
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert packaged == (ROOT / "dezero_cli" / "language" / "tables.py").read_text(encoding="utf-8")
    runtime = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    runtime = [line for line in runtime if "extra ==" not in line]
    assert not [line for line in runtime if "lark" in line]  # Lark is for building the tables
    assert "dezero = dezero_cli.launch:main" in entry_points.decode()
    assert not [n for n in names if n.startswith(("tests/", "grammar/"))]


def test_installed_wheel_runs_from_another_directory_and_writes_nothing(wheel, tmp_path):
    # A fresh venv without pip and without system site-packages; the wheel is installed into
    # it, not editable, by this environment's pip. Its dependencies (numpy, click, lark, rich)
    # are borrowed from this environment through a .pth path entry, which keeps the test
    # offline and fast. Such an entry does not run the editable install's own .pth, so the
    # checkout is not importable there: only the installed copy can answer. --ignore-installed:
    # pip must neither skip the install nor touch a dezero-cli it sees through that entry.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(env_dir)
    bindir = "Scripts" if os.name == "nt" else "bin"
    python = env_dir / bindir / ("python.exe" if os.name == "nt" else "python")
    site = Path(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    proc = run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--ignore-installed",
            "-q",
            str(wheel),
        ]
    )
    assert proc.returncode == 0, proc.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    home, cache = tmp_path / "home", tmp_path / "cache"
    home.mkdir()
    cache.mkdir()
    env.update(HOME=str(home), XDG_CACHE_HOME=str(cache))
    # The installed console script of that venv, not the dezero_process fixture (which runs
    # this checkout's `python -m dezero_cli`): the subject here is the installed wheel.
    dezero = env_dir / bindir / "dezero"
    args = [str(dezero), "grad", "square(exp(square(x)))", "--x", "0.5"]
    proc = run(args, cwd=elsewhere, env=env)
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        0,
        "f = 1.648721270700128\ndf/dx = 3.297442541400256\n",
        "",
    )
    where = run(
        [str(python), "-c", "import dezero_cli; print(dezero_cli.__file__)"], cwd=elsewhere, env=env
    ).stdout
    assert Path(where.strip()).is_relative_to(env_dir), where

    # The very first run, and a syntax error (the path that once needed Lark): no file is
    # written under the home or cache directories.
    proc = run([str(dezero), "eval", "2x"], cwd=elsewhere, env=env)
    assert proc.returncode == 2 and proc.stderr.startswith("error: implicit multiplication")
    assert list(home.rglob("*")) == [] and list(cache.rglob("*")) == []
