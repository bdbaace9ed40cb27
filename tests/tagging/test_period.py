"""The ``period`` source: tags' periods of use learned from training dates, scored against
the article's date (issue 18, "Time")."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from newstag.tagging import load_model, save_model
from newstag.tagging.sources import DEFAULT_SOURCES, Batch, TrainingSet
from newstag.tagging.sources.period import (
    UNKNOWN,
    PeriodSource,
    article_year,
    period_features,
    tag_periods,
)
from newstag.tagging.tagmodel import TagModel
from tests.conftest import ROOT, run_cli
from tests.tagging.test_model_parts import _toy_corpus

WITH_PERIOD = (*DEFAULT_SOURCES, "period")
SEASON = "2008-09 Bundesliga season"


def _fitted(dates: list[str | None], tags: list[list[str]]) -> PeriodSource:
    return PeriodSource().fit(TrainingSet(None, [[]] * len(tags), tags, dates=dates))


def test_periods_are_learned_from_the_fitted_articles_dates() -> None:
    source = _fitted(
        ["2008-09-01", "2009-05-01", "2015-06-01", None, "2014-12-31"],
        [[SEASON, "Football"], [SEASON], ["Football"], ["Undated"], ["Football"]],
    )
    season = source.periods_[SEASON]
    assert (int(season.first), int(season.last), season.n, season.recent) == (2008, 2009, 2, 0)
    assert source.periods_["Football"].recent == 2  # 2014-12 and 2015-06: the last 2 years
    assert "Undated" not in source.periods_
    dates = ["2009-01-01", "2023-03-01", "2005-03-01"]
    inside, stale, early = source.scan(Batch(["a"] * 3, [[]] * 3, None, dates))
    f_in = source.features(inside, SEASON, False)
    f_stale = source.features(stale, SEASON, False)
    f_early = source.features(early, SEASON, False)
    assert f_in["period_after_last"] == 0.0 == f_in["period_before_first"]
    assert 13.5 < f_stale["period_after_last"] < 14.0 and f_stale["period_before_first"] == 0
    assert 3.4 < f_early["period_before_first"] < 3.6 and f_early["period_after_last"] == 0
    assert f_stale["period_missed_uses"] > f_in["period_missed_uses"] == 0.0
    assert f_stale["period_dated"] == 1.0
    unknown = source.features(inside, "Brand new", True)
    assert unknown["period_after_last"] == UNKNOWN == unknown["period_recent_share"]


def test_an_undated_article_is_dated_today_unless_the_batch_says_otherwise() -> None:
    year, dated = article_year(None)
    assert not dated and int(year) == dt.date.today().year
    assert article_year("", "2012-07-02") == (pytest.approx(2012.5, abs=0.01), False)
    assert article_year("26-FEB-1987 15:01:01.79")[1]  # Reuters-21578 dates are read
    features = period_features(None, 2020.0, False)
    assert features["period_dated"] == 0.0 and features["period_missed_uses"] == UNKNOWN


def test_an_undated_corpus_gives_unknown_periods() -> None:
    periods, end = tag_periods([None, None], [["a"], ["b"]])
    assert periods == {} and end is None


@pytest.fixture(scope="module")
def dated_toy_model() -> TagModel:
    texts, ents, tags = _toy_corpus()
    dates = [f"{2004 + i // 4}-0{1 + i % 4}-15" for i in range(len(texts))]
    return TagModel(folds=3, min_clf_count=2, fold_split="date", sources=WITH_PERIOD).fit(
        texts, ents, tags, dates=dates
    )


def test_the_period_part_is_json_and_round_trips(dated_toy_model: TagModel, tmp_path: Path):
    save_model(dated_toy_model, tmp_path / "m")
    files = sorted(p.name for p in (tmp_path / "m" / "period").iterdir())
    assert files == ["periods.json"]
    data = json.loads((tmp_path / "m" / "period" / "periods.json").read_text())
    assert set(data["tags"]) == set(dated_toy_model.tag_counts_)
    loaded = load_model(tmp_path / "m")
    assert (
        "period" in loaded.sources_ and "period" in loaded.manifest_["hyper_parameters"]["sources"]
    )
    texts, ents, _ = _toy_corpus()
    for dates in (["2005-01-01"] * 3, ["2030-01-01"] * 3):
        a = dated_toy_model.rank_batch(texts[:3], ents[:3], dates)
        b = loaded.rank_batch(texts[:3], ents[:3], dates)
        assert [[(c["tag"], round(c["score"], 6)) for c in r] for r in a] == [
            [(c["tag"], round(c["score"], 6)) for c in r] for r in b
        ]
    assert "period_after_last" in loaded.feature_names


def test_candidates_carry_the_years_since_the_tags_last_use(dated_toy_model: TagModel) -> None:
    texts, ents, _ = _toy_corpus()
    late = dated_toy_model.candidates(texts[:1], ents[:1], ["2030-01-01"])[0]
    now = dated_toy_model.candidates(texts[:1], ents[:1], ["2006-01-01"])[0]
    tag = next(iter(late))
    assert 17 < late[tag]["features"]["period_after_last"] < 19  # last used in 2012
    assert now[tag]["features"]["period_after_last"] == 0.0


@pytest.mark.slow
def test_models_without_the_period_source_ignore_dates() -> None:
    """The shipped model (no period source) scores exactly as before, whatever the date."""
    model = load_model(ROOT / "models" / "default")
    assert "period" not in model.sources_
    texts, ents, _ = _toy_corpus()
    plain = model.rank_batch(texts[:4], ents[:4])
    for dates in (["2009-01-01"] * 4, ["2023-01-01"] * 4):
        assert model.rank_batch(texts[:4], ents[:4], dates) == plain


# ---------------------------------------------------------------- a stale tag, end to end

TEAMS = ["Bayern Munich", "Borussia Dortmund", "Werder Bremen", "Schalke", "Hamburg", "Stuttgart"]
PLAYERS = [
    "Lukas Brandt",
    "Jonas Keller",
    "Felix Vogel",
    "Max Hahn",
    "Paul Busch",
    "Leon Lange",
    "Tim Kraus",
    "Jan Winter",
    "Erik Seidel",
    "Nico Roth",
    "Tom Franke",
]
STORY = {
    "title": "Bayern Munich beat Hamburg",
    "body": "Max Hahn scored twice as Bayern Munich beat Hamburg 3-1 in the Bundesliga on "
    "Saturday. Max Hahn leads the scoring this season, and Bayern Munich coach praised the win.",
}


def _season_corpus() -> list[dict]:
    """Eleven Bundesliga seasons (2004-05 to 2014-15), each tagged with its season; a player
    plays three seasons, so only the date tells the season apart. Some politics besides."""
    rows = []
    for s, year in enumerate(range(2004, 2015)):
        season = f"{year}-{(year + 1) % 100:02d} Bundesliga season"
        for j in range(10):
            star, home, away = PLAYERS[(s + j % 3) % 11], TEAMS[(s + j) % 6], TEAMS[(s + j + 1) % 6]
            date = f"{year}-{8 + j:02d}-{10 + j}" if j < 5 else f"{year + 1}-{j - 4:02d}-{10 + j}"
            body = (
                f"{star} scored twice as {home} beat {away} 3-1 in the Bundesliga on Saturday. "
                f"{star} leads the scoring this season, and {home} coach praised the win."
            )
            rows.append(
                {
                    "id": f"b{s}-{j}",
                    "title": f"{home} beat {away}",
                    "body": body,
                    "date": date,
                    "tags": ["Football", "Bundesliga", season, home],
                }
            )
        for j in range(4):
            who = "Angela Merkel" if year > 2005 else "Gerhard Schroeder"
            rows.append(
                {
                    "id": f"p{s}-{j}",
                    "title": f"{who} wins budget vote",
                    "body": f"{who} told parliament in Berlin that the budget vote would pass.",
                    "date": f"{year}-{3 + j:02d}-0{1 + j}",
                    "tags": ["Politics", "Germany", who],
                }
            )
    return rows


@pytest.mark.slow
def test_a_season_tag_is_suggested_in_its_season_not_years_later(tmp_path: Path) -> None:
    corpus = tmp_path / "seasons.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in _season_corpus()))
    config = tmp_path / "time.toml"
    config.write_text(
        '[model]\nfolds = 4\nfold_split = "date"\n'
        'sources = ["classifier", "knn", "linker", "labels", "period"]\n'
    )
    env = {"NEWSTAG_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    model = tmp_path / "m"
    proc = run_cli("train", str(corpus), "--out", str(model), "--config", str(config), env=env)
    assert proc.returncode == 0, proc.stderr
    dated = tmp_path / "story-2008.json"  # the article's own date
    dated.write_text(json.dumps({**STORY, "date": "2008-03-14"}))
    undated = tmp_path / "story.txt"  # dated by --date
    undated.write_text(f"{STORY['title']}\n\n{STORY['body']}\n")
    proc = run_cli(
        "suggest",
        str(dated),
        str(undated),
        "--date",
        "2023-03-14",
        "--model",
        str(model),
        "--format",
        "json",
        "-k",
        "30",
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    then, now = (
        {t["tag"]: t["score"] for t in json.loads(line)["tags"]}
        for line in proc.stdout.splitlines()
    )
    season = "2007-08 Bundesliga season"  # Max Hahn played 2005-06 to 2007-08
    assert then.get(season, 0.0) > now.get(season, 0.0), (then, now)
    assert not any("season" in tag for tag in now), now
    assert "Bundesliga" in now and "Football" in now  # tags still in use stay


def test_an_unreadable_date_fails_in_one_line() -> None:
    proc = run_cli("suggest", "--model", "none", "--date", "last spring", "-")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        "error: --date 'last spring': not a date (use ISO 8601, e.g. 2023-08-12)"
    )
