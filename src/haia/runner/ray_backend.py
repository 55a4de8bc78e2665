"""The Ray backend: the same run, its requests sent by Ray actors (``haia audit --backend ray``).

The driver keeps everything that defines the run: the plan, the response cache, the run store
(the single source of truth) and the progress counters. Only the sending moves: a pool of async
Ray actors, each holding its own model adapter (and so its own connection pool), receives batches
of work units and streams each unit's record back the moment it is answered, and the driver writes
it to the store at once. At most ``concurrency`` units are in flight across all actors (``lanes``
batches of ``batch`` units), so a model endpoint sees the same bound as with the local backend,
and an interrupted run re-sends at most those units when resumed.

Results equal the local backend's for the same seed: the requests, their cache keys and the
records are made by the same code (:class:`haia.runner.engine.Sender`); only the order in which
records arrive differs, and nothing downstream depends on it.

``ray_address=None`` starts a local Ray instance (no dashboard); ``"auto"`` or
``ray://HOST:10001`` joins an existing cluster, whose nodes must have haia installed (the same
version) and reach the model endpoint. The API key named by ``--api-key-env`` is handed to the
actors through their runtime environment.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from typing import Any

from haia.errors import HaiaError
from haia.models.base import FatalModelError
from haia.models.registry import ModelOptions, create_adapter
from haia.record import SampleRecord
from haia.runner.engine import Progress, RetryPolicy, Runner, Sender, WorkUnit, WorkUnits

MAX_BATCH = 16  # units handed to an actor in one call (records still come back one by one)


def ray_module() -> Any:
    """The ``ray`` package, or a clear error when the extra is not installed."""
    try:
        import ray
    except ImportError:
        raise HaiaError("--backend ray needs Ray: pip install 'haia[ray]'") from None
    return ray


def connect(address: str | None, *, num_cpus: int | None = None) -> None:
    """Join the Ray cluster at ``address``, or start a local instance (once per process)."""
    ray = ray_module()
    if ray.is_initialized():
        return
    options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR,
                               "configure_logging": True}
    try:
        if address:
            ray.init(address=address, **options)
        else:
            from haia.runner.ray_reaper import guard

            ray.init(include_dashboard=False, num_cpus=num_cpus, **options)
            guard()  # its processes must not outlive this one, even killed
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise HaiaError(f"--backend ray: cannot reach {where}: {exc}") from None


class _SendActor:
    """One Ray actor: an adapter and a :class:`Sender`, sending the units it is given
    concurrently and yielding each record as it is answered."""

    def __init__(self, spec: str, options: ModelOptions, run_id: str, timeout: float,
                 retry: RetryPolicy, seed: int) -> None:
        self.adapter = create_adapter(spec, options)
        self.sender = Sender(self.adapter, run_id, timeout, retry, seed)

    async def send(self, units: list[WorkUnit]) -> Any:
        pending = [asyncio.ensure_future(self.sender.send(unit)) for unit in units]
        try:
            for next_done in asyncio.as_completed(pending):
                yield await next_done
        finally:
            for task in pending:
                task.cancel()

    async def close(self) -> None:
        await self.adapter.aclose()


@dataclass
class RayRunner(Runner):
    """A :class:`Runner` whose units are sent by ``actors`` Ray actors."""

    spec: str = ""
    options: ModelOptions = field(default_factory=ModelOptions)
    address: str | None = None
    actors: int | None = None

    async def run(self, units: WorkUnits) -> Progress:
        ray = ray_module()
        connect(self.address)
        n_actors = self.actors or max(1, min(4, int(ray.cluster_resources().get("CPU", 1))))
        batch = max(1, min(MAX_BATCH, self.concurrency // (2 * n_actors) or 1))
        lanes = max(1, self.concurrency // batch)
        per_actor = -(-lanes * batch // n_actors)
        env = {}
        if self.options.api_key_env and self.options.api_key_env in os.environ:
            env[self.options.api_key_env] = os.environ[self.options.api_key_env]
        actor_class = ray.remote(num_cpus=0, max_concurrency=max(2, per_actor + 1),
                                 runtime_env={"env_vars": env} if env else None)(_SendActor)
        self._pool = [actor_class.remote(self.spec, self.options, self.run_id, self.timeout,
                                         self.retry, self.seed + k) for k in range(n_actors)]
        self._batch = batch
        self._lanes = lanes
        try:
            return await super().run(units)
        finally:
            await asyncio.gather(*(a.close.remote() for a in self._pool), return_exceptions=True)
            for actor in self._pool:
                ray.kill(actor)

    def _worker_count(self, pending: int) -> int:
        return max(1, min(self._lanes, -(-pending // self._batch)))

    async def _worker(self, queue: asyncio.Queue[WorkUnit | None], lane: int = 0) -> None:
        ray = ray_module()
        actor = self._pool[lane % len(self._pool)]
        while True:
            first = await queue.get()
            if first is None:
                return
            units = [first]
            stop = False
            while len(units) < self._batch and not queue.empty():
                unit = queue.get_nowait()
                if unit is None:
                    stop = True
                    break
                units.append(unit)
            by_key = {(u.item.id, u.sample): u for u in units}
            try:
                async for ref in actor.send.options(num_returns="streaming").remote(units):
                    record = await ref
                    await self._record_done(by_key[(record.item_id, record.sample)], record)
            except ray.exceptions.RayTaskError as exc:
                cause = exc.cause
                if isinstance(cause, HaiaError | FatalModelError):
                    raise cause from None
                raise FatalModelError(f"a Ray actor failed: {cause!r}") from None
            except ray.exceptions.RayActorError as exc:
                raise FatalModelError(f"a Ray actor died: {exc}") from None
            if stop:
                return

    async def _record_done(self, unit: WorkUnit, record: SampleRecord) -> None:
        self.progress.retries += max(0, record.attempts - 1) if record.status != "skipped" else 0
        await super()._record_done(unit, record)
