"""Tasklane for Python: submit and follow tasks (``Client``), run them in any process (``Worker``)."""

__version__ = "0.1.0"

from .client import Client  # noqa: E402
from .errors import (  # noqa: E402
    BadRequestError,
    ConflictError,
    ForbiddenError,
    IdempotencyConflictError,
    LeaseLostError,
    NotFoundError,
    RateLimitedError,
    TaskError,
    TaskTimeoutError,
    TasklaneError,
    UnauthenticatedError,
    UnavailableError,
)
from .webhooks import WebhookVerificationError, verify_webhook  # noqa: E402
from .worker import TaskContext, Worker  # noqa: E402

__all__ = [
    "Client",
    "Worker",
    "TaskContext",
    "TaskError",
    "TasklaneError",
    "BadRequestError",
    "UnauthenticatedError",
    "ForbiddenError",
    "NotFoundError",
    "ConflictError",
    "LeaseLostError",
    "IdempotencyConflictError",
    "RateLimitedError",
    "UnavailableError",
    "TaskTimeoutError",
    "verify_webhook",
    "WebhookVerificationError",
]
