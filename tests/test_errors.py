"""One error root: every newstag error is a NewstagError, printed by the CLI as one line and
answered by the service as a 4xx/5xx JSON body with the error's status."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from newstag.errors import InputError, NewstagError, one_line
from newstag.service.app import create_app
from newstag.service.settings import Settings
from newstag.service.testing import FakeTagger
from tests.conftest import ROOT

SRC = ROOT / "src"


def error_classes() -> list[tuple[str, str]]:
    """``(module, class)`` of every ``class XError(...)`` defined in ``src``."""
    found = []
    for path in sorted((SRC / "newstag").rglob("*.py")):
        module = ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and node.name.endswith("Error"):
                found.append((module, node.name))
    return found


def test_every_error_class_inherits_newstag_error() -> None:
    classes = error_classes()
    assert len(classes) >= 12, classes  # the scan finds them (ModelError, RelatedError, ...)
    for module, name in classes:
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, NewstagError), f"{module}.{name} does not inherit NewstagError"


def test_errors_keep_the_builtin_bases_callers_catch() -> None:
    from newstag.io.article import ArticleError, NoStoryError
    from newstag.nlp.pipeline import PipelineError
    from newstag.related import RelatedError
    from newstag.tagging.errors import ModelError

    for cls in (ArticleError, NoStoryError, RelatedError, ModelError):
        assert issubclass(cls, ValueError)
    assert issubclass(PipelineError, RuntimeError)
    assert issubclass(NoStoryError, InputError) and InputError.status == 422


def test_the_message_is_one_line_and_survives_pickling() -> None:
    import pickle

    from newstag.io.article import ArticleError

    err = ArticleError("story.html: no story\n  every line is page furniture\n")
    assert str(err) == "story.html: no story every line is page furniture"
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is ArticleError and str(again) == str(err)
    assert one_line("plain  text") == "plain  text"


def test_the_cli_prints_a_newstag_error_as_one_line(cli, tmp_path: Path) -> None:
    # a bad NEWSTAG_* value is a SettingsError raised inside the command, caught only by the
    # entry point
    out = cli(
        "serve",
        "--port",
        "0",
        "--feedback-db",
        str(tmp_path / "fb.db"),
        env={"NEWSTAG_NO_PROGRESS": "maybe"},
    )
    assert out.returncode == 1, out.stderr
    assert out.stderr.strip().splitlines() == [
        "error: NEWSTAG_NO_PROGRESS='maybe' is not a valid bool (use 1/0, true/false, on/off)"
    ]


class FailingTagger(FakeTagger):
    """Raises ``error`` for every article."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def suggest(self, article, top_k=10, min_score=0.0):  # noqa: ANN001, ANN201
        raise self.error

    def suggest_many(self, articles, **kwargs):  # noqa: ANN001, ANN003, ANN201
        raise self.error


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InputError("request: the text is unreadable"), 422),
        (NewstagError("the model bundle is\nbroken"), 500),
    ],
)
def test_the_service_answers_a_newstag_error_with_its_status(
    tmp_path: Path, error: Exception, status: int
) -> None:
    app = create_app(
        tagger=FailingTagger(error),
        settings=Settings(model="none", feedback_db=str(tmp_path / "fb.db")),
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/v1/suggest", json={"title": "A Story", "body": "Some text."})
    assert r.status_code == status
    assert r.json() == {"error": str(error)} and "\n" not in r.json()["error"]


def test_a_feedback_store_error_is_503() -> None:
    from newstag.service.feedback import FeedbackError

    assert FeedbackError("db: locked").status == 503
