"""Atomic writes: write to a temporary name beside the target, then rename.

Nothing half-written ever carries a final name: a reader (or a re-run after
a crash) sees either the old file, the new file, or no file. Temporary names
start with ``.`` and end with ``.part`` so that they are easy to recognise
and clean up.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any


def temp_path_for(target: Path) -> Path:
    """A fresh temporary path in the directory of ``target``."""
    return target.with_name(f'.{target.name}.{os.getpid()}-{secrets.token_hex(4)}.part')


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically (fsync, then rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(target)
    try:
        with tmp.open('wb') as fp:
            fp.write(data)
            fp.flush()
            os.fsync(fp.fileno())
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def dumps_json(obj: Any) -> bytes:
    """Stable JSON text: sorted keys, two-space indent, trailing newline."""
    return (
        json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + '\n'
    ).encode()


def atomic_write_json(target: Path, obj: Any) -> None:
    """Write ``obj`` as stable JSON to ``target`` atomically."""
    atomic_write_bytes(target, dumps_json(obj))


def remove_stale_parts(directory: Path, prefix: str) -> list[Path]:
    """Delete temporary files ``.<prefix>*.part`` left by interrupted runs.

    Call only while holding the store lock, so that no live writer's file
    is removed.
    """
    removed = []
    if directory.is_dir():
        for path in directory.glob(f'.{prefix}*.part'):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
