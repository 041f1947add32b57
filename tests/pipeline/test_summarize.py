"""``pipeline/summarize.py``: ``tcia-ls``'s rows per level and their lines."""

from __future__ import annotations

from tcia_lookalike import LookalikeServer

from datalad_tcia.pipeline import RunSettings
from datalad_tcia.pipeline.summarize import LEVELS, format_row, summarize

from .conftest import PHI, lookalike_series, planned


def test_rows_add_up_at_every_level(
    tcia: LookalikeServer, settings: RunSettings
) -> None:
    series = planned(settings, PHI)
    coll = tcia.archive.collection(PHI)
    assert coll is not None
    files = sum(len(s.instances) for s in lookalike_series(tcia, PHI))
    studies = {st.uid for p in coll.patients for st in p.studies}
    for depth, level in enumerate(LEVELS):
        rows = list(summarize(series, level))
        types = [r['type'] for r in rows]
        assert set(types) == set(LEVELS[: depth + 1]), level
        for kind in LEVELS[: depth + 1]:
            of_kind = [r for r in rows if r['type'] == kind]
            assert sum(r['ImageCount'] for r in of_kind) == files, (level, kind)
        assert types.count('patient') == (len(coll.patients) if depth else 0)
        assert types.count('study') == (len(studies) if depth > 1 else 0)
        assert types.count('series') == (len(series) if depth > 2 else 0)
        lines = [format_row(r) for r in rows]
        assert all(line and '\n' not in line for line in lines)
    top = next(summarize(series, 'collection'))
    assert (top['Collection'], top['PatientCount'], top['SeriesCount']) == (
        PHI,
        len(coll.patients),
        len(series),
    )
