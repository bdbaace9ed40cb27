"""The row store of a related-headlines index: rows, ids, tombstones, ``rows.jsonl``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from newstag.related.errors import RelatedError
from newstag.related.rows import Problem, Row

ON_DUPLICATE = ("error", "skip", "replace")


class RowStore:
    """Indexed rows in insertion order; removed rows stay as tombstones (``alive`` False)."""

    def __init__(self, fields: str = "headline") -> None:
        self.fields = fields
        self.rows: list[Row] = []
        self.id_pos: dict[str, int] = {}

    @classmethod
    def from_rows(cls, rows: list[Row], fields: str) -> RowStore:
        """A store over stored rows (an id maps to its live row, else its first one)."""
        store = cls(fields)
        store.rows = rows
        for i, r in enumerate(rows):
            if r.alive or r.id not in store.id_pos:
                store.id_pos[r.id] = i
        return store

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def n_live(self) -> int:
        """How many rows are alive."""
        return sum(1 for r in self.rows if r.alive)

    def __contains__(self, rid: object) -> bool:
        pos = self.id_pos.get(rid)  # type: ignore[arg-type]
        return pos is not None and self.rows[pos].alive

    def pos(self, rid: str) -> int:
        """The position of a live id, or a :class:`RelatedError`."""
        pos = self.id_pos.get(str(rid))
        if pos is None or not self.rows[pos].alive:
            raise RelatedError(f"id {rid!r} is not in the index")
        return pos

    def text(self, pos: int) -> str:
        """The indexed text of the row at ``pos``."""
        return self.rows[pos].text(self.fields)

    def texts(self, rows: list[Row]) -> list[str]:
        """The indexed texts of ``rows``."""
        return [r.text(self.fields) for r in rows]

    def append(self, rows: list[Row]) -> None:
        """Give ``rows`` the next positions."""
        for r in rows:
            self.id_pos[r.id] = len(self.rows)
            self.rows.append(r)

    def kill(self, pos: int) -> Row:
        """Tombstone the row at ``pos`` and return it."""
        row = self.rows[pos]
        row.alive = False
        return row

    def alive_mask(self) -> Any:
        """A boolean array: which positions are alive."""
        import numpy as np

        return np.fromiter((r.alive for r in self.rows), dtype=bool, count=len(self.rows))

    def dates(self) -> Any:
        """Each row's date ("" when unknown) as an object array."""
        import numpy as np

        return np.array([r.date or "" for r in self.rows], dtype=object)

    def dedupe(
        self,
        pairs: list[tuple[int, Row]],
        on_duplicate: str,
        problems: list[Problem],
        source: str = "",
    ) -> list[tuple[int, Row]]:
        """``pairs`` without duplicate ids (among them or with live rows), per ``on_duplicate``."""
        if on_duplicate not in ON_DUPLICATE:
            raise RelatedError(f"on_duplicate must be one of {', '.join(ON_DUPLICATE)}")
        seen: dict[str, int] = {}
        out: dict[str, tuple[int, Row]] = {}
        dups: list[str] = []
        for line, row in pairs:
            where = seen.get(row.id)
            if where is None and row.id not in self:
                seen[row.id] = line
                out[row.id] = (line, row)
                continue
            first = f"line {where}" if where is not None else "the index"
            if on_duplicate == "error":
                dups.append(
                    str(Problem(line, f"duplicate id {row.id!r} (already in {first})", source))
                )
            elif on_duplicate == "skip":
                problems.append(
                    Problem(line, f"duplicate id {row.id!r} skipped (already in {first})", source)
                )
            else:
                if where is not None:
                    problems.append(
                        Problem(where, f"id {row.id!r} replaced by line {line}", source)
                    )
                    del out[row.id]
                seen[row.id] = line
                out[row.id] = (line, row)
        if dups:
            more = f" (and {len(dups) - 3} more)" if len(dups) > 3 else ""
            raise RelatedError("; ".join(dups[:3]) + more + "; use --on-duplicate skip or replace")
        return list(out.values())

    def save(self, path: Path) -> None:
        """Write the rows as JSON lines."""
        with open(path, "w", encoding="utf-8") as fh:
            for r in self.rows:
                fh.write(json.dumps(asdict(r), ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, path: Path, fields: str) -> RowStore:
        """Read rows written by :meth:`save`."""
        with open(path, encoding="utf-8") as fh:
            return cls.from_rows([Row(**json.loads(line)) for line in fh], fields)

    def to_frame(self) -> Any:
        """The live rows as a pandas DataFrame (entities by name, no ``alive`` column)."""
        import pandas as pd

        return pd.DataFrame(
            [{**asdict(r), "entities": [n for n, _ in r.entities]} for r in self.rows if r.alive]
        ).drop(columns=["alive"])
