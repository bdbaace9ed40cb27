"""``python -m newstag``: the same as the ``newstag`` command."""

from newstag.cli import main

main()
