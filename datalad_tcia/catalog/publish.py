"""Write records into a datalad-catalog site (1.1 API)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class CatalogError(RuntimeError):
    """datalad-catalog refused a record or failed."""


def _failures(results: Sequence[dict[str, Any]]) -> list[str]:
    return [
        str(r.get('message') or r)
        for r in results
        if r.get('status') not in ('ok', 'notneeded')
    ]


def validate(records: Sequence[dict[str, Any]]) -> None:
    """Check ``records`` against datalad-catalog's schema.

    Raises
    ------
    CatalogError
    """
    from datalad.api import catalog_validate

    results = catalog_validate(
        metadata=[json.dumps(r) for r in records],
        on_failure='ignore',
        result_renderer='disabled',
        return_type='list',
    )
    problems = _failures(results)
    if problems:
        raise CatalogError('; '.join(problems[:3]))


def publish(
    catalog: Path, records: Sequence[dict[str, Any]], home: dict[str, Any]
) -> None:
    """Create ``catalog`` if needed, add ``records`` (validated first) and
    make ``home`` its home page. Re-running updates the catalog in place.

    Raises
    ------
    CatalogError
    """
    from datalad.api import catalog_add, catalog_create, catalog_set

    validate(records)
    if not (catalog / 'index.html').exists():
        results = catalog_create(
            catalog=catalog,
            on_failure='ignore',
            result_renderer='disabled',
            return_type='list',
        )
        problems = _failures(results)
        if problems:
            raise CatalogError('; '.join(problems[:3]))
    with tempfile.NamedTemporaryFile('w', suffix='.jsonl', delete=False) as fp:
        for rec in records:
            fp.write(json.dumps(rec) + '\n')
        listing = Path(fp.name)
    try:
        results = catalog_add(
            catalog=catalog,
            metadata=str(listing),
            on_failure='ignore',
            result_renderer='disabled',
            return_type='list',
        )
    finally:
        listing.unlink(missing_ok=True)
    problems = _failures(results)
    if problems:
        raise CatalogError('; '.join(problems[:3]))
    results = catalog_set(
        catalog=catalog,
        property='home',
        dataset_id=home['dataset_id'],
        dataset_version=home['dataset_version'],
        reckless='overwrite',
        on_failure='ignore',
        result_renderer='disabled',
        return_type='list',
    )
    problems = _failures(results)
    if problems:
        raise CatalogError('; '.join(problems[:3]))
