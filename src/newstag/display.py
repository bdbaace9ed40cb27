"""An article as a web page: its entities highlighted (spaCy's displacy) and its tags listed."""

from __future__ import annotations

import html
from typing import Any

from newstag.io.article import Article

COLORS = {
    "person": "#aa9cfc",
    "place": "#feca74",
    "organisation": "#7aecec",
    "group": "#c887fb",
    "topic": "#e4e7d2",
}

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 56em; padding: 0 1em; line-height: 1.5; color: #222; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.15em; margin-top: 2em; }}
table {{ border-collapse: collapse; }} td, th {{ padding: .25em .8em; text-align: left;
       border-bottom: 1px solid #ddd; }}
.legend span {{ padding: .1em .5em; border-radius: .3em; margin-right: .5em; }}
h1 mark {{ padding: 0 .2em; border-radius: .25em; }}
.new {{ font-size: .8em; color: #a00; }}
section.article + section.article {{ border-top: 2px solid #ccc; margin-top: 3em; }}
</style>
</head>
<body>
<p class="legend">{legend}</p>
{sections}
</body>
</html>
"""

_SECTION = """<section class="article">
<h1>{title}</h1>
<div class="text">{markup}</div>
<h2>Suggested tags</h2>
{tags}
<h2>Entities</h2>
{entities}
</section>"""


def _get(obj: Any, key: str, default: Any = None) -> Any:
    return obj.get(key, default) if isinstance(obj, dict) else getattr(obj, key, default)


def entity_spans(text: str, entities: list[Any]) -> list[dict[str, Any]]:
    """displacy ``ents`` for the mentions of ``entities``: sorted, non-overlapping, in range."""
    spans = []
    for ent in entities:
        etype = _get(ent, "type", "entity")
        for m in _get(ent, "mentions", []) or []:
            start, end = int(_get(m, "start")), int(_get(m, "end"))
            if 0 <= start < end <= len(text):
                spans.append({"start": start, "end": end, "label": str(etype).upper()})
    spans.sort(key=lambda s: (s["start"], -(s["end"] - s["start"])))
    kept: list[dict[str, Any]] = []
    for span in spans:
        if kept and span["start"] < kept[-1]["end"]:
            continue  # overlaps the previous (longer or earlier) mention
        kept.append(span)
    return kept


def evidence_text(tag: dict[str, Any], max_items: int = 5, max_chars: int | None = None) -> str:
    """A tag's evidence for people: each text once (whatever its case; the classifier's
    ``entity:Name`` features as ``Name``), at most ``max_items``, and within ``max_chars`` by
    dropping whole items (an ellipsis says some were left out), never cutting a word."""
    seen: dict[str, str] = {}
    for item in tag.get("evidence", []) or []:
        text = str(item.get("text", "")).strip()
        if text.startswith("entity:"):
            text = text[len("entity:") :]
        if text and text.casefold() not in seen:
            seen[text.casefold()] = text
    texts = list(seen.values())

    def joined(n: int) -> str:
        return ", ".join(texts[:n]) + (", …" if n < len(texts) else "")

    n = min(max_items, len(texts))
    while n and max_chars is not None and len(joined(n)) > max_chars:
        n -= 1
    return joined(n) if n else ("…" if texts else "")


def _tags_table(tags: list[dict[str, Any]]) -> str:
    if not tags:
        return "<p>No tags suggested.</p>"
    rows = []
    for t in tags:
        new = ' <span class="new">new</span>' if t.get("new") else ""
        rows.append(
            f"<tr><td>{html.escape(str(t.get('tag', '')))}{new}</td>"
            f"<td>{html.escape(str(t.get('type', '')))}</td>"
            f"<td>{float(t.get('score', 0.0)):.3f}</td>"
            f"<td>{html.escape(str(t.get('source', '')))}</td>"
            f"<td>{html.escape(evidence_text(t))}</td></tr>"
        )
    return (
        "<table><tr><th>tag</th><th>type</th><th>score</th><th>source</th>"
        "<th>evidence</th></tr>\n" + "\n".join(rows) + "</table>"
    )


def _entities_table(entities: list[Any]) -> str:
    if not entities:
        return "<p>No entities found.</p>"
    rows = []
    for e in entities:
        mentions = _get(e, "mentions", []) or []
        count = _get(e, "count", len(mentions))
        rows.append(
            f"<tr><td>{html.escape(str(_get(e, 'name', '')))}</td>"
            f"<td>{html.escape(str(_get(e, 'type', '')))}</td>"
            f"<td>{count}</td><td>{float(_get(e, 'salience', 0.0) or 0.0):.3f}</td></tr>"
        )
    return (
        "<table><tr><th>entity</th><th>type</th><th>mentions</th><th>salience</th></tr>\n"
        + "\n".join(rows)
        + "</table>"
    )


def _colors() -> dict[str, str]:
    return {k.upper(): v for k, v in COLORS.items()}


def _highlight(text: str, spans: list[dict[str, Any]]) -> str:
    """``text`` as HTML with ``spans`` (offsets into it) in ``<mark>``s of their type's colour."""
    colors, out, at = _colors(), [], 0
    for span in spans:
        color = colors.get(span["label"], "#ddd")
        out += [
            html.escape(text[at : span["start"]]),
            f'<mark class="entity" style="background: {color}" title="{span["label"]}">'
            f"{html.escape(text[span['start'] : span['end']])}</mark>",
        ]
        at = span["end"]
    return "".join(out) + html.escape(text[at:])


def _split_spans(
    article: Article, spans: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The mentions in the headline, and those in the body with offsets into the body."""
    if not article.title:
        return [], spans
    end, shift = len(article.title), len(article.title) + 2  # headline + "\n\n" + body
    head = [s for s in spans if s["end"] <= end]
    body = [
        {**s, "start": s["start"] - shift, "end": s["end"] - shift}
        for s in spans
        if s["start"] >= shift
    ]
    return head, body


def render_section(article: Article, entities: list[Any], tags: list[dict[str, Any]]) -> str:
    """One article as an HTML ``<section>``: the headline (once, as the title) and the body
    with their mentions highlighted, then the tag and entity tables."""
    from spacy import displacy

    head, body = _split_spans(article, entity_spans(article.text, entities))
    title = _highlight(article.title, head) if article.title else html.escape(article.source)
    markup = displacy.render(
        {"text": article.body if article.title else article.text, "ents": body, "title": None},
        style="ent",
        manual=True,
        page=False,
        jupyter=False,
        options={"colors": _colors()},
    )
    return _SECTION.format(
        title=title, markup=markup, tags=_tags_table(tags), entities=_entities_table(entities)
    )


def used_types(items: list[tuple[Article, list[Any], list[dict[str, Any]]]]) -> list[str]:
    """The entity types highlighted in ``items``, in legend order."""
    labels = {
        span["label"]
        for article, entities, _ in items
        for span in entity_spans(article.text, entities)
    }
    return [k for k in COLORS if k.upper() in labels]


def render_pages(items: list[tuple[Article, list[Any], list[dict[str, Any]]]]) -> str:
    """A standalone HTML page with one section per ``(article, entities, tags)``; the legend
    lists the entity types that are highlighted."""
    legend = "".join(
        f'<span style="background:{COLORS[k]}">{html.escape(k)}</span>' for k in used_types(items)
    )
    titles = [a.title or a.source for a, _, _ in items]
    title = titles[0] if len(titles) == 1 else f"{len(titles)} articles"
    return _PAGE.format(
        title=html.escape(title),
        legend=legend,
        sections="\n".join(render_section(*item) for item in items),
    )


def render_html(article: Article, entities: list[Any], tags: list[dict[str, Any]]) -> str:
    """A standalone HTML page: the article with entity mentions highlighted, then its tags.

    ``entities`` are :class:`newstag.nlp.entities.Entity` objects or their ``to_dict()`` forms
    (mention offsets into ``article.text``); ``tags`` are the ``"tags"`` of a suggestion.
    For several articles in one page use :func:`render_pages`.
    """
    return render_pages([(article, entities, tags)])
