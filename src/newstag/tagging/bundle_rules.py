"""House rules carried by a model bundle (``train --rules``, ``model set-rules``).

The rules file is copied to ``rules/rules.toml`` in the bundle (its ``vocabulary_file``, if
any, to ``rules/vocabulary.txt``); both are listed in ``manifest.json`` with their sha256
like every other artifact, and the manifest's ``rules`` record names the original file.
Loading the bundle checks the checksums and applies the rules, unless the caller gives
its own rules file or turns rules off with ``none``
(:func:`effective_rules`, :data:`newstag.tagging.house_rules.NO_RULES`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from newstag.tagging.bundle import read_manifest, sha256_file, verify
from newstag.tagging.house_rules import Rules, load_rules, rules_off

RULES_DIR = "rules"
RULES_FILE = f"{RULES_DIR}/rules.toml"
VOCABULARY_FILE = f"{RULES_DIR}/vocabulary.txt"


def rules_summary(rules: Rules) -> dict[str, Any]:
    """A few words of what the rules do, for the manifest and ``model info``."""
    summary: dict[str, Any] = {
        "deny": sorted(rules.deny),
        "deny_types": sorted(rules.deny_types),
        "deny_levels": sorted(rules.deny_levels),
        "spellings": len(rules.spellings),
        "vocabulary": len(rules.vocabulary),
        "new_tags": rules.new_tags,
        "max_per_type": rules.max_per_type,
        "max_per_level": rules.max_per_level,
    }
    return {k: v for k, v in summary.items() if v or k == "new_tags"}


def write_rules(folder: Path, manifest: dict[str, Any], rules: str | Path | None) -> None:
    """Replace the bundle's rules (``None``: remove them) and rewrite its manifest.

    A bad rules file raises :class:`~newstag.tagging.house_rules.RulesError` before the
    bundle is touched.
    """
    parsed = load_rules(rules) if rules is not None else None
    copies: dict[str, bytes] = {}
    if parsed is not None and rules is not None:  # read first: they may be the bundle's own
        copies[RULES_FILE] = Path(rules).read_bytes()
        if parsed.vocabulary_file:
            copies[VOCABULARY_FILE] = Path(parsed.vocabulary_file).read_bytes()
    artifacts = manifest["artifacts"]
    for name in [n for n in artifacts if n.split("/")[0] == RULES_DIR]:
        del artifacts[name]
    manifest.pop("rules", None)
    shutil.rmtree(folder / RULES_DIR, ignore_errors=True)
    if parsed is not None and rules is not None:
        (folder / RULES_DIR).mkdir()
        for name, data in copies.items():
            (folder / name).write_bytes(data)
            artifacts[name] = {
                "sha256": sha256_file(folder / name),
                "bytes": (folder / name).stat().st_size,
            }
        manifest["rules"] = {
            "file": RULES_FILE,
            "source": Path(rules).name,
            "sha256": artifacts[RULES_FILE]["sha256"],
            "vocabulary_file": VOCABULARY_FILE if len(copies) > 1 else None,
            "summary": rules_summary(parsed),
        }
    _write_manifest(folder, manifest)


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` whole or not at all (a temporary file, then a rename)."""
    tmp = folder / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, folder / "manifest.json")


def set_rules(folder: str | Path, rules: str | Path | None) -> dict[str, Any]:
    """Attach ``rules`` (a TOML file; ``None`` or ``"none"``: detach) to a verified bundle;
    returns the new manifest. The other artifacts are left as they are."""
    folder = Path(folder)
    manifest = verify(folder)
    write_rules(folder, manifest, None if rules_off(rules) else rules)
    return manifest


def bundle_rules(folder: str | Path, manifest: dict[str, Any] | None = None) -> Rules | None:
    """The rules a bundle carries (its checksums are checked by loading it), or None."""
    folder = Path(folder)
    record = (manifest if manifest is not None else read_manifest(folder)).get("rules")
    if not record:
        return None
    vocab = record.get("vocabulary_file")
    return load_rules(folder / RULES_FILE, folder / vocab if vocab else None)


def effective_rules(
    rules: str | Path | Rules | None,
    folder: str | Path | None,
    manifest: dict[str, Any] | None = None,
) -> Rules | None:
    """The house rules in force: ``rules`` given (a file or parsed), none (``"none"``),
    else those of the bundle in ``folder`` (when there is one)."""
    if isinstance(rules, Rules):
        return rules
    if rules_off(rules):
        return None
    if rules is not None and str(rules).strip():
        return load_rules(rules)
    if folder is None or not (Path(folder) / "manifest.json").exists():
        return None
    return bundle_rules(folder, manifest)
