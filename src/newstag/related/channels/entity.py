"""The ``entity`` channel: IDF-weighted overlap of canonical entities.

``Kerry`` and ``John Kerry`` match through the words of a name (:func:`entity_keys`). Entities
come from :class:`newstag.nlp.entities.EntityExtractor` and are stored on the rows
(``rows.jsonl``), so the channel writes no file of its own; its vocabulary and document
frequencies are rebuilt from the rows when an index loads and updated exactly on add/remove.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from newstag.related.channels import Channel
from newstag.related.text import entity_key, row_keys

if TYPE_CHECKING:
    from newstag.related.index import RelatedIndex
    from newstag.related.rows import Row

_EXTRACTORS: dict[str | None, Any] = {}


def extractor(pipeline: str | None) -> Any:
    """The (shared) entity extractor of a spaCy pipeline."""
    from newstag.nlp.entities import EntityExtractor

    if pipeline not in _EXTRACTORS:
        _EXTRACTORS[pipeline] = EntityExtractor(pipeline=pipeline)
    return _EXTRACTORS[pipeline]


def extract_entities(
    headlines: list[str],
    leads: list[str],
    fields: str = "headline",
    pipeline: str | None = None,
    n_process: int = 1,
) -> list[list[list[str]]]:
    """Canonical entities of each headline (+ lead with ``headline+lead``), as ``[name, type]``."""
    if not headlines:
        return []
    from newstag.io.article import Article

    ex = extractor(pipeline)
    use_lead = fields == "headline+lead"
    articles = [
        Article(title=h, body=(lead if use_lead else ""))
        for h, lead in zip(headlines, leads, strict=True)
    ]
    n_process = n_process if len(articles) >= 2000 else 1
    out = []
    found = (
        [ex.extract(articles[0])]
        if len(articles) == 1
        else ex.extract_many(articles, batch_size=256, n_process=n_process)
    )
    for ents in found:
        seen: dict[str, list[str]] = {}
        for e in ents:
            seen.setdefault(entity_key(e.name), [e.name, e.type])
        out.append(list(seen.values()))
    return out


class EntityChannel(Channel):
    """Cosine of IDF-weighted entity-key sets.

    fields: what entities are extracted from (``headline`` or ``headline+lead``).
    pipeline: spaCy pipeline for extraction (default: newstag's).
    n_process: processes for extraction of 2,000 rows or more.
    """

    name = "entity"
    timing = "entities"

    def __init__(
        self, fields: str = "headline", pipeline: str | None = None, n_process: int = 1
    ) -> None:
        self.fields = fields
        self.pipeline = pipeline
        self.n_process = n_process

    @classmethod
    def wanted(cls, params: dict[str, Any]) -> bool:
        return bool(params.get("entities", True))

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Channel:
        return cls(
            fields=params.get("fields", "headline"),
            pipeline=params.get("pipeline"),
            n_process=params.get("n_process", 1),
        )

    def extract(self, headlines: list[str], leads: list[str]) -> list[list[list[str]]]:
        """Entities of headlines (and leads) with this channel's settings."""
        return extract_entities(headlines, leads, self.fields, self.pipeline, self.n_process)

    # -- rows ----------------------------------------------------------------------

    def start(self, index: RelatedIndex | None) -> None:
        self.vocab_: dict[str, int] = {}
        self.df_: list[int] = []
        self.n_rows_ = 0
        self.reset()

    def append(self, rows: list[Row], texts: list[str], index: RelatedIndex) -> None:
        """Extract the rows' entities (unless ``index.known_entities`` has them) and count them."""
        known = getattr(index, "known_entities", None) or {}
        todo = [r for r in rows if r.id not in known]
        for r in rows:
            if r.id in known:
                r.entities = known[r.id]
        for r, ents in zip(
            todo, self.extract([r.headline for r in todo], [r.lead for r in todo]), strict=True
        ):
            r.entities = ents
        self._count(rows)

    def _count(self, rows: list[Row]) -> None:
        """Add the rows' entity keys to the vocabulary (live rows to the frequencies)."""
        for r in rows:
            for key in row_keys(r.entities):
                j = self.vocab_.setdefault(key, len(self.vocab_))
                if j == len(self.df_):
                    self.df_.append(0)
                if r.alive:
                    self.df_[j] += 1
        self.n_rows_ += len(rows)
        self.reset()

    def forget(self, row: Row) -> None:
        for key in row_keys(row.entities):
            j = self.vocab_.get(key)
            if j is not None:
                self.df_[j] -= 1
        self.reset()

    def n_rows(self) -> int:
        return self.n_rows_

    def n_features(self) -> int:
        """How many entity keys are known."""
        return len(self.vocab_)

    def prepared(self, index: RelatedIndex) -> dict[str, Any]:
        """Rows x keys (0/1), its transpose, squared IDF and each row's weighted norm."""
        if getattr(self, "prepared_", None) is not None:
            return self.prepared_
        import numpy as np
        import scipy.sparse as sp

        rows = index.store.rows
        n, m = len(rows), max(1, len(self.vocab_))
        rr, cc = [], []
        for i, r in enumerate(rows):
            for key in row_keys(r.entities):
                rr.append(i)
                cc.append(self.vocab_[key])
        ent = sp.csr_matrix((np.ones(len(rr), dtype=np.float32), (rr, cc)), shape=(n, m))
        ent.sum_duplicates()
        ent.data[:] = 1.0
        n_alive = max(1, int(index.store.alive_mask().sum()))
        df = np.zeros(m, dtype=np.float32)
        df[: len(self.df_)] = np.maximum(self.df_, 0)
        idf = (np.log((1 + n_alive) / (1 + df)) + 1.0).astype(np.float32)
        w2 = idf**2
        norms = np.sqrt(np.asarray(ent @ w2).ravel())
        norms[norms == 0] = 1.0
        self.prepared_ = {"entT": ent.T.tocsr(), "ent": ent, "w2": w2, "norm": norms}
        return self.prepared_

    # -- querying ----------------------------------------------------------------------

    def query_ids(self, pos: list[int], index: RelatedIndex) -> Any:
        return self.query_texts(
            [], [[n for n, _ in index.store.rows[p].entities] for p in pos], index
        )

    def query_texts(self, texts: list[str], entities: list[list[str]], index: RelatedIndex) -> Any:
        """One 0/1 row over the entity keys per query (its entity names)."""
        import numpy as np

        w2 = self.prepared(index)["w2"]
        if not entities:
            return np.zeros((0, w2.shape[0]), dtype=np.float32)
        return np.vstack([self._vector(names, w2.shape[0]) for names in entities])

    def _vector(self, names: list[str], m: int) -> Any:
        import numpy as np

        idx = sorted(
            {self.vocab_[k] for k in row_keys([[n, ""] for n in names]) if k in self.vocab_}
        )
        q = np.zeros(m, dtype=np.float32)
        q[idx] = 1.0
        return q

    def similarities(self, queries: Any, index: RelatedIndex) -> Any:
        import numpy as np
        import scipy.sparse as sp

        prep = self.prepared(index)
        w2 = prep["w2"]
        qn = np.sqrt(queries @ w2)
        qn[qn == 0] = 1.0
        num = np.asarray((sp.csr_matrix(queries * w2) @ prep["entT"]).todense())
        return num / qn[:, None] / prep["norm"][None, :]

    def block(self, cand: Any, m: int, index: RelatedIndex) -> Any:
        import numpy as np

        from newstag.related.channels.lexical import dense_rows

        prep = self.prepared(index)
        cols, x = dense_rows(prep["ent"], cand)
        x = x * np.sqrt(prep["w2"][cols])[None, :] / prep["norm"][cand][:, None]
        return (x @ x[:m].T).astype(np.float32)

    # -- persistence (the entities live on the rows) -------------------------------------

    @classmethod
    def load(
        cls, src: Path, manifest: dict[str, Any], params: dict[str, Any], index: RelatedIndex
    ) -> Channel | None:
        """Rebuild the vocabulary and frequencies from the stored rows (no extraction)."""
        if not cls.wanted(params):
            return None
        channel = cls.from_params(params)
        channel.start(index)
        channel._count(index.store.rows)
        return channel

    def info(self) -> dict[str, Any]:
        return {"entity_features": self.n_features()}
