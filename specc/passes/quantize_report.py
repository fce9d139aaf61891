"""The quantize pass's section of `report.md`, and recording a later `specc quantize` run.

A build renders `quantization_markdown` into its `report.md` once, with the other sections.
`specc quantize BUILD_DIR` re-measures a finished build; `record` then updates its files:
`metrics.json` gets (or has replaced) `passes.quantize`, every other key kept; `report.md` gets
the section between `<!-- specc:quantize:start -->` and `<!-- specc:quantize:end -->`, replaced
in place when present, appended otherwise. Both files are written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .base import jsonable

__all__ = ["END", "START", "quantization_markdown", "record", "update_metrics", "update_report"]

START = "<!-- specc:quantize:start -->"
END = "<!-- specc:quantize:end -->"


def update_metrics(path: Path, report: dict[str, Any]) -> None:
    """Set `passes.quantize` in `metrics.json` (created when missing), keeping all other keys."""
    from specc.atomic import write_text

    doc: dict[str, Any] = {}
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON ({exc}); not touching it") from exc
        if isinstance(loaded, dict):
            doc = loaded
    passes = doc.get("passes") if isinstance(doc.get("passes"), dict) else {}
    doc["passes"] = {**passes, "quantize": jsonable(report)}
    artifacts = doc.get("artifacts")
    if isinstance(artifacts, list) and report.get("file"):
        if report.get("passed") and report["file"] not in artifacts:
            artifacts.append(report["file"])
        elif not report.get("passed") and report["file"] in artifacts:
            artifacts.remove(report["file"])
    write_text(path, json.dumps(doc, indent=2) + "\n")


def _kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB"


def _fmt(v: float) -> str:
    return f"{v:.4f}"


def _speed(before: float, after: float) -> str:
    if after <= before:
        return f"{before / max(after, 1e-9):.2f}x faster"
    return f"{after / max(before, 1e-9):.2f}x slower"


def quantization_markdown(report: dict[str, Any]) -> str:
    """The report.md section (markers included) for a quantization report."""
    test, lat, size = report["test"], report["latency_ms"], report["size_bytes"]
    rows = [
        (
            "file size",
            _kib(size["float"]),
            _kib(size["int8"]),
            f"{report['size_ratio']:.2f}x smaller"
            if report["size_ratio"] >= 1
            else f"{1 / report['size_ratio']:.2f}x larger",
        )
    ]
    if "weight_bytes" in report:
        wf, wq = report["weight_bytes"]["float"], report["weight_bytes"]["int8"]
        rows.append(("weights", _kib(wf), _kib(wq), f"{report['weight_ratio']:.2f}x smaller"))
    for key in test["float"]:
        f, q = test["float"][key], test["int8"][key]
        # computed from the outputs alone: no regularisation penalty, unlike the training loss
        label = "test cross-entropy" if key == "loss" else f"test {key}"
        rows.append((label, _fmt(f), _fmt(q), f"{q - f:+.4f}"))
    for batch_key, t in lat.items():
        batch = batch_key.split("_", 1)[1]
        calls = t.get("calls")
        # a 99th percentile of a handful of calls is only their maximum: leave it out
        stats = ("p50_ms", "p99_ms") if calls is None or calls >= 50 else ("p50_ms",)
        for stat in stats:
            counted = f" ({calls} calls)" if calls is not None and stat == "p50_ms" else ""
            rows.append(
                (
                    f"latency {stat[:3]}, batch {batch}{counted}",
                    f"{t['float'][stat]:.3f} ms",
                    f"{t['int8'][stat]:.3f} ms",
                    _speed(t["float"][stat], t["int8"][stat]) if stat == "p50_ms" else "",
                )
            )
    verdict = "passed" if report.get("passed") else f"FAILED: {report['file']} was not written"
    lines = [
        START,
        f"## int8 quantization ({report['mode']})",
        "",
        "| | float32 | int8 | change |",
        "| --- | --- | --- | --- |",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        f"Format: {report['format']}. Allowed {report['metric']} drop: {report['max_drop']:g}; "
        f"measured drop {report['drop']:+.4f}: {verdict}.",
        f"Measured in one run on {report['provider']} ({report['intra_op_threads']} threads), "
        f"{test['examples']} test examples"
        + (
            f", calibrated on {report['calibration_samples']} training examples"
            if report.get("calibration_samples")
            else ""
        )
        + ".",
        *([f"Note: {report['note']}"] if report.get("note") else []),
        *(
            ["Batch 1024 was not timed here: `specc quantize BUILD_DIR` times batch 1 and 1024."]
            if "batch_1024" not in lat
            else []
        ),
        END,
    ]
    return "\n".join(lines) + "\n"


def update_report(path: Path, report: dict[str, Any]) -> None:
    """Replace (or append) the quantization section of `report.md`."""
    from specc.atomic import write_text

    section = quantization_markdown(report)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    start, end = text.find(START), text.find(END)
    if start != -1 and end != -1 and end > start:
        tail = text[end + len(END) :]
        if tail.startswith("\n"):
            tail = tail[1:]
        text = text[:start] + section + tail
    else:
        if text and not text.endswith("\n"):
            text += "\n"
        text += ("\n" if text else "") + section
    write_text(path, text)


def record(build_dir: Path, report: dict[str, Any]) -> None:
    """Record a `specc quantize` run in a finished build's `metrics.json` and `report.md`."""
    update_metrics(build_dir / "metrics.json", report)
    update_report(build_dir / "report.md", report)
