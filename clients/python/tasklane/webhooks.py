"""Standard Webhooks verification for the deliveries Tasklane signs with an owner's ``whsec_`` secret."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any, Mapping, Optional, Union

SECRET_PREFIX = "whsec_"
# How far a delivery's timestamp may be from now, either way: a replayed old delivery is refused.
TOLERANCE_SECONDS = 5 * 60


class WebhookVerificationError(Exception):
    """The delivery is not one signed with this secret, or its timestamp is too far from now."""


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise WebhookVerificationError(f"missing {name} header")


def _key(secret: Union[str, bytes]) -> bytes:
    if isinstance(secret, bytes):
        return secret
    encoded = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("secret must be whsec_ followed by base64") from error


def sign(msg_id: str, timestamp: int, body: Union[str, bytes], secret: Union[str, bytes]) -> str:
    """The ``v1,<base64>`` signature of a delivery: HMAC-SHA256 of ``id.timestamp.body``."""
    payload = body.encode("utf-8") if isinstance(body, str) else body
    content = f"{msg_id}.{timestamp}.".encode("utf-8") + payload
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify_webhook(body: Union[str, bytes], headers: Mapping[str, str], secret: Union[str, bytes],
                   *, now: Optional[float] = None) -> Any:
    """Checks a delivery's ``webhook-signature`` and ``webhook-timestamp``; returns the parsed JSON body.

    ``body`` must be the raw request body, byte for byte as received. ``webhook-signature`` may
    hold several space-separated signatures (during a secret rotation); one valid ``v1`` is enough.
    Raises ``WebhookVerificationError`` for a wrong or missing signature, or a timestamp more than
    five minutes from ``now``.
    """
    msg_id = _header(headers, "webhook-id")
    timestamp_text = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    try:
        timestamp = int(timestamp_text)
    except ValueError as error:
        raise WebhookVerificationError("webhook-timestamp is not a whole number of seconds") from error
    current = time.time() if now is None else now
    if abs(current - timestamp) > TOLERANCE_SECONDS:
        raise WebhookVerificationError("webhook-timestamp is more than 5 minutes from now")
    expected = sign(msg_id, timestamp, body, secret).split(",", 1)[1].encode("ascii")
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode("ascii", "replace"), expected):
            payload = body.decode("utf-8") if isinstance(body, bytes) else body
            return json.loads(payload)
    raise WebhookVerificationError("no webhook-signature matches this secret")
