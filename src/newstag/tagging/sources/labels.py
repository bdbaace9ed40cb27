"""The ``labels`` source: the tag's own name or aliases written in the article."""

from __future__ import annotations

import math
from typing import Any, TypedDict

from newstag.tagging.labeltext import LabelText, tag_label_forms
from newstag.tagging.sources.base import Batch, CandidateSource, TrainingSet, register_source


class LabelFeatures(TypedDict):
    label_in_headline: float
    label_mentions: float
    """log1p of the body's mentions of the tag's words."""
    label_in_lead: float


@register_source("labels")
class LabelSource(CandidateSource):
    """Looks up each candidate tag's word forms (:mod:`newstag.tagging.labeltext`) in the
    headline, the body and its lead; proposes no tags of its own."""

    FEATURES = tuple(LabelFeatures.__annotations__)

    def fit(self, data: TrainingSet) -> LabelSource:
        vocabulary = (
            data.vocabulary if data.vocabulary is not None else {t for ts in data.tags for t in ts}
        )
        self.forms_ = tag_label_forms(vocabulary, data.aliases)
        return self

    def bind(self, model: Any) -> None:
        """Forms of a loaded bundle: its tags' names and the aliases its linker keeps."""
        linker = getattr(model, "linker_", None)
        self.forms_ = tag_label_forms(model.tag_counts_, getattr(linker, "aliases_", {}))

    def scan(self, batch: Batch) -> list[LabelText | None]:
        return [LabelText(text) if self.forms_ and text else None for text in batch.texts]

    def features(self, state: LabelText | None, tag: str, new: bool) -> LabelFeatures:
        forms = self.forms_
        label = state.find(forms[tag]) if state and not new and tag in forms else None
        return {
            "label_in_headline": 1.0 if label and label[0] else 0.0,
            "label_mentions": math.log1p(label[1]) if label else 0.0,
            "label_in_lead": 1.0 if label and label[2] else 0.0,
        }
