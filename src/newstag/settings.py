"""Every ``NEWSTAG_*`` environment variable, documented and read in one place.

:class:`Settings` has one field per variable (its name, type, default and what it does are in
the field's metadata); :meth:`Settings.from_env` reads them all, and :func:`current` is what
library code calls instead of ``os.environ``. :func:`rows` lists them for the docs. A value
that cannot be parsed raises :class:`SettingsError` naming the variable.

Command-line options that take their default from a variable (``--model`` from
``NEWSTAG_MODEL`` ...) name the same variables; the service's settings
(:mod:`newstag.service.settings`) are built from these.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from newstag.errors import NewstagError

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


class SettingsError(NewstagError, ValueError):
    """A setting that cannot be used; the message names it."""


def _var(name: str, kind: type, default: Any, help: str) -> Any:
    """A settings field read from environment variable ``name``."""
    return field(default=default, metadata={"env": name, "kind": kind, "help": help})


@dataclass(frozen=True)
class Settings:
    """newstag's environment: one field per ``NEWSTAG_*`` variable (unset: the default)."""

    # -- models, pipelines and data ---------------------------------------------------
    model: str | None = _var(
        "NEWSTAG_MODEL",
        str,
        None,
        "Model bundle of `suggest`, `eval`, `batch` and `serve` (`--model`): a folder, "
        "`default` (the shipped model) or `none` (entity tags only).",
    )
    default_model: str | None = _var(
        "NEWSTAG_DEFAULT_MODEL",
        str,
        None,
        "The folder `default` names (unset: `models/default` of the checkout or the wheel).",
    )
    pipeline: str | None = _var(
        "NEWSTAG_PIPELINE",
        str,
        None,
        "spaCy pipeline name or path (`--pipeline`; unset: the embedded `newstag_ner`).",
    )
    rules: str | None = _var(
        "NEWSTAG_RULES", str, None, "House rules file (TOML) applied to suggestions (`--rules`)."
    )
    index: str | None = _var(
        "NEWSTAG_INDEX",
        str,
        None,
        "Related-headlines index folder (`--index` of `related` and `serve`).",
    )
    max_bytes: int = _var(
        "NEWSTAG_MAX_BYTES", int, 2_000_000, "Largest article file read, in bytes (`--max-bytes`)."
    )
    cache_dir: str | None = _var(
        "NEWSTAG_CACHE_DIR",
        str,
        None,
        "Entity cache folder (unset: `~/.cache/newstag`; `off`, `none` or `0`: no cache).",
    )
    shared_data: str | None = _var(
        "NEWSTAG_SHARED_DATA",
        str,
        None,
        "Benchmark data folder for benchmarks and tests (unset: `../shared/data`).",
    )
    no_progress: bool = _var(
        "NEWSTAG_NO_PROGRESS", bool, False, "Hide progress bars even in a terminal."
    )
    # -- the semantic encoder ----------------------------------------------------------
    minilm_adapter: bool = _var(
        "NEWSTAG_MINILM_ADAPTER",
        bool,
        True,
        "Encode related headlines with the shipped MiniLM adapter (`off`: the plain model).",
    )
    onnx_threads: int = _var(
        "NEWSTAG_ONNX_THREADS",
        int,
        1,
        "onnxruntime threads of the MiniLM encoders (int8 and `--semantic`).",
    )
    # -- the service (`newstag serve`) ---------------------------------------------------
    feedback_db: str | None = _var(
        "NEWSTAG_FEEDBACK_DB",
        str,
        None,
        "Feedback store: SQLite file or `postgresql://` URL "
        "(unset: `newstag-feedback.sqlite3` in the working directory).",
    )
    api_keys: str = _var(
        "NEWSTAG_API_KEYS",
        str,
        "",
        "Accepted API keys, comma-separated (unset: no authentication).",
    )
    api_keys_file: str | None = _var(
        "NEWSTAG_API_KEYS_FILE", str, None, "File of accepted API keys, one per line."
    )
    cors_origins: str = _var(
        "NEWSTAG_CORS_ORIGINS", str, "", "Allowed CORS origins, comma-separated."
    )
    max_body_bytes: int = _var(
        "NEWSTAG_MAX_BODY_BYTES",
        int,
        1_000_000,
        "Largest request body in bytes; bigger ones get 413.",
    )
    timeout: float = _var(
        "NEWSTAG_TIMEOUT", float, 30.0, "Per-request time limit in seconds; 504 above it."
    )
    allow_non_english: bool = _var(
        "NEWSTAG_ALLOW_NON_ENGLISH",
        bool,
        False,
        "Answer non-English articles (with a warning) instead of 422.",
    )
    model_threads: int = _var(
        "NEWSTAG_MODEL_THREADS", int, 1, "Threads running model work in each web worker."
    )
    model_processes: int = _var(
        "NEWSTAG_MODEL_PROCESSES",
        int,
        0,
        "Model processes per web worker (0: the model runs in the worker).",
    )
    batch_requests: int = _var(
        "NEWSTAG_BATCH_REQUESTS",
        int,
        1,
        "Most concurrent `/v1/suggest` requests answered in one model batch.",
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read every variable from ``env`` (default ``os.environ``); empty means unset."""
        env = os.environ if env is None else env
        values = {}
        for f in fields(cls):
            raw = env.get(f.metadata["env"], "").strip()
            if raw:
                values[f.name] = parse(f.metadata["env"], raw, f.metadata["kind"])
        return cls(**values)


def parse(name: str, raw: str, kind: type) -> Any:
    """``raw`` (the value of variable ``name``) as ``kind``, or :class:`SettingsError`."""
    if kind is bool:
        if raw.lower() in TRUE | FALSE:
            return raw.lower() in TRUE
        raise SettingsError(f"{name}={raw!r} is not a valid bool (use 1/0, true/false, on/off)")
    try:
        return kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a valid {kind.__name__}") from None


def current() -> Settings:
    """The settings of the environment as it is now (read afresh on every call)."""
    return Settings.from_env()


def rows() -> list[dict[str, str]]:
    """One row per variable: ``name``, ``type``, ``default`` and ``description`` (for docs)."""
    out = []
    for f in fields(Settings):
        default = "" if f.default in (None, "") else str(f.default)
        out.append(
            {
                "name": f.metadata["env"],
                "type": f.metadata["kind"].__name__,
                "default": default.lower() if f.metadata["kind"] is bool else default,
                "description": f.metadata["help"],
            }
        )
    return out


def markdown_table() -> str:
    """The variables as a Markdown table (what the docs page shows)."""
    lines = ["| Variable | Type | Default | What it does |", "|---|---|---|---|"]
    lines += [
        f"| `{r['name']}` | {r['type']} | {r['default'] and '`' + r['default'] + '`'} "
        f"| {r['description']} |"
        for r in rows()
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m newstag.settings: the table for the docs
    print(markdown_table(), end="")
