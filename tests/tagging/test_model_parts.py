"""Model parts without spaCy: tag normalisation, the linker, threshold tuning, bundles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from newstag.tagging import ModelError, load_model, save_model
from newstag.tagging.combiner import tune_threshold
from newstag.tagging.linker import TagLinker, norm, tag_forms
from newstag.tagging.sources import Batch
from newstag.tagging.tagmodel import TagModel


def ent(
    name: str,
    etype: str = "person",
    salience: float = 0.5,
    aliases: tuple = (),
    country: str | None = None,
    start: int = 0,
) -> dict:
    return {
        "name": name,
        "type": etype,
        "salience": salience,
        "count": 2,
        "in_headline": True,
        "in_lead": True,
        "country": country,
        "aliases": sorted({name, *aliases}),
        "mentions": [[name, start, start + len(name)]],
    }


@pytest.mark.parametrize(
    ("tag", "entity"),
    [
        ("Putin, Vladimir V", "Vladimir Putin"),
        ("Kim Jong-un", "Kim Jong Un"),
        ("james-baker", "James Baker"),
        ("Republican Party (United States)", "Republican Party"),
        ("Société Générale", "Societe Generale"),
        ("George W. Bush", "George Bush"),
    ],
)
def test_tag_forms_match_entity_names(tag: str, entity: str) -> None:
    forms = dict(tag_forms(tag))
    assert norm(entity) in forms
    assert 0 < forms[norm(entity)] <= 1


def test_tag_forms_do_not_overmatch() -> None:
    assert norm("Vladimir Putin") not in dict(tag_forms("Putin, Lyudmila"))
    assert norm("North Korea") not in dict(tag_forms("South Korea"))


def test_linker_learns_co_occurrence_and_string_links() -> None:
    docs = [
        ([ent("Reagan", aliases=("President Reagan",)), ent("U.S.", "place")], ["reagan", "usa"]),
        ([ent("Reagan"), ent("U.S.", "place")], ["reagan", "usa"]),
        ([ent("U.S.", "place"), ent("Kyiv", "place", country="Ukraine")], ["usa", "Ukraine"]),
        ([ent("Kyiv", "place", country="Ukraine")], ["Ukraine"]),
        ([ent("Tokyo", "place", country="Japan")], ["Tokyo"]),
    ]
    linker = TagLinker(min_support=2, min_confidence=0.3).fit(
        [d[0] for d in docs], [d[1] for d in docs]
    )
    cands = linker.candidates([ent("U.S.", "place"), ent("Reagan")])
    assert cands["usa"]["link_conf"] == 1.0 and cands["usa"]["str_quality"] == 0.0
    assert cands["reagan"]["str_quality"] == 1.0  # "Reagan" normalises to the tag "reagan"
    # a city rolls up to its country's tag via the entity's country
    roll = linker.candidates([ent("Lviv", "place", country="Ukraine")])
    assert roll["Ukraine"]["via_country"] and roll["Ukraine"]["str_quality"] > 0
    assert linker.known(ent("Reagan")) and not linker.known(ent("Olaf Scholz"))
    assert linker.prior("usa") > linker.prior("Tokyo") > linker.prior("never seen")


def test_tune_threshold_maximises_f1() -> None:
    p = np.array([0.9, 0.8, 0.7, 0.2, 0.1])
    y = np.array([1, 1, 0, 0, 1])
    threshold, f1 = tune_threshold(p, y, n_gold=4)
    assert threshold == pytest.approx(0.8)
    assert f1 == pytest.approx(2 * 2 / (2 + 4))


def _toy_corpus() -> tuple[list[str], list[list[dict]], list[list[str]]]:
    texts, ents, tags = [], [], []
    people = [("Anna Berg", "Sweden"), ("Luis Ortega", "Mexico"), ("Kenji Mori", "Japan")]
    for i in range(36):
        name, country = people[i % 3]
        topic = "Sport" if i % 2 else "Politics"
        word = "match goal team" if topic == "Sport" else "vote parliament law"
        text = f"{name} in {country}\n\n{name} spoke about the {word} in {country} today."
        texts.append(text)
        ents.append([ent(name, start=0), ent(country, "place", 0.4, start=len(name) + 4)])
        tags.append([name, country, topic])
    return texts, ents, tags


@pytest.fixture(scope="module")
def toy_model() -> TagModel:
    texts, ents, tags = _toy_corpus()
    return TagModel(char_ngrams=None, folds=3, min_clf_count=2).fit(
        texts, ents, tags, pipeline="toy-pipeline"
    )


def test_toy_model_learns_and_explains(toy_model: TagModel) -> None:
    text = "Anna Berg in Sweden\n\nAnna Berg spoke about the match goal team in Sweden today."
    tags = toy_model.suggest(text, [ent("Anna Berg"), ent("Sweden", "place", 0.4, start=13)])
    names = [t["tag"] for t in tags]
    assert {"Anna Berg", "Sweden", "Sport"} <= set(names)
    assert "Politics" not in names
    by = {t["tag"]: t for t in tags}
    assert by["Anna Berg"]["type"] == "person" and by["Sweden"]["type"] == "place"
    assert by["Sport"]["type"] == "topic"
    assert any(e["kind"] == "term" for e in by["Sport"]["evidence"])
    mention = next(e for e in by["Anna Berg"]["evidence"] if e["kind"] == "mention")
    assert text[mention["start"] : mention["end"]] == "Anna Berg"
    assert by["Anna Berg"]["source"] in ("entity", "classifier+entity")
    scores = [t["score"] for t in tags]
    assert scores == sorted(scores, reverse=True)
    assert all(s >= toy_model.threshold_ for s in scores)


def test_new_entities_can_be_suggested(toy_model: TagModel) -> None:
    ranked = toy_model.rank_batch(
        ["Olaf Lind in Sweden\n\nOlaf Lind spoke in Sweden."],
        [[ent("Olaf Lind", salience=0.9), ent("Sweden", "place")]],
    )[0]
    new = [c for c in ranked if c["new"]]
    assert [c["tag"] for c in new] == ["Olaf Lind"]


def test_bundle_round_trip_and_tamper_checks(toy_model: TagModel, tmp_path: Path) -> None:
    out = tmp_path / "m"
    save_model(toy_model, out, corpus={"name": "toy", "sha256": "x", "articles": 36})
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["pipeline"] == "toy-pipeline" and manifest["labels"]["Sport"]["count"] == 18
    assert all(len(a["sha256"]) == 64 for a in manifest["artifacts"].values())
    for key in (
        "newstag",
        "scikit_learn",
        "spacy",
        "created",
        "hyper_parameters",
        "heldout_metrics",
        "corpus",
    ):
        assert key in manifest
    loaded = load_model(out)
    text = "Luis Ortega in Mexico\n\nLuis Ortega spoke about the vote parliament law today."
    ents = [ent("Luis Ortega"), ent("Mexico", "place", 0.4)]
    assert loaded.suggest(text, ents) == toy_model.suggest(text, ents)
    # the label-text features are derived at load time, as in training
    assert loaded.label_forms_ == toy_model.label_forms_ and "sport" in loaded.label_forms_["Sport"]
    text = "Sport and politics\n\nLuis Ortega spoke about sport and politics in Mexico."
    assert loaded.rank_batch([text], [ents]) == toy_model.rank_batch([text], [ents])

    with pytest.raises(ModelError, match="pipeline 'toy-pipeline'"):
        load_model(out, pipeline="other")
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    with open(bad / "combiner" / "trees.npz", "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ModelError, match="sha256"):
        load_model(bad)
    old = tmp_path / "old"
    shutil.copytree(out, old)
    m = json.loads((old / "manifest.json").read_text())
    m["format"] = 1
    (old / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ModelError, match="newstag model convert"):
        load_model(old)
    (old / "manifest.json").write_text("{broken")
    with pytest.raises(ModelError, match="corrupted manifest"):
        load_model(old)
    with pytest.raises(ModelError, match="no such model folder"):
        load_model(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="no manifest.json"):
        load_model(tmp_path / "empty")


def test_linker_matches_tag_aliases() -> None:
    docs = [
        ([ent("Grace Okafor")], ["okafor"]),
        ([ent("Grace Okafor")], ["okafor"]),
        ([ent("Kestrel Bank", "organisation")], ["kestrel"]),
    ]
    plain = TagLinker().fit([d[0] for d in docs], [d[1] for d in docs])
    assert "okafor" not in plain.string_index_.get(norm("Grace Okafor"), ("",))[0]
    linker = TagLinker().fit(
        [d[0] for d in docs],
        [d[1] for d in docs],
        aliases={
            "okafor": ["Grace Okafor", "Dr. Grace N. Okafor"],
            "never-seen": ["Somebody Else"],
        },
    )
    cands = linker.candidates([ent("Grace Okafor")])
    assert cands["okafor"]["str_quality"] == pytest.approx(0.95)  # below a tag's own form
    assert linker.string_index_[norm("Dr Grace Okafor")][0] == "okafor"
    assert norm("Somebody Else") not in linker.string_index_  # aliases of unknown tags
    assert linker.aliases_ == {"okafor": ["Grace Okafor", "Dr. Grace N. Okafor"]}
    # an alias never displaces another tag's own form
    clash = TagLinker().fit(
        [[ent("Kestrel Bank", "organisation")]] * 2,
        [["kestrel"]] * 2,
        aliases={"kestrel": ["okafor"]},
    )
    clash2 = TagLinker().fit(
        [[ent("X")], [ent("Y")]], [["okafor", "kestrel"]] * 2, aliases={"kestrel": ["okafor"]}
    )
    assert clash.string_index_["okafor"][0] == "kestrel"
    assert clash2.string_index_["okafor"][0] == "okafor"


def test_co_occurrence_link_from_an_entity_naming_another_tag_is_shadowed() -> None:
    docs = [([ent("Kim Jong Un")], ["Kim Jong-un", "Kim Jong-il"])] * 3 + [
        ([ent("Kim Jong Un")], ["Kim Jong-un"])
    ] * 3
    linker = TagLinker(min_support=2).fit([d[0] for d in docs], [d[1] for d in docs])
    cands = linker.candidates([ent("Kim Jong Un", salience=0.8)])
    il, un = cands["Kim Jong-il"], cands["Kim Jong-un"]
    assert il["str_quality"] == 0 and il["link_conf"] == pytest.approx(0.5)
    assert il["shadow_weight"] == pytest.approx(0.4) and il["free_link_weight"] == 0
    assert un["str_salience"] == pytest.approx(0.8) and un["shadow_weight"] == 0
    assert un["free_link_weight"] == pytest.approx(0.8)


def test_per_tag_thresholds_and_remap() -> None:
    from newstag.tagging.combiner import remap, tag_thresholds

    # "rare-ish" tag: true positives score low (0.3), negatives lower (0.1)
    p = np.array([0.3, 0.3, 0.3, 0.1, 0.1, 0.9, 0.8, 0.2])
    y = np.array([1, 1, 1, 0, 0, 1, 1, 0])
    tags = np.array(["low"] * 5 + ["high"] * 3, dtype=object)
    gold = {0: ["low", "high"], 1: ["low", "high"], 2: ["low"], 3: [], 4: []}
    th = tag_thresholds(p, y, tags, gold, global_threshold=0.5, shrink=0.0, min_positives=2)
    assert th["low"] == pytest.approx(0.2)  # halfway between 0.3 and 0.1
    assert 0.2 < th["high"] < 0.8
    shrunk = tag_thresholds(p, y, tags, gold, 0.5, shrink=3.0, min_positives=2)
    assert th["low"] < shrunk["low"] < 0.5  # 3 positives, shrink 3: halfway to global
    assert shrunk["low"] == pytest.approx(0.35)
    assert "low" not in tag_thresholds(p, y, tags, gold, 0.5, 0.0, min_positives=4)
    q = remap(p, tags, th, 0.5, 0.5)
    assert (q[:3] > 0.5).all() and (q[3:5] < 0.5).all()  # "low" positives now pass
    assert np.all(
        np.diff(remap(np.linspace(0, 1, 11), np.array(["low"] * 11, dtype=object), th, 0.5, 0.5))
        > 0
    )  # monotone
    assert remap(np.array([0.5]), np.array(["other"], dtype=object), th, 0.5, 0.5)[0] == 0.5


def test_combiner_per_tag_thresholds_are_cross_fitted_and_applied() -> None:
    from newstag.tagging.combiner import Combiner

    rng = np.random.default_rng(0)
    n_docs = 400
    X, y, docs, tags = [], [], [], []
    gold: dict[int, list[str]] = {}
    for d in range(n_docs):
        gold[d] = []
        for tag, shift in (("common", 0.0), ("shy", -1.5)):
            pos = rng.random() < 0.4
            X.append([rng.normal(1.0 if pos else -1.0) + shift, float(tag == "shy")])
            y.append(int(pos))
            docs.append(d)
            tags.append(tag)
            if pos:
                gold[d].append(tag)
    X = np.array(X)
    y = np.array(y)
    n_gold = sum(len(v) for v in gold.values())
    comb = Combiner(max_iter=30).fit(X, y, np.array(docs), n_gold, tags=tags, gold=gold)
    assert set(comb.crossfit_) >= {"off", "10"}
    assert all({"micro_f1", "macro_f1", "p_at_5"} <= set(v) for v in comb.crossfit_.values())
    off = Combiner(max_iter=30, tag_thresholds=False).fit(
        X, y, np.array(docs), n_gold, tags=tags, gold=gold
    )
    assert off.tag_thresholds_ == {} and off.crossfit_ == {}
    scored = comb.score(X, tags)
    if comb.tag_thresholds_:  # applied: the scores are remapped per tag
        assert not np.allclose(scored, comb.predict_proba(X))
    np.testing.assert_allclose(off.score(X, tags), off.predict_proba(X))
    # bundles from before the extra features: their combiner sees only its own columns
    narrow = Combiner(max_iter=10).fit(X[:, :1], y, np.array(docs), n_gold)
    assert narrow.predict_proba(X).shape == (len(X),)


def test_toy_model_reports_per_tag_threshold_choice(toy_model: TagModel) -> None:
    held = toy_model.heldout_
    assert {"tag_thresholds", "tag_threshold_shrink", "crossfit"} <= set(held)
    assert "off" in held["crossfit"]


def test_country_code_tags_match_the_gazetteer_country() -> None:
    from newstag.tagging.linker import tag_country

    assert tag_country("usa") == "United States"
    assert tag_country("uk") == "United Kingdom"
    assert tag_country("saudi-arabia") == "Saudi Arabia"
    assert tag_country("grain") is None
    docs = [([ent("Reagan")], ["usa"]), ([ent("Reagan")], ["usa"])]
    linker = TagLinker().fit([d[0] for d in docs], [d[1] for d in docs])
    cands = linker.candidates([ent("United States", "place", country="United States")])
    assert cands["usa"]["str_quality"] == pytest.approx(0.95)
    city = linker.candidates([ent("Chicago", "place", country="United States")])
    assert city["usa"]["via_country"] and city["usa"]["str_quality"] > 0
    off = TagLinker(country_forms=False).fit([d[0] for d in docs], [d[1] for d in docs])
    assert "usa" not in off.candidates([ent("United States", "place", country="United States")])


def test_person_named_by_surname_only_matches_its_tag() -> None:
    docs = [
        ([ent("James Baker")], ["James Baker"]),
        ([ent("Pierre Languetin")], ["languetin"]),
        ([ent("Kestrel Bank", "organisation")], ["Kestrel Bank"]),
    ] * 2
    linker = TagLinker().fit(
        [d[0] for d in docs], [d[1] for d in docs], aliases={"languetin": ["Pierre Languetin"]}
    )
    assert linker.candidates([ent("BAKER")])["James Baker"]["str_quality"] == pytest.approx(0.7)
    assert "James Baker" not in linker.candidates([ent("Paul Baker")])  # another Baker
    assert linker.candidates([ent("Jean Languetin")])["languetin"]["str_quality"] == pytest.approx(
        0.7
    )  # the tag is the bare surname
    assert "Kestrel Bank" not in linker.candidates([ent("Bank")])  # not a person's tag
    assert linker.known(ent("Baker"))
    off = TagLinker(surnames=False).fit([d[0] for d in docs], [d[1] for d in docs])
    assert "James Baker" not in off.candidates([ent("Baker")])


def test_mention_features_first_most_and_case_blind_headline() -> None:
    docs = [
        ([ent("Japan", "place", country="Japan")], ["japan"]),
        ([ent("China", "place", country="China")], ["china"]),
    ] * 2
    linker = TagLinker().fit([d[0] for d in docs], [d[1] for d in docs])
    headline = "TOKYO MARKETS RALLY ON CHINA NEWS"
    body = len(headline) + 2
    tokyo = ent("Tokyo", "place", country="Japan", start=body)
    china = ent("China", "place", country="China", start=body + 40)
    china["count"] = 3
    cands = linker.candidates([tokyo, china], headline=headline)
    japan, chn = cands["japan"], cands["china"]
    assert japan["first_of_type"] and japan["first_pos"] == 0 and not japan.get("most_of_type")
    assert japan["country_mentions"] == 2 and not japan.get("str_mentions")
    assert chn["most_of_type"] and chn["str_mentions"] == 3 and chn["first_pos"] == 40
    assert chn["headline_any"] and japan["headline_any"]  # "TOKYO" whatever its case
    assert chn["type_share"] == pytest.approx(0.6) and chn["n_str_tags"] == 1


def test_model_passes_link_options_and_uses_the_headline(toy_model: TagModel) -> None:
    assert toy_model.linker_.country_forms and toy_model.linker_.surnames
    texts, ents, tags = _toy_corpus()
    plain = TagModel(
        char_ngrams=None, folds=2, min_clf_count=2, country_links=False, surname_links=False
    ).fit(texts, ents, tags)
    assert not plain.linker_.country_forms and not plain.linker_.surnames
    assert plain.get_params()["surname_links"] is False
    text = "ANNA BERG WINS\n\nThe match in Sweden went to Anna Berg."
    berg = ent("Anna Berg", start=text.index("Anna Berg"))
    linker = toy_model.sources_["linker"]
    with_headline, without = linker.scan(Batch([text, ""], [[berg], [berg]], None))
    assert with_headline.evidence["Anna Berg"]["headline_any"]  # all-caps, found anyway
    assert not without.evidence["Anna Berg"].get("headline_any")


def test_source_features_margins_and_article_context() -> None:
    from newstag.tagging.sources.classifier import ClassifierSource, ClassifierState
    from newstag.tagging.sources.knn import KNNSource, KNNState

    labels = ["a", "b", "c"]
    state = ClassifierState(
        np.array([1.5, 0.5, -1.0], dtype=np.float32),
        labels,
        {t: j for j, t in enumerate(labels)},
        n_candidates=1,
    )
    clf = ClassifierSource(n_candidates=1)
    assert clf.propose(state) == ["a"]
    b = clf.features(state, "b", new=False)  # outside the top 1: scored and ranked anyway
    assert b["clf_margin"] == pytest.approx(-1.0) and b["clf_rank"] == pytest.approx(np.log(2))
    assert b["clf_positives"] == pytest.approx(np.log(3))  # two tags score above zero
    new = clf.features(state, "a", new=True)
    assert new["clf_margin"] < -3 and new["has_clf"] == 0.0
    assert new["clf_positives"] == b["clf_positives"]  # the article's, for every candidate
    knn = KNNSource()
    votes = KNNState({"x": 0.6, "y": 0.3})
    assert knn.features(votes, "y", new=False)["knn_share"] == pytest.approx(0.5)
    bare = knn.features(votes, "y", new=True)
    assert bare["knn_share"] == 0.0 and bare["knn_tag_count"] == pytest.approx(0.9)


def test_candidates_carry_the_article_context(toy_model: TagModel, tmp_path: Path) -> None:
    """Neighbours' tag count and the classifier's positives: the same for every candidate
    of an article, and the same after a bundle round trip."""
    text = "Anna Berg in Sweden\n\nAnna Berg spoke about the match goal team in Sweden today."
    ents = [ent("Anna Berg"), ent("Sweden", "place", 0.4, start=13)]
    X = toy_model.features_.transform([text], [["Anna Berg", "Sweden"]])
    scores = toy_model.clf_.decision_function(X)[0]
    votes = toy_model.knn_.scores(X)
    lo, hi = votes.indptr[0], votes.indptr[1]
    expected = [float(votes.data[lo:hi].sum()), float(np.log1p((scores > 0).sum()))]
    cands = toy_model.candidates([text], [ents])[0]
    assert expected[0] > 1.5 and expected[1] > 0  # the toy articles carry three tags
    for cand in cands.values():
        got = [cand["features"]["knn_tag_count"], cand["features"]["clf_positives"]]
        assert got == pytest.approx(expected, rel=1e-5)
    save_model(toy_model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.rank_batch([text], [ents]) == toy_model.rank_batch([text], [ents])


_FIT_SCRIPT = """
import json, sys
sys.path.insert(0, {tests!r})
from test_model_parts import _toy_corpus, ent
from newstag.tagging.tagmodel import TagModel
texts, ents, tags = _toy_corpus()
m = TagModel(folds=3, min_clf_count=1).fit(texts, ents, tags)
ranked = m.rank_batch(texts[:4], ents[:4])
print(json.dumps([m.threshold_, [[(c["tag"], round(c["score"], 6)) for c in r] for r in ranked]]))
"""


def test_training_is_reproducible_across_hash_seeds() -> None:
    import os
    import subprocess
    import sys

    script = _FIT_SCRIPT.format(tests=str(Path(__file__).parent))
    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "OMP_NUM_THREADS": "1"}
        proc = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
        )
        assert proc.returncode == 0, proc.stderr
        outs.append(proc.stdout)
    assert outs[0] == outs[1]


def test_label_forms_split_aliases_and_add_plurals() -> None:
    from newstag.tagging.labeltext import label_forms

    forms = label_forms("money-fx", ["Money/Foreign Exchange"])
    assert "money fx" in forms and "money" in forms and "foreign exchange" in forms
    assert "palm oils" in label_forms("palm-oil") and "earning" in label_forms("earnings")
    assert label_forms("us") == ()  # too short to look for as a word


def test_label_text_finds_whole_words_in_headline_lead_and_body() -> None:
    from newstag.tagging.labeltext import LabelText, label_forms

    text = (
        "Brazil COFFEE exports rise\n\nBrazil's coffee exports rose, traders said. "
        + "x " * 300
        + "Coffee prices fell. Coffeehouse owners were calm."
    )
    found = LabelText(text)
    assert found.find(label_forms("coffee")) == (True, 2, True)  # "Coffeehouse" is no match
    assert found.find(label_forms("cocoa")) == (False, 0, False)
    late = LabelText("Markets\n\n" + "x " * 300 + "cocoa and more cocoa")
    assert late.find(label_forms("cocoa")) == (False, 2, False)


def test_candidates_carry_label_text_features(toy_model: TagModel) -> None:
    text = "Sport news\n\nAnna Berg spoke about sport in Sweden."
    labels = toy_model.sources_["labels"]
    (state,) = labels.scan(Batch([text], [[]], None))
    sport = labels.features(state, "Sport", new=False)
    politics = labels.features(state, "Politics", new=False)
    assert sport["label_in_headline"] == 1.0 and sport["label_mentions"] > 0
    assert politics["label_in_headline"] == 0.0 and politics["label_mentions"] == 0
    named = toy_model.candidates([text], [[ent("Anna Berg", start=text.index("Anna"))]])[0]
    assert named["Sport"]["features"]["label_in_headline"] == 1.0


# -- data-only parts: numpy inference equals the scikit-learn objects they were trained as ----

ODD_TEXTS = [
    "Société Générale  and   the Zürich  bank\n\nrésumé of the naïve café's year",
    "Kim Jong Un met Vladimir Putin in Vladivostok.",
    "",
    "a b c",
    "ÉÀÇ ünïcödé ß ﬁ",
    "Putin, Putin, Putin: the Kremlin's    answer\t\tto NATO",
]


def test_feature_rows_equal_the_scikit_learn_training_matrix() -> None:
    from newstag.tagging.classifier import FeatureBuilder

    texts = ODD_TEXTS * 3 + [f"word{i} and the text of story {i % 4}" for i in range(30)]
    names = [["Putin", "Kim Jong Un\nleader"] if i % 2 else ["Zürich"] for i in range(len(texts))]
    for char_ngrams in (None, (3, 5)):
        fb = FeatureBuilder(char_ngrams=char_ngrams, min_df=1, entity_weight=0.1)
        X = fb.fit_transform(texts, names)  # SciPy, from scikit-learn's vectorisers
        assert "word_" not in fb.__dict__ and set(fb.tables_) >= {"word", "ent"}
        rows = fb.transform(texts, names)  # numpy only
        assert np.array_equal(rows.indptr, X.indptr) and np.array_equal(rows.indices, X.indices)
        assert np.array_equal(rows.data, X.data)  # bit for bit
        assert len(fb.feature_names()) == X.shape[1] == fb.n_features


def test_related_vectorisers_as_tables_transform_like_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from newstag.related import word_terms
    from newstag.tagging.tfidf import TfidfTable

    texts = ODD_TEXTS + ["Stocks rallied as the central bank held rates", "Rates held"]
    for vec, analyzer in (
        (
            TfidfVectorizer(analyzer=word_terms, sublinear_tf=True, dtype=np.float32),
            "related_words",
        ),
        (
            TfidfVectorizer(
                analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, dtype=np.float32
            ),
            None,
        ),
    ):
        expected = vec.fit(texts).transform(texts)
        got = TfidfTable.from_sklearn(vec, analyzer=analyzer).transform(texts).to_scipy()
        assert (got != expected).nnz == 0 and np.array_equal(got.indices, expected.indices)


def test_trees_as_arrays_predict_like_the_boosted_model() -> None:
    from newstag.tagging.combiner import Combiner, Trees

    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 6))
    y = (X[:, 0] + X[:, 1] * X[:, 2] + rng.normal(scale=0.5, size=600) > 0).astype(int)
    X[rng.random(X.shape) < 0.05] = np.nan  # missing values take the learned side
    model = Combiner()._new_model().fit(X, y)
    Q = np.vstack([X[:50], rng.normal(size=(50, 6))])
    trees = Trees.from_sklearn(model)
    assert np.allclose(trees.predict_proba(Q), model.predict_proba(Q)[:, 1], rtol=0, atol=1e-12)


def test_saved_parts_hold_no_pickles(toy_model: TagModel, tmp_path: Path) -> None:
    save_model(toy_model, tmp_path / "m")
    files = [p for p in (tmp_path / "m").rglob("*") if p.is_file()]
    assert {p.suffix for p in files} <= {".npy", ".npz", ".json", ".gz", ".txt"}
    for path in files:
        if path.suffix in (".npy", ".npz"):
            loaded = np.load(path, allow_pickle=False)  # raises on object arrays
            arrays = [loaded[k] for k in loaded.files] if path.suffix == ".npz" else [loaded]
            assert all(a.dtype != object for a in arrays)
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["format"] == 2 and set(manifest["parts"]) == {
        "features",
        "classifier",
        "knn",
        "linker",
        "combiner",
    }
    assert {p.relative_to(tmp_path / "m").as_posix() for p in files} == set(
        manifest["artifacts"]
    ) | {"manifest.json"}


def _old_pickle(obj: object) -> bytes:
    """A pickle that names newstag's classes by their module paths before the layered
    layout (``newstag.model.classifier.LinearOvR``), as older bundles hold them."""
    import pickle

    data = pickle.dumps(obj, protocol=0)  # text opcodes: module names carry no lengths
    assert (
        b"newstag.tagging.classifier" in data
        or b"newstag.tagging.linker" in data
        or b"newstag.tagging.combiner" in data
    )
    return data.replace(b"newstag.tagging.", b"newstag.model.")


def _write_pickle_bundle(model: TagModel, folder: Path) -> None:
    """A format-1 bundle as older newstag wrote it: gzip pickles and their sha256."""
    import gzip

    from newstag.tagging.bundle import ARTIFACTS, sha256_file

    save_model(model, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    artifacts = {}
    for name, attr in ARTIFACTS.items():
        shutil.rmtree(folder / name, ignore_errors=True)
        with gzip.open(folder / f"{name}.joblib", "wb") as fh:
            fh.write(_old_pickle(getattr(model, attr)))
        artifacts[f"{name}.joblib"] = {"sha256": sha256_file(folder / f"{name}.joblib")}
    manifest.update(format=1, artifacts=artifacts)
    del manifest["parts"]
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_model_convert_and_info_commands(toy_model: TagModel, tmp_path: Path) -> None:
    from tests.conftest import run_cli

    old, new = tmp_path / "old", tmp_path / "new"
    _write_pickle_bundle(toy_model, old)
    r = run_cli("suggest", "-", "--model", str(old), input="Anna Berg in Sweden\n\nAnna Berg.")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and f"newstag model convert {old} NEW" in r.stderr
    r = run_cli("model", "info", str(old))
    assert r.returncode == 0 and "format      1 (pickles" in r.stdout
    r = run_cli("model", "convert", str(old), str(new))
    assert r.returncode == 0, r.stderr
    text = "Anna Berg in Sweden\n\nAnna Berg spoke about the match goal team in Sweden today."
    ents = [ent("Anna Berg"), ent("Sweden", "place", 0.4, start=13)]
    assert load_model(new).rank_batch([text], [ents]) == toy_model.rank_batch([text], [ents])
    r = run_cli("model", "info", str(new), "--format", "json")
    info = json.loads(r.stdout)
    assert info["format"] == 2 and info["converted"]["from_format"] == 1
    assert info["n_labels"] == len(toy_model.tag_counts_) and info["heldout_metrics"]
    r = run_cli("model", "convert", str(old), str(new))  # not over a bundle
    assert r.returncode != 0 and "already exists" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("model", "convert", str(new), str(tmp_path / "again"))
    assert r.returncode != 0 and "nothing to convert" in r.stderr
    r = run_cli("model", "info", str(tmp_path / "missing"))
    assert r.returncode != 0 and "no such model folder" in r.stderr


def test_convert_reads_old_module_paths_and_refuses_foreign_code() -> None:
    import io
    import pickle

    from newstag.tagging.bundle import BundleUnpickler, current_module
    from newstag.tagging.classifier import KNNTags

    assert current_module("newstag.model.classifier") == "newstag.tagging.classifier"
    assert current_module("newstag.model.cache") == "newstag.nlp.cache"
    assert current_module("numpy") == "numpy"
    old = _old_pickle(KNNTags(k=3))
    assert b"newstag.model.classifier" in old
    with pytest.raises(ModuleNotFoundError):
        pickle.loads(old)  # noqa: S301 - the old path no longer exists
    assert BundleUnpickler(io.BytesIO(old)).load().get_params() == {"k": 3, "max_terms": 100}
    evil = b"cos\nsystem\n(S'echo hi'\ntR."
    with pytest.raises(pickle.UnpicklingError, match="os.system is not part of a model"):
        BundleUnpickler(io.BytesIO(evil)).load()


@pytest.mark.slow
def test_the_old_pickled_model_converts_to_the_same_files(tmp_path: Path) -> None:
    """Converting the pickle bundle shipped until 7a1fb6d gives, byte for byte, the data-only
    bundle shipped from then until the retraining of 2026-12-06 (1fdf041)."""
    import subprocess

    from newstag.tagging.bundle import convert_bundle

    root = Path(__file__).resolve().parents[2]
    try:
        archive = subprocess.run(
            ["git", "archive", "7a1fb6d", "models/default"],
            cwd=root,
            capture_output=True,
            check=True,
            timeout=120,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        pytest.skip("git history with the pickled default model is not available")
    subprocess.run(["tar", "-x", "-C", str(tmp_path)], input=archive, check=True)
    convert_bundle(tmp_path / "models" / "default", tmp_path / "new")
    fresh = json.loads((tmp_path / "new" / "manifest.json").read_text())["artifacts"]
    shipped = json.loads(
        subprocess.run(
            ["git", "show", "1fdf041:models/default/manifest.json"],
            cwd=root,
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    )["artifacts"]
    assert {k: v["sha256"] for k, v in fresh.items()} == {
        k: v["sha256"] for k, v in shipped.items()
    }
