#!/usr/bin/env bash
# Build the Apptainer/Singularity image of datalad-tcia without Apptainer:
# the steps `apptainer build IMAGE singularity/datalad-tcia.def` takes for
# a `Bootstrap: debootstrap` (or `localimage`) recipe, with Debian's tools.
#
#   singularity/build.sh [IMAGE]        (default: datalad-tcia.sif)
#   TCIA_RECIPE=singularity/update.def singularity/build.sh new.sif
#
# 1. debootstrap the recipe's Debian (OSVersion, MirrorURL, Include), as
#    Apptainer calls it; the downloaded packages are kept as a debootstrap
#    tarball in the cache, so that the next build downloads nothing (or,
#    for localimage, unpack the From: image);
# 2. write Apptainer's /.singularity.d layout (actions, env scripts,
#    runscript, labels, help, the definition file);
# 3. copy %files (the checkout: the files git tracks or would track) and
#    run the recipe's own %post in the new root (bubblewrap: the root bound
#    at /, the host's network and DNS), then its %test (root read-only);
# 4. pack the root as squashfs and write a SIF file with the data objects
#    Apptainer writes: the definition file, the labels (JSON) and the
#    squashfs primary system partition for the architecture.
#
# Needs root (as debootstrap does) and: debootstrap squashfs-tools siftool
# bubblewrap (Debian packages). A failed build leaves nothing under IMAGE.
# Environment:
#   TCIA_DEBIAN_MIRROR  a Debian mirror instead of the recipe's MirrorURL
#   TCIA_IMAGE_CACHE    the cache directory (default ~/.cache/datalad-tcia)
#   TCIA_RECIPE         another definition file
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CHECKOUT="$(cd "$HERE/.." && pwd)"
RECIPE="${TCIA_RECIPE:-$HERE/datalad-tcia.def}"
IMAGE="$(realpath -m "${1:-datalad-tcia.sif}")"
CACHE="${TCIA_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/datalad-tcia}"

die() { echo "build.sh: $*" >&2; exit 1; }
say() { echo "== $*"; }

[ "$(id -u)" = 0 ] || die "building an image needs root (debootstrap, the root's file ownership): run as root, or use 'apptainer build --fakeroot'"
missing=()
for tool in mksquashfs unsquashfs siftool bwrap; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ ${#missing[@]} = 0 ] || die "missing ${missing[*]}: apt-get install squashfs-tools siftool bubblewrap"
[ -f "$RECIPE" ] || die "no definition file $RECIPE"

# -- the recipe ---------------------------------------------------------------
header() {  # the value of a header keyword (case-insensitive), or empty
    awk -v key="$1" 'BEGIN { IGNORECASE = 1 }
        /^%/ { exit }
        tolower($0) ~ "^" tolower(key) ":" { sub(/^[^:]*:[ \t]*/, ""); print; exit }' "$RECIPE"
}
section() {  # the body of a %section, verbatim
    awk -v name="$1" '
        /^%/ { split($0, w, /[ \t]+/); inside = (w[1] == "%" name); next }
        inside { print }' "$RECIPE"
}

bootstrap="$(header Bootstrap)"
case "$bootstrap" in
    debootstrap)
        osversion="$(header OSVersion)"
        mirror="${TCIA_DEBIAN_MIRROR:-$(header MirrorURL)}"
        include="$(header Include)"
        [ -n "$osversion" ] && [ -n "$mirror" ] || die "$RECIPE needs OSVersion and MirrorURL headers"
        command -v debootstrap >/dev/null 2>&1 || die "missing debootstrap: apt-get install debootstrap"
        ;;
    localimage)
        base="$(header From)"
        [ -n "$base" ] || die "$RECIPE needs a From header (the image to start from)"
        base="$(realpath -m "$base")"
        [ -e "$base" ] || die "no image $base (From: of $RECIPE, relative to the working directory)"
        ;;
    *) die "$RECIPE bootstraps '$bootstrap'; this script builds debootstrap and localimage recipes" ;;
esac
arch="$(dpkg --print-architecture)"
case "$arch" in
    amd64) sifarch=2 ;; arm64) sifarch=4 ;; ppc64el) sifarch=6 ;; s390x) sifarch=11 ;;
    *) die "no SIF architecture code for $arch" ;;
esac

started=$(date +%s)
mkdir -p "$CACHE" "$(dirname "$IMAGE")"
work="$(mktemp -d "$(dirname "$IMAGE")/.build-XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"

# -- 1. the root: Debian, or the image to start from -----------------------
if [ "$bootstrap" = debootstrap ]; then
    # as Apptainer calls debootstrap
    packages="apt,$(echo "$include" | tr -s ' \t' ',')"
    deboot=(--variant=minbase --exclude=openssl,udev,debconf-i18n,e2fsprogs
            "--include=$packages" "--arch=$arch")
    key="$(printf '%s\n' "$osversion" "$arch" "$packages" | sha256sum | cut -c1-12)"
    tarball="$CACHE/debootstrap-$osversion-$arch-$key.tgz"
    if [ ! -f "$tarball" ]; then
        say "downloading Debian $osversion ($arch) from $mirror into $tarball"
        debootstrap "${deboot[@]}" "--make-tarball=$work/debs.tgz" "$osversion" "$work/dl" "$mirror" \
            > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
        mv "$work/debs.tgz" "$tarball"  # complete or absent: never half a tarball
        # the packages of an earlier Include list are not needed again
        find "$CACHE" -maxdepth 1 -name "debootstrap-$osversion-$arch-*.tgz" \
            ! -name "${tarball##*/}" -delete
    else
        say "Debian $osversion ($arch) packages from the cache: $tarball"
    fi
    say "installing Debian $osversion into the image root"
    debootstrap "${deboot[@]}" "--unpack-tarball=$tarball" "$osversion" "$root" "$mirror" \
        > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
elif [ -d "$base" ]; then
    say "starting from the image root $base"
    cp -a "$base" "$root"
else
    say "starting from the image $base"
    "$HERE/unpack-sif" "$base" "$root"
fi
chmod 0755 "$root"

# -- 2. Apptainer's layout ----------------------------------------------------
sd="$root/.singularity.d"
mkdir -p "$sd/actions" "$sd/env" "$sd/libs" "$root"/{dev,proc,sys,tmp,var/tmp,home,root,etc}
: > "$root/etc/hosts"; : > "$root/etc/resolv.conf"
source_env='for script in /.singularity.d/env/*.sh; do
    if [ -f "$script" ]; then
        . "$script"
    fi
done'
action() { printf '#!/bin/sh\n%s\n%s\n' "$source_env" "$2" > "$sd/actions/$1"; chmod 0755 "$sd/actions/$1"; }
action exec 'exec "$@"'
action run 'if test -x /.singularity.d/runscript; then
    exec /.singularity.d/runscript "$@"
fi
exec /bin/sh "$@"'
action shell 'SHELL=/bin/bash
export SHELL
exec /bin/bash --norc "$@"'
action test 'if test -x /.singularity.d/test; then
    exec /.singularity.d/test "$@"
fi
exec /bin/sh -c true'
action start 'if test -x /.singularity.d/startscript; then
    exec /.singularity.d/startscript
fi'
printf '#!/bin/sh\n' > "$sd/env/01-base.sh"
has() { grep -q "^%$1\\b" "$RECIPE"; }
# a section the recipe has replaces the base image's; one it has not keeps it
if has environment || [ ! -f "$sd/env/90-environment.sh" ]; then
    { printf '#!/bin/sh\n# Custom environment shell code should follow\n\n'; section environment; } > "$sd/env/90-environment.sh"
fi
printf '#!/bin/sh\nif [ -z "${LD_LIBRARY_PATH:-}" ]; then\n    LD_LIBRARY_PATH=/.singularity.d/libs\nelse\n    LD_LIBRARY_PATH="$LD_LIBRARY_PATH:/.singularity.d/libs"\nfi\nPS1="Apptainer> "\nexport LD_LIBRARY_PATH PS1\n' > "$sd/env/99-base.sh"
for name in runscript test; do
    if has "$name" || [ ! -f "$sd/$name" ]; then
        { printf '#!/bin/sh\n'; section "$name"; } > "$sd/$name"
    fi
done
[ -f "$sd/startscript" ] || printf '#!/bin/sh\n' > "$sd/startscript"
if has help || [ ! -f "$sd/runscript.help" ]; then section help > "$sd/runscript.help"; fi
cp "$RECIPE" "$sd/Singularity"
chmod 0755 "$sd"/env/*.sh "$sd/runscript" "$sd/test" "$sd/startscript"
ln -sfn .singularity.d/runscript "$root/singularity"
ln -sfn .singularity.d/actions/run "$root/.run"
ln -sfn .singularity.d/actions/exec "$root/.exec"
ln -sfn .singularity.d/actions/test "$root/.test"
ln -sfn .singularity.d/actions/shell "$root/.shell"
ln -sfn .singularity.d/env/90-environment.sh "$root/environment"

# -- 3. %files, %post, %test --------------------------------------------------
say "copying %files"
while read -r src dst; do
    [ -n "$src" ] || continue
    dst="${dst:-$src}"
    mkdir -p "$root$dst"
    if [ "$src" = . ] && git -C "$CHECKOUT" rev-parse --git-dir >/dev/null 2>&1; then
        # the checkout as git sees it (no virtual environment, no .git)
        (cd "$CHECKOUT" && git ls-files -z --cached --others --exclude-standard \
            | tar --null --no-recursion --ignore-failed-read -cf - -T -) \
            | tar -xf - -C "$root$dst"
    else
        (cd "$CHECKOUT" && cp -a "$src" "$root$dst/")
    fi
done < <(section files | sed 's/^[ \t]*//')

in_root() {  # run a command in the image root, as the build's container
    local mode="$1"; shift
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LC_ALL=C.UTF-8 TERM=dumb \
        bwrap "--$mode" "$root" / --proc /proc --dev /dev --tmpfs /tmp \
        --ro-bind /etc/resolv.conf /etc/resolv.conf --ro-bind /etc/hosts /etc/hosts \
        --setenv APPTAINER_ROOTFS / --setenv APPTAINER_ENVIRONMENT /.singularity.d/env/91-environment.sh \
        "$@"
}
say "running %post"
section post > "$root/.post.sh"
# the host's way out for the downloads of %post (not kept in the image):
# its proxy settings, and its CA bundle where a TLS-inspecting proxy
# signs with a CA of its own
net=()
for var in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY \
           PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_DEFAULT_TIMEOUT; do
    [ -z "${!var:-}" ] || net+=(--setenv "$var" "${!var}")
done
host_ca="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
if [ -f "$host_ca" ]; then
    : > "$root/.host-ca.crt"
    net+=(--ro-bind "$host_ca" /.host-ca.crt --setenv PIP_CERT /.host-ca.crt
          --setenv SSL_CERT_FILE /.host-ca.crt --setenv REQUESTS_CA_BUNDLE /.host-ca.crt
          --setenv GIT_SSL_CAINFO /.host-ca.crt)
fi
in_root bind "${net[@]}" /bin/sh -e /.post.sh > "$work/post.log" 2>&1 || { tail -30 "$work/post.log" >&2; die "%post failed (log above)"; }
rm -f "$root/.post.sh" "$root/.host-ca.crt"
find "$root" -xdev -name __pycache__ -path '*/opt/datalad-tcia/src/*' -prune -exec rm -rf {} +

# labels: the recipe's and Apptainer's schema labels
labels="$work/labels.json"
{
    echo '{'
    section labels | sed 's/^[ \t]*//' | while read -r name value; do
        if [ -n "$name" ]; then printf '  "%s": "%s",\n' "$name" "${value//\"/\\\"}"; fi
    done
    printf '  "org.label-schema.build-arch": "%s",\n' "$arch"
    printf '  "org.label-schema.build-date": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf '  "org.label-schema.schema-version": "1.0",\n'
    printf '  "org.label-schema.usage": "/.singularity.d/runscript.help",\n'
    printf '  "org.label-schema.usage.singularity.deffile.bootstrap": "%s"\n' "$bootstrap"
    echo '}'
} > "$labels"
if [ -f "$sd/labels.json" ]; then  # the base image's, overridden by ours
    python3 -c 'import json, sys; a, b = (json.load(open(p)) for p in sys.argv[1:]); a.update(b); json.dump(a, open(sys.argv[2], "w"), indent=2)' \
        "$sd/labels.json" "$labels"
fi
cp "$labels" "$sd/labels.json"

say "running %test"
in_root ro-bind /.singularity.d/actions/test > "$work/test.log" 2>&1 || { cat "$work/test.log" >&2; die "%test failed"; }

# -- 4. squashfs and SIF ------------------------------------------------------
say "packing the root (squashfs)"
mksquashfs "$root" "$work/root.squashfs" -noappend -comp gzip -quiet -no-progress
siftool new "$work/image.sif"
siftool add "$work/image.sif" "$RECIPE" --datatype 1 --groupid 1 --filename "$(basename "$RECIPE")"
siftool add "$work/image.sif" "$labels" --datatype 3 --groupid 1 --filename labels.json
siftool add "$work/image.sif" "$work/root.squashfs" --datatype 4 --groupid 1 --parttype 2 --partfs 1 \
    --partarch "$sifarch" --filename root.squashfs
mv "$work/image.sif" "$IMAGE"  # complete or absent under its final name
say "wrote $IMAGE ($(du -h "$IMAGE" | cut -f1), $(( $(date +%s) - started )) s)"
siftool list "$IMAGE"
