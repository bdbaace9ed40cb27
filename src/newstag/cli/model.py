"""``newstag train`` and ``newstag eval``: build and score tag-suggestion models."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

import typer

from newstag.cli.common import (
    FORMAT_OPTION,
    MODEL_OPTION,
    PIPELINE_OPTION,
    Format,
    csv_text,
    fail,
    table_text,
    warn,
    write_json,
)


class CorpusFormat(str, Enum):
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"
    dir = "dir"
    reuters = "reuters"


class Scored(str, Enum):
    """What ``newstag eval`` scores: the tags ``newstag suggest`` prints, or the model's
    own ranking and threshold."""

    suggest = "suggest"
    model = "model"


class ReutersField(str, Enum):
    topics = "topics"
    places = "places"
    people = "people"
    orgs = "orgs"
    exchanges = "exchanges"
    all = "all"


CORPUS_FORMAT = typer.Option(
    None, "--corpus-format", help="Corpus format (default: from the path)."
)
TEXT_FIELD = typer.Option(None, "--text-field", help="Column/key with the body text.")
TITLE_FIELD = typer.Option(None, "--title-field", help="Column/key with the headline.")
TAGS_FIELD = typer.Option(None, "--tags-field", help="Column/key with the tags.")
TAG_SEP = typer.Option(";", "--tag-sep", help="Separator of tags given as one string.")
REUTERS = typer.Option(
    ReutersField.topics, "--reuters-field", help="Reuters-21578 tag field to learn."
)
DATELINE = typer.Option(
    False,
    "--reuters-dateline",
    help="Start Reuters-21578 stories with their dateline "
    "('LONDON, March 3 - ...'), as they ran on the wire.",
)
JOBS = typer.Option(1, "--jobs", "-j", min=1, help="Processes for spaCy and the classifier.")


def _load(
    corpus: Path,
    corpus_format: CorpusFormat | None,
    text_field: str | None,
    title_field: str | None,
    tags_field: str | None,
    tag_sep: str,
    reuters_field: ReutersField,
    require_tags: bool = True,
    reuters_dateline: bool = False,
) -> list:
    from newstag.io.corpus import CorpusError, load_corpus

    try:
        records, report = load_corpus(
            corpus,
            corpus_format.value if corpus_format else None,
            require_tags=require_tags,
            text_field=text_field,
            title_field=title_field,
            tags_field=tags_field,
            tag_sep=tag_sep,
            reuters_field=reuters_field.value,
            reuters_dateline=reuters_dateline,
        )
    except CorpusError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{corpus}: cannot read ({exc.strerror or exc})") from None
    _warn_skipped(report.skipped, "rows")
    typer.echo(report.summary(), err=True)
    return records


def _warn_skipped(skipped: list[tuple[str, str]], what: str, shown: int = 20) -> None:
    """Warn about the first ``shown`` skipped items with where and why, then count the rest."""
    for where, reason in skipped[:shown]:
        warn(f"skipped {where}: {reason}")
    if len(skipped) > shown:
        warn(f"... and {len(skipped) - shown:,} more skipped {what}")


def _aliases(path: Path) -> dict[str, list[str]]:
    """Read a tag alias file; bad lines are warned about with their line numbers."""
    from newstag.io.corpus import CorpusError, CorpusReport, read_tag_aliases

    report = CorpusReport()
    try:
        aliases = read_tag_aliases(path, report)
    except CorpusError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{path}: cannot read ({exc.strerror or exc})") from None
    _warn_skipped(report.skipped, "alias lines")
    typer.echo(
        f"{path}: {sum(map(len, aliases.values())):,} aliases of {len(aliases):,} tags", err=True
    )
    return aliases


def train(
    corpus: Path = typer.Argument(..., help="Tagged corpus: .jsonl, .csv, .tsv, folder, .sgm."),
    out: Path = typer.Option(..., "--out", "-o", help="Bundle folder to write (models/NAME)."),
    corpus_format: CorpusFormat = CORPUS_FORMAT,
    text_field: str = TEXT_FIELD,
    title_field: str = TITLE_FIELD,
    tags_field: str = TAGS_FIELD,
    tag_sep: str = TAG_SEP,
    reuters_field: ReutersField = REUTERS,
    reuters_dateline: bool = DATELINE,
    pipeline: str = PIPELINE_OPTION,
    config: Path = typer.Option(
        None,
        "--config",
        help="Training config (TOML, a [model] table of TagModel parameters, e.g. "
        "configs/default-model.toml); the flags below override it. Recorded in the "
        "bundle's manifest.",
    ),
    min_tag_count: int = typer.Option(
        None, "--min-tag-count", min=1, help="Articles a tag needs to be learned [default: 1]."
    ),
    min_clf_count: int = typer.Option(
        None,
        "--min-clf-count",
        min=1,
        help="Articles a tag needs for its own classifier [default: 1].",
    ),
    c: float = typer.Option(None, "--C", min=1e-6, help="SVM regularisation C [default: 1.0]."),
    chars: bool = typer.Option(None, "--chars", help="Add character 3-5-gram features."),
    max_clf_labels: int = typer.Option(
        None,
        "--max-clf-labels",
        min=0,
        help="Most frequent tags that get their own SVM [default: 300].",
    ),
    max_features: int = typer.Option(
        None,
        "--max-features",
        min=100,
        help="Largest word vocabulary (chars: half of it) [default: 200000].",
    ),
    folds: int = typer.Option(
        None, "--folds", min=2, help="Held-out folds for the combiner [default: 5]."
    ),
    jobs: int = typer.Option(
        None, "--jobs", "-j", min=1, help="Processes for spaCy and the classifier [default: 1]."
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not use the entity cache."),
    tag_aliases: Path = typer.Option(
        None,
        "--tag-aliases",
        help="File of other names for tags (synonyms, full names), one tag a line: "
        '\'tag<TAB>alias<TAB>...\' or JSON {"tag": ..., "aliases": [...]}. '
        "Entities named by an alias link to the tag.",
    ),
    no_tag_thresholds: bool = typer.Option(
        None, "--no-tag-thresholds", help="Use only the global threshold (no per-tag thresholds)."
    ),
    no_country_links: bool = typer.Option(
        None,
        "--no-country-links",
        help="Do not match tags that are country codes or other names ('usa') to the "
        "country's entities ('United States').",
    ),
    no_surname_links: bool = typer.Option(
        None,
        "--no-surname-links",
        help="Do not match a person named by surname alone to the person tag with that surname.",
    ),
    fold_split: FoldSplit = typer.Option(
        None,
        "--fold-split",
        help="Held-out folds for the combiner: 'random', or 'date' (contiguous date blocks: "
        "sources fitted on other periods; undated articles at random) [default: random].",
    ),
    archive: Archive = typer.Option(
        None,
        "--archive",
        help="Whose archive the corpus is: 'own' (the newsroom's: the model's scores lead, "
        "entities it has no tag for rank at half) or 'general' (a vocabulary to use on "
        "other newsrooms' stories, as the shipped model: the story's people and places "
        "weigh as much as the model) [default: own].",
    ),
    rules: Path = typer.Option(
        None,
        "--rules",
        help="House rules file (TOML) to copy into the bundle; applied whenever it is "
        "loaded, unless --rules FILE or 'none' is given then. 'none' drops the rules "
        "of --config.",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing bundle."),
) -> None:
    """Train a tag-suggestion model on a tagged corpus and save it as a bundle folder."""
    import time

    if out.exists() and any(out.iterdir()) and not force:
        raise fail(f"{out}: folder exists and is not empty (use --force to overwrite)")
    flags = {
        "min_tag_count": min_tag_count,
        "min_clf_count": min_clf_count,
        "C": c,
        "max_clf_labels": max_clf_labels,
        "folds": folds,
        "n_jobs": jobs,
        "char_ngrams": (3, 5) if chars else ...,
        "tag_thresholds": _off(no_tag_thresholds),
        "country_links": _off(no_country_links),
        "surname_links": _off(no_surname_links),
        "fold_split": fold_split.value if fold_split is not None else None,
        "archive": archive.value if archive is not None else None,
    }
    if max_features is not None:
        flags.update(max_word_features=max_features, max_char_features=max_features // 2)
    params, record = _training_params(config, flags)
    rules_file = _training_rules(config, rules)
    aliases = _aliases(tag_aliases) if tag_aliases is not None else None
    records = _load(
        corpus,
        corpus_format,
        text_field,
        title_field,
        tags_field,
        tag_sep,
        reuters_field,
        reuters_dateline=reuters_dateline,
    )
    untagged = sum(not r.tags for r in records)
    if untagged:
        warn(f"{untagged:,} articles have no tags; they are used as negatives")
    from newstag.nlp.pipeline import PipelineError
    from newstag.tagging.house_rules import RulesError
    from newstag.tagging.train import train_model

    t0 = time.perf_counter()
    try:
        model = train_model(
            records,
            out=out,
            pipeline=pipeline,
            n_process=params.get("n_jobs", 1),
            use_cache=not no_cache,
            corpus_name=str(corpus),
            aliases=aliases,
            aliases_source=str(tag_aliases) if tag_aliases else "",
            training_config=record,
            rules=rules_file,
            **params,
        )
    except (PipelineError, RulesError) as exc:
        raise fail(str(exc)) from None
    except ValueError as exc:
        raise fail(f"{corpus}: {exc}") from None
    typer.echo(
        f"trained on {len(records):,} articles, {len(model.tag_counts_):,} tags "
        f"({time.perf_counter() - t0:.1f}s); held-out micro-F1 "
        f"{model.heldout_['micro_f1']:.3f}; saved {out}"
    )


class FoldSplit(str, Enum):
    random = "random"
    date = "date"


class Archive(str, Enum):
    own = "own"
    general = "general"


def _training_rules(config: Path | None, rules: Path | None) -> Path | None:
    """The rules file to put in the bundle: ``--rules`` (``none``: none), else the config's."""
    from newstag.tagging.config import ConfigError, config_rules
    from newstag.tagging.house_rules import rules_off

    if rules is not None:
        return None if rules_off(rules) else rules
    if config is None:
        return None
    try:
        return config_rules(config)
    except ConfigError as exc:
        raise fail(str(exc)) from None


def _off(flag: bool | None) -> Any:
    """A ``--no-X`` flag as the parameter's value: False when given, else unset (...)."""
    return False if flag else ...


def _training_params(
    config: Path | None, flags: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """TagModel parameters: the config file's, then the flags given (``None``/``...``:
    not given); with the config's manifest record."""
    from newstag.tagging.config import ConfigError, config_record, read_config

    params: dict[str, Any] = {}
    record = None
    if config is not None:
        try:
            params = read_config(config)
        except ConfigError as exc:
            raise fail(str(exc)) from None
        record = config_record(config, params)
    params.update({k: v for k, v in flags.items() if v is not None and v is not ...})
    if record is not None:
        record["overrides"] = sorted(k for k, v in flags.items() if v is not None and v is not ...)
    return params, record


def eval_cmd(
    corpus: Path = typer.Argument(..., help="Tagged test corpus."),
    model: str = MODEL_OPTION,
    corpus_format: CorpusFormat = CORPUS_FORMAT,
    text_field: str = TEXT_FIELD,
    title_field: str = TITLE_FIELD,
    tags_field: str = TAGS_FIELD,
    tag_sep: str = TAG_SEP,
    reuters_field: ReutersField = REUTERS,
    reuters_dateline: bool = DATELINE,
    pipeline: str = PIPELINE_OPTION,
    per_tag: Path = typer.Option(None, "--per-tag", help="Write a per-tag table (CSV) here."),
    plot: Path = typer.Option(None, "--plot", help="Write a per-tag F1 + PR-curve PNG here."),
    top_k: int = typer.Option(
        10, "--top-k", "-k", min=1, help="Tags suggested per article (as 'suggest -k')."
    ),
    scored: Scored = typer.Option(
        Scored.suggest,
        "--scores",
        help="'suggest': the tags 'newstag suggest' prints (the model's tags and the "
        "story's entities, the bundle's house rules; every tag shown is a prediction); "
        "'model': the model alone (its ranking for P@k, its threshold for P/R/F1).",
    ),
    fmt: Format = FORMAT_OPTION,
    jobs: int = JOBS,
) -> None:
    """Score a model on a tagged corpus: micro/macro P/R/F1, P@k, R@k (k = 1, 3, 5).

    By default it scores what 'newstag suggest' prints for each article (the top-k tags);
    '--scores model' scores the model's own ranking and threshold instead. '--model none'
    scores entity-only suggestions (the top-k of 'newstag suggest --model none'). A
    warning says when test articles were in the model's training corpus.
    """
    bundle = _eval_model(model, pipeline)
    records = _load(
        corpus,
        corpus_format,
        text_field,
        title_field,
        tags_field,
        tag_sep,
        reuters_field,
        require_tags=True,
        reuters_dateline=reuters_dateline,
    )
    from newstag.nlp.cache import extract_entities
    from newstag.nlp.pipeline import PipelineError, pipeline_for_bundle, resolve_pipeline_name
    from newstag.tagging.evaluate import (
        evaluate_entities,
        evaluate_model,
        evaluate_suggestions,
    )

    overlap = _overlap_warning(corpus, records, bundle)
    try:
        name = (
            pipeline_for_bundle(bundle.pipeline)
            if bundle is not None
            else resolve_pipeline_name(pipeline)
        )
        ents = extract_entities(records, name, n_process=jobs)
    except PipelineError as exc:
        raise fail(str(exc)) from None
    if bundle is None:
        ev, ranked = evaluate_entities(records, ents, top_k=top_k)
    elif scored == Scored.model:
        ev, ranked = evaluate_model(bundle, records, ents)
    else:
        ev, ranked = evaluate_suggestions(bundle, records, ents, top_k=top_k)
    metrics = {**ev.metrics, "model": "none" if bundle is None else bundle.path_}
    metrics["scores"] = scored.value if bundle is not None else Scored.suggest.value
    if overlap is not None:
        metrics["train_overlap"] = round(overlap, 4)
    if per_tag is not None:
        cols = ["tag", "support", "predicted", "tp", "fp", "fn", "precision", "recall", "f1"]
        per_tag.write_text(csv_text(ev.per_tag, cols), encoding="utf-8")
    if plot is not None:
        _plot(plot, ev, ranked, records, f"{metrics['model']} on {corpus}")
    _print_metrics(metrics, fmt)


def _eval_model(model: str | None, pipeline: str | None) -> Any:
    """The bundle to evaluate, or None for entity-only suggestions (``--model none``)."""
    from newstag.paths import model_dir
    from newstag.tagging import ModelError, load_model

    path = model_dir(model)
    if path is None:
        return None
    try:
        return load_model(path, pipeline)
    except ModelError as exc:
        raise fail(str(exc)) from None


def _overlap_warning(corpus: Path, records: list, bundle: object) -> float | None:
    """Warn when test articles were in the model's training corpus; return their share."""
    if bundle is None:
        return None
    from newstag.tagging.evaluate import training_overlap

    overlap = training_overlap(records, getattr(bundle, "manifest_", {}))
    if overlap is None:
        warn(
            f"{getattr(bundle, 'path_', 'the model')}: no training fingerprints in the bundle "
            "(trained by an older newstag); overlap with its training corpus not checked"
        )
    elif overlap > 0:
        n = round(overlap * len(records))
        warn(
            f"{corpus}: {n:,} of {len(records):,} articles ({overlap:.0%}) were in the "
            "model's training corpus; scores on them overstate how well it tags new articles"
        )
    return overlap


def _print_metrics(metrics: dict, fmt: Format) -> None:
    if fmt == Format.json:
        write_json(metrics)
    elif fmt == Format.csv:
        typer.echo(csv_text([metrics], list(metrics)), nl=False)
    else:
        rows = [{"metric": k, "value": v} for k, v in metrics.items()]
        typer.echo(table_text(rows, ["metric", "value"]), nl=False)


def _plot(path: Path, ev: object, ranked: list, records: list, title: str) -> None:
    """Write the per-tag F1 and precision-recall figure as a PNG."""
    import matplotlib.pyplot as plt

    from newstag.tagging.evaluate import plot_evaluation

    fig = plot_evaluation(ev, ranked, [r.tags for r in records], title)  # type: ignore[arg-type]
    fig.savefig(path, dpi=80)
    plt.close(fig)


# -- newstag model convert / info: bundle files ------------------------------------------

model_app = typer.Typer(
    help="Inspect model bundles, convert old ones, attach house rules.", no_args_is_help=True
)


def model_convert(
    old: Path = typer.Argument(..., help="A pickle-based (format 1) bundle you trust."),
    new: Path = typer.Argument(..., help="Folder for the data-only bundle (new or empty)."),
) -> None:
    """Rewrite an old pickle bundle as arrays + JSON. Unpickling runs code: this command
    is the explicit opt-in, so convert only bundles from a source you trust."""
    from newstag.tagging import ModelError
    from newstag.tagging.bundle import convert_bundle

    try:
        manifest = convert_bundle(old, new)
    except ModelError as exc:
        raise fail(str(exc)) from None
    typer.echo(
        f"converted {old} -> {new} (format 2: arrays + JSON; {manifest.name} has the checksums)"
    )


def model_set_rules(
    path: Path = typer.Argument(..., help="Model bundle folder."),
    rules: str = typer.Argument(..., help="House rules file (TOML), or 'none' to remove them."),
) -> None:
    """Attach house rules to an existing bundle (no retraining), or remove them with 'none';
    the manifest's checksums are updated."""
    from newstag.tagging import ModelError
    from newstag.tagging.bundle_rules import set_rules
    from newstag.tagging.house_rules import RulesError

    try:
        manifest = set_rules(path, rules)
    except (ModelError, RulesError) as exc:
        raise fail(str(exc)) from None
    record = manifest.get("rules")
    typer.echo(
        f"{path}: rules {record['file']} (from {record['source']})"
        if record
        else f"{path}: no house rules"
    )


def model_info(
    path: Path = typer.Argument(..., help="Model bundle folder."),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """What a bundle is, what it was trained on and its held-out figures (no loading)."""
    from newstag.tagging import ModelError
    from newstag.tagging.bundle import describe

    try:
        info = describe(path)
    except ModelError as exc:
        raise fail(str(exc)) from None
    if fmt == Format.json:
        write_json(info)
        return
    if fmt == Format.csv:
        flat = {k: v for k, v in info.items() if not isinstance(v, dict)}
        typer.echo(csv_text([flat], list(flat)), nl=False)
        return
    typer.echo("\n".join(_info_lines(info)))


def _info_lines(info: dict) -> list[str]:
    corpus = info["corpus"]
    held = info["heldout_metrics"]
    lines = [
        f"bundle      {info['path']}",
        f"format      {info['format']} ({info['storage']}), {info['files']} files, "
        f"{info['bytes'] / 1e6:.1f} MB",
        f"created     {info['created']} by newstag {info['newstag']}"
        + (f", converted {info['converted'].get('at')}" if info["converted"] else ""),
        f"pipeline    {info['pipeline']} (spaCy {info['spacy']}; trained with "
        f"scikit-learn {info['scikit_learn']})",
        f"corpus      {corpus.get('name') or '?'}: {corpus.get('articles', info['n_docs'])} "
        f"articles, sha256 {str(corpus.get('sha256', '?'))[:16]}",
        f"tags        {info['n_labels']} known, {info['n_classifier_labels']} with their "
        f"own classifier; threshold {info['threshold']:.3f}",
        "held-out    "
        + ", ".join(
            f"{k} {v}" for k, v in held.items() if isinstance(v, (int, float)) and v is not None
        ),
        "top tags    " + ", ".join(info["top_labels"]),
        "rules       " + _rules_line(info.get("rules")),
    ]
    if info["format"] == 1:
        lines.append(
            f"note        pickles are no longer loaded: newstag model convert {info['path']} NEW"
        )
    return lines


def _rules_line(record: dict | None) -> str:
    """The bundle's house rules in one line."""
    if not record:
        return "none (newstag model set-rules DIR FILE adds some)"
    summary = ", ".join(f"{k} {v}" for k, v in (record.get("summary") or {}).items())
    return (
        f"{record.get('file')} from {record.get('source')}, sha256 "
        f"{str(record.get('sha256'))[:16]}; applied by default (--rules none: off)"
        + (f"; {summary}" if summary else "")
    )


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("eval")(eval_cmd)
    model_app.command("convert")(model_convert)
    model_app.command("info")(model_info)
    model_app.command("set-rules")(model_set_rules)
    app.add_typer(model_app, name="model")
