"""A long fuzzing run over every command in tests/fuzz_harness.py; prints what it tried and found.

    python tests/bench/fuzz_long.py --examples 20000 [--commands grad,eval] [--seed N]
                                    [--generators huge-numbers,output-aliases,...]

For each command: EXAMPLES inputs of the general kind (arbitrary text, near misses, odd values,
bytes on stdin) and EXAMPLES/50 very long ones; then EXAMPLES inputs of each batch generator
(fuzz_harness.GENERATORS: huge numbers, split and glued lines, name clashes, output aliases).
A failure is shrunk by Hypothesis to a small input and printed; the run then goes on to the
next command. Exit status 1 if anything failed. `--commands ''` runs the generators alone.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conftest import run_in_process  # noqa: E402
from fuzz_harness import COMMANDS, GENERATORS, TALLY, check, inputs, long_inputs  # noqa: E402
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402


def fuzz(name: str, strategy, examples: int, rng_seed: int, command=None) -> str | None:
    command = command or COMMANDS[name]

    @seed(rng_seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        check(run_in_process, command, case)

    try:
        run()
    except Exception:
        return traceback.format_exc(limit=0)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--commands", default=",".join(COMMANDS))
    parser.add_argument(
        "--generators",
        default=",".join(GENERATORS),
        help="batch generators (huge numbers, split lines, name clashes, output aliases); "
        "'' for none",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    failures = []
    start = time.perf_counter()
    for index, name in enumerate(filter(None, args.commands.split(","))):
        for label, strategy, n in [
            ("general", inputs(), args.examples),
            ("long", long_inputs(), max(1, args.examples // 50)),
        ]:
            t = time.perf_counter()
            before = TALLY.tried[name]
            failure = fuzz(name, strategy, n, args.seed * 1000 + index)
            print(
                f"{name:10} {label:8} {TALLY.tried[name] - before:7d} inputs "
                f"{time.perf_counter() - t:7.1f} s  {'FAILED' if failure else 'ok'}",
                flush=True,
            )
            if failure:
                failures.append((name, label, failure))
    for index, name in enumerate(filter(None, args.generators.split(","))):
        command, strategy = GENERATORS[name]
        t = time.perf_counter()
        failure = fuzz(name, strategy(), args.examples, args.seed * 1000 + 500 + index, command)
        print(
            f"{name:20} {TALLY.tried[name]:7d} inputs "
            f"{time.perf_counter() - t:7.1f} s  {'FAILED' if failure else 'ok'}",
            flush=True,
        )
        if failure:
            failures.append((name, "batch", failure))
    print(f"\ninputs tried: {sum(TALLY.tried.values())} in {time.perf_counter() - start:.0f} s")
    for name in TALLY.tried:
        codes = {code: n for (cmd, code), n in sorted(TALLY.codes.items()) if cmd == name}
        print(f"  {name}: {TALLY.tried[name]} inputs, exit statuses {codes}")
    print(f"distinct kinds of error message: {len(TALLY.errors)}; the most common:")
    for kind, n in TALLY.errors.most_common(12):
        print(f"  {n:6d}  {kind}")
    print(f"\nfailures: {len(failures)}")
    for name, label, failure in failures:
        print(f"--- {name} ({label})\n{failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
