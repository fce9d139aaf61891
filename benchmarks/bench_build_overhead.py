"""What a build costs besides training: the per-stage timings `specc build` records in
`metrics.json`, over several fresh builds, beside the cost of a bare `import keras` (the floor
that any Keras training script pays) measured in the same run.

    python benchmarks/bench_build_overhead.py [--spec specs/digits_cnn.yaml] [--rounds 3]

`besides_training` is the build's wall time in its stages minus the `fit` call and minus the
TensorFlow import: codegen, data loading, evaluation of the splits, saving, ONNX export, the
parity check, the passes and the report.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def _import_keras_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import keras"], check=True, env=ENV)
    return time.perf_counter() - started


def _build(spec: Path, out: Path) -> dict[str, float]:
    command = [sys.executable, "-m", "specc.cli", "build", str(spec), "-o", str(out), "--force"]
    subprocess.run(command, check=True, env=ENV, stdout=subprocess.DEVNULL)
    return json.loads((out / "metrics.json").read_text())["timings"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "specs" / "digits_cnn.yaml")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runs: list[dict[str, float]] = []
    imports: list[float] = []
    with tempfile.TemporaryDirectory(prefix="specc-bench-") as tmp:
        for index in range(args.rounds):
            imports.append(_import_keras_seconds())
            runs.append(_build(args.spec, Path(tmp) / "build"))
            shown = ", ".join(f"{k} {v:.2f}" for k, v in runs[-1].items())
            print(f"round {index + 1}: {shown}", file=sys.stderr)
    keys = [k for k in runs[0] if all(k in r for r in runs)]
    print(f"spec: {args.spec.relative_to(ROOT)}; {args.rounds} fresh builds; medians in seconds")
    print(f"{'bare `import keras` (fresh process)':<40} {statistics.median(imports):8.2f}")
    for key in keys:
        print(f"{key:<40} {statistics.median(r[key] for r in runs):8.2f}")


if __name__ == "__main__":
    main()
