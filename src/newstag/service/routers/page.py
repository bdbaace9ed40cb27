"""The editor's review page at ``/`` and its assets (see :mod:`newstag.service.page`)."""

from __future__ import annotations

from newstag.service.page import router as page_router

router = page_router()
