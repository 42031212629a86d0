#!/usr/bin/env bash
# build-image.sh DEB OUTDIR - the OCI image of deploy/kubernetes: the
# kubesurvey package installed into an empty image with what it and the
# deploy scripts need, taken from this Debian 12 machine's own packages
# (see "The root file system" below), written as the OCI archive
# OUTDIR/kubesurvey-VERSION.oci.tar, tagged kubesurvey:VERSION. Nothing is
# pulled from a registry. Needs root and buildah (apt-get install buildah);
# buildah keeps its storage in a temporary directory, not the machine's.
#   cd build && cpack -G DEB && ../deploy/image/build-image.sh kubesurvey_*.deb .
# Push it where the cluster pulls from (the name deploy/kubernetes uses):
#   buildah push kubesurvey:0.1.0 docker://registry.example.org/kubesurvey:0.1.0
# or load the archive: skopeo copy oci-archive:kubesurvey-0.1.0.oci.tar docker://...
set -euo pipefail
deb=$(realpath "${1:?usage: build-image.sh DEB OUTDIR}")
out=$(realpath "${2:?usage: build-image.sh DEB OUTDIR}")
command -v buildah >/dev/null || { echo "build-image.sh: buildah not found (apt-get install buildah)" >&2; exit 1; }
version=$(dpkg-deb -f "$deb" Version)
work=$(mktemp -d /tmp/ks-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
bh() { buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs "$@"; }

# The root file system, all of it from Debian 12 packages installed on this
# machine (no registry, no download): the kubesurvey package's files; bash,
# coreutils, grep and sed (what deploy/run-shard.sh and merge-shards.sh
# run); the shared libraries of every program (with the dynamic loader);
# the deploy scripts at /opt/kubesurvey/deploy, where deploy/kubernetes
# calls them; and the two users a scan as root may switch to.
rootfs=$work/rootfs
dpkg-deb -x "$deb" "$rootfs"
# Debian 12 is merged-/usr: /bin, /lib and /lib64 are links into /usr.
for d in bin sbin lib lib64; do
    mkdir -p "$rootfs/usr/$d"
    if [[ -L /$d && ! -e $rootfs/$d ]]; then ln -s "usr/$d" "$rootfs/$d"; fi
done
copy() { # a file or link of this machine, to the same (resolved) directory
    local dir
    dir=$(readlink -f "$(dirname "$1")")
    mkdir -p "$rootfs$dir"
    cp -a "$1" "$rootfs$dir/"
}
for pkg in bash coreutils grep sed; do
    dpkg -L "$pkg" | while read -r f; do
        case $f in /usr/share/*) continue ;; esac
        if [[ -L $f || -f $f ]]; then copy "$f"; fi
    done
done
mkdir -p "$rootfs/opt/kubesurvey/deploy"
cp "$(dirname "$0")"/../run-shard.sh "$(dirname "$0")"/../merge-shards.sh "$rootfs/opt/kubesurvey/deploy/"
for prog in "$rootfs"/usr/bin/*; do
    [[ -f $prog && ! -L $prog ]] || continue
    ldd "$prog" 2>/dev/null | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' || true   # scripts are no ELF
done | sort -u | while read -r lib; do
    copy "$lib"
    copy "$(readlink -f "$lib")"   # the soname link and its file
done
mkdir -p "$rootfs/etc" "$rootfs/tmp" "$rootfs/data"
chmod 1777 "$rootfs/tmp"
printf 'root:x:0:0:root:/root:/nonexistent\nnobody:x:65534:65534:nobody:/nonexistent:/nonexistent\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"

ctr=$(bh from scratch)
bh copy "$ctr" "$rootfs" / >/dev/null
bh config --entrypoint '["/usr/bin/kubesurvey"]' --cmd '["--help"]' --workingdir /data \
    --label "org.opencontainers.image.title=kubesurvey" \
    --label "org.opencontainers.image.version=$version" "$ctr"
bh commit --quiet --format oci "$ctr" "kubesurvey:$version" >/dev/null
archive=$out/kubesurvey-$version.oci.tar
rm -f "$archive"
bh push --quiet "kubesurvey:$version" "oci-archive:$archive:kubesurvey:$version"
bh rm "$ctr" >/dev/null
echo "$archive"
