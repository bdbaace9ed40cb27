"""The library logs with ``logging``; the CLI prints its records as its own stderr lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from newstag.cli.common import EchoHandler, setup_logging


@pytest.fixture
def cli_logging() -> Iterator[None]:
    logger = logging.getLogger("newstag")
    level = logger.level
    setup_logging()
    setup_logging()  # twice: still one handler
    yield
    for handler in [h for h in logger.handlers if isinstance(h, EchoHandler)]:
        logger.removeHandler(handler)
    logger.setLevel(level)


def test_records_print_as_cli_lines(cli_logging: None, capsys: pytest.CaptureFixture) -> None:
    log = logging.getLogger("newstag.jobs.batch")
    log.debug("not shown")
    log.info("entities ready (1.0s)")
    log.warning("resuming out.jsonl: 10 records already done in 1 chunks")
    log.error("model failed to load: ModelError: gone")
    assert capsys.readouterr().err.splitlines() == [
        "entities ready (1.0s)",
        "warning: resuming out.jsonl: 10 records already done in 1 chunks",
        "error: model failed to load: ModelError: gone",
    ]


def test_library_calls_take_no_log_callback() -> None:
    import inspect

    from newstag.jobs.batch import run_batch
    from newstag.tagging.tagmodel import TagModel
    from newstag.tagging.train import train_model

    for func in (run_batch, train_model, TagModel.fit):
        assert "log" not in inspect.signature(func).parameters, func
