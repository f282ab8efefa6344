"""Logging for the `tiendo` command line: one format, and quiet libraries."""

from __future__ import annotations

import logging


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Alembic narrates every migration step at INFO; only its problems matter on a console.
    logging.getLogger("alembic").setLevel(logging.WARNING)
