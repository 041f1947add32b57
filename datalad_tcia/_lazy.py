"""Names of a package imported from its modules when first used (PEP 562).

A command that needs one pipeline step then does not pay for importing
every other (pydicom, DuckDB, aiohttp): ``datalad tcia-get`` starts in
0.1-0.2 s less.

A name that is also the name of its module (``pipeline.get_files``, the
function in ``pipeline/get_files.py``) stays the function, as an eager
``from .get_files import get_files`` would leave it: importing the
submodule does not put the module under that name.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


class _LazyPackage(types.ModuleType):
    """A package whose exported names win over its submodules' names."""

    __lazy_where__: Mapping[str, str]

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and (
            self.__dict__.get('__lazy_where__', {}).get(name) == name
        ):
            return
        super().__setattr__(name, value)


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``name`` is imported from
    its module ``where[name]`` (relative to the package) on first use and
    kept in the package's namespace."""
    module = sys.modules[package]
    module.__class__ = _LazyPackage
    setattr(module, '__lazy_where__', where)  # noqa: B010 - not a ModuleType's

    def __getattr__(name: str) -> Any:  # noqa: N807 - the PEP 562 hook
        try:
            origin = where[name]
        except KeyError:
            msg = f'module {package!r} has no attribute {name!r}'
            raise AttributeError(msg) from None
        value = getattr(import_module(f'.{origin}', package), name)
        setattr(module, name, value)
        return value

    return __getattr__
