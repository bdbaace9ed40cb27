"""The error raised for bundles that are missing, corrupted, tampered or incompatible."""

from newstag.errors import NewstagError


class ModelError(NewstagError, ValueError):
    """A model bundle that cannot be used. The message names the bundle and the fix."""
