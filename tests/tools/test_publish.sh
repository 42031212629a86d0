#!/usr/bin/env bash
# test_publish.sh - `kubesurvey publish` and `verify` on stores of known
# content (gen_db: the crafted population, whose statistics are computed by
# hand in population.h, and 3,000 synthetic endpoints), read back with the
# tools researchers use: pandas + jsonschema (publish_check.py recomputes
# the headline figures from the records and compares them with stats.json)
# and sqlite3 (the CSV). Then every way a package can be damaged makes
# verify fail naming the file (and line), and publish refuses what it must.
#   usage: test_publish.sh KUBESURVEY GEN_DB DATA_DIR
set -euo pipefail
ks=$1 gen=$2 data=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
TEST_NAME=publish
# Debian's interpreter, where python3-pandas and python3-jsonschema live
# (a python3 earlier on PATH may not have them).
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" -c 'import pandas, jsonschema' || fail "python3-pandas and python3-jsonschema are needed (tests/run-all.sh installs them)"
command -v sqlite3 >/dev/null || fail "sqlite3 is needed (tests/run-all.sh installs it)"
command -v zstd >/dev/null || fail "zstd is needed (tests/run-all.sh installs it)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
head -c 32 /dev/urandom > key.bin

# ---- the crafted population, anonymised (the default way) ----
"$gen" c.db --crafted --corrupt 2
"$ks" publish c.db pkg --anonymize key.bin --title "Crafted" --author "Doe, Jane" \
    --license CC-BY-4.0 > out.txt 2>&1 || { cat out.txt; fail "publish failed"; }
"$ks" verify pkg > out.txt 2>&1 || { cat out.txt; fail "verify failed on a fresh package"; }
(cd pkg && sha256sum --quiet -c SHA256SUMS) || fail "sha256sum -c disagrees with SHA256SUMS"
for f in records.jsonl.zst records.csv.zst scans.jsonl stats.json DATASHEET.md CITATION.cff \
         schema/record.schema.json schema/record.csv.schema.json schema/scan.schema.json; do
    [ -s "pkg/$f" ] || fail "no $f in the package"
done
[ ! -e pkg/certs.jsonl.zst ] || fail "certificates written without --certs"
# the truth of population.h as of 2021-06-10 (POPULATION_STATS_2021_06_10)
"$py" "$here/publish_check.py" pkg "$data" syn_open=11 tls=10 k8s=9 k8s_by_cert=3 \
    version_public=7 unsupported=3 provider_unsupported=1 lifecycle_unknown=1 clusters=7 \
    k8s_without_cert=1 corrupt_records=2 'by_minor.1.19=2' 'by_minor.1.40=1' \
    'auth.public=7' 'auth.unauthorized_401=1' 'auth.forbidden_403=1' \
    || fail "pandas/jsonschema check of the crafted package"
zstd -dc pkg/records.jsonl.zst | grep -q '"addr":"198\.18\.' && fail "a real address in an anonymised package"
zstd -dc pkg/records.jsonl.zst | grep -c '"anonymized":true' | grep -qx 11 || fail "records not marked anonymized"
# the datasheet: every section, filled from the data, the author's parts marked
for section in Motivation Composition "Collection process" "Preprocessing, cleaning, labelling" \
               "Uses and limits" Distribution Maintenance; do
    grep -q "^## $section\$" pkg/DATASHEET.md || fail "DATASHEET.md has no section '$section'"
done
grep -q "Endpoints: 11; TLS completed: 10; Kubernetes API servers: 9" pkg/DATASHEET.md ||
    fail "DATASHEET.md composition not filled from the data"
grep -q "^| yes | 9 |" pkg/DATASHEET.md || fail "DATASHEET.md has no count by verdict"
grep -q "Selection bias" pkg/DATASHEET.md || fail "DATASHEET.md lacks the threats to validity"
grep -q "Crypto-PAn" pkg/DATASHEET.md || fail "DATASHEET.md does not say how it was anonymised"
[ "$(grep -c 'AUTHOR:' pkg/DATASHEET.md)" -ge 5 ] || fail "DATASHEET.md: the author's parts are not marked"
grep -q '^license: "CC-BY-4.0"' pkg/CITATION.cff || fail "CITATION.cff lacks the licence given"
grep -q '^  - family-names: "Doe"' pkg/CITATION.cff || fail "CITATION.cff lacks the author given"

# ---- the CSV in sqlite3: the same counts as stats.json ----
zstd -dc pkg/records.csv.zst > records.csv
sqlite3 db.sqlite ".import --csv records.csv records"
q() { sqlite3 db.sqlite "$1"; }
s() { "$py" -c "import json,sys; d=json.load(open('pkg/stats.json')); print(eval(sys.argv[1]))" "$1"; }
k8s_rows="verdict = 'yes' and not (all_ports_open = 'true' and evidence not like '%cert-marker%' and evidence not like '%version-info%')"
[ "$(q 'select count(*) from records')" = "$(s 'd["syn_open"]')" ] || fail "sqlite3: record count"
[ "$(q "select count(*) from records where tls_done = 'true'")" = "$(s 'd["tls"]')" ] || fail "sqlite3: tls"
[ "$(q "select count(*) from records where $k8s_rows")" = "$(s 'd["k8s"]')" ] || fail "sqlite3: k8s"
[ "$(q "select count(*) from records where $k8s_rows and http_status = '200'")" = "$(s 'd["auth"]["public"]')" ] ||
    fail "sqlite3: auth.public"
[ "$(q "select count(distinct nullif(leaf_sha256, '')) + sum(leaf_sha256 = '') from records where $k8s_rows")" = \
  "$(s 'd["clusters"]')" ] || fail "sqlite3: clusters"
[ "$(q "select count(*) from records where $k8s_rows and provider = 'eks'")" = \
  "$(s 'd["by_provider"]["eks"]["hosts"]')" ] || fail "sqlite3: by_provider.eks"

# ---- 3,000 synthetic endpoints, not anonymised, with certificates ----
"$gen" s.db --synthetic 3000
"$ks" publish s.db spkg --no-anonymize --certs > out.txt 2>&1 || { cat out.txt; fail "publish --certs failed"; }
"$ks" verify spkg > out.txt 2>&1 || { cat out.txt; fail "verify failed on the synthetic package"; }
"$py" "$here/publish_check.py" spkg "$data" syn_open=3000 || fail "pandas/jsonschema check of the synthetic package"
grep -q "NOT ANONYMISED" spkg/DATASHEET.md || fail "--no-anonymize not written into the datasheet"
[ "$(zstd -dc spkg/certs.jsonl.zst | wc -l)" = "$(zstd -dc spkg/certs.jsonl.zst | sort -u | wc -l)" ] ||
    fail "a certificate written twice"
# synthetic_fill: endpoint i has certificate i/3 when TLS is done (90%): at least 900 distinct
[ "$(zstd -dc spkg/certs.jsonl.zst | wc -l)" -ge 900 ] || fail "too few certificates"

# ---- another day and calendar: verify judges as stats.json says ----
"$ks" publish c.db dpkg --anonymize key.bin --as-of 2021-06-19 --calendar final &&
    "$ks" verify dpkg > /dev/null || fail "publish --as-of --calendar final"
grep -q '"as_of": "2021-06-19"' dpkg/stats.json && grep -q '"calendar": "final"' dpkg/stats.json ||
    fail "stats.json not as of 2021-06-19 with the final calendars"
# on 2021-06-19 (the day after 1.18's end of life) upstream unsupported is still 1.15, 1.16
# and 1.17: the crafted population has no 1.18
"$py" "$here/publish_check.py" dpkg "$data" unsupported=3 || fail "pandas on the 2021-06-19 package"

# ---- a scan without records ----
"$gen" e.db --synthetic 0
"$ks" publish e.db epkg --no-anonymize && "$ks" verify epkg > /dev/null || fail "an empty scan's package"
"$py" "$here/publish_check.py" epkg "$data" syn_open=0 k8s=0 || fail "pandas on an empty package"

rm -rf bad; cp -r spkg bad
zstd -dc spkg/certs.jsonl.zst | sed 1d | zstd -q -o bad/certs.jsonl.zst -f
(cd bad && sed -i "/  certs.jsonl.zst\$/d" SHA256SUMS && sha256sum certs.jsonl.zst >> SHA256SUMS)
if "$ks" verify bad > out.txt 2>&1; then fail "a certificate removed: verify passed"; fi
grep -q "records.jsonl.zst:[0-9]*: chain\[0\] is not in certs.jsonl.zst" out.txt ||
    { cat out.txt; fail "a certificate removed is not named"; }

# ---- damage: verify names the file (and line) ----
expect_fail() { # WHAT PATTERN: verify fails with PATTERN in its message
    if "$ks" verify bad > out.txt 2>&1; then fail "$1: verify passed"; fi
    grep -q -- "$2" out.txt || { cat out.txt; fail "$1: message does not say '$2'"; }
    ! grep -q "Sanitizer" out.txt || { cat out.txt; fail "$1: a sanitizer report (ASan build)"; }
}
fresh() { rm -rf bad; cp -r pkg bad; }
resum() { (cd bad && sed -i "\\|  $1\$|d" SHA256SUMS && sha256sum "$1" >> SHA256SUMS && sort -k2 -o SHA256SUMS SHA256SUMS); }
fresh; printf '\x01' | dd of=bad/records.csv.zst bs=1 seek=40 conv=notrunc 2>/dev/null
expect_fail "one byte changed" "records.csv.zst: its SHA-256 differs"
fresh; rm bad/DATASHEET.md
expect_fail "a file removed" "DATASHEET.md: listed in SHA256SUMS but missing"
fresh; echo extra > bad/notes.txt
expect_fail "a file added" "notes.txt: not listed in SHA256SUMS"
"$ks" verify pkg/ > /dev/null || fail "verify of OUTDIR/ (a trailing slash)"
fresh; echo extra > bad/schema/notes.txt
if "$ks" verify bad/ > out.txt 2>&1; then fail "a file added in schema/: verify passed"; fi
grep -q "bad: schema/notes.txt: not listed in SHA256SUMS" out.txt || { cat out.txt; fail "a file added in schema/ not named"; }
fresh; zstd -dc pkg/records.jsonl.zst | sed '4s/}$/,"comment":"x"}/' | zstd -q -o bad/records.jsonl.zst -f
resum records.jsonl.zst
expect_fail "an unknown field" 'records.jsonl.zst:4: member "comment" is not in the record schema'
zstd -dc bad/records.jsonl.zst > bad.jsonl
"$py" - bad.jsonl pkg/schema/record.schema.json <<'EOF' || fail "jsonschema accepts a field the schema does not know"
import json, sys, jsonschema
schema = json.load(open(sys.argv[2]))
bad = [json.loads(l) for l in open(sys.argv[1])]
errors = [e for r in bad for e in jsonschema.Draft202012Validator(schema).iter_errors(r)]
sys.exit(0 if len(errors) == 1 and "comment" in errors[0].message else 1)
EOF
fresh; zstd -dc pkg/records.jsonl.zst | sed '5s/"port":[0-9]*/"port":"x"/' | zstd -q -o bad/records.jsonl.zst -f
resum records.jsonl.zst
expect_fail "a value of the wrong type" 'records.jsonl.zst:5: member "port"'
fresh; sed -i 's/"k8s": 9,/"k8s": 10,/' bad/stats.json; resum stats.json
expect_fail "stats.json not from the records" 'stats.json: "k8s" is 10, the records give 9'
"$py" "$here/publish_check.py" bad "$data" > out.txt && fail "publish_check accepts a wrong stats.json"
grep -q "k8s: stats.json 10, records 9" out.txt || fail "publish_check does not name k8s"
fresh; zstd -dc pkg/records.csv.zst | sed '3s/,ok,/,refused,/' | zstd -q -o bad/records.csv.zst -f
resum records.csv.zst
expect_fail "a CSV row unlike its record" "records.csv.zst:3: differs from the record of records.jsonl.zst line 2"
fresh; head -c 300 pkg/records.jsonl.zst > bad/records.jsonl.zst; resum records.jsonl.zst
expect_fail "a truncated zstd file" "records.jsonl.zst: the zstd stream ends in the middle of a frame"
fresh; zstd -dc pkg/records.csv.zst | head -5 | zstd -q -o bad/records.csv.zst -f; resum records.csv.zst
expect_fail "a CSV with fewer rows" "records.csv.zst: ends at line 5; records.jsonl.zst has more records"
fresh; sed -i 's/"title": "kubesurvey endpoint record"/"title": "x"/' bad/schema/record.schema.json
resum schema/record.schema.json
expect_fail "an edited schema" 'schema/record.schema.json: differs from the schema'

# ---- publish refuses, and never leaves half a package ----
"$ks" publish c.db pkg --anonymize key.bin > out.txt 2>&1 && fail "publish replaced a package without --force"
grep -q "pkg exists and is not empty (give --force" out.txt || fail "no message for an existing OUTDIR"
"$ks" verify pkg > /dev/null || fail "the refused publish touched the package"
status=0; "$ks" publish c.db other > out.txt 2>&1 || status=$?
[ "$status" = 2 ] && grep -q "give --anonymize KEYFILE" out.txt || fail "publish without an anonymisation choice: $status"
status=0; "$ks" publish c.db other --anonymize key.bin --certs > out.txt 2>&1 || status=$?
[ "$status" = 2 ] || fail "--certs with --anonymize accepted"
status=0; "$ks" publish missing.db other --no-anonymize > out.txt 2>&1 || status=$?
[ "$status" = 1 ] || fail "publish of a missing store: status $status"
[ ! -e other ] && ! ls -d other.tmp-* 2>/dev/null || fail "a failed publish left a directory"
mkdir empty
"$ks" publish c.db empty --anonymize key.bin && "$ks" verify empty > /dev/null || fail "publish into an empty directory"
"$ks" publish s.db pkg --no-anonymize --force && "$ks" verify pkg > /dev/null || fail "publish --force"
ls -d pkg.* 2>/dev/null && fail "publish --force left the old package beside the new"
echo "publish: ok"
