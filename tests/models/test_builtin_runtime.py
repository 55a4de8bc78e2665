"""The embedded runtime's guards: CPU check, worker start failure, crash detection."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from haia.errors import ModelSpecError
from haia.models.base import FatalModelError, GenerationRequest
from haia.models.builtin import BuiltinAdapter, EmbeddedServer, missing_cpu_features

MODERN = "processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2 fma f16c bmi2 avx512f\n"
OLD = "processor\t: 0\nflags\t\t: fpu sse sse2 sse4_2 avx\n"


def test_cpu_check_names_the_missing_instruction_sets() -> None:
    assert missing_cpu_features(MODERN) == []
    assert missing_cpu_features(OLD) == ["avx2", "fma", "f16c"]


def test_a_worker_that_cannot_start_is_one_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-model.gguf"
    bogus.write_bytes(b"GGUF but not really")
    with pytest.raises(ModelSpecError, match="failed to start"):
        EmbeddedServer(bogus, slots=2, threads=1, start_timeout=60)


@pytest.mark.slow
def test_a_killed_worker_raises_fatal_not_transient() -> None:
    adapter = BuiltinAdapter(concurrency=2)
    request = GenerationRequest(messages=[{"role": "user", "content": "Say yes."}],
                                max_tokens=4, seed=0)

    async def go() -> None:
        try:
            first = await adapter.generate(request)
            assert first.text
            os.kill(adapter._server.process.pid, signal.SIGSEGV)
            adapter._server.process.wait(timeout=30)
            with pytest.raises(FatalModelError, match="crashed \\(killed by SIGSEGV\\)"):
                await adapter.generate(request)
        finally:
            await adapter.aclose()

    asyncio.run(go())


def test_wait_policy_spins_only_on_an_idle_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    from haia.models.builtin import wait_policy

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert wait_policy(2, load=0.3) == "ACTIVE"
    assert wait_policy(2, load=2.5) == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    assert wait_policy(2, load=0.0) == "PASSIVE"
