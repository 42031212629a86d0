#!/usr/bin/env python3
"""stats_oracle.py - an independent computation of `stats --json`.

Reads the lifecycle data files (tools/data/) and a crafted population
(stats_population.json), computes every key of the statistics object from
the definitions in docs/statistics.md with its own code (its own version
parser, calendar rules, CVE matching, cluster grouping and network tables),
runs tests/tools/stats_driver (the real aggregator over the same population,
with real certificates) and compares the two objects key by key, for each
date and calendar given.

    stats_oracle.py DRIVER DATA_DIR POPULATION.json

Exit status 0 when every date agrees, 1 with the differing keys printed.
"""
import datetime
import ipaddress
import json
import re
import subprocess
import sys

DATES = ["2019-06-01", "2021-06-10", "2021-08-01", "2022-03-01", "2023-06-01",
         "2024-08-01", "2026-01-01"]
CALENDARS = ["published", "final"]
VIEWS = ["unsupported", "provider_unsupported", "provider_unsupported_extended"]
UNKNOWN_KEYS = ["lifecycle_unknown", "provider_lifecycle_unknown",
                "provider_extended_lifecycle_unknown"]
ESTIMATORS = ["certificate", "cluster_name", "cluster_ca"]
SUPPORTED, UNSUPPORTED, UNKNOWN = "S", "U", "?"


def day(text):
    return datetime.date.fromisoformat(text) if text else None


# ---------------------------------------------------------------- versions

VERSION = re.compile(r"^[vV]?(\d{1,6})\.(\d{1,6})(?:\.(\d{1,6}))?([-+].*)?$")
PRE = {"-alpha": 0, "-beta": 1, "-rc": 2}


def parse_version(text):
    """(major, minor, patch or None, pre kind 0-3, pre number) or None."""
    m = VERSION.match(text or "")
    if not m:
        return None
    pre, number = 3, 0
    rest = m.group(4) or ""
    for word, kind in PRE.items():
        if rest.startswith(word):
            tail = rest[len(word):].lstrip(".")
            digits = re.match(r"\d*", tail).group(0)
            pre, number = kind, int(digits) if digits else 0
            break
    patch = int(m.group(3)) if m.group(3) is not None else None
    return (int(m.group(1)), int(m.group(2)), patch, pre, number)


def order_key(v):
    return (v[0], v[1], v[2] or 0, v[3], v[4])


def holds(constraint, v):
    for part in constraint.split(","):
        part = part.strip()
        op = re.match(r"^(<=|>=|<|>|=)?", part).group(0) or "="
        bound = parse_version(part[len(op):].strip() if part[:len(op)] == op else part)
        a, b = order_key(v), order_key(bound)
        if not {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "=": a == b}[op]:
            return False
    return True


def holds_surely(constraint, v):
    """For a version without a patch: every patch of the minor."""
    if v[2] is not None:
        return holds(constraint, v)
    return (holds(constraint, (v[0], v[1], 0, 3, 0)) and
            holds(constraint, (v[0], v[1], 2**31 - 1, 3, 0)))


# --------------------------------------------------------------- lifecycle

class Lifecycle:
    def __init__(self, data_dir):
        load = lambda name: json.load(open(f"{data_dir}/{name}"))
        self.upstream = [(tuple(int(x) for x in m["minor"].split(".")), day(m["end_of_life"]))
                         for m in load("upstream.json")["minors"]]
        self.providers = {}
        for p in load("providers.json")["providers"]:
            for name in p["names"]:
                self.providers[name] = p
        self.cves = load("cves.json")["cves"]
        etcd = load("etcd.json")
        self.etcd_supported = etcd["supported_minors"]
        self.etcd_minors = [(tuple(int(x) for x in m["minor"].split(".")), day(m["released"]))
                            for m in etcd["minors"]]

    def etcd_status(self, version, on):
        """docs/statistics.md "Surfaces": supported while fewer than
        supported_minors newer minors were released by `on`."""
        m = re.match(r"(\d+)\.(\d+)", version or "")
        if not m:
            return "unknown"
        v = (int(m.group(1)), int(m.group(2)))
        released = [minor for minor, when in self.etcd_minors if when <= on]
        if sum(1 for minor in released if minor > v) >= self.etcd_supported:
            return "unsupported"
        return "supported" if v in released else "unknown"

    def upstream_status(self, major, minor, on):
        if major != 1 or minor < 0:
            return UNKNOWN
        newer_ended = any(m > (major, minor) and eol is not None and on > eol
                          for m, eol in self.upstream)
        for m, eol in self.upstream:
            if m == (major, minor):
                if eol is not None:
                    return UNSUPPORTED if on > eol else SUPPORTED
                return UNSUPPORTED if newer_ended else SUPPORTED
        return UNSUPPORTED if newer_ended else UNKNOWN

    @staticmethod
    def revision(row, on, calendar):
        revs = row["revisions"]
        if calendar == "final":
            return revs[-1]
        chosen = revs[0]
        for r in revs:
            if day(r["published"]) <= on:
                chosen = r
        return chosen

    @staticmethod
    def end(rev, view):
        ext = rev.get("end_of_extended_support")
        if view == "extended" and ext:
            return day(ext)
        return day(rev.get("end_of_standard_support"))

    def provider_status(self, provider, major, minor, on, calendar, view):
        p = self.providers.get(provider)
        if p is None:
            return self.upstream_status(major, minor, on)
        if major != 1 or minor < 0:
            return UNKNOWN
        newer_ended = False
        for row in p["minors"]:
            key = tuple(int(x) for x in row["minor"].split("."))
            end = self.end(self.revision(row, on, calendar), view)
            if key == (major, minor):
                return UNSUPPORTED if end is not None and on > end else SUPPORTED
            if key > (major, minor) and end is not None and on > end:
                newer_ended = True
        return UNSUPPORTED if p["older_minor_rule"] and newer_ended else UNKNOWN


def cve_affects(cve, v):
    return any(holds_surely(r["affected"], v) for r in cve["ranges"])


def cve_unauth(cve, v):
    cond = cve.get("unauthenticated_versions")
    return (cve["unauthenticated"] and not cve["feature_gates"] and cve_affects(cve, v)
            and (cond is None or holds_surely(cond, v)))


def cve_headline(cve, v, on):
    disclosed = day(cve["disclosed"])
    return (cve["scope"] == "apiserver" and cve["fix"] == "available" and disclosed is not None
            and disclosed <= on and cve_unauth(cve, v))


# ------------------------------------------------------------------- stats

def share(part, whole):
    return part / whole if whole else None


def bounds(count, unknown, whole):
    return {"count": count, "unknown": unknown, "denominator": whole,
            "excluding_unknown": share(count, whole - unknown),
            "unknown_as_supported": share(count, whole),
            "unknown_as_unsupported": share(count + unknown, whole)}


def statuses(lc, provider, v, on, calendar):
    return [lc.upstream_status(v[0], v[1], on),
            lc.provider_status(provider, v[0], v[1], on, calendar, "standard"),
            lc.provider_status(provider, v[0], v[1], on, calendar, "extended")]


def network_tables(pop):
    prefixes = []
    for line in pop["pfx2as"]:
        addr, length, origin = line.split("\t")
        prefixes.append((ipaddress.ip_network(f"{addr}/{length}"), origin))
    auts, orgs, section = {}, {}, None
    for line in pop["as2org"]:
        if line.startswith("# format:"):
            section = "aut" if line.startswith("# format:aut") else "org"
            continue
        fields = line.split("|")
        if section == "aut":
            auts[int(fields[0])] = fields[3]
        else:
            orgs[fields[0]] = (fields[2], fields[3])
    return prefixes, auts, orgs


def lookup_origin(prefixes, addr):
    best = None
    ip = ipaddress.ip_address(addr)
    for net, origin in prefixes:
        if ip.version == net.version and ip in net and (best is None or net.prefixlen > best[0]):
            best = (net.prefixlen, origin)
    return best[1] if best else None


def top_networks(table, key_name, provider_order):
    rows = sorted(table.items(), key=lambda kv: (-kv[1]["k8s"], kv[0]))[:20]
    out = []
    for key, t in rows:
        row = {key_name: key, "k8s": t["k8s"], "version_public": t["version_public"],
               "unsupported": t["unsupported"],
               "providers": {p: n for p, n in t["providers"].items()}}
        if "country" in t:
            row["country"] = t["country"]
        out.append(row)
    return out


def cluster_groups(pop, estimator):
    """certificate name -> group key under an estimator."""
    groups = {}
    for name, shape in pop["certs"].items():
        if estimator == "certificate":
            groups[name] = "leaf:" + name
        elif estimator == "cluster_name":
            groups[name] = "name:" + shape["name_key"] if shape["name_key"] else "leaf:" + name
        else:
            groups[name] = ("ca:" + shape["ca_key"] if shape["ca_key"] else
                            "name:" + shape["name_key"] if shape["name_key"] else "leaf:" + name)
    return groups


# Versions with an infinitesimal: (order_key, -1 | 0 | +1) is just below,
# at, or just above the version, so a finite set of such points stands for
# every interval between the bounds the CVE ranges name.
def holds_point(constraint, point):
    key, eps = point
    for part in constraint.split(","):
        part = part.strip()
        op = re.match(r"^(<=|>=|<|>|=)?", part).group(0) or "="
        b = (order_key(parse_version(part[len(op):].strip() if part[:len(op)] == op else part)), 0)
        a = (key, eps)
        if not {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "=": a == b}[op]:
            return False
    return True


def points_up_to(readings, bound):
    """Every point at or below bound (None: no bound) that decides
    membership: the lowest version, each bound version and either side of
    it, the bound itself and just below it."""
    keys = {order_key(parse_version(part.strip().lstrip("<>=").strip()))
            for ranges in readings for r in ranges for part in r["affected"].split(",")}
    pts = {((0, 0, 0, 3, 0), 0)} | {(k, e) for k in keys for e in (-1, 0, 1)}
    if bound is not None:
        top = (order_key(bound) if bound[2] is not None else (bound[0], bound[1], 2**31 - 1, 3, 0), 0)
        pts |= {top, (top[0], -1)}
        pts = {p for p in pts if p <= top}
    return [p for p in pts if p >= ((0, 0, 0, 3, 0), 0)]


def node_cve_judgement(cve, bound):
    """(every version <= bound affected, some is), by both fix readings."""
    readings = [cve["ranges"]] + ([cve["other_reading"]["ranges"]] if cve.get("other_reading") else [])
    pts = points_up_to(readings, bound)
    inside = lambda ranges, p: any(holds_point(r["affected"], p) for r in ranges)
    every = all(all(inside(ranges, p) for p in pts) for ranges in readings)
    some = any(any(inside(ranges, p) for p in pts) for ranges in readings)
    return every, some


def kubelet_node_cves(lc, pop, on):
    """docs/statistics.md, "Node CVEs of kubelets": the API server on a
    kubelet's address (the highest version there) bounds it."""
    bound = {}
    for e in pop["endpoints"]:
        v = parse_version(e.get("git_version"))
        if e.get("module", "apiserver") == "apiserver" and e.get("k8s") == "yes" and v:
            if e["addr"] not in bound or order_key(v) > order_key(bound[e["addr"]]):
                bound[e["addr"]] = v
    judged = [c for c in lc.cves if c["scope"] == "node" and c["fix"] == "available"
              and day(c["disclosed"]) is not None and day(c["disclosed"]) <= on]
    o = {"version_bound": 0, "affected": 0, "not_affected": 0, "unknown": 0, "by_cve": {},
         "no_fix": [c["id"] for c in lc.cves if c["scope"] == "node" and c["fix"] != "available"
                    and day(c["disclosed"]) is not None and day(c["disclosed"]) <= on]}
    for e in pop["endpoints"]:
        if e.get("module") != "kubelet":
            continue
        b = bound.get(e["addr"])
        o["version_bound"] += b is not None
        judgements = [(c["id"], node_cve_judgement(c, b)) for c in judged]
        certain = [cid for cid, (every, some) in judgements
                   if every and not next(c for c in judged if c["id"] == cid)["feature_gates"]]
        for cid in certain:
            o["by_cve"][cid] = o["by_cve"].get(cid, 0) + 1
        if certain:
            o["affected"] += 1
        elif not any(some for _, (_, some) in judgements):
            o["not_affected"] += 1
        else:
            o["unknown"] += 1
    return o


def surfaces(lc, pop, on):
    """docs/statistics.md, "Surfaces": every record of the kubelet,
    kubelet-readonly and etcd modules, by finding; etcd versions by minor."""
    kubelet = {"endpoints": 0, "authentication_required": 0, "anonymous_forbidden": 0,
               "anonymous_open": 0}
    readonly = {"endpoints": 0, "open": 0}
    etcd = {"endpoints": 0, "client_cert_required": 0, "no_client_auth": 0, "by_version": {},
            "unsupported": 0, "unsupported_unknown": 0}
    for e in pop["endpoints"]:
        module, finding = e.get("module", "apiserver"), e.get("finding")
        if module == "kubelet":
            kubelet["endpoints"] += 1
            if finding:
                kubelet[finding.replace("-", "_")] += 1
        elif module == "kubelet-readonly":
            readonly["endpoints"] += 1
            readonly["open"] += finding == "open"
        elif module == "etcd":
            etcd["endpoints"] += 1
            etcd["client_cert_required"] += finding == "client-cert-required"
            if finding == "no-client-auth":
                etcd["no_client_auth"] += 1
                m = re.match(r"(\d+)\.(\d+)", e.get("etcd_server") or "")
                key = "%d.%d" % (int(m.group(1)), int(m.group(2))) if m else "other"
                etcd["by_version"][key] = etcd["by_version"].get(key, 0) + 1
                status = lc.etcd_status(e.get("etcd_server"), on)
                etcd["unsupported"] += status == "unsupported"
                etcd["unsupported_unknown"] += status == "unknown"
    kubelet["cves_node"] = kubelet_node_cves(lc, pop, on)
    return {"kubelet": kubelet, "kubelet_readonly": readonly, "etcd": etcd}


def compute(lc, pop, as_of, calendar):
    on = day(as_of)
    prefixes, auts, orgs = network_tables(pop)
    o = {"as_of": as_of, "calendar": calendar, "syn_open": 0, "tls": 0, "k8s": 0,
         "k8s_by_cert": 0, "kubelets": 0, "version_public": 0, "corrupt_records": 0,
         "k8s_without_cert": 0, "k8s_no_network": 0, "k8s_no_owner": 0,
         "all_ports_open": 0, "all_ports_open_excluded": 0,
         "auth": {"public": 0, "unauthorized_401": 0, "forbidden_403": 0}}
    counts = {v: 0 for v in VIEWS}
    unknowns = {v: 0 for v in VIEWS}
    providers, minors = {}, {}
    cve_hits, cve_unauth_hits, cve_headline_hits, cve_other_hits = {}, {}, {}, {}
    cluster_members = []   # (certificate name or None, statuses or None)
    networks, owners = {}, {}
    provider_order = []
    o["surfaces"] = surfaces(lc, pop, on)
    # by_family: the headline counts of each address family, tallied apart
    families = {f: {"syn_open": 0, "tls": 0, "k8s": 0, "k8s_by_cert": 0, "kubelets": 0,
                    "version_public": 0, "counts": {v: 0 for v in VIEWS},
                    "unknowns": {v: 0 for v in VIEWS}} for f in ("ipv4", "ipv6")}
    for e in pop["endpoints"]:
        if e.get("module", "apiserver") != "apiserver":
            continue  # docs/statistics.md: surfaces, not API-server figures
        fam = families["ipv%d" % ipaddress.ip_address(e["addr"]).version]
        o["syn_open"] += 1
        fam["syn_open"] += 1
        o["tls"] += bool(e.get("tls"))
        fam["tls"] += bool(e.get("tls"))
        if e.get("k8s") == "kubelet":
            o["kubelets"] += 1
            fam["kubelets"] += 1
        if e.get("all_ports_open"):
            # docs/statistics.md: such a host is an API server only by
            # evidence from the endpoint itself
            o["all_ports_open"] += 1
            if e.get("k8s") == "yes" and not {"cert-marker", "version-info"} & set(e.get("evidence", [])):
                o["all_ports_open_excluded"] += 1
                continue
        if e.get("k8s") != "yes":
            continue
        o["k8s"] += 1
        o["k8s_by_cert"] += "cert-marker" in e.get("evidence", [])
        fam["k8s"] += 1
        fam["k8s_by_cert"] += "cert-marker" in e.get("evidence", [])
        status = e.get("http_status", 0)
        key = {200: "public", 401: "unauthorized_401", 403: "forbidden_403"}.get(status)
        if key:
            o["auth"][key] += 1
        if not e.get("cert"):
            o["k8s_without_cert"] += 1
        name = e.get("provider") or "unknown"
        if name not in providers:
            provider_order.append(name)
            providers[name] = {"hosts": 0, "version_public": 0,
                               **{v: 0 for v in VIEWS}, **{u: 0 for u in UNKNOWN_KEYS}}
        p = providers[name]
        p["hosts"] += 1
        origin = lookup_origin(prefixes, e["addr"])
        net = owner = None
        if origin is None:
            o["k8s_no_network"] += 1
            o["k8s_no_owner"] += 1
        else:
            net = networks.setdefault(origin, {"k8s": 0, "version_public": 0, "unsupported": 0,
                                               "providers": {}})
            asn = int(re.match(r"\d+", origin).group(0))
            if asn in auts:
                org_name, country = orgs[auts[asn]]
                owner = owners.setdefault(org_name, {"k8s": 0, "version_public": 0,
                                                     "unsupported": 0, "providers": {},
                                                     "country": country})
            else:
                o["k8s_no_owner"] += 1
        for t in (net, owner):
            if t is not None:
                t["k8s"] += 1
                t["providers"][name] = t["providers"].get(name, 0) + 1
        v = parse_version(e.get("git_version"))
        st = None
        if v is not None:
            st = statuses(lc, e.get("provider"), v, on, calendar)
            o["version_public"] += 1
            p["version_public"] += 1
            fam["version_public"] += 1
            for i, view in enumerate(VIEWS):
                counts[view] += st[i] == UNSUPPORTED
                unknowns[view] += st[i] == UNKNOWN
                fam["counts"][view] += st[i] == UNSUPPORTED
                fam["unknowns"][view] += st[i] == UNKNOWN
                p[view] += st[i] == UNSUPPORTED
                p[UNKNOWN_KEYS[i]] += st[i] == UNKNOWN
            minor_key = f"{v[0]}.{v[1]}"
            minors[minor_key] = minors.get(minor_key, 0) + 1
            for cve in lc.cves:
                if cve_affects(cve, v):
                    cve_hits[cve["id"]] = cve_hits.get(cve["id"], 0) + 1
                if any(holds_surely(r["affected"], v)
                       for r in (cve.get("other_reading") or {}).get("ranges", [])):
                    cve_other_hits[cve["id"]] = cve_other_hits.get(cve["id"], 0) + 1
                if cve_unauth(cve, v):
                    cve_unauth_hits[cve["id"]] = cve_unauth_hits.get(cve["id"], 0) + 1
                if cve_headline(cve, v, on):
                    cve_headline_hits[cve["id"]] = cve_headline_hits.get(cve["id"], 0) + 1
            for t in (net, owner):
                if t is not None:
                    t["version_public"] += 1
                    t["unsupported"] += st[0] == UNSUPPORTED
        cluster_members.append((e.get("cert"), st))

    for i, view in enumerate(VIEWS):
        o[view] = counts[view]
        o[view + "_share"] = share(counts[view], o["version_public"])
        o[UNKNOWN_KEYS[i]] = unknowns[view]
    shares = {v: bounds(counts[v], unknowns[v], o["version_public"]) for v in VIEWS}
    o["by_family"] = {}
    for name, f in families.items():
        fo = {k: f[k] for k in ("syn_open", "tls", "k8s", "k8s_by_cert", "kubelets",
                                "version_public")}
        for i, view in enumerate(VIEWS):
            fo[view] = f["counts"][view]
            fo[view + "_share"] = share(f["counts"][view], f["version_public"])
            fo[UNKNOWN_KEYS[i]] = f["unknowns"][view]
        fo["shares"] = {v: bounds(f["counts"][v], f["unknowns"][v], f["version_public"])
                        for v in VIEWS}
        o["by_family"][name] = fo

    estimates = {}
    for est in ESTIMATORS:
        groups = cluster_groups(pop, est)
        members = {}
        singles = 0
        for index, (cert, st) in enumerate(cluster_members):
            key = groups[cert] if cert else f"endpoint:{index}"
            members.setdefault(key, []).append(st)
        fig = {"clusters": len(members), "version_public": 0}
        un = [0, 0, 0]
        kn = [0, 0, 0]
        for sts in members.values():
            sts = [s for s in sts if s is not None]
            if not sts:
                continue
            fig["version_public"] += 1
            for i in range(3):
                if any(s[i] == UNSUPPORTED for s in sts):
                    un[i] += 1
                elif any(s[i] == UNKNOWN for s in sts):
                    kn[i] += 1
        for i, view in enumerate(VIEWS):
            fig[view] = bounds(un[i], kn[i], fig["version_public"])
        estimates[est] = fig
        del singles
    leaf = estimates["certificate"]
    o["clusters"] = leaf["clusters"]
    o["clusters_version_public"] = leaf["version_public"]
    for view in VIEWS:
        o["clusters_" + view] = leaf[view]["count"]
        o["clusters_" + view + "_share"] = share(leaf[view]["count"], leaf["version_public"])
        shares["clusters_" + view] = leaf[view]
    o["clusters_estimator"] = "certificate"
    o["clusters_resolved"] = True
    o["cluster_estimates"] = estimates
    o["shares"] = shares

    for name, p in providers.items():
        p["shares"] = {v: bounds(p[v], p[UNKNOWN_KEYS[i]], p["version_public"])
                       for i, v in enumerate(VIEWS)}
    o["by_provider"] = providers
    o["by_minor"] = minors
    o["cves"] = cve_headline_hits
    def public(c):
        disclosed = day(c["disclosed"])
        return disclosed is not None and disclosed <= on
    o["cves_no_fix"] = {c["id"]: cve_hits[c["id"]] for c in lc.cves
                        if c["fix"] == "none" and c["scope"] == "apiserver"
                        and public(c) and c["id"] in cve_hits}
    o["cves_node"] = {c["id"]: cve_hits[c["id"]] for c in lc.cves
                      if c["scope"] == "node" and public(c) and c["id"] in cve_hits}
    o["cves_all"] = {}
    for c in lc.cves:
        if c["id"] not in cve_hits:
            continue
        disclosed = day(c["disclosed"])
        o["cves_all"][c["id"]] = {
            "endpoints": cve_hits[c["id"]],
            "unauthenticated_endpoints": cve_unauth_hits.get(c["id"], 0),
            "scope": c["scope"], "fix": c["fix"] == "available",
            "unauthenticated": c["unauthenticated"], "feature_gates": len(c["feature_gates"]),
            "disclosed": c["disclosed"],
            "disclosed_by_as_of": disclosed is not None and disclosed <= on,
            "headline": c["id"] in cve_headline_hits}
        if c.get("other_reading"):
            o["cves_all"][c["id"]]["other_reading_endpoints"] = cve_other_hits.get(c["id"], 0)
    o["networks"] = top_networks(networks, "as", provider_order)
    o["network_owners"] = top_networks(owners, "owner", provider_order)
    return o


def differences(got, want, path=""):
    if isinstance(want, dict) and isinstance(got, dict):
        out = []
        for key in sorted(set(want) | set(got)):
            if key not in got:
                out.append(f"{path}.{key}: missing (want {want[key]!r})")
            elif key not in want:
                out.append(f"{path}.{key}: not expected (got {got[key]!r})")
            else:
                out.extend(differences(got[key], want[key], f"{path}.{key}"))
        return out
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return [f"{path}: {len(got)} items, want {len(want)}"]
        return [d for i, (g, w) in enumerate(zip(got, want))
                for d in differences(g, w, f"{path}[{i}]")]
    if isinstance(want, float) or isinstance(got, float):
        if want is None or got is None or abs(got - want) > 1e-9:
            return [f"{path}: got {got!r}, want {want!r}"]
        return []
    return [] if got == want and type(got) == type(want) else [f"{path}: got {got!r}, want {want!r}"]


def main():
    driver, data_dir, population = sys.argv[1:4]
    lc = Lifecycle(data_dir)
    pop = json.load(open(population))
    failed = 0
    for calendar in CALENDARS:
        for as_of in DATES:
            want = compute(lc, pop, as_of, calendar)
            run = subprocess.run([driver, population, as_of, calendar, data_dir],
                                 capture_output=True, text=True)
            if run.returncode != 0:
                print(f"{as_of} {calendar}: driver failed: {run.stderr}")
                failed += 1
                continue
            diff = differences(json.loads(run.stdout), want)
            headline = want["shares"]["provider_unsupported"]
            print(f"{as_of} {calendar}: {len(diff)} differences; provider_unsupported "
                  f"{headline['count']} of {headline['denominator']} (unknown "
                  f"{headline['unknown']}), cves {sorted(want['cves'])}")
            for d in diff:
                print("   ", d)
            failed += bool(diff)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
