"""People and places on CoNLL-2003 dev: newstag (embedded NER), newstag with the plain small
pipeline, and spaCy small alone, in one run.

Document level: for each of the 216 dev stories, the set of distinct PER (resp. LOC) surface
forms in the gold annotation against the set each system finds (newstag: the mention texts
of its person / place entities, less nationality adjectives, which CoNLL tags MISC; spaCy:
PERSON / GPE+LOC spans). Leading "the" and possessives are stripped from every side. Micro
precision, recall and F1 over stories, per type and overall.

Span level: exact token spans on the gold tokenisation, per type (PER, LOC = GPE+LOC, ORG),
NER alone.

Speed: NER tokens per second of each pipeline on the dev stories (median of ``--repeat``
runs, alternating between the pipelines so both see the same load).

    nice python benchmarks/entities.py [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from train_ner import iob1_spans, read_conll  # noqa: E402, F401

TYPES = ("PER", "LOC")
SPACY_TYPE = {"PERSON": "PER", "GPE": "LOC", "LOC": "LOC", "ORG": "ORG"}
_NO_SPACE_BEFORE = re.compile(r" ([,.;:!?%)\]}]|'s|n't|'re|'ve|'ll|'d|'m)(?= |$)")
_NO_SPACE_AFTER = re.compile(r"([(\[{$]) ")


def detokenize(words: list[str]) -> str:
    """Readable text from CoNLL tokens ("Kim 's" -> "Kim's", "( Zimbabwe )" -> "(Zimbabwe)")."""
    text = " ".join(words)
    return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", text))


def normal(name: str) -> str:
    """The comparison form of a name: no leading "the", no possessive, single spaces."""
    name = " ".join(detokenize(name.split()).split())
    name = re.sub(r"^the ", "", name, flags=re.IGNORECASE)
    return re.sub(r"(['’]s|['’])$", "", name).strip()


def story_article(story: list[tuple[list[str], list]]) -> Any:
    """The story as an Article: first sentence the headline, one sentence a line."""
    from newstag.io.article import Article

    lines = [detokenize(words) for words, _ in story]
    return Article(title=lines[0], body="\n".join(lines[1:]))


def gold_sets(story: list[tuple[list[str], list]]) -> dict[str, set[str]]:
    gold: dict[str, set[str]] = {t: set() for t in TYPES}
    for words, spans in story:
        for start, end, kind in spans:
            if kind in gold:
                gold[kind].add(normal(" ".join(words[start:end])))
    return gold


def newstag_sets(extractor: Any, articles: list[Any], gaz: Any) -> list[dict[str, set[str]]]:
    """Mention texts of person and place entities for each story."""
    out = []
    for ents in extractor.extract_many(articles):
        found: dict[str, set[str]] = {t: set() for t in TYPES}
        for entity in ents:
            kind = {"person": "PER", "place": "LOC"}.get(entity.type)
            if kind is None:
                continue
            for mention in entity.mentions:
                if kind == "LOC" and gaz.demonyms.get(mention.text.lower()):
                    continue  # "Russian": CoNLL's MISC, a nationality, not a place name
                found[kind].add(normal(mention.text))
        out.append(found)
    return out


def spacy_sets(nlp: Any, articles: list[Any]) -> list[dict[str, set[str]]]:
    """PERSON and GPE/LOC spans of a pipeline, per story."""
    out = []
    for doc in nlp.pipe((a.text for a in articles), batch_size=32):
        found: dict[str, set[str]] = {t: set() for t in TYPES}
        for ent in doc.ents:
            kind = SPACY_TYPE.get(ent.label_)
            if kind in found:
                found[kind].add(normal(ent.text))
        out.append(found)
    return out


def prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return {
        "p": round(p, 4),
        "r": round(r, 4),
        "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4),
    }


def set_scores(
    gold: list[dict[str, set[str]]], pred: list[dict[str, set[str]]]
) -> dict[str, dict[str, float]]:
    """Micro P/R/F1 of per-story name sets, per type and over both."""
    counts = {t: [0, 0, 0] for t in TYPES}
    for g, p in zip(gold, pred, strict=True):
        for t in TYPES:
            counts[t][0] += len(g[t] & p[t])
            counts[t][1] += len(p[t])
            counts[t][2] += len(g[t])
    scores = {t: prf(*c) for t, c in counts.items()}
    scores["PER+LOC"] = prf(*(sum(c[i] for c in counts.values()) for i in range(3)))
    return scores


def span_scores(nlp: Any, stories: list) -> dict[str, dict[str, float]]:
    """Exact-span P/R/F1 per type on the gold tokenisation (NER only)."""
    from spacy.tokens import Doc

    sentences = [s for story in stories for s in story]
    ner = nlp.get_pipe("ner")
    docs = ner.pipe((Doc(nlp.vocab, words=w) for w, _ in sentences), batch_size=256)
    kinds = ("PER", "LOC", "ORG")
    counts = {k: [0, 0, 0] for k in kinds}
    for (_, gold), doc in zip(sentences, docs, strict=True):
        g = {(s, e, k) for s, e, k in gold if k in counts}
        p = {(e.start, e.end, SPACY_TYPE[e.label_]) for e in doc.ents if e.label_ in SPACY_TYPE}
        for kind, c in counts.items():
            c[0] += sum(1 for x in g & p if x[2] == kind)
            c[1] += sum(1 for x in p if x[2] == kind)
            c[2] += sum(1 for x in g if x[2] == kind)
    return {k: prf(*c) for k, c in counts.items()}


def ner_speed(pipelines: dict[str, Any], texts: list[str], repeat: int) -> dict[str, float]:
    """Median tokens per second of each pipeline's ``nlp.pipe`` (tokenizer and NER) over
    ``texts``; runs alternate between pipelines so both see the same machine load."""
    first = next(iter(pipelines.values()))
    n_tokens = sum(len(first.make_doc(t)) for t in texts)
    times: dict[str, list[float]] = {name: [] for name in pipelines}
    for _ in range(repeat):
        for name, nlp in pipelines.items():
            start = time.perf_counter()
            for _ in nlp.pipe(texts, batch_size=32):
                pass
            times[name].append(time.perf_counter() - start)
    return {name: n_tokens / statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    from newstag.nlp import gazetteer
    from newstag.nlp.entities import EntityExtractor
    from newstag.nlp.pipeline import DEFAULT_PIPELINE, SMALL_PIPELINE, load_pipeline
    from newstag.paths import shared_data

    path = shared_data("conll2003", "eng.testa.gz")
    if path is None:
        sys.exit("benchmarks/entities.py: ../shared/data/conll2003/eng.testa.gz is missing")
    stories = read_conll(path)
    articles = [story_article(s) for s in stories]
    gold = [gold_sets(s) for s in stories]
    gaz = gazetteer.load()
    embedded, small = load_pipeline(DEFAULT_PIPELINE), load_pipeline(SMALL_PIPELINE)
    systems = {
        "newstag (embedded NER)": newstag_sets(EntityExtractor(DEFAULT_PIPELINE), articles, gaz),
        "newstag (plain small pipeline)": newstag_sets(
            EntityExtractor(SMALL_PIPELINE), articles, gaz
        ),
        "embedded NER alone": spacy_sets(embedded, articles),
        "spaCy small alone": spacy_sets(small, articles),
    }
    doc_level = {name: set_scores(gold, pred) for name, pred in systems.items()}
    span_level = {
        "embedded NER": span_scores(embedded, stories),
        "spaCy small": span_scores(small, stories),
    }
    texts = [a.text for a in articles]
    speed = ner_speed({"embedded NER": embedded, "spaCy small": small}, texts, args.repeat)
    report(len(stories), doc_level, span_level, speed)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"doc_level": doc_level, "span_level": span_level, "tokens_per_s": speed}, indent=1
            )
            + "\n"
        )


def report(n: int, doc_level: dict, span_level: dict, speed: dict) -> None:
    print(f"CoNLL-2003 dev, {n} stories: document-level name sets (P / R / F1)")
    print("| system | PER | LOC | PER+LOC |\n|---|---|---|---|")
    for name, s in doc_level.items():
        cells = " | ".join(
            f"{s[t]['p']:.3f} / {s[t]['r']:.3f} / **{s[t]['f1']:.3f}**" for t in (*TYPES, "PER+LOC")
        )
        print(f"| {name} | {cells} |")
    print("\nSpan level, gold tokenisation (P / R / F1)")
    print("| NER | PER | LOC | ORG |\n|---|---|---|---|")
    for name, s in span_level.items():
        cells = " | ".join(
            f"{s[t]['p']:.3f} / {s[t]['r']:.3f} / **{s[t]['f1']:.3f}**"
            for t in ("PER", "LOC", "ORG")
        )
        print(f"| {name} | {cells} |")
    base = speed["spaCy small"]
    print("\nNER speed (tokenizer + NER, one process, median; runs alternate)")
    for name, tps in speed.items():
        print(f"| {name} | {tps:,.0f} tokens/s | {tps / base:.2f}x |")


if __name__ == "__main__":
    main()
