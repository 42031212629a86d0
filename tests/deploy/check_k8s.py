"""check_k8s.py - validate Kubernetes manifests against the API's models.

    /usr/bin/python3 check_k8s.py FILE...

Every YAML document of every FILE must be an object of a kind the
Kubernetes API serves for its apiVersion, and every field, at every depth,
must be one of the model's fields with the model's type; fields the API
requires must be present. The models are those of Debian's
python3-kubernetes (the client generated from the Kubernetes OpenAPI
specification, 22.6.0 = Kubernetes 1.22), not a live API server: admission
rules and cross-field rules a server applies (e.g. Indexed Jobs need
completions) are not checked here. Prints one line per problem; exit 1 if
there are any, 2 on bad usage.
"""
import re
import sys

import yaml
import kubernetes.client as client

SCALARS = {"str": str, "int": int, "bool": bool, "float": (int, float)}


def model_class(api_version, kind):
    """The model of apiVersion/kind, or an error text."""
    group, _, version = api_version.rpartition("/")
    cls = getattr(client, version.capitalize() + kind, None)
    if cls is None:
        return None, f"no model {version.capitalize()}{kind} for {api_version} {kind}"
    # The kind must be served by that group and version: its API class
    # (BatchV1Api for batch/v1, CoreV1Api for v1) can create it.
    api_name = "".join(p.capitalize() for p in re.split(r"[.-]", group.split(".")[0] or "core"))
    api = getattr(client, f"{api_name}{version.capitalize()}Api", None)
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()
    if api is None or not any(hasattr(api, f"create_{ns}{snake}") for ns in ("namespaced_", "")):
        return None, f"{api_version} serves no kind {kind}"
    return cls, None


def required_fields(cls):
    """JSON names of the fields whose setter refuses None."""
    obj = cls.__new__(cls)
    obj.local_vars_configuration = client.Configuration()
    out = set()
    for attr, json_name in cls.attribute_map.items():
        try:
            getattr(cls, attr).fset(obj, None)
        except ValueError:
            out.add(json_name)
    return out


def check(value, type_name, path, problems):
    if type_name == "object":
        return
    m = re.fullmatch(r"list\[(.+)\]", type_name)
    if m:
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list ({type_name}), got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            check(item, m.group(1), f"{path}[{i}]", problems)
        return
    m = re.fullmatch(r"dict\(str, (.+)\)", type_name)
    if m:
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a map ({type_name}), got {type(value).__name__}")
            return
        for k, v in value.items():
            if not isinstance(k, str):
                problems.append(f"{path}: key {k!r} is not a string")
            check(v, m.group(1), f"{path}.{k}", problems)
        return
    if type_name in SCALARS:
        ok = isinstance(value, SCALARS[type_name]) and not (
            type_name != "bool" and isinstance(value, bool))
        if not ok:
            problems.append(f"{path}: expected {type_name}, got {type(value).__name__} {value!r}")
        return
    if type_name in ("datetime", "date"):
        if not isinstance(value, str):
            problems.append(f"{path}: expected a {type_name} string")
        return
    cls = getattr(client, type_name, None)
    if cls is None:
        problems.append(f"{path}: unknown model type {type_name}")
        return
    if not isinstance(value, dict):
        problems.append(f"{path}: expected an object ({type_name}), got {type(value).__name__}")
        return
    by_json = {j: a for a, j in cls.attribute_map.items()}
    for key, v in value.items():
        if key not in by_json:
            problems.append(f"{path}.{key}: unknown field of {type_name}")
            continue
        check(v, cls.openapi_types[by_json[key]], f"{path}.{key}", problems)
    for key in sorted(required_fields(cls) - set(value)):
        problems.append(f"{path}.{key}: required field of {type_name} is missing")


def main(files):
    problems = []
    for name in files:
        with open(name) as f:
            try:
                docs = [d for d in yaml.safe_load_all(f) if d is not None]
            except yaml.YAMLError as e:
                problems.append(f"{name}: not YAML: {e}")
                continue
        if not docs:
            problems.append(f"{name}: no document")
        for n, doc in enumerate(docs):
            where = f"{name}[{n}]"
            if not isinstance(doc, dict) or not isinstance(doc.get("apiVersion"), str) \
                    or not isinstance(doc.get("kind"), str):
                problems.append(f"{where}: needs apiVersion and kind")
                continue
            cls, err = model_class(doc["apiVersion"], doc["kind"])
            if err:
                problems.append(f"{where}: {err}")
                continue
            check(doc, cls.__name__, f"{where} {doc['kind']}", problems)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
