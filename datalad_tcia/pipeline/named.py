"""The parts of a selection a user names, looked up: a collection's name
(as the source spells it), series UIDs, and the series an ``.s5cmd``
manifest names through the IDC index. What names nothing becomes a
:class:`~.selection.SelectionProblem` (or, for an ``.s5cmd`` line, a
note), never silently dropped."""

from __future__ import annotations

import difflib
from concurrent.futures import ThreadPoolExecutor

from datalad_tcia.idc.s5cmd import read_s5cmd_manifest
from datalad_tcia.nbia import ManifestError, SeriesInfo, is_uid

from .selection import Resolution, SelectionProblem, SeriesSource, UuidResolver


def s5cmd_series_uids(
    path: str, uuids: UuidResolver | None, out: list[str], res: Resolution
) -> bool:
    """Add the series an ``.s5cmd`` manifest names to ``out``; notes for
    lines that name none. False when the manifest cannot be used."""
    try:
        manifest = read_s5cmd_manifest(path)
    except ManifestError as e:
        res.problems.append(SelectionProblem('bad-manifest', path, str(e)))
        return False
    if uuids is None:
        res.problems.append(
            SelectionProblem(
                'bad-manifest',
                path,
                f"{path} is an .s5cmd manifest: it names IDC's series UUIDs, "
                'which only the IDC index maps to series. Install it (pip '
                'install idc-index-data) or point datalad.tcia.idc-index at '
                'one, and do not turn IDC off (--no-idc)',
            )
        )
        return False
    found = uuids.series_of_uuids(manifest.series_uuids)
    for line in manifest.lines:
        match = found.get(line.series_uuid or '')
        where = f'{path}, line {line.number} ({line.text.strip()!r})'
        if match is None:
            res.notes.append(
                SelectionProblem(
                    'unmatched-line',
                    line.text.strip(),
                    f'{where} names no series the IDC index '
                    f'({uuids.version}) knows: skipped',
                )
            )
            continue
        if not match.current:
            res.notes.append(
                SelectionProblem(
                    'earlier-version',
                    line.text.strip(),
                    f'{where} names the version of series {match.series_uid} '
                    f'IDC served in {match.versions}: the series is selected, '
                    'in its current version (the earlier stays in IDC)',
                )
            )
        out.append(match.series_uid)
    if not out:
        res.problems.append(
            SelectionProblem(
                'bad-manifest',
                path,
                f'no line of {path} names a series the IDC index '
                f'({uuids.version}) knows',
            )
        )
        return False
    return True


def canonical_collection(
    client: SeriesSource, name: str, res: Resolution
) -> str | None:
    """The collection's name as ``client`` spells it (case, an alias of
    the IDC index); a problem in ``res`` with close names if none."""
    names = client.get_collection_values()
    by_upper = {n.upper(): n for n in names}
    # NBIA matches collection names case-insensitively; use its spelling
    if name.upper() in by_upper:
        return by_upper[name.upper()]
    # the IDC index also knows a collection by its collection_id and DOI
    alias = client.collection_alias(name)
    if alias is not None:
        return alias
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f' Did you mean {", ".join(map(repr, close))}?' if close else ''
    res.problems.append(
        SelectionProblem(
            'unknown-collection',
            name,
            f'unknown collection {name!r}: {client.where} does not '
            f'serve it.{hint} Run "datalad tcia-ls" to list all collections.',
        )
    )
    return None


def lookup_series_uids(
    client: SeriesSource, uids: list[str], res: Resolution, jobs: int
) -> list[SeriesInfo]:
    """The series of ``uids``; a problem in ``res`` for each malformed or
    unknown one."""
    valid = []
    for uid in uids:
        if is_uid(uid):
            valid.append(uid)
        else:
            res.problems.append(
                SelectionProblem(
                    'malformed-uid',
                    uid,
                    f'malformed SeriesInstanceUID {uid!r}: a DICOM UID is '
                    'digits and dots, at most 64 characters',
                )
            )

    def one(uid: str) -> list[SeriesInfo]:
        return client.get_series(series_uid=uid)

    # an index answers for all UIDs in one query; NBIA one by one
    many = getattr(client, 'series_many', None)
    found: list[SeriesInfo] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        if many is not None:
            known = many(valid)
            answers = [[known[u]] if u in known else [] for u in valid]
        else:
            answers = list(pool.map(one, valid))
        for uid, rows in zip(valid, answers, strict=True):
            if rows:
                found.extend(r for r in rows if r.series_uid == uid)
            else:
                res.problems.append(
                    SelectionProblem(
                        'unknown-series',
                        uid,
                        f'unknown series {uid!r}: {client.where} has '
                        'no public series with this SeriesInstanceUID (NLST '
                        "series live on the 'nlst' server)",
                    )
                )
    return found
