"""A reply as the outbox stores it: JSON, with images and files as base64, read back into the
same `Reply` value. Round-trip exact, so what the engine answered is what the adapter sends."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from typing import Any

from handlers.values import Button, File, Form, FormField, Image, Reply


def _bytes_out(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {k: _bytes_out(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_bytes_out(v) for v in value]
    return value


def _bytes_in(value: Any) -> bytes:
    return base64.b64decode(value["b64"])


def form_of(data: dict[str, Any]) -> Form:
    """A `Form` back from its `asdict` JSON (in the outbox, or a prompt's state)."""
    fields = tuple(
        FormField(**{**f, "suggestions": tuple(f["suggestions"])}) for f in data["fields"]
    )
    return Form(**{**data, "fields": fields})


def dumps(reply: Reply, hints: dict[str, Any]) -> str:
    """The reply and the adapter's hints (where to answer, what to clean up) as one JSON."""
    return json.dumps({"reply": _bytes_out(asdict(reply)), "hints": hints}, ensure_ascii=False)


def loads(payload: str) -> tuple[Reply, dict[str, Any]]:
    data = json.loads(payload)
    r = data["reply"]
    reply = Reply(
        text=r["text"],
        buttons=tuple(Button(**b) for b in r["buttons"]),
        images=tuple(Image(i["name"], _bytes_in(i["content"]), i["caption"]) for i in r["images"]),
        files=tuple(File(f["name"], _bytes_in(f["content"]), f["mime_type"]) for f in r["files"]),
        form=form_of(r["form"]) if r["form"] is not None else None,
        is_error=r["is_error"],
        error_field=r["error_field"],
    )
    return reply, data["hints"]
