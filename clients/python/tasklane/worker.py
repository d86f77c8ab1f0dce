"""The HTTP worker: claims tasks of the kinds it has handlers for and runs each in a thread."""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import socket
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional

from ._http import Transport
from ._progress import ProgressPump
from .errors import (ForbiddenError, LeaseLostError, TaskError, TasklaneError, UnauthenticatedError,
                     UnavailableError, BadRequestError)

log = logging.getLogger("tasklane.worker")

Handler = Callable[[Dict[str, Any], "TaskContext"], Any]

# How long one claim waits on the server for work (it answers at once when there is some).
CLAIM_WAIT_SECONDS = 20
# A heartbeat waits on the server up to this long (a third of the lease if shorter): under the
# idle timeout of common proxies, and it answers at once when a held task is cancelled anyway.
WATCH_MAX_SECONDS = 25
# New tasks are added to the watched set at most this often (each addition is one heartbeat call).
REWATCH_SECONDS = 0.2


class TaskContext:
    """What a handler gets beside its task.

    ``cancelled`` is a ``threading.Event`` set when the task is cancelled, when this worker loses
    it (lease expired, taken elsewhere), or at shutdown; ``reason`` then says which
    (``"cancelled"``, ``"lease_lost"`` or ``"shutdown"``). Stop soon after it is set: the task's
    outcome will not be stored.
    """

    def __init__(self, worker: "Worker", task: Dict[str, Any]) -> None:
        self._worker = worker
        self.task = task
        self.task_id: str = task["task_id"]
        self.attempt: int = task["attempt"]
        self.worker_id: str = worker.worker_id
        self.cancelled = threading.Event()
        self.reason: Optional[str] = None
        self.service: Optional[str] = None

    def progress(self, percent: float, message: Optional[str] = None) -> None:
        """Reports progress (0-100) and an optional message. Cheap: writes are coalesced."""
        self._worker._progress.report(self.task_id, percent, message)

    def set_service(self, service: str) -> None:
        """Names the provider that did the work (shown in the task's ``result.service``)."""
        self.service = service

    def _abort(self, reason: str) -> bool:
        if self.cancelled.is_set():
            return False
        self.reason = reason
        self.cancelled.set()
        return True


class _Running:
    def __init__(self, task: Dict[str, Any], ctx: TaskContext) -> None:
        self.task = task
        self.ctx = ctx
        self.phase = "running"  # then "settling" (storing the outcome), then "done"


class Worker:
    """Runs handlers for tasks claimed over the HTTP worker protocol.

    ``concurrency`` tasks run at once, each in its own thread. ``run()`` blocks; SIGTERM or
    SIGINT (or ``stop()``) stops claiming, lets running tasks finish for ``grace_period``
    seconds, then sets their ``ctx.cancelled`` and gives them back to pending without spending an
    attempt (a handler that ignores it is abandoned: its result is not stored).
    """

    def __init__(self, base_url: str = "http://localhost:8000", api_key: Optional[str] = None,
                 concurrency: int = 1, *, worker_id: Optional[str] = None, grace_period: float = 20.0,
                 claim_wait: int = CLAIM_WAIT_SECONDS, timeout: float = 30.0) -> None:
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be a whole number of at least 1, got {concurrency!r}")
        self.concurrency = concurrency
        self.grace_period = grace_period
        self.claim_wait = claim_wait
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"[:128]
        self._http = Transport(base_url, api_key, timeout, pool_size=concurrency + 8)
        self._base = "/api/v1/workers/" + self.worker_id
        self._handlers: Dict[str, Handler] = {}
        self._services: Dict[str, Optional[str]] = {}
        self._held: Dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._signalled = False
        self._stopped = threading.Event()
        self._fatal: Optional[BaseException] = None
        self._lease_seconds = 30.0
        self._watch_token = 0
        self._watch_started = 0.0
        self._watch_timer: Optional[threading.Timer] = None
        self._progress = ProgressPump(self._write_progress)

    def handler(self, kind: str, *, service: Optional[str] = None) -> Callable[[Handler], Handler]:
        """Registers ``fn(task, ctx)`` for ``kind``; its return value (JSON) is the task's result."""
        def register(fn: Handler) -> Handler:
            self._handlers[kind] = fn
            self._services[kind] = service
            return fn
        return register

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._held)

    def stop(self) -> None:
        """Asks ``run()`` to shut down gracefully; safe from any thread (``run()`` itself handles SIGTERM and SIGINT)."""
        self._stop.set()

    # ---- the main loop

    def run(self, install_signal_handlers: bool = True) -> None:
        if not self._handlers:
            raise ValueError("no handlers: register one with @worker.handler(kind)")
        restore = self._install_signals() if install_signal_handlers else {}
        try:
            # Fails fast on a wrong key (401/403), and learns the lease; waits out an API that is not up yet.
            backoff = 0.25
            while not self._stop.is_set():
                try:
                    self._heartbeat_once(wait=0)
                    break
                except UnavailableError as error:
                    log.warning("cannot reach the API yet (%s); retrying in %.1fs", error, backoff)
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, 5.0)
            self._start_watch()
            claimer = threading.Thread(target=self._claim_loop, name="tasklane-claim", daemon=True)
            claimer.start()
            log.info("worker %s started: kinds %s, concurrency %d", self.worker_id, sorted(self._handlers), self.concurrency)
            # A signal handler only sets a flag: Event.set() there could deadlock with an Event.wait()
            # it interrupted in this thread (the event's lock is not reentrant).
            while not self._stop.is_set() and not self._signalled:
                time.sleep(0.1)
            self._stop.set()
            self._shutdown(claimer)
        finally:
            for sig, previous in restore.items():
                signal.signal(sig, previous)
            self._stopped.set()
        if self._fatal is not None:
            raise self._fatal

    def _install_signals(self) -> Dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, self._on_signal)
        return previous

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._signalled = True

    def _claim_loop(self) -> None:
        kinds = sorted(self._handlers)
        backoff = 0.1
        while not self._stop.is_set():
            with self._changed:
                free = self.concurrency - sum(1 for r in self._held.values() if r.phase == "running")
                # Outcomes being stored hold no slot, but at most `concurrency` of them may pile up.
                free = min(free, 2 * self.concurrency - len(self._held))
                if free <= 0:
                    self._changed.wait(1.0)
                    continue
            try:
                answer = self._post("/claim", {"kinds": kinds, "max": free, "wait": self.claim_wait},
                                    timeout=self.claim_wait + self._http.timeout)
                backoff = 0.1
            except (UnauthenticatedError, ForbiddenError, BadRequestError) as error:
                log.error("claims refused: %s", error)
                self._fatal = error
                self._stop.set()
                return
            except TasklaneError as error:
                log.warning("claim failed (%s); retrying in %.1fs", error, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            self._lease_seconds = float(answer.get("lease_seconds", self._lease_seconds))
            tasks = answer.get("tasks", [])
            if self._stop.is_set():
                # Claimed just as we stopped: give them back unstarted.
                self._release([(t["task_id"], t["attempt"]) for t in tasks])
                return
            for task in tasks:
                self._start(task)
            if tasks:
                self._rewatch()

    def _start(self, task: Dict[str, Any]) -> None:
        ctx = TaskContext(self, task)
        ctx.service = self._services.get(task["kind"])
        entry = _Running(task, ctx)
        with self._lock:
            earlier = self._held.get(task["task_id"])
            if earlier is not None:
                earlier.ctx._abort("lease_lost")  # our own earlier attempt, swept and claimed again
            self._held[task["task_id"]] = entry
        threading.Thread(target=self._run_task, args=(entry,), name=f"tasklane-{task['task_id']}", daemon=True).start()

    def _run_task(self, entry: _Running) -> None:
        task, ctx = entry.task, entry.ctx
        handler = self._handlers[task["kind"]]
        try:
            outcome: Dict[str, Any] = {"ok": True, "value": handler(task, ctx)}
        except BaseException as error:  # noqa: BLE001 - every failure becomes the task's error
            outcome = {"ok": False, "error": error}
        with self._changed:
            entry.phase = "settling"
            self._changed.notify_all()
        try:
            self._settle(entry, outcome)
        finally:
            with self._changed:
                entry.phase = "done"
                if self._held.get(ctx.task_id) is entry:
                    del self._held[ctx.task_id]
                self._changed.notify_all()

    def _settle(self, entry: _Running, outcome: Dict[str, Any]) -> None:
        ctx = entry.ctx
        last = self._progress.close(ctx.task_id)
        if ctx.cancelled.is_set():
            # Cancelled or taken away: the server would refuse the write. At shutdown, the task is released.
            return
        if outcome["ok"]:
            try:
                json.dumps(outcome["value"])
                body: Dict[str, Any] = {"attempt": ctx.attempt, "result": outcome["value"], "service": ctx.service}
                path = "/complete"
            except (TypeError, ValueError):
                outcome = {"ok": False, "error": TaskError("InvalidResult", "The handler returned a value that cannot be stored as JSON")}
        if not outcome["ok"]:
            error = outcome["error"]
            if isinstance(error, TaskError):
                info = {"type": error.type, "message": error.message, "retryable": bool(error.retryable)}
            else:
                info = {"type": type(error).__name__ or "Error", "message": str(error), "retryable": True}
            body = {"attempt": ctx.attempt, "error": info}
            if last is not None:
                body["progress"] = last[0]
            path = "/fail"
        backoff = 0.1
        while True:
            try:
                self._post(f"/tasks/{ctx.task_id}{path}", body)
                return
            except LeaseLostError as error:
                log.info("task %s was %s before its outcome was stored", ctx.task_id, error.task_status or "lost")
                return
            except UnavailableError as error:
                if ctx.cancelled.is_set():
                    return
                log.warning("storing the outcome of %s failed (%s); retrying", ctx.task_id, error)
                time.sleep(backoff + random.random() * backoff)
                backoff = min(backoff * 2, 5.0)
            except TasklaneError as error:
                log.error("the server refused the outcome of %s: %s", ctx.task_id, error)
                return

    def _write_progress(self, task_id: str, update: Any) -> None:
        with self._lock:
            entry = self._held.get(task_id)
        if entry is None or entry.phase != "running" or entry.ctx.cancelled.is_set():
            return
        percent, message = update
        try:
            self._post(f"/tasks/{task_id}/progress", {"attempt": entry.ctx.attempt, "progress": percent, "message": message})
        except LeaseLostError as error:
            self._abort(task_id, entry.ctx.attempt, "cancelled" if error.task_status == "cancelled" else "lease_lost")

    def _abort(self, task_id: str, attempt: Optional[int], reason: str) -> None:
        with self._lock:
            entry = self._held.get(task_id)
        if entry is None or (attempt is not None and entry.ctx.attempt != attempt) or entry.phase != "running":
            return
        if entry.ctx._abort(reason):
            log.info("task %s aborted: %s", task_id, reason)

    # ---- heartbeats: one call renews every lease and answers, at once, when a held task is cancelled

    def _held_list(self) -> List[Dict[str, Any]]:
        with self._lock:
            return [{"task_id": r.ctx.task_id, "attempt": r.ctx.attempt}
                    for r in self._held.values() if r.phase != "done" and not r.ctx.cancelled.is_set()]

    def _heartbeat_once(self, wait: float) -> None:
        held = self._held_list()
        answer = self._post("/heartbeat", {"tasks": held, "wait": int(wait)}, timeout=wait + self._http.timeout)
        self._lease_seconds = float(answer.get("lease_seconds", self._lease_seconds))
        attempts = {h["task_id"]: h["attempt"] for h in held}
        for task_id in answer.get("cancelled", []):
            self._abort(task_id, attempts.get(task_id), "cancelled")
        for task_id in answer.get("lost", []):
            self._abort(task_id, attempts.get(task_id), "lease_lost")

    def _start_watch(self) -> None:
        with self._lock:
            self._watch_token += 1
            token = self._watch_token
            self._watch_started = time.monotonic()
        threading.Thread(target=self._watch, args=(token,), name="tasklane-heartbeat", daemon=True).start()

    def _rewatch(self) -> None:
        """New tasks joined: start a heartbeat that watches them too (the server ends the older one)."""
        with self._lock:
            due = self._watch_started + REWATCH_SECONDS - time.monotonic()
            if due > 0:
                if self._watch_timer is None:
                    self._watch_timer = threading.Timer(due, self._rewatch_now)
                    self._watch_timer.daemon = True
                    self._watch_timer.start()
                return
        self._start_watch()

    def _rewatch_now(self) -> None:
        with self._lock:
            self._watch_timer = None
        self._start_watch()

    def _watch(self, token: int) -> None:
        backoff = 0.5
        while not self._stopped.is_set() and token == self._watch_token:
            wait = max(1, min(WATCH_MAX_SECONDS, int(self._lease_seconds / 3)))
            try:
                self._heartbeat_once(wait)
                backoff = 0.5
            except TasklaneError as error:
                log.warning("heartbeat failed (%s); retrying", error)
                self._stopped.wait(backoff)
                backoff = min(backoff * 2, max(1.0, self._lease_seconds / 6))

    # ---- shutdown

    def _shutdown(self, claimer: threading.Thread) -> None:
        log.info("worker %s stopping: %d running, grace %.1fs", self.worker_id, self.running, self.grace_period)
        deadline = time.monotonic() + self.grace_period
        with self._changed:
            while self._held and time.monotonic() < deadline:
                self._changed.wait(max(0.01, deadline - time.monotonic()))
            interrupted = [r for r in self._held.values() if r.phase == "running" and not r.ctx.cancelled.is_set()]
            for r in interrupted:
                r.ctx._abort("shutdown")
        if interrupted:
            self._release([(r.ctx.task_id, r.ctx.attempt) for r in interrupted])
            log.info("released %d unfinished tasks", len(interrupted))
        # Outcomes being stored finish their write; handlers that ignored ctx.cancelled are abandoned.
        with self._changed:
            end = time.monotonic() + min(5.0, max(0.5, self.grace_period))
            while any(r.phase == "settling" for r in self._held.values()) and time.monotonic() < end:
                self._changed.wait(max(0.01, end - time.monotonic()))
        self._progress.stop()
        log.info("worker %s stopped", self.worker_id)

    def _release(self, held: List[Any]) -> None:
        if not held:
            return
        try:
            self._post("/release", {"tasks": [{"task_id": t, "attempt": a} for t, a in held]})
        except TasklaneError as error:
            log.error("could not give back %d tasks (%s); the lease sweep will retry them", len(held), error)

    def _post(self, path: str, body: Dict[str, Any], timeout: Optional[float] = None) -> Dict[str, Any]:
        return self._http.request("POST", self._base + path, json=body, timeout=timeout).json()
