"""Charts and exports served by URL, for platforms that fetch images themselves and carry no
files (Zalo): `publish` stores the bytes in the database under a random token (192 bits) and
returns `<server.public_url>/media/<token>`; `GET /media/<token>` on the shared server answers
with them until they expire (a day), from any instance. Addresses are never listed: an
unknown, expired or malformed token is a plain 404."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from datetime import timedelta
from typing import Final
from urllib.parse import quote

from aiohttp import web

from handlers.clock import Clock
from storage import media
from storage.db import Database

log = logging.getLogger(__name__)

KEEP: Final = timedelta(days=1)
PATH: Final = "/media/{token}"
TOKEN: Final = re.compile(r"^[A-Za-z0-9_-]{32}$")  # secrets.token_urlsafe(24)
PRUNE_EVERY: Final = timedelta(hours=1)


class MediaServer:
    def __init__(self, db: Database, clock: Clock, public_url: str | None) -> None:
        self.db = db
        self.clock = clock
        self.public_url = public_url
        self._pruned = clock.now()

    @property
    def enabled(self) -> bool:
        return self.public_url is not None

    def mount(self, web_app: web.Application) -> None:
        web_app.router.add_get(PATH, self._serve)

    async def publish(self, name: str, mime_type: str, content: bytes) -> str:
        """Store `content` and return its public URL (https), valid for KEEP."""
        assert self.public_url is not None
        token = secrets.token_urlsafe(24)

        def write() -> None:
            now = self.clock.now()
            with self.db.session() as session:
                media.add(session, token, name, mime_type, content, now, now + KEEP)
                if now - self._pruned > PRUNE_EVERY:
                    media.prune(session, now)
                    self._pruned = now

        await asyncio.to_thread(write)
        return f"{self.public_url}/media/{token}"

    async def _serve(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if not TOKEN.match(token):
            raise web.HTTPNotFound()

        def read() -> media.Served | None:
            with self.db.session() as session:
                return media.get(session, token, self.clock.now())

        try:
            found = await asyncio.to_thread(read)
        except Exception as error:  # the database is away: Zalo may fetch again
            log.warning("media: cannot read (%s)", error)
            raise web.HTTPServiceUnavailable() from None
        if found is None:
            raise web.HTTPNotFound()
        inline = found.mime_type.startswith("image/")
        disposition = "inline" if inline else "attachment"
        return web.Response(
            body=found.content,
            content_type=found.mime_type,
            headers={
                # The name as the phone saves it; RFC 6266's filename* for Vietnamese letters.
                "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(found.name)}",
                "Cache-Control": "private, max-age=86400",
                "X-Robots-Tag": "noindex",
                "Referrer-Policy": "no-referrer",
            },
        )
