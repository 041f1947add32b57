"""A stable split of a selection's patients into K shards."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_SPEC = re.compile(r'(\d+)/(\d+)')


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (0-based) of ``count``.

    A patient belongs to the shard given by a hash of its collection and
    PatientID: the same on every run and machine, whatever else the
    selection holds or NBIA lists first, and unchanged when patients are
    added upstream. Shards are even in expectation (not exactly: with K
    shards and N patients each gets about N/K).
    """

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            msg = f'shard {self.index}/{self.count}: need 0 <= I < K'
            raise ValueError(msg)

    @classmethod
    def parse(cls, spec: str) -> Shard:
        """``'I/K'`` -> :class:`Shard`.

        >>> Shard.parse('1/4')
        Shard(index=1, count=4)
        """
        match = _SPEC.fullmatch(spec.strip())
        if not match:
            msg = f'{spec!r} is no shard: give I/K, e.g. 0/4 (I counts from 0)'
            raise ValueError(msg)
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f'{self.index}/{self.count}'

    def holds(self, collection: str, patient_id: str) -> bool:
        """Whether the patient belongs to this shard.

        >>> sum(Shard(i, 3).holds('C', 'P1') for i in range(3))
        1
        """
        digest = hashlib.sha256(f'{collection}\0{patient_id}'.encode()).digest()
        return int.from_bytes(digest[:8], 'big') % self.count == self.index
