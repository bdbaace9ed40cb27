"""Type accuracy of the shipped vocabulary: ``tag_info.json`` (evidence) vs the manifest's types.

The reference: 80 Wikinews tags drawn at random (``random.seed(18)``, ``random.sample`` of the
sorted tag list) and typed by hand when this benchmark was written (person, place,
organisation, topic; an event, a subject or a qualification is a topic). A small, hand-made
reference: read the figures as a rough comparison, not a precise accuracy.

    .venv/bin/python benchmarks/tag_types.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

MODEL = Path(__file__).resolve().parents[1] / "models" / "default"
P, L, G, T = "person", "place", "organisation", "topic"  # G: a group, organisation
HAND = {  # in the order random.sample draws them
    "Eyjafjöll 2010 eruption": T,
    "Christianity": T,
    "Sacramento": L,
    "McMurdo Station": L,
    "Hustler Magazine v. Falwell": T,
    "French Senate": G,
    "Stephen Hawking": P,
    "Sulawesi": L,
    "FK Partizan": G,
    "South Korea": L,
    "Language": T,
    "Scottish Conservative Party": G,
    "Jerry Brown": P,
    "Freedom of the press": T,
    "Islamabad": L,
    "Charon": T,
    "Manchester City F.C.": G,
    "Trams": T,
    "Environment Canada": G,
    "Hrant Dink": P,
    "Eid al-Adha": T,
    "Hurricane Bertha, 2008": T,
    "Gaithersburg": L,
    "Natural disasters": T,
    "Yasser Arafat": P,
    "Tenzin Gyatso, 14th Dalai Lama": P,
    "Games": T,
    "Suez": L,
    "Great Britain men's national wheelchair basketball team": G,
    "Laval, Quebec": L,
    "Jersey": L,
    "2008 financial crisis": T,
    "Middlesbrough F.C.": G,
    "Pennsylvania State Police": G,
    "Gujarat": L,
    "Pepe Reina": P,
    "United Nations Security Council": G,
    "Missing persons": T,
    "World War I": T,
    "Turkey": L,
    "John Wolfe, Jr.": P,
    "John Howard": P,
    "Liam Aitchison": P,
    "Viktor Yanukovych": P,
    "Cedars-Sinai Medical Center": G,
    "Katie Holmes": P,
    "Somchai Wongsawat": P,
    "Wikinews": G,
    "Syrian Observatory for Human Rights": G,
    "Dallas, Texas": L,
    "Supreme Court of India": G,
    "Dominique de Villepin": P,
    "Floods": T,
    "George Square, Glasgow": L,
    "Rhode Island": L,
    "Commonwealth Games": T,
    "Pervez Musharraf": P,
    "The Sydney Morning Herald": G,
    "South Sudan": L,
    "Wrestling": T,
    "Buenos Aires": L,
    "Galveston, Texas": L,
    "James Cameron": P,
    "US Supreme Court": G,
    "Michael Vick": P,
    "UoW 2013 student work": T,
    "Shimon Peres": P,
    "Bob Crow": P,
    "Stockholm": L,
    "Darfur": L,
    "Somerset": L,
    "Dell": G,
    "Stephen Harper": P,
    "Beirut": L,
    "International Whaling Commission": G,
    "Boston Tea Party (political party)": G,
    "University of St Andrews": G,
    "Movement for Democratic Change": G,
    "General Certificate of Secondary Education": T,
    "Orakzai Agency": L,
}


def main() -> None:
    info = json.loads((MODEL / "tag_info.json").read_text(encoding="utf-8"))["tags"]
    labels = json.loads((MODEL / "manifest.json").read_text(encoding="utf-8"))["labels"]
    random.seed(18)
    drawn = random.sample(sorted(labels), 80)
    assert drawn == list(HAND), "the vocabulary changed: draw and type a new sample"
    ours = sum(info[t]["type"] == kind for t, kind in HAND.items())
    manifest = sum(labels[t]["type"] == kind for t, kind in HAND.items())
    print(f"| types of {len(HAND)} hand-typed Wikinews tags | tag_info.json | manifest | ratio |")
    print("| --- | --- | --- | --- |")
    print(
        f"| accuracy | {ours / len(HAND):.3f} | {manifest / len(HAND):.3f} | "
        f"{ours / manifest:.2f} |"
    )


if __name__ == "__main__":
    main()
