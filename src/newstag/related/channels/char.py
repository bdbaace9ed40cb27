"""The ``char`` channel: TF-IDF of character 2-4-grams inside word boundaries."""

from __future__ import annotations

from typing import Any

from newstag.related.channels.lexical import TfidfChannel


class CharChannel(TfidfChannel):
    """Character n-grams catch inflections and unseen words (``flood``/``flooding``)."""

    name = "char"
    timing = "tfidf"

    def vectorizer(self) -> Any:
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 4),
            sublinear_tf=True,
            dtype=np.float32,
            min_df=self.min_df,
        )
