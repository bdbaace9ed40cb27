"""The settings object: every NEWSTAG_* variable documented and read in one place."""

from __future__ import annotations

import re

import pytest

from newstag import settings
from newstag.settings import Settings, SettingsError
from tests.conftest import ROOT

SRC = ROOT / "src" / "newstag"
NAME = re.compile(r"NEWSTAG_[A-Z0-9_]*[A-Z0-9]")


def names_in_src() -> set[str]:
    found: set[str] = set()
    for path in SRC.rglob("*"):
        if path.suffix in (".py", ".js", ".html", ".md", ".toml"):
            found |= set(NAME.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_variable_named_in_the_code_is_documented() -> None:
    documented = {row["name"] for row in settings.rows()}
    used = names_in_src()
    assert "NEWSTAG_MODEL" in used and "NEWSTAG_CACHE_DIR" in used  # the scan works
    assert used - documented == set()


def test_rows_describe_every_variable() -> None:
    rows = settings.rows()
    assert len(rows) == len({r["name"] for r in rows})
    for row in rows:
        assert set(row) == {"name", "type", "default", "description"}
        assert row["type"] in ("str", "int", "float", "bool") and len(row["description"]) > 10
    by_name = {r["name"]: r for r in rows}
    assert by_name["NEWSTAG_TIMEOUT"]["default"] == "30.0"
    assert by_name["NEWSTAG_MINILM_ADAPTER"]["default"] == "true"
    table = settings.markdown_table()
    assert all(f"`{r['name']}`" in table for r in rows)


def test_only_the_settings_module_reads_newstag_variables() -> None:
    read = re.compile(r"environ(?:\.get\(|\[)\s*[\"']NEWSTAG_")
    readers = [
        p.relative_to(SRC).as_posix()
        for p in SRC.rglob("*.py")
        if read.search(p.read_text(encoding="utf-8"))
    ]
    assert not readers, readers


def test_from_env_parses_types_and_treats_empty_as_unset() -> None:
    env = {
        "NEWSTAG_TIMEOUT": "2.5",
        "NEWSTAG_MODEL_PROCESSES": " 3 ",
        "NEWSTAG_PIPELINE": "",
        "NEWSTAG_MINILM_ADAPTER": "off",
        "NEWSTAG_NO_PROGRESS": "1",
        "NEWSTAG_CACHE_DIR": "/tmp/cache",
    }
    s = Settings.from_env(env)
    assert (s.timeout, s.model_processes, s.pipeline) == (2.5, 3, None)
    assert s.minilm_adapter is False and s.no_progress is True and s.cache_dir == "/tmp/cache"
    assert Settings.from_env({}) == Settings()


@pytest.mark.parametrize(
    ("name", "value", "kind"),
    [
        ("NEWSTAG_TIMEOUT", "soon", "float"),
        ("NEWSTAG_MAX_BYTES", "2MB", "int"),
        ("NEWSTAG_ALLOW_NON_ENGLISH", "perhaps", "bool"),
    ],
)
def test_a_bad_value_names_the_variable(name: str, value: str, kind: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name}='{value}' is not a valid {kind}"):
        Settings.from_env({name: value})


def test_library_code_reads_the_current_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from newstag.encoders import adapter
    from newstag.nlp.entities import resolve_pipeline_name
    from newstag.paths import cache_dir

    monkeypatch.setenv("NEWSTAG_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("NEWSTAG_PIPELINE", "my_pipeline")
    monkeypatch.setenv("NEWSTAG_MINILM_ADAPTER", "no")
    assert cache_dir() == tmp_path and resolve_pipeline_name() == "my_pipeline"
    assert adapter.enabled() is False
    monkeypatch.setenv("NEWSTAG_CACHE_DIR", "off")
    monkeypatch.delenv("NEWSTAG_MINILM_ADAPTER")
    assert cache_dir() is None and adapter.enabled() is True


def test_service_settings_build_on_it(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from newstag.service.settings import Settings as ServiceSettings

    keys = tmp_path / "keys"
    keys.write_text("# editors\nk3\n", encoding="utf-8")
    monkeypatch.setenv("NEWSTAG_API_KEYS", "k1, k2")
    monkeypatch.setenv("NEWSTAG_API_KEYS_FILE", str(keys))
    monkeypatch.setenv("NEWSTAG_CORS_ORIGINS", "https://cms.example, ")
    monkeypatch.setenv("NEWSTAG_MODEL_THREADS", "2")
    s = ServiceSettings.from_env()
    assert s.api_keys == {"k1", "k2", "k3"} and s.cors_origins == ["https://cms.example"]
    assert s.threads == 2 and s.model == "default"
    for key, value in s.to_env().items():
        monkeypatch.setenv(key, value)
    assert ServiceSettings.from_env() == s
