"""Typed errors. Each carries the HTTP status and the server's error ``code`` (e.g. ``NOT_FOUND``)."""

from __future__ import annotations

from typing import Any, Dict, Optional


class TasklaneError(Exception):
    """Anything the Tasklane API refused or could not answer.

    ``status`` is the HTTP status (None when there was no answer), ``code`` the server's error
    code, ``problem`` the whole RFC 9457 problem body when there was one.
    """

    def __init__(self, message: str, *, status: Optional[int] = None, code: Optional[str] = None,
                 problem: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.problem = problem or {}


class BadRequestError(TasklaneError):
    """400/413/415: the request is wrong; ``field`` and ``rule`` say what to fix when known."""

    @property
    def field(self) -> Optional[str]:
        return self.problem.get("field")

    @property
    def rule(self) -> Optional[str]:
        return self.problem.get("rule")


class UnauthenticatedError(TasklaneError):
    """401: no API key, or one that is malformed, unknown or revoked."""


class ForbiddenError(TasklaneError):
    """403: the key's role does not allow this (a worker key outside the worker protocol, or the reverse)."""


class NotFoundError(TasklaneError):
    """404: no such task (or another owner's, or past retention)."""


class ConflictError(TasklaneError):
    """409: the task's state does not allow this (e.g. cancelling a completed task)."""


class LeaseLostError(ConflictError):
    """409 ``LEASE_LOST``: this worker no longer holds the task; nothing was changed."""

    @property
    def task_status(self) -> Optional[str]:
        return self.problem.get("task_status")


class IdempotencyConflictError(TasklaneError):
    """422: the Idempotency-Key was used before with a different request."""


class RateLimitedError(TasklaneError):
    """429: over a quota; ``retry_after`` is the server's suggested wait in seconds."""

    def __init__(self, message: str, *, retry_after: Optional[float] = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class UnavailableError(TasklaneError):
    """503, a 5xx, or no answer at all (connection refused, timed out): worth retrying later."""


class TaskTimeoutError(TasklaneError, TimeoutError):
    """``Client.wait`` gave up: the task did not finish in time. ``task`` is its last known state."""

    def __init__(self, message: str, *, task: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.task = task


class TaskError(Exception):
    """Raised by a handler to fail its task with a chosen error.

    ``type`` is a stable name clients can branch on (``ContentPolicy``); a ``retryable`` error is
    tried again with backoff while attempts remain. Any other exception a handler raises counts
    as retryable, with its class name as the type.
    """

    def __init__(self, type: str, message: str, retryable: bool = False) -> None:  # noqa: A002 - the protocol's name
        super().__init__(message)
        self.type = type
        self.message = message
        self.retryable = retryable


_BY_STATUS = {
    400: BadRequestError,
    401: UnauthenticatedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: BadRequestError,
    415: BadRequestError,
    422: IdempotencyConflictError,
    429: RateLimitedError,
}


def error_from_answer(status: int, body: Any, retry_after: Optional[str] = None) -> TasklaneError:
    """The typed error for an error answer (a problem+json body, or anything else)."""
    problem = body if isinstance(body, dict) else {}
    code = problem.get("code") if isinstance(problem.get("code"), str) else None
    message = problem.get("detail") or problem.get("title") or problem.get("message") or f"HTTP {status}"
    kwargs: Dict[str, Any] = {"status": status, "code": code, "problem": problem}
    if code == "LEASE_LOST":
        return LeaseLostError(message, **kwargs)
    if status == 429:
        seconds: Optional[float] = None
        try:
            seconds = float(retry_after) if retry_after is not None else None
        except ValueError:
            seconds = None
        return RateLimitedError(message, retry_after=seconds, **kwargs)
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = UnavailableError if status >= 500 else TasklaneError
    return cls(message, **kwargs)
