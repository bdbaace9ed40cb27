"""The ``word`` channel: TF-IDF of lightly stemmed words without stop words.

Its re-ranker extras compare the query's and a candidate's words and numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from newstag.related.channels.lexical import TfidfChannel
from newstag.related.text import NUMBER, word_terms

if TYPE_CHECKING:
    from newstag.related.index import RelatedIndex


class WordChannel(TfidfChannel):
    """Unigrams of lightly stemmed non-stop words (sublinear tf): the best of the variants
    tried on the neus-related train split (bigrams hurt headlines)."""

    name = "word"
    timing = "tfidf"
    extra_features = ("shared_terms", "terms", "terms_diff", "shared_numbers", "new_numbers")

    def vectorizer(self) -> Any:
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(
            analyzer=word_terms, sublinear_tf=True, dtype=np.float32, min_df=self.min_df
        )

    def extras(self, cand: Any, q: dict[str, Any], index: RelatedIndex) -> list[Any]:
        """Shared word terms, the candidate's word count and its difference with the query's,
        shared numbers, and whether the candidate has numbers the query lacks (when it has any).
        """
        import numpy as np

        store = index.store
        if q.get("_pos") is not None:
            q_terms = set(self.rows_[q["_pos"]].indices.tolist())
            q_text = store.text(q["_pos"])
        else:
            vocab = self.vec_.vocabulary_
            q_terms = {vocab[t] for t in word_terms(q["_text"]) if t in vocab}
            q_text = q["_text"]
        indptr, indices = self.rows_.indptr, self.rows_.indices
        shared = [
            len(q_terms.intersection(indices[indptr[c] : indptr[c + 1]].tolist())) for c in cand
        ]
        n_c = np.diff(indptr)[cand].astype(np.float64)
        q_nums = set(NUMBER.findall(q_text))
        known = self.prepared().setdefault("numbers", {})  # numbers of each row, as queries go
        c_nums = []
        for c in cand:
            nums = known.get(c)
            if nums is None:
                nums = known[c] = frozenset(NUMBER.findall(store.text(c)))
            c_nums.append(nums)
        return [
            np.array(shared, dtype=np.float64),
            n_c,
            n_c - len(q_terms),
            np.array([len(q_nums & n) for n in c_nums], dtype=np.float64),
            np.array([bool(q_nums) and bool(n - q_nums) for n in c_nums], dtype=np.float64),
        ]
