"""The root of newstag's errors.

Every error newstag raises for something a user can fix (a bad file, setting, model or
request) is a :class:`NewstagError`. Its ``str`` is one line naming the input and the
problem, so the command line prints it as ``error: <message>`` (exit 1) and the service
answers it as ``{"error": <message>}`` with the error's HTTP ``status``. Anything else is a
bug and keeps its traceback.

- :class:`InputError` (422): the input itself is wrong (an article, record file, corpus,
  query, batch job);
- other :class:`NewstagError` (500 unless the class says otherwise): a setting, model,
  pipeline or store that cannot be used.
"""

from __future__ import annotations


class NewstagError(Exception):
    """An error meant for the user; ``str`` is one line."""

    status: int = 500
    """The HTTP status the service answers this error with."""
    exit_code: int = 1
    """The command line's exit status for this error."""

    def __str__(self) -> str:
        return one_line(super().__str__())


class InputError(NewstagError):
    """Input that cannot be used as it is (the service answers 422)."""

    status = 422


def one_line(text: str) -> str:
    """``text`` with its lines joined by spaces (blank lines and edge spaces dropped)."""
    if "\n" not in text:
        return text
    return " ".join(line.strip() for line in text.splitlines() if line.strip())
