"""Training time of specc's generated code against idiomatic hand-written Keras scripts.

Two cases, each a bench spec and a hand-written script with the same data split, network and
recipe (same epochs, batch size, optimizer, no early stopping):

* `digits_cnn`: specs/digits_cnn_bench.yaml vs handwritten_digits_cnn.py (15 epochs of a CNN);
* `mlp`: specs/breast_cancer_mlp_bench.yaml vs handwritten_breast_cancer_mlp.py (150 short
  epochs of a small MLP, where any per-epoch or per-batch overhead of the generated loop shows).

Each round runs the two of a case in fresh subprocesses one after the other (order alternating
between rounds), timing `model.fit` only, so TensorFlow's import and start-up are not counted
for either. Reports the median fit time of each, wall clock and process CPU time (the CPU time
is the steadier figure on a shared machine), and the ratios generated / hand-written.

    python benchmarks/bench_train_time.py [--case mlp] [--rounds 5] [--json results.json]
    python benchmarks/bench_train_time.py --case mlp --code OLD_CODE_DIR   # code of another version
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = {
    "digits_cnn": (HERE / "specs" / "digits_cnn_bench.yaml", HERE / "handwritten_digits_cnn.py"),
    "mlp": (
        HERE / "specs" / "breast_cancer_mlp_bench.yaml",
        HERE / "handwritten_breast_cancer_mlp.py",
    ),
}

# Imports the generated train.py and times every model.fit call it makes (there is one), the
# same span the hand-written scripts time.
RUN_GENERATED = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import keras
spans = []
fit = keras.Model.fit
def timed_fit(self, *args, **kwargs):
    start = time.perf_counter(), time.process_time()
    try:
        return fit(self, *args, **kwargs)
    finally:
        spans.append((time.perf_counter() - start[0], time.process_time() - start[1]))
keras.Model.fit = timed_fit
import train
result = train.train(None, verbose=0)
print(json.dumps({"fit_seconds": sum(s[0] for s in spans),
                  "fit_cpu_seconds": sum(s[1] for s in spans),
                  "test_accuracy": result["metrics"]["test"]["accuracy"]}))
"""


def _run(args: list[str]) -> dict[str, float]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(args, capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_case(case: str, rounds: int, given_code: Path | None = None) -> dict:
    """Run one case `rounds` times each way; the runs, medians and ratios. `given_code` is a
    folder of generated code to time instead of generating it now (older code, for a before)."""
    spec, handwritten = CASES[case]
    with tempfile.TemporaryDirectory() as tmp:
        code = given_code or Path(tmp) / "code"
        if given_code is None:
            subprocess.run(
                [sys.executable, "-m", "specc.cli", "codegen", str(spec), "-o", str(code)],
                check=True,
                capture_output=True,
            )
        runs: dict[str, list[dict[str, float]]] = {"generated": [], "handwritten": []}
        commands = {
            "generated": [sys.executable, "-c", RUN_GENERATED, str(code)],
            "handwritten": [sys.executable, str(handwritten)],
        }
        for round_index in range(rounds):
            order = ["generated", "handwritten"]
            if round_index % 2:
                order.reverse()
            for name in order:
                runs[name].append(_run(commands[name]))
                last = runs[name][-1]
                print(
                    f"{case} round {round_index + 1}: {name:<11} fit {last['fit_seconds']:.2f} s "
                    f"(cpu {last['fit_cpu_seconds']:.2f} s), "
                    f"test accuracy {last['test_accuracy']:.4f}",
                    flush=True,
                )
    result: dict = {"runs": runs}
    for key in ("fit_seconds", "fit_cpu_seconds"):
        medians = {k: statistics.median(r[key] for r in v) for k, v in runs.items()}
        result[key] = {**medians, "ratio": medians["generated"] / medians["handwritten"]}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--code",
        type=Path,
        help="time the generated code in this folder (one --case) instead of generating it",
    )
    args = parser.parse_args()

    cases = list(CASES) if args.case == "all" else [args.case]
    if args.code and len(cases) != 1:
        parser.error("--code needs one --case")
    results = {case: bench_case(case, args.rounds, args.code) for case in cases}
    print(f"\nmedians over {args.rounds} rounds (same epochs, same machine):")
    print(f"{'case':<11} {'':<6} {'generated':>10} {'hand-written':>13} {'ratio':>7}")
    for case, result in results.items():
        for key, label in (("fit_seconds", "wall"), ("fit_cpu_seconds", "cpu")):
            row = result[key]
            print(
                f"{case:<11} {label:<6} {row['generated']:>9.2f}s {row['handwritten']:>12.2f}s "
                f"{row['ratio']:>7.3f}"
            )
    print("(ratio = generated / hand-written; <= 1.05 is the bar)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
