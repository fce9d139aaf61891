"""Execution providers, devices and session options for onnxruntime.

`device` is one of:

- ``cpu``: CPUExecutionProvider only.
- ``gpu``: CUDAExecutionProvider (from the `onnxruntime-gpu` package, `pip install 'specc[gpu]'`),
  with the CPU provider behind it for the few operators CUDA lacks. Raises
  `DeviceUnavailableError` with install instructions when the provider is missing, and with the
  reason when it is installed but does not start (no visible GPU, CUDA/cuDNN libraries missing).
- ``auto``: the GPU when it works, otherwise the CPU; `SessionInfo.note` says why the CPU ran.

A model file that onnxruntime cannot load (truncated, corrupt, not ONNX) raises `ModelLoadError`
naming the file, on any device.

onnxruntime is imported inside the functions, never at module import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from specc.excinfo import first_line

from .errors import DeviceUnavailableError, ModelLoadError

__all__ = [
    "DEVICES",
    "SessionInfo",
    "available_providers",
    "create_session",
    "default_threads",
    "physical_cores",
]

DEVICES = ("auto", "cpu", "gpu")
CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"

GPU_INSTALL_HINT = (
    "install the GPU build of onnxruntime: `pip install 'specc[gpu]' && pip uninstall -y "
    "onnxruntime && pip install --force-reinstall --no-deps onnxruntime-gpu` (both packages "
    "provide the `onnxruntime` module, so the CPU one must go; onnxruntime-gpu needs an NVIDIA "
    "driver and CUDA 12 / cuDNN 9 libraries, e.g. `pip install 'onnxruntime-gpu[cuda,cudnn]'`)"
)


@dataclass(frozen=True)
class SessionInfo:
    """Which device and provider a session actually uses, and why."""

    device: str
    """`cpu` or `gpu`: where the model runs."""
    provider: str
    """The first execution provider of the session (e.g. `CPUExecutionProvider`)."""
    providers: tuple[str, ...]
    """All providers of the session, in priority order."""
    requested: str
    """The device that was asked for (`auto`, `cpu` or `gpu`)."""
    intra_op_threads: int
    note: str | None = None
    """Why `auto` fell back to the CPU, when it did."""


def _cgroup_cpu_limit() -> int | None:
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return max(1, int(int(quota) // int(period)))
    except (ValueError, ZeroDivisionError):
        return None


@lru_cache(maxsize=1)
def physical_cores() -> int:
    """Physical cores this process may use: distinct (package, core) pairs in /proc/cpuinfo,
    bounded by the CPU affinity mask and the cgroup quota; logical CPUs where that is unknown."""
    logical = os.cpu_count() or 1
    try:
        allowed = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        allowed = logical
    cores: set[tuple[str, str]] = set()
    try:
        package = core = None
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "physical id":
                package = value.strip()
            elif key == "core id":
                core = value.strip()
            elif not line.strip():
                if core is not None:
                    cores.add((package or "0", core))
                package = core = None
        if core is not None:
            cores.add((package or "0", core))
    except OSError:
        pass
    physical = len(cores) if cores else logical
    limit = _cgroup_cpu_limit()
    counts = [physical, allowed] + ([limit] if limit else [])
    return max(1, min(counts))


def default_threads() -> int:
    """Default intra-op thread count: `SPECC_THREADS` if set, else the physical core count."""
    env = os.environ.get("SPECC_THREADS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            pass
    return physical_cores()


def available_providers() -> list[str]:
    import onnxruntime as ort

    return list(ort.get_available_providers())


def session_options(intra_op_threads: int | None = None, log_severity: int = 3) -> Any:
    """SessionOptions: all graph optimisations, sequential execution, `intra_op_threads`
    (default: physical cores), one inter-op thread, warnings off."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.intra_op_num_threads = int(intra_op_threads or default_threads())
    so.inter_op_num_threads = 1
    so.log_severity_level = log_severity
    return so


_preloaded = False


def _preload_cuda_libraries() -> None:
    """Let onnxruntime-gpu find CUDA/cuDNN from the `nvidia-*` pip packages (ort >= 1.21)."""
    global _preloaded
    if _preloaded:
        return
    _preloaded = True
    import onnxruntime as ort

    preload = getattr(ort, "preload_dlls", None)
    if preload is None:
        return
    try:
        preload()
    except Exception:  # noqa: BLE001 - best effort; the session start reports the real problem
        pass


def _ort_version() -> str:
    import onnxruntime as ort

    return getattr(ort, "__version__", "?")


def _gpu_session(model: Any, options: Any, cuda_options: dict[str, Any] | None) -> Any:
    """A CUDA session, or DeviceUnavailableError saying why there is none."""
    import onnxruntime as ort

    available = available_providers()
    if CUDA not in available:
        raise DeviceUnavailableError(
            f"device 'gpu' needs CUDAExecutionProvider, but this onnxruntime "
            f"({_ort_version()}) offers only {', '.join(available)}; {GPU_INSTALL_HINT}"
        )
    _preload_cuda_libraries()
    providers: list[Any] = [(CUDA, dict(cuda_options or {})), CPU]
    try:
        session = ort.InferenceSession(model, sess_options=options, providers=providers)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises several types here
        if type(exc).__name__ in _MODEL_ERRORS:
            raise _load_error(model, exc) from exc
        raise DeviceUnavailableError(
            f"CUDAExecutionProvider is installed but the session could not start on the GPU: "
            f"{first_line(exc)}"
        ) from exc
    if session.get_providers()[0] != CUDA:
        raise DeviceUnavailableError(
            "CUDAExecutionProvider is installed but did not start (no visible GPU, or the CUDA 12 "
            "/ cuDNN 9 libraries are missing; check `nvidia-smi` and CUDA_VISIBLE_DEVICES, or "
            "`pip install 'onnxruntime-gpu[cuda,cudnn]'`)"
        )
    return session


# onnxruntime's exception types for a model it cannot read or check (not a device problem).
_MODEL_ERRORS = frozenset({"InvalidProtobuf", "InvalidGraph", "NoSuchFile", "NotImplemented"})


def _load_error(model: str | bytes, exc: BaseException) -> ModelLoadError:
    where = "the model bytes" if isinstance(model, bytes) else str(model)
    return ModelLoadError(
        f"onnxruntime cannot load {where}: {first_line(exc)} (a truncated or corrupt file? "
        "rebuild it with `specc build`)"
    )


def create_session(
    model: str | os.PathLike[str] | bytes,
    device: str = "auto",
    intra_op_threads: int | None = None,
    cuda_options: dict[str, Any] | None = None,
) -> tuple[Any, SessionInfo]:
    """Create an `onnxruntime.InferenceSession` for `device`; return it with a `SessionInfo`."""
    import onnxruntime as ort

    device = (device or "auto").lower()
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; expected one of {', '.join(DEVICES)}")
    model_arg = model if isinstance(model, bytes) else str(model)
    threads = int(intra_op_threads or default_threads())
    options = session_options(threads)
    note = None
    if device == "auto" and CUDA not in available_providers():
        note = "ran on CPU: no CUDAExecutionProvider (for the GPU: pip install 'specc[gpu]')"
    elif device in ("gpu", "auto"):
        try:
            session = _gpu_session(model_arg, options, cuda_options)
        except DeviceUnavailableError as exc:
            if device == "gpu":
                raise
            note = f"ran on CPU: {exc}"
        else:
            providers = tuple(session.get_providers())
            return session, SessionInfo("gpu", providers[0], providers, device, threads)
    try:
        session = ort.InferenceSession(model_arg, sess_options=options, providers=[CPU])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types
        raise _load_error(model_arg, exc) from exc
    providers = tuple(session.get_providers())
    return session, SessionInfo("cpu", providers[0], providers, device, threads, note)
