"""git-annex's formats, in one place: the files of the git-annex branch
(location, URL and metadata logs, ``uuid.log``, ``remote.log``, the
journal), a repository's ``.git/config`` sections, keys and object paths.

datalad-tcia writes them itself, in one ``git fast-import`` per dataset,
instead of one git-annex process per file. They were checked against
git-annex 10.20261026 (the ``git-annex`` wheel from PyPI), and
``tests/annex/test_formats.py`` checks every one against the installed
git-annex: git-annex reads what is written here as it reads its own, and
writes the same for the same changes.

Modules: ``branch`` (the branch's files), ``config`` (``.git/config``),
``keys`` (keys and object paths).
"""

#: the git-annex version these formats were checked against
CHECKED_WITH = '10.20261026'
