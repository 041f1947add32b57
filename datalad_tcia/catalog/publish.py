"""Write records into a datalad-catalog site (1.1 API)."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from datalad_tcia.store import StoreLayout, atomic_write_bytes


class CatalogError(RuntimeError):
    """datalad-catalog refused a record or failed."""


def _failures(results: Sequence[dict[str, Any]]) -> list[str]:
    return [
        str(r.get('message') or r)
        for r in results
        if r.get('status') not in ('ok', 'notneeded')
    ]


def _check(results: Sequence[dict[str, Any]]) -> None:
    """Raise :class:`CatalogError` if datalad-catalog reported a failure."""
    problems = _failures(results)
    if problems:
        raise CatalogError('; '.join(problems[:3]))


_CDN_VUE = re.compile(r'<script src="https://unpkg\.com/vue@[^"]*"></script>')
_LOCAL_VUE = 'assets/vue.2.6.14.min.js'


def use_bundled_vue(catalog: Path) -> None:
    """Load Vue from the catalog's own assets instead of a CDN.

    datalad-catalog 1.1.1 writes an ``index.html`` that fetches Vue from
    unpkg.com although it ships the same version in ``assets/``: such a
    site stays blank without internet (an HPC file system, a closed
    network) and tells a third party about every visit.
    """
    index = catalog / 'index.html'
    page = index.read_text(encoding='utf-8')
    if not (catalog / _LOCAL_VUE).exists():
        return
    fixed = _CDN_VUE.sub(f'<script src="{_LOCAL_VUE}"></script>', page)
    if fixed != page:
        atomic_write_bytes(index, fixed.encode('utf-8'))


def validate(records: Sequence[dict[str, Any]]) -> None:
    """Check ``records`` against datalad-catalog's schema.

    Raises
    ------
    CatalogError
    """
    from datalad.api import catalog_validate

    metadata = [json.dumps(r) for r in records]
    results = catalog_validate(
        # one record as such: datalad-catalog 1.1 takes a list of one for
        # a path and fails
        metadata=metadata[0] if len(metadata) == 1 else metadata,
        on_failure='ignore',
        result_renderer='disabled',
        return_type='list',
    )
    _check(results)


def publish_catalog(
    catalog: Path,
    records: Sequence[dict[str, Any]],
    home: dict[str, Any],
    extra: Mapping[str, bytes] | None = None,
) -> None:
    """Write a catalog of ``records`` (validated first) with ``home`` as its
    home page, and the files ``extra`` (name -> content), to ``catalog``.

    The site is built in a fresh directory beside ``catalog`` and then
    swapped in, so that a re-run replaces it (datalad-catalog would merge a
    re-added record with the old one, e.g. doubling its tabs) and readers
    never see a half-written site.

    Raises
    ------
    CatalogError
    """
    validate(records)
    catalog.parent.mkdir(parents=True, exist_ok=True)
    for stale in catalog.parent.glob(f'.{catalog.name}.*.part'):
        shutil.rmtree(stale, ignore_errors=True)
    build = StoreLayout.temp_path(catalog)
    try:
        _write(build, records, home)
        for name, content in (extra or {}).items():
            (build / name).write_bytes(content)
        if catalog.exists():
            old = StoreLayout.temp_path(catalog)
            catalog.rename(old)
            build.rename(catalog)
            shutil.rmtree(old, ignore_errors=True)
        else:
            build.rename(catalog)
    finally:
        if build.exists():
            shutil.rmtree(build, ignore_errors=True)


def _write(
    catalog: Path, records: Sequence[dict[str, Any]], home: dict[str, Any]
) -> None:
    from datalad.api import catalog_add, catalog_create, catalog_set

    if not (catalog / 'index.html').exists():
        results = catalog_create(
            catalog=catalog,
            on_failure='ignore',
            result_renderer='disabled',
            return_type='list',
        )
        _check(results)
    use_bundled_vue(catalog)
    # the home page opens on its first tab of its own (the collection's
    # patient list): a dataset-level config of the catalog's settings
    config = json.loads((catalog / 'config.json').read_text(encoding='utf-8'))
    tabs = home.get('additional_display') or []
    if tabs:
        config.setdefault('dataset_options', {})['default_tab'] = tabs[0]['name']
    rest = [r for r in records if r is not home]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / 'home.jsonl').write_text(json.dumps(home) + '\n')
        (Path(tmp) / 'home-config.json').write_text(json.dumps(config))
        (Path(tmp) / 'records.jsonl').write_text(
            ''.join(json.dumps(rec) + '\n' for rec in rest)
        )
        for listing, config_file in (
            ('home.jsonl', 'home-config.json'),
            ('records.jsonl', None),
        ):
            if listing == 'records.jsonl' and not rest:
                continue
            results = catalog_add(
                catalog=catalog,
                metadata=str(Path(tmp) / listing),
                config_file=str(Path(tmp) / config_file) if config_file else None,
                on_failure='ignore',
                result_renderer='disabled',
                return_type='list',
            )
            _check(results)
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
    _check(results)


#: where a datalad-catalog site names its home page
_SUPER = Path('metadata', 'super.json')


def shown_home(catalog: Path) -> dict[str, Any] | None:
    """The dataset (``dataset_id``, ``dataset_version``) the catalog's home
    page shows, if there is a catalog."""
    try:
        home = json.loads((catalog / _SUPER).read_text())
    except (OSError, ValueError):
        return None
    return home if isinstance(home, dict) else None
