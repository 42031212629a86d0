#!/usr/bin/env bash
# deploy/kubernetes, validated without a cluster:
#   - every manifest passes check_k8s.py: each field, at every depth, is a
#     field of the Kubernetes API model with its type, required fields are
#     there, the kind is served by its apiVersion (models of Debian's
#     python3-kubernetes 22.6.0, i.e. the Kubernetes 1.22 API);
#   - the checker refuses a misspelt field, a wrong type, a missing required
#     field and a kind its apiVersion does not serve, naming the field;
#   - the survey Job is what docs/distributed.md says: Indexed, completions =
#     parallelism = the shard count given to run-shard.sh, host network,
#     CAP_NET_RAW and no other capability, one pod per node, the results
#     directory on the volume; the merge Job runs merge-shards.sh on the
#     same directory of the same claim.
# Skipped (77) without python3-kubernetes (tests/run-all.sh installs it).
#   test_kubernetes.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
TEST_NAME=deploy_kubernetes
k8s=$here/../../deploy/kubernetes
py=/usr/bin/python3   # Debian's python, where python3-kubernetes lives
"$py" -c 'import kubernetes.client, yaml' 2>/dev/null || skip "python3-kubernetes is not installed"
WORK=$(mktemp -d /tmp/ks-deploy-k8s.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

out=$("$py" "$here/check_k8s.py" "$k8s"/*.yaml) || fail "deploy/kubernetes does not validate: $out"
note "$(ls "$k8s"/*.yaml | wc -l) manifests valid against the Kubernetes 1.22 API models"

# The checker can fail: each broken copy is refused with the field named.
refused() { # SED-EXPRESSION EXPECTED-TEXT
    sed "$1" "$k8s/indexed-job.yaml" >"$WORK/broken.yaml"
    cmp -s "$k8s/indexed-job.yaml" "$WORK/broken.yaml" && fail "sed '$1' changed nothing"
    local msg rc=0
    msg=$("$py" "$here/check_k8s.py" "$WORK/broken.yaml") || rc=$?
    [[ $rc == 1 ]] || fail "sed '$1': checker exit status $rc, expected 1"
    grep -qF -- "$2" <<<"$msg" || fail "sed '$1': message does not say '$2': $msg"
}
refused 's/completionMode:/completionMod:/' 'Job.spec.completionMod: unknown field of V1JobSpec'
refused 's/parallelism: 8/parallelism: "8"/' "Job.spec.parallelism: expected int, got str '8'"
refused 's/- name: scan/- nam: scan/' 'spec.containers[0].name: required field of V1Container is missing'
refused 's/hostNetwork: true/hostNetwork: "true"/' 'hostNetwork: expected bool'
refused 's|apiVersion: batch/v1|apiVersion: v1|' 'v1 serves no kind Job'
refused 's/^      hostNetwork/     hostNetwork/' 'not YAML'
note "broken copies refused, naming the field"

# What the templates promise (docs/distributed.md, "Kubernetes").
"$py" - "$k8s/indexed-job.yaml" "$k8s/merge-job.yaml" <<'PY' || fail "the manifests do not do what docs/distributed.md says"
import sys, yaml
scan, merge = (yaml.safe_load(open(f)) for f in sys.argv[1:3])
problems = []
def want(cond, what):
    if not cond:
        problems.append(what)
spec = scan["spec"]; pod = spec["template"]["spec"]; c = pod["containers"][0]
cmd = c["command"]
want(cmd[0].endswith("/deploy/run-shard.sh"), "the scan container runs run-shard.sh")
shards, outdir = int(cmd[1]), cmd[3]
want(spec.get("completionMode") == "Indexed", "completionMode is Indexed (the index is the shard)")
want(spec.get("completions") == shards, f"completions = {shards}, the shard count of run-shard.sh")
want(spec.get("parallelism") == shards, f"parallelism = {shards}")
want(pod.get("hostNetwork") is True, "hostNetwork: true")
caps = c.get("securityContext", {}).get("capabilities", {})
want(caps.get("add") == ["NET_RAW"], f"capabilities add exactly NET_RAW, not {caps.get('add')}")
want(pod.get("restartPolicy") == "OnFailure", "restartPolicy OnFailure (a restart resumes)")
anti = pod.get("affinity", {}).get("podAntiAffinity", {}).get("requiredDuringSchedulingIgnoredDuringExecution", [])
labels = spec["template"].get("metadata", {}).get("labels", {})
want(any(t.get("topologyKey") == "kubernetes.io/hostname" and
         t.get("labelSelector", {}).get("matchLabels", {}).items() <= labels.items() and
         t.get("labelSelector", {}).get("matchLabels") for t in anti),
     "a required pod anti-affinity on kubernetes.io/hostname selecting the Job's own pods")
def claim_at(p, cont, path):
    vols = {v["name"]: v.get("persistentVolumeClaim", {}).get("claimName") for v in p.get("volumes", [])}
    return [vols.get(m["name"]) for m in cont.get("volumeMounts", []) if m["mountPath"] == path]
claim = claim_at(pod, c, outdir)
want(len(claim) == 1 and claim[0], f"{outdir} is a mounted volume claim")
mpod = merge["spec"]["template"]["spec"]; mc = mpod["containers"][0]
want(mc["command"][0].endswith("/deploy/merge-shards.sh") and mc["command"][1] == outdir,
     f"the merge Job runs merge-shards.sh {outdir}")
want(claim_at(mpod, mc, outdir) == claim, "the merge Job mounts the same claim at the same path")
want(mc["image"] == c["image"], "the merge Job uses the scan Job's image")
for p in problems:
    print("deploy_kubernetes: FAIL:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
note "the Jobs do what docs/distributed.md says"
note PASS
