"""Tagged corpora: read JSON lines, CSV/TSV, ``.txt`` + ``.tags`` folders and Reuters-21578 SGML.

Every reader yields :class:`CorpusRecord` objects and reports the rows it could not use
(with their line numbers) in a :class:`CorpusReport`, so that no data is dropped silently.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newstag.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

REUTERS_FIELDS = ("topics", "places", "people", "orgs", "exchanges", "all")
TITLE_FIELDS = ("title", "headline")
BODY_FIELDS = ("body", "text", "snippet", "abstract", "lead_paragraph")
TAGS_FIELDS = ("tags", "keywords", "labels", "categories")


class CorpusError(InputError, ValueError):
    """A corpus that cannot be read at all (missing, empty, wrong format)."""


@dataclass
class CorpusRecord:
    """One tagged article of a corpus."""

    id: str
    title: str
    body: str
    tags: list[str]
    date: str | None = None
    line: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """Headline and body joined, as :class:`newstag.io.article.Article` does."""
        if not self.title:
            return self.body
        return f"{self.title}\n\n{self.body}" if self.body else self.title

    def to_article(self) -> Any:
        """The record as a :class:`newstag.io.article.Article` (no page cleaning)."""
        from newstag.io.article import Article

        return Article(
            title=self.title,
            body=self.body,
            id=self.id,
            date=self.date,
            source=self.meta.get("source", "<corpus>"),
        )


@dataclass
class CorpusReport:
    """What a reader used and skipped. ``skipped`` holds ``(where, reason)`` pairs."""

    source: str = ""
    used: int = 0
    untagged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def skip(self, where: str, reason: str) -> None:
        self.skipped.append((where, reason))

    def summary(self) -> str:
        text = f"{self.source}: used {self.used:,} articles"
        if self.untagged:
            text += f" ({self.untagged:,} without tags)"
        if self.skipped:
            text += f", skipped {len(self.skipped):,}"
        return text


def detect_format(path: Path) -> str:
    """Guess the corpus format from the path."""
    if path.is_dir():
        if any(path.glob("*.sgm")):
            return "reuters"
        return "dir"
    name = path.name.lower()
    for suffix in (".gz",):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith(".tsv"):
        return "tsv"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".sgm"):
        return "reuters"
    raise CorpusError(
        f"{path}: unknown corpus format (use .jsonl, .csv, .tsv, .sgm, "
        "a folder of .txt + .tags files, or --corpus-format)"
    )


def _split_tags(value: Any, sep: str, where: str) -> list[str]:
    """Tags from a list or a separated string; raises ValueError on anything else."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                value = [text]
        else:
            return _dedupe(t.strip() for t in text.split(sep))
    if isinstance(value, (list, tuple)):
        if not all(isinstance(t, str) for t in value):
            raise ValueError("tags must be strings")
        return _dedupe(t.strip() for t in value)
    raise ValueError(
        f"tags must be a list of strings or a {sep!r}-separated string, not {type(value).__name__}"
    )


def _dedupe(tags: Any) -> list[str]:
    seen: dict[str, None] = {}
    for t in tags:
        if t:
            seen.setdefault(t, None)
    return list(seen)


def _pick(record: dict[str, Any], explicit: str | None, fallbacks: tuple[str, ...]) -> Any:
    if explicit:
        return record.get(explicit)
    for key in fallbacks:
        if record.get(key) not in (None, ""):
            return record[key]
    return None


def _make_record(
    row: dict[str, Any],
    where: str,
    no: int,
    sep: str,
    text_field: str | None,
    title_field: str | None,
    tags_field: str | None,
    report: CorpusReport,
) -> CorpusRecord | None:
    title = _pick(row, title_field, TITLE_FIELDS) or ""
    body = _pick(row, text_field, BODY_FIELDS) or ""
    if not isinstance(title, str) or not isinstance(body, str):
        report.skip(where, "title and body must be strings")
        return None
    title, body = title.strip(), body.strip()
    if not title and not body:
        report.skip(where, "no title or text")
        return None
    try:
        tags = _split_tags(_pick(row, tags_field, TAGS_FIELDS), sep, where)
    except ValueError as exc:
        report.skip(where, str(exc))
        return None
    rid = row.get("id")
    date = row.get("date")
    return CorpusRecord(
        id=str(rid) if rid not in (None, "") else str(no),
        title=title,
        body=body,
        tags=tags,
        date=str(date) if date else None,
        line=no,
        meta={"source": where},
    )


def _read_jsonl(path: Path, report: CorpusReport, **kw: Any) -> Iterator[CorpusRecord]:
    yield from _read_records(path, "jsonl", report, **kw)


def _read_delimited(
    path: Path, delimiter: str, report: CorpusReport, **kw: Any
) -> Iterator[CorpusRecord]:
    from newstag.io.records import RecordError, read_header

    fmt = "tsv" if delimiter == "\t" else "csv"
    try:
        columns = read_header(path, fmt)
    except RecordError as exc:
        raise CorpusError(str(exc)) from None
    if not columns:
        return
    for name in ("text_field", "title_field", "tags_field"):
        if kw.get(name) and kw[name] not in columns:
            raise CorpusError(f"{path}: no column {kw[name]!r} (columns: {', '.join(columns)})")
    if not kw.get("tags_field") and not set(columns) & set(TAGS_FIELDS):
        raise CorpusError(
            f"{path}: no tags column (expected one of {', '.join(TAGS_FIELDS)}; use --tags-field)"
        )
    yield from _read_records(path, fmt, report, **kw)


def _read_records(path: Path, fmt: str, report: CorpusReport, **kw: Any) -> Iterator[CorpusRecord]:
    """Records of a JSON lines or CSV/TSV file (:mod:`newstag.io.records`); bad ones reported."""
    from newstag.io.records import RecordError, read_records

    try:
        for rec in read_records(path, fmt):
            if not rec.ok:
                report.skip(rec.where, rec.error or "")
                continue
            made = _make_record(rec.data or {}, rec.where, rec.line or rec.row, report=report, **kw)
            if made is not None:
                yield made
    except RecordError as exc:
        raise CorpusError(str(exc)) from None


def _read_dir(path: Path, report: CorpusReport, sep: str, **_: Any) -> Iterator[CorpusRecord]:
    from newstag.io.article import ArticleError, read_article

    for no, txt in enumerate(sorted(path.rglob("*.txt")), 1):
        tags_path = txt.with_suffix(".tags")
        if not tags_path.exists():
            report.skip(str(txt), "no sidecar .tags file")
            continue
        try:
            article = read_article(txt, fmt="txt")
        except ArticleError as exc:
            report.skip(str(txt), str(exc))
            continue
        lines = tags_path.read_text(encoding="utf-8", errors="replace").splitlines()
        tags = _dedupe(t.strip() for t in lines)
        yield CorpusRecord(
            id=str(txt.relative_to(path).with_suffix("")),
            title=article.title,
            body=article.body,
            tags=tags,
            line=no,
            meta={"source": str(txt)},
        )


_REUTERS_DOC = re.compile(r"<REUTERS(?P<attrs>[^>]*)>(?P<body>.*?)</REUTERS>", re.S)
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_D = re.compile(r"<D>(.*?)</D>", re.S)


def _tag(body: str, name: str) -> str:
    m = re.search(rf"<{name}[^>]*>(.*?)</{name}>", body, re.S)
    return m.group(1) if m else ""


def _sgml_text(text: str) -> str:
    text = re.sub(r"&#\d+;", "", text)
    text = html.unescape(text.replace("&lt;", "<"))
    text = re.sub(r"\s*\n\s*", " ", text.replace("\n    ", "\n\n"))
    return re.sub(r"\s+Reuter\s*$", "", text).strip()


def _read_reuters(
    path: Path,
    report: CorpusReport,
    reuters_field: str = "topics",
    dateline: bool = False,
    **_: Any,
) -> Iterator[CorpusRecord]:
    if reuters_field not in REUTERS_FIELDS:
        raise CorpusError(
            f"unknown Reuters tag field {reuters_field!r} (choose from {', '.join(REUTERS_FIELDS)})"
        )
    fields = (
        ["topics", "places", "people", "orgs", "exchanges"]
        if reuters_field == "all"
        else [reuters_field]
    )
    files = sorted(path.glob("*.sgm")) if path.is_dir() else [path]
    for sgm in files:
        data = sgm.read_bytes().decode("latin-1")
        no, pos = 1, 0
        for m in _REUTERS_DOC.finditer(data):
            attrs = dict(_ATTR.findall(m.group("attrs")))
            body = m.group("body")
            no += data.count("\n", pos, m.start())
            pos = m.start()
            where = f"{sgm}:{no}"
            text_part = _tag(body, "TEXT")
            title = _sgml_text(_tag(text_part, "TITLE"))
            main = _tag(text_part, "BODY")
            if not main and not title:  # TYPE="UNPROC" etc: the text is bare
                main = re.sub(r"<[^>]+>", " ", text_part)
            main = _sgml_text(main)
            place_line = " ".join(_sgml_text(_tag(text_part, "DATELINE")).split())
            if dateline and place_line and main:  # "LONDON, March 3 - " starts the story
                main = f"{place_line.rstrip(' -')} - {main}"
            if not title and not main:
                report.skip(where, "no title or text")
                continue
            tags: list[str] = []
            for f in fields:
                tags += [t.strip() for t in _D.findall(_tag(body, f.upper()))]
            yield CorpusRecord(
                id=attrs.get("NEWID", str(no)),
                title=title,
                body=main,
                tags=_dedupe(tags),
                date=_sgml_text(_tag(body, "DATE")) or None,
                line=no,
                meta={
                    "source": where,
                    "lewissplit": attrs.get("LEWISSPLIT"),
                    "topics_attr": attrs.get("TOPICS"),
                    "dateline": place_line or None,
                },
            )


@dataclass(frozen=True)
class CorpusOptions:
    """What :func:`read_corpus` passes to a format's reader."""

    text_field: str | None = None
    title_field: str | None = None
    tags_field: str | None = None
    tag_sep: str = ";"
    reuters_field: str = "topics"
    reuters_dateline: bool = False

    def fields(self) -> dict[str, Any]:
        """The options of the record-file readers (JSON lines, CSV, TSV)."""
        return {
            "sep": self.tag_sep,
            "text_field": self.text_field,
            "title_field": self.title_field,
            "tags_field": self.tags_field,
        }


CorpusReader = Callable[[Path, CorpusReport, CorpusOptions], Iterator[CorpusRecord]]
READERS: dict[str, CorpusReader] = {}
"""Corpus formats by name: a new format is a reader function registered with
:func:`corpus_reader` (and, to be found from a path, a rule in :func:`detect_format`)."""


def corpus_reader(name: str) -> Callable[[CorpusReader], CorpusReader]:
    """Register a reader of one corpus format under ``name``."""

    def register(reader: CorpusReader) -> CorpusReader:
        READERS[name] = reader
        return reader

    return register


@corpus_reader("jsonl")
def _jsonl_corpus(path: Path, report: CorpusReport, o: CorpusOptions) -> Iterator[CorpusRecord]:
    if path.is_dir():
        raise CorpusError(f"{path}: is a folder, not a JSON lines file")
    return _read_jsonl(path, report, **o.fields())


@corpus_reader("csv")
def _csv_corpus(path: Path, report: CorpusReport, o: CorpusOptions) -> Iterator[CorpusRecord]:
    return _read_delimited(path, ",", report, **o.fields())


@corpus_reader("tsv")
def _tsv_corpus(path: Path, report: CorpusReport, o: CorpusOptions) -> Iterator[CorpusRecord]:
    return _read_delimited(path, "\t", report, **o.fields())


@corpus_reader("dir")
def _dir_corpus(path: Path, report: CorpusReport, o: CorpusOptions) -> Iterator[CorpusRecord]:
    if not path.is_dir():
        raise CorpusError(f"{path}: not a folder of .txt and .tags files")
    return _read_dir(path, report, sep=o.tag_sep)


@corpus_reader("reuters")
def _reuters_corpus(path: Path, report: CorpusReport, o: CorpusOptions) -> Iterator[CorpusRecord]:
    return _read_reuters(path, report, reuters_field=o.reuters_field, dateline=o.reuters_dateline)


FORMATS = tuple(READERS)


def read_corpus(
    path: str | Path,
    fmt: str | None = None,
    *,
    text_field: str | None = None,
    title_field: str | None = None,
    tags_field: str | None = None,
    tag_sep: str = ";",
    reuters_field: str = "topics",
    report: CorpusReport | None = None,
    reuters_dateline: bool = False,
) -> Iterator[CorpusRecord]:
    """Yield the records of a corpus; bad rows go to ``report.skipped`` with line numbers.

    ``path`` may be a glob pattern (``data/part*.jsonl.gz``) to read several files.
    ``fmt`` is one of :data:`FORMATS` (default: from the path). ``text_field``,
    ``title_field`` and ``tags_field`` name other columns; ``tag_sep`` splits string tags.
    ``reuters_dateline`` starts a Reuters story's body with its dateline, as it ran on the
    wire ("LONDON, March 3 - ..."); it is always kept in ``meta["dateline"]``.
    """
    report = report if report is not None else CorpusReport()
    if any(ch in str(path) for ch in "*?["):
        files = sorted(Path(str(path)).parent.glob(Path(str(path)).name))
        if not files:
            raise CorpusError(f"{path}: no file matches")
        for file in files:
            yield from read_corpus(
                file,
                fmt,
                text_field=text_field,
                title_field=title_field,
                tags_field=tags_field,
                tag_sep=tag_sep,
                reuters_field=reuters_field,
                report=report,
                reuters_dateline=reuters_dateline,
            )
        report.source = str(path)
        return
    p = Path(path)
    if not p.exists():
        raise CorpusError(f"{path}: no such file or folder")
    fmt = fmt or detect_format(p)
    if fmt not in READERS:
        raise CorpusError(f"unknown corpus format {fmt!r} (choose from {', '.join(READERS)})")
    report.source = str(path)
    options = CorpusOptions(
        text_field=text_field,
        title_field=title_field,
        tags_field=tags_field,
        tag_sep=tag_sep,
        reuters_field=reuters_field,
        reuters_dateline=reuters_dateline,
    )
    for rec in READERS[fmt](p, report, options):
        report.used += 1
        report.untagged += not rec.tags
        yield rec


def load_corpus(
    path: str | Path, fmt: str | None = None, *, require_tags: bool = True, **kwargs: Any
) -> tuple[list[CorpusRecord], CorpusReport]:
    """Read a whole corpus; raise :class:`CorpusError` when it is empty or has no tags."""
    report = CorpusReport()
    records = list(read_corpus(path, fmt, report=report, **kwargs))
    if not records:
        detail = (
            f" ({len(report.skipped)} rows skipped; first: {report.skipped[0][0]}: "
            f"{report.skipped[0][1]})"
            if report.skipped
            else ""
        )
        raise CorpusError(f"{path}: no usable articles{detail}")
    if require_tags and not any(r.tags for r in records):
        raise CorpusError(f"{path}: no article has tags (check --tags-field / --tag-sep)")
    return records, report


def read_corpus_frame(path: str | Path, fmt: str | None = None, **kwargs: Any) -> pd.DataFrame:
    """The corpus as a pandas DataFrame with columns id, title, body, tags, date.

    Skipped rows are listed in ``frame.attrs["skipped"]`` as ``(where, reason)`` pairs.
    """
    import pandas as pd

    report = CorpusReport()
    rows = [
        {"id": r.id, "title": r.title, "body": r.body, "tags": r.tags, "date": r.date}
        for r in read_corpus(path, fmt, report=report, **kwargs)
    ]
    frame = pd.DataFrame(rows, columns=["id", "title", "body", "tags", "date"])
    frame.attrs["skipped"] = list(report.skipped)
    frame.attrs["source"] = str(path)
    return frame


def split_by_date(
    records: list[CorpusRecord], train_fraction: float = 0.8
) -> tuple[list[CorpusRecord], list[CorpusRecord]]:
    """Oldest ``train_fraction`` of the dated records for training, the rest for testing."""
    dated = sorted((r for r in records if r.date), key=lambda r: r.date or "")
    cut = int(len(dated) * train_fraction)
    return dated[:cut], dated[cut:]


# --------------------------------------------------------------------------- tag aliases

ALIAS_FORMATS = """\
A tag alias file lists other names a tag is written as, one tag per line, in either form
(both may be mixed; blank lines and lines starting with # are skipped):

    tag<TAB>alias<TAB>alias...
    {"tag": "tag", "aliases": ["alias", "alias"]}

Aliases feed the linker's string matching: an entity whose name (or one of its own aliases)
normalises to a tag's alias counts as naming that tag ("alfonsin" / "Raul Alfonsin").
Lines of the same tag add up."""


def read_tag_aliases(path: str | Path, report: CorpusReport | None = None) -> dict[str, list[str]]:
    """Read a tag alias file (see :data:`ALIAS_FORMATS`); bad lines go to ``report.skipped``.

    Raises :class:`CorpusError` when the file is missing or has no usable line.
    """
    from newstag.io.records import RecordError, read_lines

    report = report if report is not None else CorpusReport()
    p = Path(path)
    if not p.exists():
        raise CorpusError(f"{path}: no such alias file")
    if p.is_dir():
        raise CorpusError(f"{path}: is a folder, not a tag alias file")
    report.source = str(path)
    out: dict[str, list[str]] = {}
    try:
        _read_alias_lines(read_lines(p), str(path), out, report)
    except RecordError as exc:
        raise CorpusError(str(exc)) from None
    if not out:
        detail = (
            f" ({len(report.skipped)} lines skipped; first: {report.skipped[0][0]}: "
            f"{report.skipped[0][1]})"
            if report.skipped
            else ""
        )
        raise CorpusError(f"{path}: no usable tag aliases{detail}")
    return out


def _read_alias_lines(
    lines: Iterator[tuple[int, str, str | None]],
    path: str,
    out: dict[str, list[str]],
    report: CorpusReport,
) -> None:
    """Add the aliases of each line to ``out``; bad lines go to ``report.skipped``."""
    from newstag.io.records import parse_json_object
    from newstag.io.records import where as place

    for no, line, bad in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = place(str(path), no)
        if bad:
            report.skip(where, bad)
            continue
        if line.lstrip().startswith("{"):
            row, reason, column = parse_json_object(line)
            if row is None:
                report.skip(place(str(path), no, column=column), reason or "")
                continue
            tag, names = row.get("tag"), row.get("aliases")
            if isinstance(names, str):
                names = [names]
            if not isinstance(tag, str) or not tag.strip():
                report.skip(where, 'no "tag" string')
                continue
            if not isinstance(names, list) or not all(isinstance(a, str) for a in names):
                report.skip(where, '"aliases" must be a list of strings')
                continue
        else:
            tag, *names = line.split("\t")
            if not tag.strip():
                report.skip(where, "no tag before the first tab")
                continue
        tag = tag.strip()
        names = [a.strip() for a in names if a.strip() and a.strip() != tag]
        if not names:
            report.skip(where, "no alias (expected tag<TAB>alias or a JSON object)")
            continue
        known = out.setdefault(tag, [])
        known += [a for a in names if a not in known]
        report.used += 1


def write_tag_aliases(aliases: dict[str, list[str]], path: str | Path) -> Path:
    """Write ``aliases`` as a TSV alias file (``tag<TAB>alias...``), tags sorted."""
    p = Path(path)
    lines = ["# tag<TAB>alias...  (newstag tag alias file)"]
    for tag in sorted(aliases):
        names = [a.replace("\t", " ").strip() for a in aliases[tag]]
        names = [a for a in names if a]
        if names:
            lines.append("\t".join([tag, *names]))
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


_CODE_AT_END = re.compile(r"^(?P<desc>.*?)\s*\((?P<code>[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)\)\s*$", re.S)
_NAME_FIRST = re.compile(r"^(?P<code>[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)\s*\((?P<name>[^)]+)\)\s*$")
_ROLE_WORDS = {
    "president",
    "minister",
    "prime",
    "secretary",
    "governor",
    "chairman",
    "chancellor",
    "premier",
    "director",
    "director-general",
    "general",
    "commissioner",
    "head",
    "deputy",
    "representative",
    "speaker",
    "leader",
    "mrs",
    "mr",
    "dr",
    "lord",
    "major-general",
    "former",
    "elder",
    "statesman",
    "secretary-general",
    "treasurer",
    "ayatollah",
    "hojatoleslam",
    "sheikh",
}
_PARTICLES = {"de", "la", "del", "da", "du", "von", "van", "der", "le", "al", "bin", "ibn"}


def _person_names(desc: str, code: str) -> list[str]:
    """Full-name aliases of a person described as "Finance Minister Jose Luis Machinea".

    The name is the run of capitalised words (and name particles) that ends at the code's
    surname; without it, the text before a comma ("Fidel Castro, President of Cuba") or the
    trailing capitalised run. The run and its suffixes of two words or more are returned
    (role words stop the run, so "Treasury Secretary James Baker" gives "James Baker").
    """
    variants = [desc]
    nick = re.search(r"(\w+)\s*\((\w+)\)\s+(\w+)", desc)  # "Robert (Bob) Hawke"
    if nick:
        variants.append(
            desc[: nick.start()] + f"{nick.group(2)} {nick.group(3)}" + desc[nick.end() :]
        )
    code_words = code.lower().split("-")
    names: list[str] = []
    for text in variants:
        text = re.sub(r"\([^)]*\)", " ", text)
        words = text.replace(",", " , ").split()
        low = [w.lower() for w in words]
        end = None
        for i in range(len(low) - len(code_words), -1, -1):
            if low[i : i + len(code_words)] == code_words:
                end = i + len(code_words)
                break
        if end is None:
            end = low.index(",") if "," in low else len(words)
        start = end - 1
        while start > 0:
            w = words[start - 1]
            if w == "," or w.lower() in _ROLE_WORDS:
                break
            if not (w[:1].isupper() or w.lower() in _PARTICLES):
                break
            start -= 1
        run = words[start:end]
        for k in range(len(run) - 1):
            first = run[k]
            if k and (first.lower() in _PARTICLES or first.endswith(".") or len(first) == 1):
                continue  # "la Madrid", "K. Bouey": not a way the name is written
            names.append(" ".join(run[k:]))
    full = " ".join(code_words)
    return list(dict.fromkeys(n for n in names if n.lower() != full))


def reuters_tag_aliases(path: str | Path) -> dict[str, list[str]]:
    """Tag aliases from a Reuters-21578 category description file (``cat-descriptions``).

    Entries look like ``Full Name (CODE)``, possibly over several lines and with ``@*``
    markup; people are ``Role Full Name (CODE)`` or ``Full Name, role (CODE)`` and give their
    full names (``alfonsin`` -> "Raul Alfonsin"); organisations, exchanges and topic codes
    give their full names; ``CODE (Other Name)`` gives the other name. Codes become the
    corpus's lower-case tags. Bare codes (commodities, countries) give nothing.
    """
    text = Path(path).read_text(encoding="latin-1")
    aliases: dict[str, list[str]] = {}
    section = ""
    pending: list[str] = []

    def add(code: str, names: list[str]) -> None:
        tag = code.lower()
        known = aliases.setdefault(tag, [])
        known += [n for n in names if n and n not in known and n.lower() != tag]

    for raw in text.splitlines():
        line = raw.replace("@*", "").strip()
        heading = re.match(r"^(?:\*+|@heading\[)\s*(.*?)\s*(?:\(\d+\)\s*)?\]?$", line)
        if heading and (line.startswith("*") or line.startswith("@heading")):
            section = heading.group(1).lower()
            pending = []
            continue
        if not line or line.startswith("@") or set(line) <= {"_"}:
            pending = []
            continue
        pending.append(line)
        entry = " ".join(pending)
        m = _CODE_AT_END.match(entry)
        if m:
            pending = []
            desc = " ".join(m.group("desc").split())
            code = m.group("code")
            if not desc:
                continue
            if "people" in section:
                add(code, _person_names(desc, code))
            else:
                names = [re.sub(r"\s*\[[^\]]*\]", "", desc).strip()]
                names += re.findall(r"\[([^\]]+)\]", desc)
                add(code, names)
            continue
        m2 = _NAME_FIRST.match(line)
        if m2:
            pending = []
            add(m2.group("code"), [m2.group("name").strip()])
            continue
        if len(pending) > 4 or re.fullmatch(r"[A-Z0-9 -]+", line):
            pending = []  # a bare code or a heading: no entry continues across it
    return {t: a for t, a in aliases.items() if a}
