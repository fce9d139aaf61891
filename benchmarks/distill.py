"""Distillation vs training from scratch: the example pair in specs/, over several seeds.

    python benchmarks/distill.py                       # seeds 1 2 3, the example pair as written
    python benchmarks/distill.py --seeds 1 2 3 4 5     # more seeds
    python benchmarks/distill.py --temperature 2 --alpha 0.5 --epochs 30 --units 16  # variants

For each seed, `specc build --compare` of specs/digits_student.yaml (with only `seed` changed,
and the optional overrides) trains in one run the student distilled from specs/digits_teacher.yaml
and the same student from scratch (same data split, epochs and initial weights). The seed also
draws the data split, so the teacher is built with the same seed (the same split: it never saw
the student's test examples), once per seed, and reused by later runs with `--keep`. Test
accuracies come from each build's `metrics.json` (`passes.distill`: measured on the ONNX
models). Prints a markdown table: per seed, the teacher's, the scratch and the distilled test
accuracy and the difference, then the means.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
STUDENT = ROOT / "specs" / "digits_student.yaml"
TEACHER = ROOT / "specs" / "digits_teacher.yaml"


def _variant(args: argparse.Namespace, seed: int) -> dict:
    spec = yaml.safe_load(STUDENT.read_text())
    spec["seed"] = seed
    distill = spec["passes"][0]["distill"]
    if args.temperature is not None:
        distill["temperature"] = args.temperature
    if args.alpha is not None:
        distill["alpha"] = args.alpha
    if args.epochs is not None:
        spec["training"]["epochs"] = args.epochs
    if args.units is not None:
        spec["model"]["layers"][0]["units"] = args.units
    return spec


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--temperature", type=float)
    parser.add_argument("--alpha", type=float)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--units", type=int, help="width of the student's hidden layer")
    parser.add_argument("--keep", type=Path, help="keep the builds in this folder")
    parser.add_argument("--teacher", type=Path, default=TEACHER, help="another teacher spec")
    args = parser.parse_args()

    from specc.builder import build

    root = Path(args.keep or tempfile.mkdtemp(prefix="specc-distill-"))
    rows = []
    started = time.perf_counter()
    for seed in args.seeds:
        work = root / f"seed{seed}"
        work.mkdir(parents=True, exist_ok=True)
        teacher = yaml.safe_load(args.teacher.read_text())
        teacher["seed"] = seed
        (work / TEACHER.name).write_text(yaml.safe_dump(teacher, sort_keys=False))
        path = work / STUDENT.name
        path.write_text(yaml.safe_dump(_variant(args, seed), sort_keys=False))
        result = build(path, work / "build" / "digits_student", compare=True, force=True)
        distill = result.metrics["passes"]["distill"]
        scratch = distill["scratch"]["test"]["accuracy"]
        student = distill["student"]["test"]["accuracy"]
        teacher_acc = distill["teacher"]["test"]["accuracy"]
        rows.append((seed, scratch, student, teacher_acc))
        print(f"seed {seed}: scratch {scratch:.4f}, distilled {student:.4f}", file=sys.stderr)
    first = _variant(args, args.seeds[0])
    d = first["passes"][0]["distill"]
    print(
        f"student: dense {first['model']['layers'][0]['units']}, {first['training']['epochs']} "
        f"epochs; temperature {d['temperature']}, alpha {d['alpha']}; "
        f"{time.perf_counter() - started:.0f} s\n"
    )
    print("| seed | teacher | from scratch | distilled | difference |")
    print("|---|---|---|---|---|")
    for seed, scratch, student, teacher_acc in rows:
        print(
            f"| {seed} | {teacher_acc:.4f} | {scratch:.4f} | {student:.4f} | "
            f"{student - scratch:+.4f} |"
        )
    mean_t, mean_s, mean_d = (statistics.mean(r[i] for r in rows) for i in (3, 1, 2))
    print(f"| mean | {mean_t:.4f} | {mean_s:.4f} | {mean_d:.4f} | {mean_d - mean_s:+.4f} |")
    print(json.dumps({"teacher": mean_t, "scratch": mean_s, "distilled": mean_d}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
