"""The wheel ships the grammar, and a non-editable install finds it from any directory."""

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
GRAMMAR_IN_WHEEL = "dezero_cli/grammar/expression.lark"


def run(cmd: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kwargs)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)])
    assert proc.returncode == 0, proc.stderr
    (path,) = out.glob("dezero_cli-*.whl")
    return path


def test_wheel_contains_the_grammar(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        assert GRAMMAR_IN_WHEEL in names
        packaged = z.read(GRAMMAR_IN_WHEEL).decode()
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt")))
    assert packaged == (ROOT / "grammar" / "expression.lark").read_text(encoding="utf-8")
    assert "dezero = dezero_cli.launch:main" in entry_points.decode()
    assert not [n for n in names if n.startswith(("tests/", "grammar/"))]


def test_installed_wheel_finds_its_grammar_from_another_directory(wheel, tmp_path):
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
    env["DEZERO_CACHE_DIR"] = str(tmp_path / "cache")  # no parser tables from earlier runs
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

    # Control: without the packaged grammar the installed command must fail, so the run above
    # really read the file from the wheel and not from some fallback. Clean error, no traceback.
    (site / GRAMMAR_IN_WHEEL).unlink()
    proc = run(args, cwd=elsewhere, env=env)
    assert proc.returncode == 3 and proc.stdout == ""
    assert proc.stderr.startswith(
        "error: internal error: FileNotFoundError: grammar expression.lark"
    )
    assert "Traceback" not in proc.stderr
