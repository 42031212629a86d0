#!/usr/bin/env python3
"""publish_check.py - a published package read the way a researcher would.

Loads records.jsonl.zst with pandas (Debian's python3-pandas), validates
every record, the scan record and the certificates against the package's
JSON Schemas with python3-jsonschema, recomputes the headline figures from
the records alone (the rules of docs/statistics.md, the calendar rules of
stats_oracle.py's independent Lifecycle) and compares them with stats.json.

    publish_check.py PACKAGE DATA_DIR [KEY=VALUE ...]

KEY=VALUE pairs are the known truth of the population: stats.json must
hold them too (a key of stats.json, "by_minor.1.19" for a nested one).
Exit status 0 when everything agrees, 1 with every difference printed.
"""
import io
import json
import os
import subprocess
import sys

import jsonschema
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stats_oracle import Lifecycle, day, parse_version  # noqa: E402

VIEWS = [("unsupported", None), ("provider_unsupported", "standard"),
         ("provider_unsupported_extended", "extended")]
UNKNOWN_KEYS = {"unsupported": "lifecycle_unknown",
                "provider_unsupported": "provider_lifecycle_unknown",
                "provider_unsupported_extended": "provider_extended_lifecycle_unknown"}


def zstd_text(path):
    return subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout.decode()


def validate(package, schema_name, lines, what):
    schema = json.load(open(os.path.join(package, "schema", schema_name)))
    validator = jsonschema.Draft202012Validator(schema,
                                                format_checker=jsonschema.FormatChecker())
    problems = []
    for number, line in enumerate(lines, 1):
        for error in validator.iter_errors(line):
            problems.append(f"{what}:{number}: {error.message}")
    return problems


def version_of(row):
    """kver_of_result: gitVersion if it parses, else the numeric fields."""
    if row["version_state"] != "valid":
        return None
    v = parse_version(row["git_version"])
    if v:
        return v
    if pd.notna(row["version_major"]) and pd.notna(row["version_minor"]):
        return (int(row["version_major"]), int(row["version_minor"]), None, 3, 0)
    return None


# The findings each surface counts (docs/statistics.md, "Surfaces").
SURFACE_FINDINGS = {
    "kubelet": ["authentication-required", "anonymous-forbidden", "anonymous-open"],
    "kubelet-readonly": ["open"],
    "etcd": ["client-cert-required", "no-client-auth"],
}


def surfaces(df):
    """Endpoints and findings of the other modules' records."""
    got = {}
    for module, findings in SURFACE_FINDINGS.items():
        rows = df[df["module"] == module]
        counts = {"endpoints": len(rows)}
        for f in findings:
            counts[f.replace("-", "_")] = int((rows["finding"] == f).sum())
        got[module.replace("-", "_")] = counts
    return got


def recompute(df, lc, as_of, calendar):
    on = day(as_of)
    # API-server figures count the apiserver module's records only (records
    # made before modules have none: they are the API servers').
    df = df.assign(module=df["module"].fillna("apiserver") if "module" in df else "apiserver")
    if "finding" not in df:
        df = df.assign(finding=None)
    other = df[df["module"] != "apiserver"]
    df = df[df["module"] == "apiserver"]
    evidence = df["evidence"].apply(set)
    own_proof = evidence.apply(lambda e: bool({"cert-marker", "version-info"} & e))
    excluded = df["all_ports_open"] & (df["verdict"] == "yes") & ~own_proof
    k8s = df[(df["verdict"] == "yes") & ~excluded]
    got = {
        "surfaces": surfaces(other),
        "syn_open": len(df),
        "tls": int(df["tls_done"].sum()),
        "kubelets": int((df["verdict"] == "kubelet").sum()),
        "all_ports_open": int(df["all_ports_open"].sum()),
        "all_ports_open_excluded": int(excluded.sum()),
        "k8s": len(k8s),
        "k8s_by_cert": int(k8s["evidence"].apply(lambda e: "cert-marker" in e).sum()),
        "auth": {"public": int((k8s["http_status"] == 200).sum()),
                 "unauthorized_401": int((k8s["http_status"] == 401).sum()),
                 "forbidden_403": int((k8s["http_status"] == 403).sum())},
    }
    leaves = k8s["chain"].apply(lambda c: c[0]["sha256"] if c else None)
    got["clusters"] = int(leaves.nunique() + leaves.isna().sum()) if len(k8s) else 0
    got["k8s_without_cert"] = int(leaves.isna().sum()) if len(k8s) else 0
    versions = k8s.apply(version_of, axis=1) if len(k8s) else pd.Series(dtype=object)
    public = k8s[versions.notna()] if len(k8s) else k8s
    got["version_public"] = len(public)
    by_minor = versions.dropna().apply(lambda v: f"{v[0]}.{v[1]}").value_counts()
    got["by_minor"] = {k: int(n) for k, n in by_minor.items()}
    providers = k8s["provider"].fillna("unknown")
    got["by_provider"] = {p: {"hosts": int(n)} for p, n in providers.value_counts().items()}
    for key, view in VIEWS:
        got[key] = got[UNKNOWN_KEYS[key]] = 0
    for _, row in public.iterrows():
        v = version_of(row)
        for key, view in VIEWS:
            if view is None:
                status = lc.upstream_status(v[0], v[1], on)
            else:
                status = lc.provider_status(row["provider"], v[0], v[1], on, calendar, view)
            got[key] += status == "U"
            got[UNKNOWN_KEYS[key]] += status == "?"
    return got


def compare(got, want, path=""):
    problems = []
    for key, value in got.items():
        where = f"{path}{key}"
        if isinstance(value, dict):
            if key == "by_provider":
                for p, inner in value.items():
                    stated = want.get(key, {}).get(p, {}).get("hosts")
                    if stated != inner["hosts"]:
                        problems.append(f"{where}.{p}.hosts: stats.json {stated}, records {inner['hosts']}")
                if set(value) != set(want.get(key, {})):
                    problems.append(f"{where}: labels {sorted(want.get(key, {}))} vs {sorted(value)}")
                continue
            if key == "by_minor" and value != want.get(key):
                problems.append(f"{where}: stats.json {want.get(key)}, records {value}")
                continue
            problems += compare(value, want.get(key, {}), where + ".")
        elif want.get(key) != value:
            problems.append(f"{where}: stats.json {want.get(key)}, records {value}")
    return problems


def lookup(obj, dotted):
    """stats.json at a path whose last part may itself hold dots (by_minor.1.19)."""
    head, _, rest = dotted.partition(".")
    if head in obj and rest and isinstance(obj[head], dict):
        return obj[head].get(rest, lookup(obj[head], rest))
    return obj.get(dotted)


def main():
    package, data_dir, truths = sys.argv[1], sys.argv[2], sys.argv[3:]
    stats = json.load(open(os.path.join(package, "stats.json")))
    scans = [json.loads(line) for line in open(os.path.join(package, "scans.jsonl"))]
    text = zstd_text(os.path.join(package, "records.jsonl.zst"))
    records = [json.loads(line) for line in text.splitlines()]
    problems = validate(package, "record.schema.json", records, "records.jsonl.zst")
    problems += validate(package, "scan.schema.json", scans, "scans.jsonl")
    certs_path = os.path.join(package, "certs.jsonl.zst")
    if os.path.exists(certs_path):
        certs = [json.loads(line) for line in zstd_text(certs_path).splitlines()]
        problems += validate(package, "cert.schema.json", certs, "certs.jsonl.zst")
    if records:
        df = pd.read_json(io.StringIO(text), lines=True, dtype=False)
    else:  # no line: the columns from the schema
        schema = json.load(open(os.path.join(package, "schema", "record.schema.json")))
        df = pd.DataFrame(columns=schema["required"])
    if len(df) != len(records):
        problems.append(f"pandas read {len(df)} records, the file has {len(records)}")
    pub = scans[0]["publication"]
    got = recompute(df, Lifecycle(data_dir), pub["as_of"], pub["calendar"])
    problems += compare(got, stats)
    for truth in truths:
        key, _, value = truth.partition("=")
        if lookup(stats, key) != json.loads(value):
            problems.append(f"stats.json {key} is {lookup(stats, key)}, the population's truth {value}")
    for p in problems:
        print("publish_check:", p)
    if problems:
        return 1
    print(f"publish_check: ok ({len(df)} records valid against the schema; {len(got)} headline "
          f"keys recomputed with pandas equal stats.json; {len(truths)} known values)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
