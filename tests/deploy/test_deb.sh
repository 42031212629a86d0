#!/usr/bin/env bash
# test_deb.sh KUBESURVEY BUILD_DIR - the Debian package, installed for real
# on this machine and removed again:
#   cpack -G DEB; its Depends are Debian 12 package names that dpkg resolves
#   here; dpkg -i; kubesurvey --version; man -w kubesurvey-scan; the bash
#   completion of `kubesurvey sc<TAB>`; a --dry-run scan; then the
#   documented `setcap cap_net_raw,cap_net_admin+ep /usr/bin/kubesurvey` and
#   a real --syn-only scan as the user nobody, inside the test namespaces
#   only, that finds exactly the simulated ground truth; dpkg -r leaves no
#   file of the package behind.
# Root (dpkg, namespaces); refuses to run when kubesurvey is already
# installed (it would replace someone's package).
set -euo pipefail
source "$(dirname "$0")/../net/lib.sh"
net_test_init deb 560 "$@"
build=$KS_BUILD
command -v cpack >/dev/null || fail "cpack not found (package cmake)"
command -v setcap >/dev/null || fail "setcap not found (package libcap2-bin)"
if dpkg-query -W -f '${Status}' kubesurvey 2>/dev/null | grep -q installed || [[ -e /usr/bin/kubesurvey ]]; then
    fail "kubesurvey is already installed on this machine: not replacing it"
fi

(cd "$build" && cpack -G DEB -B "$WORK/pkg" >"$WORK/cpack.log" 2>&1) ||
    { cat "$WORK/cpack.log" >&2; fail "cpack -G DEB failed"; }
deb=$(ls "$WORK"/pkg/kubesurvey_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libpcap0.8 libnet1 libssl3 liblmdb0 libzstd1 libjansson4 libhttp-parser2.9; do
    [[ ", $depends," == *", $lib ("* ]] || fail "Depends lacks $lib: $depends"
done
# every shared library the binary loads belongs to a package Depends names
# (or to what those depend on: libcrypto3 comes with libssl3)
while read -r so; do
    pkg=$(dpkg -S "$(readlink -f "$so")" 2>/dev/null | head -1 | cut -d: -f1) || true
    [[ -z $pkg ]] && continue
    case $pkg in libcrypto3 | libssl3) pkg=libssl3 ;; esac
    [[ ", $depends," == *", $pkg ("* ]] || note "not in Depends (a dependency's own): $pkg for $so"
done < <(ldd "$KS" | awk '$3 ~ /^\// && $1 !~ /^(libdbus|libsystemd|libcap|libgcrypt|liblzma|liblz4|libgpg-error|libm\.|libpthread)/ { print $3 }')
[[ -z $(dpkg-deb -I "$deb" | grep -E '^ *[0-9]+ bytes.*(postinst|preinst|prerm|postrm)') ]] ||
    fail "the package has maintainer scripts; none expected (no setcap behind the user's back)"

removed=false
cleanup_pkg() { $removed || dpkg -r kubesurvey >/dev/null 2>&1 || true; }
# net_cleanup reads the test's exit status from $?: keep it across cleanup_pkg
trap 'rc=$?; cleanup_pkg; (exit $rc); net_cleanup' EXIT
dpkg -i "$deb" >"$WORK/dpkg-i.log" 2>&1 || { cat "$WORK/dpkg-i.log" >&2; fail "dpkg -i $deb"; }
dpkg -L kubesurvey >"$WORK/files"
ks=/usr/bin/kubesurvey

"$ks" --version | grep -qE '^kubesurvey [0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-f]{7,}' ||
    fail "--version: $("$ks" --version)"
man_path=$(man -w kubesurvey-scan) || fail "man -w kubesurvey-scan found nothing"
[[ $man_path == /usr/share/man/man1/kubesurvey-scan.1* ]] || fail "man -w kubesurvey-scan: $man_path"
man -w kubesurvey >/dev/null || fail "man -w kubesurvey found nothing"
completion=/usr/share/bash-completion/completions/kubesurvey
offered=$(bash -c '. "$1"; COMP_WORDS=(kubesurvey sc); COMP_CWORD=1; _kubesurvey; echo "${COMPREPLY[*]}"' sh "$completion")
[[ $offered == "scan scans" ]] || fail "completion of 'kubesurvey sc': '$offered'"
[[ -f /usr/share/doc/kubesurvey/survey-guide.md ]] || fail "no /usr/share/doc/kubesurvey/survey-guide.md"
note "installed: $("$ks" --version); man $man_path; kubesurvey sc<TAB>: $offered"

# The scanner runs only inside the scanner namespace, even for a dry run.
truth=$("$SIM" up "$TEST_ID" 180)
timeout -k 5 30 ip netns exec "$S" "$ks" scan --dry-run -b "$EMPTY" -p 443,6443 --seed 7 198.18.0.0/30 \
    >"$WORK/dry.csv" 2>"$WORK/dry.err" || { cat "$WORK/dry.err" >&2; fail "dry-run scan"; }
[[ $(count_rows "$WORK/dry.csv") -eq 8 ]] || fail "dry run listed $(count_rows "$WORK/dry.csv") targets, expected 8"

# The documented line (README.md, docs/survey-guide.md), then a scan as nobody.
setcap cap_net_raw,cap_net_admin+ep "$ks"
[[ "$(getcap "$ks")" == *cap_net_admin,cap_net_raw=ep* ]] || fail "setcap did not take: $(getcap "$ks")"
mkdir -p "$WORK/out"
chmod 711 "$WORK"
chown nobody "$WORK/out"
timeout -k 5 90 ip netns exec "$S" setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" \
    --clear-groups "$ks" scan --syn-only -b "$EMPTY" -p 443,6443 -r 20000 -c 2 -q \
    -o "$WORK/out/scan.csv" 198.18.0.0/16 2>"$WORK/nobody.err" ||
    { cat "$WORK/nobody.err" >&2; fail "scan as nobody with the file capabilities"; }
expect_same_pairs "$truth" "$WORK/out/scan.csv" "installed kubesurvey as nobody after setcap"

dpkg -r kubesurvey >"$WORK/dpkg-r.log" 2>&1 || { cat "$WORK/dpkg-r.log" >&2; fail "dpkg -r kubesurvey"; }
removed=true
left=0
while read -r f; do
    [[ -f $f || -L $f ]] && { note "left behind: $f"; left=$((left + 1)); }
done <"$WORK/files"
for d in /usr/share/doc/kubesurvey; do [[ -e $d ]] && { note "left behind: $d"; left=$((left + 1)); }; done
[[ $left -eq 0 ]] || fail "dpkg -r left $left files"
status=$(dpkg-query -W -f '${Status}' kubesurvey 2>/dev/null || true)
[[ -z $status || $status == *not-installed* ]] || fail "after dpkg -r: status '$status'"
note "dpkg -r: $(wc -l <"$WORK/files") paths of the package gone"
