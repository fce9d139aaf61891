"""Start-up cost of `specc validate` on one spec against the floor of any Python command.

    python benchmarks/bench_validate_startup.py [--repeat 5] [--spec specs/digits_cnn.yaml]

Runs, in turns, a fresh process of: `python -c pass` (the interpreter alone), `python -c
"import pydantic, yaml, click"` (the libraries `validate` cannot do without), the same with
`from pydantic import BaseModel, Field` (what any pydantic model costs before one is defined),
`python -m specc.cli validate SPEC` and the `specc` console script; prints the best of
`--repeat` runs of each (wall time and CPU time) and each one's ratio to `python -c pass`.
The target is `specc validate` within 7 times `python -c pass`. The children keep a bytecode
cache (in a temporary folder) unless `--no-bytecode-cache` is given.

Then, with `--phases`, where the time of `specc validate` goes: one process does its steps one
after the other and reports the CPU time of each (best of `--repeat` processes).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_cli_latency import ROOT, bytecode_cache_env, run_rounds

TARGET_RATIO = 7.0
# the floor of any validation with pydantic models: `import pydantic` alone is lazy, the model
# machinery comes with BaseModel (pydantic.main) and Field (pydantic.fields, pydantic.types,
# annotated_types), which any model with a field needs
_BASEMODEL = "import yaml, click; from pydantic import BaseModel, Field"

# the steps of `specc validate SPEC` in one process, each timed (CPU) on its own
_PHASES = """
import json, sys, time
times = {}
def step(name, start=[time.process_time()]):
    now = time.process_time()
    times[name] = now - start[0]
    start[0] = now
import click, pydantic, yaml
step("import click, pydantic, yaml")
from pydantic import BaseModel, Field
step("pydantic BaseModel, Field")
import specc.cli
step("import specc.cli (commands)")
import specc.spec
step("import specc.spec (model classes)")
import specc.pipeline
step("import specc.pipeline (IR)")
from pydantic.plugin._loader import get_plugins
get_plugins()
step("pydantic plugin discovery")
specc.spec.Spec.model_rebuild()
step("build the Spec validator")
specc.pipeline.compile_spec(sys.argv[1])
step("read, validate, check, lower")
print(json.dumps(times))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--spec", type=Path, default=ROOT / "specs" / "digits_cnn.yaml")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="Run as this shell does (with PYTHONDONTWRITEBYTECODE set, sources are compiled "
        "every run); by default the children keep a bytecode cache, as an installed specc has.",
    )
    parser.add_argument("--phases", action="store_true", help="Also time the steps of validate.")
    args = parser.parse_args()
    python = sys.executable
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "import pydantic, yaml, click": [python, "-c", "import pydantic, yaml, click"],
        "... + BaseModel, Field": [python, "-c", _BASEMODEL],
        "python -m specc.cli validate": [python, "-m", "specc.cli", "validate", str(args.spec)],
    }
    script = shutil.which("specc", path=str(Path(python).parent))
    if script is not None:
        commands["specc validate (script)"] = [script, "validate", str(args.spec)]
    with tempfile.TemporaryDirectory() as pyc:
        env = None if args.no_bytecode_cache else bytecode_cache_env(pyc)
        times = run_rounds(commands, args.repeat, env)
        phases = _phases(args.spec, args.repeat, env) if args.phases else {}
    floor_wall = min(times["python -c pass"][0])
    floor_cpu = min(times["python -c pass"][1])
    cache = "no bytecode cache" if args.no_bytecode_cache else "bytecode cache"
    print(f"best of {args.repeat} runs each, spec {args.spec.name}, {cache}")
    print(f"{'command':<30} {'wall s':>7} {'ratio':>6} {'cpu s':>7} {'ratio':>6}")
    for name, (wall, cpu) in times.items():
        best_wall, best_cpu = min(wall), min(cpu)
        print(
            f"{name:<30} {best_wall:>7.3f} {best_wall / floor_wall:>6.1f}"
            f" {best_cpu:>7.3f} {best_cpu / max(floor_cpu, 1e-3):>6.1f}"
        )
    ratio = min(times["python -m specc.cli validate"][0]) / floor_wall
    verdict = "within" if ratio <= TARGET_RATIO else "over"
    print(f"specc validate / python -c pass = {ratio:.1f} ({verdict} the target {TARGET_RATIO:g})")
    if phases:
        print(f"\nsteps of validate, CPU ms, best of {args.repeat} processes")
        for name, best in phases.items():
            print(f"  {name:<34} {best * 1000:>6.1f}")
        print(f"  {'sum':<34} {sum(phases.values()) * 1000:>6.1f}")


def _phases(spec: Path, repeat: int, env: dict[str, str] | None) -> dict[str, float]:
    """{step: best CPU seconds} of `_PHASES` over `repeat` fresh processes."""
    best: dict[str, float] = {}
    for _ in range(repeat + 1):  # the first run fills the bytecode cache; it counts too
        out = subprocess.run(
            [sys.executable, "-c", _PHASES, str(spec)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
        ).stdout
        for name, seconds in json.loads(out.splitlines()[-1]).items():
            best[name] = min(best.get(name, seconds), seconds)
    return best


if __name__ == "__main__":
    main()
