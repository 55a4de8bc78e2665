"""Execution engine: send every (item, sample) to a model with bounded concurrency and retries.

A fixed pool of ``concurrency`` worker tasks pulls work from a bounded queue that a feeder fills
from the lazily made plan (cheaper than one task per item, and memory does not grow with the
suite). Transient failures (HTTP 429/5xx, timeouts, dropped connections) are retried with
exponential backoff and full jitter, honouring Retry-After. Each outcome is handed to the run
store the moment it arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Protocol, TypeVar

from haia.errors import HaiaError
from haia.models.base import (
    FatalModelError,
    GenerationRequest,
    ModelAdapter,
    ModelError,
    TransientModelError,
    UnsupportedInput,
    request_key,
)
from haia.models.http import HttpError
from haia.record import SampleRecord, ScoreValue
from haia.runner.store import RunStore
from haia.suites.answer_schema import response_format
from haia.suites.model import Item, Suite
from haia.suites.render import render_messages

FEED_CHUNK = 512  # units looked up in the cache and queued at a time

T = TypeVar("T")


class WorkUnits(Protocol):
    """Work units with a known count (a :class:`Plan`, or a list)."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[WorkUnit]: ...


def _chunks(values: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(values)
    while chunk := list(islice(it, size)):
        yield chunk


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried."""

    retries: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_delay * 2)
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class WorkUnit:
    """One request to send: an item, its sample index, the request and its cache key."""

    item: Item
    sample: int
    request: GenerationRequest
    key: str


@dataclass
class Progress:
    """Counters the progress bar shows."""

    total: int = 0
    done: int = 0
    errors: int = 0
    skipped: int = 0
    cached: int = 0
    retries: int = 0


@dataclass(frozen=True)
class GenerationParams:
    """Sampling parameters shared by every request of a run."""

    temperature: float = 0.0
    max_tokens: int = 256
    seed: int = 0
    samples: int = 1
    structured: bool = False


@dataclass(frozen=True)
class Plan:
    """Every (item, sample) request of a run, in suite order, made as it is iterated: a run of
    100,000 items never holds 100,000 rendered requests."""

    items: Sequence[Item]
    identity: str
    params: GenerationParams
    max_tokens: int

    def __len__(self) -> int:
        return len(self.items) * self.params.samples

    def __iter__(self) -> Iterator[WorkUnit]:
        params = self.params
        for item in self.items:
            messages = render_messages(item)
            constraint = response_format(item) if params.structured else None
            extra = {"response_format": constraint} if constraint else {}
            for sample in range(params.samples):
                request = GenerationRequest(messages=messages, temperature=params.temperature,
                                            max_tokens=self.max_tokens,
                                            seed=params.seed + sample, extra=extra)
                yield WorkUnit(item, sample, request, request_key(self.identity, request, sample))


def plan(suite: Suite, adapter: ModelAdapter, params: GenerationParams,
         limit: int | None = None) -> Plan:
    """Every (item, sample) request of a run, in suite order (made lazily)."""
    items = suite.items if limit is None else suite.items[:limit]
    return Plan(items, adapter.identity(), params, suite.meta.max_tokens or params.max_tokens)


@dataclass
class Runner:
    """Runs work units against one adapter, writing every outcome to the store."""

    adapter: ModelAdapter
    store: RunStore
    run_id: str
    concurrency: int = 16
    timeout: float = 120.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    use_cache: bool = True
    seed: int = 0
    on_progress: Callable[[Progress], None] | None = None
    score: Callable[[Item, str], Awaitable[dict[str, list[ScoreValue]]]] | None = None
    """Scores an answer as it arrives; the record is stored with them (see :meth:`_store`)."""

    def __post_init__(self) -> None:
        self.progress = Progress()
        self.sender = Sender(self.adapter, self.run_id, self.timeout, self.retry, self.seed,
                             on_retry=self._count_retry)

    def _count_retry(self) -> None:
        self.progress.retries += 1

    async def _send(self, unit: WorkUnit) -> SampleRecord:
        return await self.sender.send(unit)

    async def run(self, units: WorkUnits) -> Progress:
        """Send every unit not yet done in this run; return the counters. ``units`` is read as
        it is sent, through a bounded queue, a chunk at a time."""
        done = self.store.done_keys(self.run_id)
        self.progress.total = len(units)
        self.progress.done = min(len(done), self.progress.total)
        self._notify()
        queue: asyncio.Queue[WorkUnit | None] = asyncio.Queue(maxsize=2 * self.concurrency)
        n_workers = self._worker_count(self.progress.total - self.progress.done)
        tasks = [asyncio.create_task(self._feed(units, done, queue, n_workers))]
        tasks += [asyncio.create_task(self._worker(queue, lane)) for lane in range(n_workers)]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.store.flush()
        return self.progress

    async def _feed(self, units: Iterable[WorkUnit], done: set[tuple[str, int]],
                    queue: asyncio.Queue[WorkUnit | None], n_workers: int) -> None:
        """Put the units still to send on the queue (answered ones from the cache first), then
        one stop mark per worker."""
        for chunk in _chunks((u for u in units if (u.item.id, u.sample) not in done),
                             FEED_CHUNK):
            if self.use_cache:
                chunk, hits = self._serve_from_cache(chunk)
                for unit, record in hits:
                    await self._store(unit, record)
                self._notify()
            for unit in chunk:
                await queue.put(unit)
        for _ in range(n_workers):
            await queue.put(None)

    def _serve_from_cache(self, pending: list[WorkUnit]
                          ) -> tuple[list[WorkUnit], list[tuple[WorkUnit, SampleRecord]]]:
        """The units the cache cannot answer, and the records of those it can."""
        hits = self.store.cached(u.key for u in pending)
        rest, answered = [], []
        for unit in pending:
            hit = hits.get(unit.key)
            if hit is None:
                rest.append(unit)
                continue
            answered.append((unit, replace(hit, item_id=unit.item.id, sample=unit.sample,
                                           attempts=0, cached=True)))
            self.progress.done += 1
            self.progress.cached += 1
        return rest, answered

    def _worker_count(self, pending: int) -> int:
        """How many workers pull from the queue (each takes the stop mark once)."""
        return max(1, min(self.concurrency, pending))

    async def _worker(self, queue: asyncio.Queue[WorkUnit | None], lane: int = 0) -> None:
        while True:
            unit = await queue.get()
            if unit is None:
                return
            await self._record_done(unit, await self._send(unit))

    async def _record_done(self, unit: WorkUnit, record: SampleRecord) -> None:
        """Store one unit's outcome and count it."""
        await self._store(unit, record)
        self.progress.done += 1
        if record.status == "error":
            self.progress.errors += 1
        elif record.status == "skipped":
            self.progress.skipped += 1
        self._notify()

    async def _store(self, unit: WorkUnit, record: SampleRecord) -> None:
        """Store ``record``, with its scores when the run scores answers as they arrive."""
        if self.score is not None and record.status == "ok":
            # a scorer failing on one answer never stops the run: the record is stored
            # unscored, and the report stage scores it again
            with contextlib.suppress(Exception):
                record = replace(record, scores=await self.score(unit.item, record.output or ""))
        self.store.record(self.run_id, record)

    def _notify(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.progress)


@dataclass
class Sender:
    """Sends one unit to the adapter with retries and returns its record (never raises for one
    item's failure; a fatal error or a configuration error stops the run). The local runner and
    each Ray actor hold one."""

    adapter: ModelAdapter
    run_id: str
    timeout: float = 120.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    seed: int = 0
    on_retry: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    async def send(self, unit: WorkUnit) -> SampleRecord:
        accepts = getattr(self.adapter, "modalities", None)
        missing = unit.item.modalities - set(accepts) if accepts else set()
        if missing:  # checked before sending: the model declared it cannot take this input
            return self._record(unit, "skipped", attempts=0,
                                error=f"{self.adapter.spec} takes no {', '.join(sorted(missing))} "
                                      f"input (it takes {', '.join(sorted(accepts))})")
        attempt = 0
        while True:
            attempt += 1
            start = time.perf_counter()
            try:
                response = await asyncio.wait_for(self.adapter.generate(unit.request),
                                                  self.timeout)
            except UnsupportedInput as exc:
                return self._record(unit, "skipped", error=str(exc), attempts=attempt)
            except FatalModelError:
                raise  # the run stops; this unit stays pending for --resume
            except (TransientModelError, TimeoutError, HttpError) as exc:  # transport: retried
                if attempt > self.retry.retries:
                    reason = str(exc) or f"timed out after {self.timeout:g} s"
                    return self._record(unit, "error", error=reason, attempts=attempt)
                retry_after = getattr(exc, "retry_after", None)
                if self.on_retry is not None:
                    self.on_retry()
                await asyncio.sleep(self.retry.delay(attempt, retry_after, self.rng))
                continue
            except ModelError as exc:
                return self._record(unit, "error", error=str(exc), attempts=attempt)
            except (asyncio.CancelledError, KeyboardInterrupt, SystemExit, MemoryError,
                    HaiaError):
                raise  # a user error (bad configuration) stops the run with its own message
            except Exception as exc:  # an adapter that failed on one answer fails that item only
                return self._record(unit, "error", attempts=attempt,
                                    error=f"malformed or unexpected answer: "
                                          f"{type(exc).__name__}: {str(exc)[:200]}")
            latency = response.latency_s or (time.perf_counter() - start)
            return self._record(unit, "ok", output=response.text, attempts=attempt,
                                prompt_tokens=response.usage.prompt_tokens,
                                completion_tokens=response.usage.completion_tokens,
                                latency_s=latency)

    def _record(self, unit: WorkUnit, status: str, **fields: object) -> SampleRecord:
        return SampleRecord(unit.item.id, unit.sample, unit.key, status,  # type: ignore[arg-type]
                            **fields)  # type: ignore[arg-type]
