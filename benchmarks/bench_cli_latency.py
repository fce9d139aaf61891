"""Wall time of the light commands (`validate`, `show`, `schema`, `codegen`) as a user runs
them: a fresh `specc` process each time, interpreter start-up included.

    python benchmarks/bench_cli_latency.py [--repeat 10] [--spec specs/digits_cnn.yaml]

Prints the median and the slowest of `--repeat` runs per command, side by side with a bare
`python -c pass` (the floor no Python command can beat on this machine).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _time(args: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--spec", type=Path, default=ROOT / "specs" / "digits_cnn.yaml")
    args = parser.parse_args()
    specc = [sys.executable, "-m", "specc.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "specc validate": [*specc, "validate", str(args.spec)],
            "specc show": [*specc, "show", str(args.spec)],
            "specc schema": [*specc, "schema"],
            "specc codegen": [*specc, "codegen", str(args.spec), "-o", tmp],
        }
        print(f"{'command':<16} {'median s':>9} {'max s':>7}   ({args.repeat} runs each)")
        for name, command in commands.items():
            times = _time(command, args.repeat)
            print(f"{name:<16} {statistics.median(times):>9.3f} {max(times):>7.3f}")


if __name__ == "__main__":
    main()
