"""Does the cleaner keep the whole story? Before/after on Reuters-21578, and furniture.

Reuters-21578 stories are fed to the cleaner as plain text, as a wire service sends them:
headline, dateline line ("SALVADOR, Feb 26 -"), then one line per paragraph or table row
(the SGML body's indented lines start paragraphs; its column-aligned lines are table rows).
Every line is story, so the share kept should be 1.0. The same texts go through the
cleaner of ``--before`` (a git revision; default: main before issue 17's cleaning rules)
and of the working tree, in one run. These stories were used to develop the rules: they
are a development set, not a held-out test.

NYT headlines (Title Case) as plain text with their snippet: does the headline stay the
headline?

On our furniture samples (``data/sample/*.txt``, story lines listed below by number) the
share of furniture lines dropped should stay 1.0, and the share of story lines kept 1.0.

    nice .venv/bin/python benchmarks/cleaning.py [--n 3000] [--before d2f24bb]
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "d2f24bbd479bd5315206f435966c2d226e637788"  # main when issue 17.1 started
SAMPLES = {  # file: 1-based numbers of its story lines; every other non-empty line is furniture
    "kim-putin-summit.txt": {1, 2, 4, 5, 7, 8, 9},
    "gaza-aid-convoy.txt": {14, 15, 17, 18, 19, 20, 21},
    "golf-results.txt": set(range(9, 30)),
    "flood-relief.txt": set(range(8, 24)),
}
_DOC = re.compile(r"<REUTERS[^>]*>(.*?)</REUTERS>", re.S)


def load_cleaner(rev: str | None) -> ModuleType:
    """``newstag.io.article`` of git revision ``rev`` (``None``: the working tree)."""
    if rev is None:
        import newstag.io.article

        return newstag.io.article
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:src/newstag/article.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    spec = importlib.util.spec_from_loader(f"article_{rev[:8]}", loader=None)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{rev[:8]}:article.py", "exec"), module.__dict__)  # noqa: S102
    return module


def _field(doc: str, name: str) -> str:
    m = re.search(rf"<{name}>(.*?)</{name}>", doc, re.S)
    return html.unescape(re.sub(r"&#\d+;", "", m.group(1))) if m else ""


def wire_lines(body: str) -> list[str]:
    """One line per paragraph (a line indented by 4 spaces starts one; unindented lines
    continue it) or table row (any other indentation)."""
    out: list[str] = []
    for raw in body.splitlines():
        if not raw.strip() or raw.strip().lower() == "reuter":  # the agency's sign-off
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        if indent == 0 and out:
            out[-1] += " " + raw.strip()
        elif indent == 4 or not out:
            out.append(raw.strip())
        else:
            out.append(raw.rstrip())
    return out


def reuters_stories(n: int) -> Iterator[list[str]]:
    """The first ``n`` Reuters stories with a body, as lines of plain text."""
    from newstag.paths import shared_data

    path = shared_data("reuters21578")
    if path is None:
        sys.exit("Reuters-21578 not found under ../shared/data (set NEWSTAG_SHARED_DATA)")
    count = 0
    for sgm in sorted(path.glob("*.sgm")):
        for m in _DOC.finditer(sgm.read_bytes().decode("latin-1")):
            title, body = _field(m.group(1), "TITLE").strip(), _field(m.group(1), "BODY")
            dateline = " ".join(_field(m.group(1), "DATELINE").split())
            if not title or not body.strip():
                continue
            yield [title] + ([dateline] if dateline else []) + wire_lines(body)
            count += 1
            if count >= n:
                return


def _norm(line: str) -> str:
    return " ".join(line.split())


def kept_lines(cleaner: ModuleType, lines: list[str]) -> tuple[set[str], str]:
    """The normalised lines the cleaner kept, and its headline."""
    try:
        article = cleaner.clean_text("\n".join(lines), "<reuters>")
    except ValueError:  # no story found
        return set(), ""
    return {_norm(x) for x in article.text.splitlines() if x.strip()}, article.title


def reuters_rows(stories: list[list[str]], cleaners: dict[str, ModuleType]) -> None:
    data_kind = cleaners["after"].classify_line
    print(
        f"Reuters-21578: {len(stories):,} stories, "
        f"{sum(len(s) for s in stories):,} story lines (development set)"
    )
    print(
        f"{'cleaner':8} {'lines kept':>11} {'data lines':>11} {'datelines':>10} "
        f"{'whole story':>12} {'headline':>9}"
    )
    for name, cleaner in cleaners.items():
        c: Counter[str] = Counter()
        for story in stories:
            kept, title = kept_lines(cleaner, story)
            hits = [_norm(x) in kept for x in story]
            kinds = [data_kind(x) for x in story]
            c["lines"] += len(story)
            c["kept"] += sum(hits)
            c["data"] += sum(k[0] == "data" for k in kinds)
            c["data_kept"] += sum(h for h, k in zip(hits, kinds, strict=True) if k[0] == "data")
            c["dl"] += sum(k[1] == "dateline" for k in kinds)
            c["dl_kept"] += sum(h for h, k in zip(hits, kinds, strict=True) if k[1] == "dateline")
            c["whole"] += all(hits)
            c["headline"] += title == story[0]
        shares = (
            c["kept"] / c["lines"],
            c["data_kept"] / max(c["data"], 1),
            c["dl_kept"] / max(c["dl"], 1),
            c["whole"] / len(stories),
            c["headline"] / len(stories),
        )
        print(
            f"{name:8} "
            + " ".join(f"{x:>{w}.4f}" for x, w in zip(shares, (11, 11, 10, 12, 9), strict=True))
        )
    print(
        f"(data lines: {c['data']:,} table rows, list items and datelines as the new rules "
        f"see them; datelines: {c['dl']:,})"
    )


def nyt_headline_rows(before: ModuleType) -> None:
    """Title Case headlines (NYT April 2018, headline + snippet as plain text): the share
    whose headline stays the headline, before, after, and after without the rule that a
    tag-like line right above the first paragraph is the headline (an ablation)."""
    import json

    from newstag.io import article, cleaning
    from newstag.paths import shared_data

    folder = shared_data("nyt-2018-04")
    if folder is None:
        print("\nNYT headlines: skipped (needs ../shared/data/nyt-2018-04)")
        return
    records = [json.loads(line) for line in (folder / "articles.jsonl").open(encoding="utf-8")]
    pairs = [(r["headline"].strip(), r["snippet"]) for r in records if r.get("snippet")]

    def share(cleaner: ModuleType) -> float:
        return sum(kept_lines(cleaner, [h, s])[1] == h for h, s in pairs) / len(pairs)

    print(f"\nNYT headlines ({len(pairs):,} headline + snippet texts): headline kept")
    print(f"before   {share(before):.4f}")
    print(f"after    {share(article):.4f}")
    rule = cleaning._headline_not_tags
    cleaning._headline_not_tags = lambda kinds: kinds
    try:
        print(f"after without the headline-position rule {share(article):.4f}")
    finally:
        cleaning._headline_not_tags = rule


def furniture_rows(cleaners: dict[str, ModuleType]) -> None:
    print("\nFurniture samples (data/sample): share of furniture lines dropped, story lines kept")
    for name, cleaner in cleaners.items():
        furn = furn_dropped = story = story_kept = 0
        for sample, story_nos in SAMPLES.items():
            lines = (ROOT / "data" / "sample" / sample).read_text().splitlines()
            kept, _ = kept_lines(cleaner, lines)
            for no, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                hit = _norm(line) in kept
                if no in story_nos:
                    story, story_kept = story + 1, story_kept + hit
                else:
                    furn, furn_dropped = furn + 1, furn_dropped + (not hit)
        print(
            f"{name:8} furniture dropped {furn_dropped}/{furn} = {furn_dropped / furn:.4f}; "
            f"story kept {story_kept}/{story} = {story_kept / story:.4f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=3000, help="Reuters stories to clean.")
    ap.add_argument("--before", default=BEFORE, help="Git revision of the 'before' cleaner.")
    args = ap.parse_args()
    cleaners = {"before": load_cleaner(args.before), "after": load_cleaner(None)}
    reuters_rows(list(reuters_stories(args.n)), cleaners)
    furniture_rows(cleaners)
    nyt_headline_rows(cleaners["before"])


if __name__ == "__main__":
    main()
