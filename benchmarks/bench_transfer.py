"""Transfer learning on the example pair (specs/transfer/): digits 5-9 from 20 training images
per class, on a backbone trained on the digits 0-4, in each `freeze` mode, beside the same
network trained from scratch on the same data with the same recipe.

    python benchmarks/bench_transfer.py                # seed 7 (the specs' own)
    python benchmarks/bench_transfer.py --seeds 7 8 9  # one build per variant and seed
    python benchmarks/bench_transfer.py --only scratch # the source and one variant

The source spec is built once per seed into a temporary folder laid out like the repository
(`specs/transfer/`, `build/digits04_source/`), so the target's backbone path resolves as it does
for a user. Every variant is a real `specc build`; the figures come from its `metrics.json`:
weights trained and frozen (backbone included), test accuracy, epochs run and fit time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PAIR = ROOT / "specs" / "transfer"
HYBRID_FROZEN = 3  # the backbone's input, its normalisation and its first convolution


def variants(source: dict, target: dict) -> dict[str, dict]:
    """The target spec in each freeze mode, and the source network trained from scratch."""
    out = {}
    for mode in ("feature_extractor", "fine_tune", "hybrid"):
        spec = yaml.safe_load(yaml.safe_dump(target))
        layer = spec["model"]["layers"][0]
        layer["freeze"] = mode
        if mode == "hybrid":
            layer["frozen_layers"] = HYBRID_FROZEN
        spec["name"] = f"digits59_{mode}"
        out[mode] = spec
    # from scratch: the target's network (the source's layers up to the cut, the target's
    # head) with random initial weights and the standardisation fitted on the target's data
    scratch = yaml.safe_load(yaml.safe_dump(source))
    cut = target["model"]["layers"][0]["output_layer"]
    names = [layer.get("name") for layer in source["model"]["layers"]]
    kept = source["model"]["layers"][: names.index(cut) + 1]
    scratch["model"]["layers"] = kept + target["model"]["layers"][1:]
    scratch["name"] = "digits59_scratch"
    scratch["data"] = {**target["data"], "preprocessing": "standardize"}
    scratch["training"] = target["training"]
    out["scratch"] = scratch
    return out


def run(seed: int, root: Path, only: list[str] | None = None) -> dict[str, dict]:
    from specc.builder import build
    from specc.builder.progress import Progress

    def quiet():
        return Progress(quiet=True)

    specs = root / "specs" / "transfer"
    specs.mkdir(parents=True)
    source = yaml.safe_load((PAIR / "digits04_source.yaml").read_text())
    target = yaml.safe_load((PAIR / "digits59_transfer.yaml").read_text())
    source["seed"] = target["seed"] = seed
    (specs / "digits04_source.yaml").write_text(yaml.safe_dump(source, sort_keys=False))
    built = build(
        specs / "digits04_source.yaml", root / "build" / "digits04_source", progress=quiet()
    )
    results = {"source (digits 0-4)": _figures(built.output_dir)}
    for name, spec in variants(source, target).items():
        if only and name not in only:
            continue
        path = specs / f"{spec['name']}.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
        built = build(path, root / "build" / spec["name"], progress=quiet())
        results[name] = _figures(built.output_dir)
        print(f"seed {seed} {name}: {results[name]}", flush=True)
    return results


def _figures(folder: Path) -> dict:
    metrics = json.loads((folder / "metrics.json").read_text())
    return {
        "trained": metrics["weights"]["trainable"],
        "frozen": metrics["weights"]["frozen"],
        "accuracy": metrics["metrics"]["test"]["accuracy"],
        "epochs": metrics["epochs_run"],
        "fit_s": metrics["timings"]["fit"],
        "train_examples": metrics["data"]["train"],
        "test_examples": metrics["data"]["test"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[7])
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["feature_extractor", "fine_tune", "hybrid", "scratch"],
        help="build only these variants (and the source)",
    )
    args = parser.parse_args()
    runs = {}
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            runs[seed] = run(seed, Path(tmp), args.only)
    rows = list(next(iter(runs.values())))
    print(
        "\n| variant | train examples | weights trained | weights frozen | test accuracy "
        "(per seed) | median | epochs run |"
    )
    print("| --- | ---: | ---: | ---: | --- | ---: | --- |")
    for row in rows:
        figures = [runs[s][row] for s in args.seeds]
        accuracy = [f["accuracy"] for f in figures]
        print(
            f"| {row} | {figures[0]['train_examples']} | {figures[0]['trained']:,} | "
            f"{figures[0]['frozen']:,} | {', '.join(f'{a:.3f}' for a in accuracy)} | "
            f"{statistics.median(accuracy):.3f} | {', '.join(str(f['epochs']) for f in figures)} |"
        )
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
