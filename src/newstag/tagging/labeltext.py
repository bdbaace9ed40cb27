"""Where a tag's own name or aliases are written in an article, as plain words.

Generic evidence for topic tags that no entity names ("coffee", "palm-oil" -> "palm oil",
"crude" -> alias "Crude Oil", "Climate change"): the tag and its aliases are split into
word forms (on "/" and " and "; with a simple plural or singular), and the article's
headline and body are searched for them as whole normalised word sequences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from newstag.tagging.linker import norm

LEAD_CHARS = 300
"""How far into the (normalised) body the lead reaches."""
_SPLIT = re.compile(r"/| and | & |;", re.IGNORECASE)


def label_forms(tag: str, aliases: Iterable[str] = ()) -> tuple[str, ...]:
    """Normalised word forms of a tag and its aliases (words of 3+ letters, or phrases)."""
    forms: dict[str, None] = {}
    for name in (tag, *aliases):
        for part in _SPLIT.split(name):
            key = norm(part)
            if not key or (" " not in key and len(key) < 3) or key.isdigit():
                continue
            forms[key] = None
            forms[key[:-1] if key.endswith("s") and len(key) > 3 else key + "s"] = None
    return tuple(forms)


def tag_label_forms(
    tags: Iterable[str], aliases: dict[str, Sequence[str]] | None = None
) -> dict[str, tuple[str, ...]]:
    """:func:`label_forms` of every tag (with its aliases, if any), by tag."""
    return {t: label_forms(t, (aliases or {}).get(t, ())) for t in sorted(tags)}


class LabelText:
    """One article's normalised headline and body, searched for label forms."""

    def __init__(self, text: str) -> None:
        headline, body = text.split("\n\n", 1) if "\n\n" in text else ("", text)
        self.headline = f" {norm(headline)} "
        self.body = f" {norm(body)} "

    def find(self, forms: Sequence[str]) -> tuple[bool, int, bool]:
        """(in the headline, mentions in the body, in the body's lead) for these forms."""
        in_headline = in_lead = False
        mentions = 0
        for form in forms:
            key = f" {form} "
            in_headline = in_headline or key in self.headline
            n = self.body.count(key)
            if n:
                mentions += n
                in_lead = in_lead or self.body.find(key) < LEAD_CHARS
        return in_headline, mentions, in_lead
