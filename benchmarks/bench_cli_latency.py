"""Wall time of the light commands (`--help`, `validate`, `show`, `schema`, `codegen`) as a
user runs them: a fresh `specc` process each time, interpreter start-up included.

    python benchmarks/bench_cli_latency.py [--repeat 10] [--spec specs/digits_cnn.yaml]

Prints the median and the slowest of `--repeat` runs per command, side by side with a bare
`python -c pass` (the floor no Python command can beat on this machine). The commands take
turns, one run of each per round, so a change of load on a shared machine hits them alike.
`run_rounds` is shared with `bench_validate_startup.py`.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed_run(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run `args` once (output discarded); return its wall time and CPU time (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run_rounds(
    commands: dict[str, list[str]], repeat: int, env: dict[str, str] | None = None
) -> dict[str, tuple[list[float], list[float]]]:
    """{name: (wall times, CPU times)} over `repeat` rounds, each running every command once
    (in environment `env`, default: this one's)."""
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in commands}
    for command in commands.values():  # warm the file (and bytecode) caches; not counted
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT, env=env)
    for _ in range(repeat):
        for name, command in commands.items():
            wall, cpu = timed_run(command, env)
            times[name][0].append(wall)
            times[name][1].append(cpu)
    return times


def bytecode_cache_env(folder: str) -> dict[str, str]:
    """This environment with Python's bytecode cache on, kept in `folder` (not in the source
    tree): how an installed package runs. Without it (PYTHONDONTWRITEBYTECODE, as in some
    development shells) every run also compiles the sources it imports."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = folder
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--spec", type=Path, default=ROOT / "specs" / "digits_cnn.yaml")
    args = parser.parse_args()
    specc = [sys.executable, "-m", "specc.cli"]
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as pyc:
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "specc --help": [*specc, "--help"],
            "specc validate": [*specc, "validate", str(args.spec)],
            "specc show": [*specc, "show", str(args.spec)],
            "specc schema": [*specc, "schema"],
            "specc codegen": [*specc, "codegen", str(args.spec), "-o", tmp],
        }
        times = run_rounds(commands, args.repeat, bytecode_cache_env(pyc))
    print(f"{'command':<16} {'median s':>9} {'max s':>7}   ({args.repeat} runs each)")
    for name, (wall, _cpu) in times.items():
        print(f"{name:<16} {statistics.median(wall):>9.3f} {max(wall):>7.3f}")


if __name__ == "__main__":
    main()
