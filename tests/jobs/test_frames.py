"""pandas adapters and the entities HTML page, with stand-in taggers (fast)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pytest

from newstag.jobs.frames import entities_frame, progress_enabled, suggest_frame
from tests.jobs.test_batch import FakeTagger


@dataclass
class FakeMention:
    text: str
    start: int
    end: int


@dataclass
class FakeEntity:
    name: str
    type: str
    label: str
    mentions: list[FakeMention] = field(default_factory=list)
    salience: float = 0.5
    in_headline: bool = False
    in_lead: bool = True
    country: str | None = None

    @property
    def count(self) -> int:
        return len(self.mentions)


class FakeExtractor:
    """Capitalised words of the text as 'place' entities."""

    def extract(self, article: Any) -> list[FakeEntity]:
        found: dict[str, FakeEntity] = {}
        pos = 0
        text = article.text
        for word in text.split():
            start = text.index(word, pos)
            pos = start + len(word)
            if word[:1].isupper() and word.isalpha():
                ent = found.setdefault(word, FakeEntity(word, "place", "GPE"))
                ent.mentions.append(FakeMention(word, start, pos))
                ent.in_headline = ent.in_headline or start < len(article.title)
        return sorted(found.values(), key=lambda e: -e.count)

    def extract_many(self, articles: Any, batch_size: int = 64, n_process: int = 1) -> Any:
        return (self.extract(a) for a in articles)


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "headline": [
                "Harbour strike closes Rotterdam port",
                "Quiet day",
                "Budget vote in Oslo",
            ],
            "story": ["Workers in Rotterdam walked out.", "Nothing happened.", "Oslo votes."],
            "other": [1, 2, 3],
        },
        index=pd.Index(["x", "y", "z"], name="key"),
    )


def test_suggest_frame_long_keeps_index_and_does_not_mutate() -> None:
    df = frame()
    before = df.copy()
    tagger = FakeTagger()
    out = suggest_frame(tagger, df, title_col="headline", body_col="story", top_k=2, progress=False)
    pd.testing.assert_frame_equal(df, before)
    assert list(out.columns) == ["tag", "type", "score", "source", "rank"]
    assert out.index.name == "key"
    for key in df.index:
        expected = FakeTagger().suggest(_article(df.loc[key]), top_k=2)["tags"]
        rows = out.loc[[key]]
        if not expected:  # kept as one row of missing values, like DataFrame.explode
            assert len(rows) == 1 and rows["tag"].isna().all()
            continue
        assert rows["tag"].tolist() == [t["tag"] for t in expected]
        assert rows["rank"].tolist() == list(range(1, len(expected) + 1))
    assert "y" in out.index  # no article silently dropped
    joined = df.join(out)
    assert len(joined) == len(out)


def _article(row: pd.Series) -> Any:
    from newstag.io.article import from_record

    return from_record({"title": row["headline"], "body": row["story"]})


def test_suggest_frame_wide_has_one_row_per_article() -> None:
    df = frame()
    out = suggest_frame(
        FakeTagger(), df, title_col="headline", body_col="story", top_k=3, wide=True, progress=False
    )
    assert out.index.equals(df.index)
    assert list(out.columns) == ["tags", "types", "scores", "sources"]
    assert out.loc["x", "tags"] == [
        t["tag"] for t in FakeTagger().suggest(_article(df.loc["x"]), top_k=3)["tags"]
    ]
    assert all(len(t) == len(s) for t, s in zip(out["tags"], out["scores"], strict=True))


def test_text_col_and_bad_rows() -> None:
    df = pd.DataFrame({"text": ["Harbour strike closes port\n\nWorkers walked out.", None, ""]})
    with pytest.raises(ValueError, match=r"2 row\(s\) cannot be read.*row 1"):
        suggest_frame(FakeTagger(), df, text_col="text", progress=False)
    with pytest.warns(UserWarning, match="2 row"):
        out = suggest_frame(FakeTagger(), df, text_col="text", progress=False, errors="coerce")
    assert set(out.index) == {0, 1, 2}
    assert out.loc[[1, 2], "tag"].isna().all() and out.loc[[0], "tag"].notna().all()
    with pytest.raises(KeyError, match="headline"):
        suggest_frame(FakeTagger(), df, title_col="headline", progress=False)


def test_entities_frame_one_row_per_entity() -> None:
    df = frame()

    class TaggerWithExtractor(FakeTagger):
        extractor = FakeExtractor()

    out = entities_frame(
        TaggerWithExtractor(), df, title_col="headline", body_col="story", progress=False
    )
    assert out.index.name == "key"
    assert out.loc[["x"], "entity"].tolist() == [
        e.name for e in FakeExtractor().extract(_article(df.loc["x"]))
    ]
    rotterdam = out[(out.index == "x") & (out["entity"] == "Rotterdam")].iloc[0]
    assert rotterdam["count"] == 2 and bool(rotterdam["in_headline"])


def test_progress_follows_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert progress_enabled(True) and not progress_enabled(False)

    class Pipe:
        def isatty(self) -> bool:
            return False

    monkeypatch.setattr("sys.stderr", Pipe())
    assert not progress_enabled(None)


def test_render_html_highlights_mentions_and_lists_tags() -> None:
    from newstag.display import entity_spans, render_html
    from newstag.io.article import Article

    article = Article(title="Strike in Rotterdam", body="Rotterdam <dockers> & Oslo.")
    ents = FakeExtractor().extract(article)
    tags = [
        {
            "tag": "Labour <disputes>",
            "type": "topic",
            "score": 0.8,
            "source": "classifier",
            "evidence": [{"kind": "term", "text": "strike", "weight": 1.2}],
        }
    ]
    page = render_html(article, ents, tags)
    assert page.startswith("<!DOCTYPE html>")
    spans = entity_spans(article.text, ents)
    assert len(spans) == sum(e.count for e in ents) == page.count("<mark")
    for s in spans:
        assert article.text[s["start"] : s["end"]] in page
    assert "Labour &lt;disputes&gt;" in page and "<disputes>" not in page
    assert "&lt;dockers&gt;" in page
    # overlapping or out-of-range mentions are dropped, not crashed on
    bad = [
        {
            "type": "person",
            "mentions": [
                {"start": 0, "end": 9},
                {"start": 3, "end": 6},
                {"start": 500, "end": 600},
            ],
        }
    ]
    assert entity_spans(article.text, bad) == [{"start": 0, "end": 9, "label": "PERSON"}]


@pytest.mark.slow
def test_frames_and_page_with_the_real_tagger() -> None:
    import newstag
    from newstag.display import render_html
    from newstag.tagging.tagger import to_article

    tagger = newstag.load(model="none")
    df = pd.DataFrame(
        {
            "title": [
                "Vladimir Putin meets Kim Jong Un in Vladivostok",
                "Floods hit northern Italy",
            ],
            "body": [
                "The Russian president hosted the North Korean leader.",
                "Rivers burst their banks in Emilia-Romagna on Tuesday.",
            ],
        },
        index=[10, 20],
    )
    tags = tagger.suggest_frame(df, top_k=3, progress=False)
    for label, row in df.iterrows():
        want = tagger.suggest({"title": row["title"], "body": row["body"]}, top_k=3)["tags"]
        assert tags.loc[[label], "tag"].dropna().tolist() == [t["tag"] for t in want]
    ents = tagger.entities_frame(df, progress=False)
    assert "Vladimir Putin" in ents.loc[[10], "entity"].tolist()
    article = to_article(df.loc[10].to_dict())
    found = tagger.entities(article)
    page = render_html(article, found, tagger.suggest(article)["tags"])
    assert page.count("<mark") == sum(e.count for e in found) > 0
    assert render_html(article, [e.to_dict() for e in found], []).count("<mark") == page.count(
        "<mark"
    )


def test_render_pages_makes_one_document_for_many_articles() -> None:
    from newstag.display import render_pages
    from newstag.io.article import Article

    arts = [Article(title=f"Story {i} from Lisbon", body="Lisbon and Porto.") for i in range(3)]
    page = render_pages([(a, FakeExtractor().extract(a), []) for a in arts])
    assert page.count("<!DOCTYPE html>") == 1 and page.count("</html>") == 1
    assert page.count('<section class="article">') == 3
    assert page.count("<mark") == sum(e.count for a in arts for e in FakeExtractor().extract(a))
