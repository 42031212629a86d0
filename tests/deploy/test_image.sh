#!/usr/bin/env bash
# test_image.sh BUILD_DIR - the OCI image of deploy/kubernetes: builds the
# .deb (cpack) and the image from it (deploy/image/build-image.sh), then
# checks the archive: one image tagged kubesurvey:VERSION whose entrypoint
# is /usr/bin/kubesurvey, the tag deploy/kubernetes's manifests name, and
# that the entrypoint runs `--version` from the image's own files. With a
# container runtime (podman, or crun/runc for buildah) it runs the image;
# without one (this machine has none) it says so and runs the entrypoint
# in a chroot of the image's unpacked layers, in new mount, PID and network
# namespaces (no network at all).
# Root; skipped (77) without buildah.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
TEST_NAME=deploy_image
build=$(realpath "${1:?usage: test_image.sh BUILD_DIR}")
need_root "needs root (buildah, chroot)"
command -v buildah >/dev/null || skip "buildah is not installed (apt-get install buildah)"
WORK=$(mktemp -d /tmp/ks-image-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

(cd "$build" && cpack -G DEB -B "$WORK/pkg" >"$WORK/cpack.log" 2>&1) || { cat "$WORK/cpack.log" >&2; fail "cpack"; }
deb=$(ls "$WORK"/pkg/kubesurvey_*.deb)
version=$(dpkg-deb -f "$deb" Version)
archive=$("$here/../../deploy/image/build-image.sh" "$deb" "$WORK" 2>"$WORK/build.err") ||
    { cat "$WORK/build.err" >&2; fail "build-image.sh"; }
[[ $archive == "$WORK/kubesurvey-$version.oci.tar" && -s $archive ]] || fail "no archive: '$archive'"

# The archive as the OCI image layout says: index -> manifest -> config, layers.
oci=$WORK/oci
mkdir "$oci"
tar -xf "$archive" -C "$oci"
blob() { echo "$oci/blobs/${1/://}"; }
ref=$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$oci/index.json")
[[ $ref == "kubesurvey:$version" || $ref == "$version" ]] || fail "image tag '$ref', expected kubesurvey:$version"
manifest=$(blob "$(jq -r '.manifests[0].digest' "$oci/index.json")")
config=$(blob "$(jq -r '.config.digest' "$manifest")")
entrypoint=$(jq -c '.config.Entrypoint' "$config")
[[ $entrypoint == '["/usr/bin/kubesurvey"]' ]] || fail "entrypoint $entrypoint"
[[ $(jq -r '.config.Labels["org.opencontainers.image.version"]' "$config") == "$version" ]] ||
    fail "image label version is not $version"

# The manifests pull this tag.
for f in "$here"/../../deploy/kubernetes/*.yaml; do
    while read -r image; do
        [[ $image == */kubesurvey:"$version" || $image == kubesurvey:"$version" ]] ||
            fail "$(basename "$f") names image $image, not kubesurvey:$version"
    done < <(sed -n 's/^ *image: *\([^ ]*\).*/\1/p' "$f")
done
grep -q "image: .*kubesurvey:$version" "$here"/../../deploy/kubernetes/indexed-job.yaml ||
    fail "indexed-job.yaml does not name kubesurvey:$version"

# The entrypoint runs --version.
want="kubesurvey $version (commit "
if command -v podman >/dev/null; then
    got=$(podman run --rm --network none "oci-archive:$archive" --version)
    how="podman run"
elif command -v crun >/dev/null || command -v runc >/dev/null; then
    got=$(buildah --root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs \
          run --network none "$(buildah --root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs from "oci-archive:$archive")" /usr/bin/kubesurvey --version)
    how="buildah run"
else
    note "no container runtime on this machine (no podman, crun or runc): the entrypoint runs in a chroot of the image's layers, not in a container"
    rootfs=$WORK/rootfs
    mkdir "$rootfs"
    while read -r layer; do
        tar -xf "$(blob "$layer")" -C "$rootfs"
    done < <(jq -r '.layers[].digest' "$manifest")
    how="chroot of the unpacked layers"
    if [[ ${KS_SANITIZE:-OFF} != OFF ]]; then
        # A sanitizer build's runtime needs /proc, which the chroot lacks
        # (LeakSanitizer fails reading /proc/1/task): the normal build's
        # run of this test runs the entrypoint.
        how="not run: a sanitizer build in a chroot without /proc"
        rootfs=
        got=
    else
        got=$(unshare --mount --pid --net --fork chroot "$rootfs" $(jq -r '.config.Entrypoint[0]' "$config") --version)
    fi
fi
[[ -z $got && $how == not\ run* ]] || [[ $got == "$want"* ]] || fail "entrypoint --version ($how): '$got'"
# ... and the deploy scripts find their shell and tools (chroot only: what a
# runtime would run is the same files)
if [[ -n ${rootfs:-} ]]; then
    usage=$(unshare --mount --pid --net --fork chroot "$rootfs" /opt/kubesurvey/deploy/run-shard.sh 2>&1) && fail "run-shard.sh without arguments succeeded"
    [[ $usage == *usage* || $usage == *run-shard.sh* ]] || fail "run-shard.sh in the image: '$usage'"
    got_merge=$(unshare --mount --pid --net --fork chroot "$rootfs" /opt/kubesurvey/deploy/merge-shards.sh 2>&1) && fail "merge-shards.sh without arguments succeeded"
    [[ $got_merge != *"not found"* && $got_merge != *"No such file"* ]] || fail "merge-shards.sh in the image: '$got_merge'"
fi
note "image kubesurvey:$version ($(du -h "$archive" | cut -f1) OCI archive): $how: $got"
