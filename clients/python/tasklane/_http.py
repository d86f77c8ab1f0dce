"""One requests session per Client or Worker: base URL, key, timeouts, and typed errors."""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

import requests
from requests.adapters import HTTPAdapter

from . import __version__
from .errors import UnavailableError, error_from_answer


class Transport:
    def __init__(self, base_url: str, api_key: Optional[str] = None, timeout: float = 30.0,
                 pool_size: int = 10) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(1, pool_size))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["user-agent"] = f"tasklane-python/{__version__}"
        if api_key:
            self.session.headers["authorization"] = f"Bearer {api_key}"

    def request(self, method: str, path: str, *, json: Any = None, params: Optional[Dict[str, Any]] = None,
                headers: Optional[Dict[str, str]] = None, timeout: Optional[float] = None,
                stream: bool = False, ok: Sequence[int] = (200,)) -> requests.Response:
        """Sends one request; any answer outside ``ok`` raises its typed error."""
        try:
            response = self.session.request(method, self.base_url + path, json=json, params=params, headers=headers,
                                            timeout=timeout if timeout is not None else self.timeout, stream=stream)
        except (requests.ConnectionError, requests.Timeout) as error:
            raise UnavailableError(f"{method} {path}: no answer from {self.base_url} ({error.__class__.__name__})") from error
        if response.status_code in ok:
            return response
        try:
            body = response.json()
        except ValueError:
            body = None
        finally:
            response.close()
        raise error_from_answer(response.status_code, body, response.headers.get("retry-after"))

    def close(self) -> None:
        self.session.close()
