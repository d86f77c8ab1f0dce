"""A Server-Sent Events parser (the WHATWG rules this API needs): events from text chunks."""

from __future__ import annotations

from typing import Iterable, Iterator, List, NamedTuple, Optional


class Event(NamedTuple):
    event: str
    data: str
    id: Optional[str]


def parse_events(chunks: Iterable[str]) -> Iterator[Event]:
    """Yields each complete event; comments (``: keep-alive``) and incomplete trailing lines are skipped."""
    buffer = ""
    event = ""
    data: List[str] = []
    last_id: Optional[str] = None
    for chunk in chunks:
        buffer += chunk
        while True:
            cut = _line_end(buffer)
            if cut is None:
                break
            line, buffer = buffer[:cut[0]], buffer[cut[1]:]
            if line == "":
                if data:
                    yield Event(event or "message", "\n".join(data), last_id)
                event, data = "", []
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
            elif field == "id" and "\0" not in value:
                last_id = value


def _line_end(text: str):
    """(end of line, start of next) for the first CRLF, LF or CR that is surely complete."""
    for i, ch in enumerate(text):
        if ch == "\n":
            return i, i + 1
        if ch == "\r":
            if i + 1 == len(text):
                return None  # maybe the first half of a CRLF: wait for more
            return (i, i + 2) if text[i + 1] == "\n" else (i, i + 1)
    return None
