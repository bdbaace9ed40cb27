"""Candidate sources: one module per source, registered by name (see :mod:`.base`).

Built in: ``classifier`` (one-vs-rest SVM scores), ``knn`` (tag votes of similar training
articles), ``linker`` (entities linked to tags, and new salient entities) and ``labels``
(the tag's own name written in the article); ``period`` (when each tag was in use, against
the article's date) is registered too. Importing this package registers them.
"""

from newstag.tagging.sources import classifier, knn, labels, linker, period
from newstag.tagging.sources.base import (
    DEFAULT_SOURCES,
    SOURCES,
    Batch,
    CandidateSource,
    Features,
    TrainingSet,
    feature_order,
    register_source,
    source_class,
)

BUILT_IN = (
    classifier.ClassifierSource,
    knn.KNNSource,
    labels.LabelSource,
    linker.LinkerSource,
    period.PeriodSource,
)

__all__ = [
    "BUILT_IN",
    "DEFAULT_SOURCES",
    "SOURCES",
    "Batch",
    "CandidateSource",
    "Features",
    "TrainingSet",
    "feature_order",
    "register_source",
    "source_class",
]
