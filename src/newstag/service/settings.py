"""Service settings: from CLI options, or from the ``NEWSTAG_*`` environment variables
(:mod:`newstag.settings`; what the workers of a multi-worker server read)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from newstag.settings import Settings as EnvSettings
from newstag.settings import SettingsError, current

__all__ = ["Settings", "SettingsError", "parse_keys", "read_keys_file", "split_origins"]

DEFAULT_MAX_BODY: int = EnvSettings.max_body_bytes
DEFAULT_TIMEOUT: float = EnvSettings.timeout


@dataclass
class Settings:
    """How one service instance runs. ``api_keys`` empty means no authentication."""

    model: str | None = "default"
    """A bundle directory, ``"default"`` (also ``None``) or ``"none"`` (entity tags only)."""
    pipeline: str | None = None
    index: str | None = None
    feedback_db: str | None = None
    api_keys: frozenset[str] = field(default_factory=frozenset)
    cors_origins: list[str] = field(default_factory=list)
    max_body_bytes: int = DEFAULT_MAX_BODY
    timeout: float = DEFAULT_TIMEOUT
    allow_non_english: bool = False
    threads: int = 1
    model_processes: int = 0
    """0: model work on ``threads`` threads of the web worker; N: a pool of N processes."""
    batch_requests: int = 1
    """Most concurrent ``/v1/suggest`` requests answered in one model batch (1: no batching;
    a trained model's scores can shift slightly with the batch, so batching is opt-in)."""
    rules: str | None = None
    """A house rules file (TOML, :mod:`newstag.tagging.house_rules`) applied to every suggestion."""

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1:
            raise SettingsError("max body size must be a positive number of bytes")
        if not self.timeout > 0:
            raise SettingsError("request time limit must be a positive number of seconds")
        if self.threads < 1:
            raise SettingsError("model threads must be at least 1")
        if self.model_processes < 0:
            raise SettingsError("model processes must be 0 or more")
        if not 1 <= self.batch_requests <= 64:
            raise SettingsError("batch requests must be between 1 and 64")
        if self.rules:
            from newstag.tagging.house_rules import RulesError, load_rules, rules_off

            try:
                if not rules_off(self.rules):
                    load_rules(self.rules)
            except RulesError as exc:
                raise SettingsError(str(exc)) from None

    @classmethod
    def from_env(cls) -> Settings:
        """The service settings of the environment (see :mod:`newstag.settings` for the
        ``NEWSTAG_*`` variables); what each worker of a multi-worker server runs with."""
        env = current()
        keys = parse_keys(env.api_keys)
        if env.api_keys_file:
            keys |= read_keys_file(env.api_keys_file)
        return cls(
            model=env.model or "default",
            pipeline=env.pipeline,
            index=env.index,
            feedback_db=env.feedback_db,
            api_keys=frozenset(keys),
            cors_origins=split_origins(env.cors_origins),
            max_body_bytes=env.max_body_bytes,
            timeout=env.timeout,
            allow_non_english=env.allow_non_english,
            threads=env.model_threads,
            model_processes=env.model_processes,
            batch_requests=env.batch_requests,
            rules=env.rules,
        )

    def to_env(self) -> dict[str, str]:
        """The environment that makes :meth:`from_env` return these settings."""
        env = {
            "NEWSTAG_MODEL": self.model or "none",
            "NEWSTAG_API_KEYS": ",".join(sorted(self.api_keys)),
            "NEWSTAG_CORS_ORIGINS": ",".join(self.cors_origins),
            "NEWSTAG_MAX_BODY_BYTES": str(self.max_body_bytes),
            "NEWSTAG_TIMEOUT": str(self.timeout),
            "NEWSTAG_ALLOW_NON_ENGLISH": "1" if self.allow_non_english else "",
            "NEWSTAG_MODEL_THREADS": str(self.threads),
            "NEWSTAG_MODEL_PROCESSES": str(self.model_processes),
            "NEWSTAG_BATCH_REQUESTS": str(self.batch_requests),
            "NEWSTAG_API_KEYS_FILE": "",
        }
        for key, value in (
            ("NEWSTAG_PIPELINE", self.pipeline),
            ("NEWSTAG_INDEX", self.index),
            ("NEWSTAG_FEEDBACK_DB", self.feedback_db),
            ("NEWSTAG_RULES", self.rules),
        ):
            env[key] = value or ""
        return env


def parse_keys(text: str) -> set[str]:
    """Keys separated by commas, spaces or newlines; ``#`` starts a comment line."""
    keys: set[str] = set()
    for line in text.splitlines():
        if line.strip().startswith("#"):
            continue
        keys.update(k for k in line.replace(",", " ").split() if k)
    return keys


def split_origins(text: str) -> list[str]:
    """CORS origins separated by commas."""
    return [o.strip() for o in text.split(",") if o.strip()]


def read_keys_file(path: str | Path) -> set[str]:
    try:
        keys = parse_keys(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read the API keys file ({exc})") from exc
    if not keys:
        raise SettingsError(f"{path}: the API keys file has no keys")
    return keys
