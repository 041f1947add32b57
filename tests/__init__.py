import os

# the look-alikes serve on loopback, where git-annex's own HTTP client (the
# web remote and its idc/nbia instances) fetches nothing unless allowed; a
# user's clone of the real TCIA needs no such setting
_n = int(os.environ.get('GIT_CONFIG_COUNT', '0'))
if 'annex.security.allowed-ip-addresses' not in {
    os.environ.get(f'GIT_CONFIG_KEY_{i}') for i in range(_n)
}:
    os.environ.update(
        {
            'GIT_CONFIG_COUNT': str(_n + 1),
            f'GIT_CONFIG_KEY_{_n}': 'annex.security.allowed-ip-addresses',
            f'GIT_CONFIG_VALUE_{_n}': '127.0.0.1 ::1',
        }
    )
