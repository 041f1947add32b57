"""Everything written in another tool's format, one module per format.

datalad-tcia writes these itself, for measured reasons (one ``git
fast-import`` per dataset instead of one git-annex process per file; a
deposit from the object store instead of a push through the remote helper;
a bare repository by hard links instead of ``git clone --bare``):

- ``fastimport``: ``git fast-import`` streams (commits in one git run);
- ``annex_branch``: the git-annex branch's files (location, URL and
  metadata logs, ``uuid.log``, ``remote.log``, the journal);
- ``annex_config``: a repository's git-annex ``.git/config`` sections;
- ``annex_keys``: git-annex keys and object paths;
- ``annex_content``: a key's content made present as ``git annex get``
  leaves it;
- ``bare``: plain bare git repositories (refs, ``packed-refs``, ``info/refs``
  for git's dumb HTTP);
- ``deposit``: datalad-next's ``datalad-annex::`` deposits.

Each is checked against the real tool in ``tests/formats/``: git-annex
(10.20261026, the ``git-annex`` wheel from PyPI) and git read what is
written here as they read their own, and write the same for the same
changes; a deposit clones with stock datalad-next.
"""

#: the git-annex version these formats were checked against
CHECKED_WITH = '10.20261026'
