"""The error of the related-headlines index."""

from __future__ import annotations

from newstag.errors import InputError


class RelatedError(InputError, ValueError):
    """A bad index, input file or query. The message is one line meant for the user."""
