"""The REST client: the seed's task endpoints as dicts, plus waiting and following."""

from __future__ import annotations

import codecs
import json
import logging
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

import requests

from ._http import Transport
from .errors import ForbiddenError, NotFoundError, TaskTimeoutError, UnauthenticatedError, UnavailableError, TasklaneError
from .sse import parse_events

log = logging.getLogger("tasklane.client")

TERMINAL = ("completed", "failed", "cancelled")

# The seed's "exponential backoff" polling: start at 2 s, times 1.5 per poll, at most 30 s.
POLL_FIRST_SECONDS = 2.0
POLL_FACTOR = 1.5
POLL_MAX_SECONDS = 30.0
# Longer than the server's 15 s keep-alive comment: a silent stream this long is a dead one.
SSE_READ_SECONDS = 40.0


def _path(task_id: str) -> str:
    return "/api/v1/tasks/" + requests.utils.quote(task_id, safe="")


class _NoStream(Exception):
    """The event stream is not available here (a proxy, a limit): poll instead."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class Client:
    """Submits, reads, lists, cancels, waits for and follows tasks over the REST API.

    Every method returns the server's JSON as plain dicts (the seed's shapes, key for key) and
    raises a typed ``TasklaneError`` subclass carrying the server's ``code``.
    """

    def __init__(self, base_url: str = "http://localhost:8000", api_key: Optional[str] = None,
                 timeout: float = 30.0) -> None:
        self._http = Transport(base_url, api_key, timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def submit(self, kind: str, input: Any = None, *, idempotency_key: Optional[str] = None,  # noqa: A002
               service: Optional[str] = None, priority: Optional[int] = None,
               max_attempts: Optional[int] = None) -> Dict[str, Any]:
        """Queues a task; returns its body (``task_id``, ``status`` …). Same key, same body: the same task."""
        body: Dict[str, Any] = {"kind": kind}
        if input is not None:
            body["input"] = input
        if service is not None:
            body["service"] = service
        if priority is not None:
            body["priority"] = priority
        if max_attempts is not None:
            body["max_attempts"] = max_attempts
        headers = {"idempotency-key": idempotency_key} if idempotency_key is not None else None
        return self._http.request("POST", "/api/v1/tasks", json=body, headers=headers, ok=(202,)).json()

    def get(self, task_id: str) -> Dict[str, Any]:
        return self._http.request("GET", _path(task_id)).json()

    def list(self, status: Union[str, Sequence[str], None] = None, kind: Union[str, Sequence[str], None] = None,
             limit: Optional[int] = None, order: Optional[str] = None) -> List[Dict[str, Any]]:
        """One page of tasks, oldest first (``order="desc"`` for newest), scoped to the key's owner."""
        params: Dict[str, Any] = {}
        if status is not None:
            params["status"] = status if isinstance(status, str) else ",".join(status)
        if kind is not None:
            params["kind"] = kind if isinstance(kind, str) else ",".join(kind)
        if limit is not None:
            params["limit"] = limit
        if order is not None:
            params["order"] = order
        return self._http.request("GET", "/api/v1/tasks", params=params).json()

    def cancel(self, task_id: str) -> Dict[str, Any]:
        """Cancels a pending or processing task (again on a cancelled one is fine); ConflictError when finished."""
        return self._http.request("DELETE", _path(task_id)).json()

    def wait(self, task_id: str, timeout: float = 300) -> Dict[str, Any]:
        """Blocks until the task is completed, failed or cancelled, and returns its final body.

        Follows the task's event stream; where that is unavailable (a buffering proxy, the
        subscription limit) it polls with the seed's backoff instead. Raises ``TaskTimeoutError``
        (a ``TimeoutError``) after ``timeout`` seconds.
        """
        last: Optional[Dict[str, Any]] = None
        for state in self.follow(task_id, timeout=timeout):
            last = state
        if last is None or last.get("status") not in TERMINAL:
            raise TaskTimeoutError(f"Task {task_id} did not finish within {timeout}s", task=last)
        return last

    def follow(self, task_id: str, timeout: Optional[float] = None) -> Iterator[Dict[str, Any]]:
        """Yields the task's state now and after every change, ending after a terminal state
        (or, with ``timeout``, when that many seconds have passed)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            yield from self._follow_stream(task_id, deadline)
        except _NoStream as no_stream:
            log.info("event stream for %s unavailable (%s); polling with backoff", task_id, no_stream.why)
            yield from self._follow_polling(task_id, deadline)

    def _follow_stream(self, task_id: str, deadline: Optional[float]) -> Iterator[Dict[str, Any]]:
        last_id: Optional[str] = None
        finished = False
        while not finished:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return
            headers = {"accept": "text/event-stream"}
            if last_id is not None:
                headers["last-event-id"] = last_id
            read = SSE_READ_SECONDS if left is None else max(0.05, min(left, SSE_READ_SECONDS))
            try:
                response = self._http.request("GET", _path(task_id) + "/events", headers=headers, stream=True,
                                              timeout=(self._http.timeout, read), ok=(200, 204))
            except (NotFoundError, UnauthenticatedError, ForbiddenError):
                raise
            except TasklaneError as error:
                if last_id is None:
                    raise _NoStream(f"{error.status or 'no answer'} {error.code or ''}".strip()) from error
                raise
            if response.status_code == 204:
                # Finished, and we have its last version already.
                response.close()
                return
            content_type = response.headers.get("content-type", "")
            if not content_type.startswith("text/event-stream"):
                response.close()
                raise _NoStream(f"answered {content_type or 'no content type'}")
            try:
                decoder = codecs.getincrementaldecoder("utf-8")()
                chunks = (decoder.decode(c) for c in response.iter_content(chunk_size=None))
                for event in parse_events(chunks):
                    if event.event != "task":
                        continue
                    last_id = event.id or last_id
                    state = json.loads(event.data)
                    yield state
                    if state.get("status") in TERMINAL:
                        finished = True
                        break
            except (requests.ConnectionError, requests.Timeout):
                pass  # cut or silent: reconnect after the last version seen, if time is left
            finally:
                response.close()

    def _follow_polling(self, task_id: str, deadline: Optional[float]) -> Iterator[Dict[str, Any]]:
        interval = POLL_FIRST_SECONDS
        seen: Optional[Dict[str, Any]] = None
        while True:
            try:
                state = self.get(task_id)
            except UnavailableError:
                state = None  # a blip: try again at the next interval
            if state is not None and state != seen:
                seen = state
                yield state
                if state.get("status") in TERMINAL:
                    return
            pause = interval
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                pause = min(pause, left)
            time.sleep(pause)
            interval = min(interval * POLL_FACTOR, POLL_MAX_SECONDS)
