/*
 * test_classify.c - version parser, provider from version, certificate
 * markers, and the whole classification of a probe_result, over real
 * version strings (k8s-facts.md §1.4, §9) and certificates of every style
 * (made here with OpenSSL), JSON bodies of every shape, and the JSON record.
 */
#include "probes/probes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "make_cert.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------ version strings */

struct version_case {
    const char *git_version;
    int major, minor, patch;
    const char *suffix;
    const char *provider;
};

/* Every format of k8s-facts.md §1.4 and §9, plus the fallback build. */
static const struct version_case versions[] = {
    /* upstream, kubeadm, kind, minikube, AKS, DOKS, OKE, Talos ... */
    {"v1.21.1", 1, 21, 1, "", "upstream"},
    {"v1.33.1", 1, 33, 1, "", "upstream"},
    {"v1.32.3", 1, 32, 3, "", "upstream"},
    {"v1.8.7", 1, 8, 7, "", "upstream"},
    {"v1.5.3", 1, 5, 3, "", "upstream"},
    {"v1.21.2", 1, 21, 2, "", "upstream"},
    {"v1.21.5", 1, 21, 5, "", "upstream"},
    {"v1.32.12", 1, 32, 12, "", "upstream"},
    {"v1.30.0-rc.1", 1, 30, 0, "-rc.1", "upstream"},
    {"v1.31.0-alpha.3", 1, 31, 0, "-alpha.3", "upstream"},
    {"v1.29.0-beta.0", 1, 29, 0, "-beta.0", "upstream"},
    /* EKS 2019-2021: 6 hex; 2022+: 7 hex */
    {"v1.18.9-eks-d1db3c", 1, 18, 9, "-eks-d1db3c", "eks"},
    {"v1.19.6-eks-49a6c0", 1, 19, 6, "-eks-49a6c0", "eks"},
    {"v1.20.4-eks-6b7464", 1, 20, 4, "-eks-6b7464", "eks"},
    {"v1.20.15-eks-14c7a48", 1, 20, 15, "-eks-14c7a48", "eks"},
    {"v1.21.12-eks-a64ea69", 1, 21, 12, "-eks-a64ea69", "eks"},
    {"v1.22.10-eks-84b4fe6", 1, 22, 10, "-eks-84b4fe6", "eks"},
    {"v1.23.7-eks-4721010", 1, 23, 7, "-eks-4721010", "eks"},
    {"v1.24.10-eks-48e63af", 1, 24, 10, "-eks-48e63af", "eks"},
    {"v1.24.17-eks-2d5f260", 1, 24, 17, "-eks-2d5f260", "eks"},
    {"v1.25.14-eks-fd9b4c5", 1, 25, 14, "-eks-fd9b4c5", "eks"},
    {"v1.21.5-eks-bc4871b", 1, 21, 5, "-eks-bc4871b", "eks"},
    /* GKE */
    {"v1.21.1-gke.2200", 1, 21, 1, "-gke.2200", "gke"},
    {"v1.20.9-gke.1001", 1, 20, 9, "-gke.1001", "gke"},
    {"v1.21.5-gke.1302", 1, 21, 5, "-gke.1302", "gke"},
    {"v1.28.5-gke.1200", 1, 28, 5, "-gke.1200", "gke"},
    {"v1.29.5-gke.1091000", 1, 29, 5, "-gke.1091000", "gke"},
    /* Alibaba ACK */
    {"v1.12.6-aliyun.1", 1, 12, 6, "-aliyun.1", "ack"},
    {"v1.14.6-aliyun.1", 1, 14, 6, "-aliyun.1", "ack"},
    {"v1.16.9-aliyun.1", 1, 16, 9, "-aliyun.1", "ack"},
    {"v1.22.10-aliyun.1", 1, 22, 10, "-aliyun.1", "ack"},
    {"v1.24.6-aliyun.1", 1, 24, 6, "-aliyun.1", "ack"},
    /* Tencent TKE */
    {"v1.14.3-tke.4", 1, 14, 3, "-tke.4", "tke"},
    {"v1.18.4-tke.6", 1, 18, 4, "-tke.6", "tke"},
    {"v1.20.6-tke.15", 1, 20, 6, "-tke.15", "tke"},
    {"v1.22.5-tke.9", 1, 22, 5, "-tke.9", "tke"},
    /* Huawei CCE, every product style */
    {"v1.21.4-r0-CCE21.11.1.B001", 1, 21, 4, "-r0-CCE21.11.1.B001", "cce"},
    {"v1.11.3-r0-CCE2.0.15.B003", 1, 11, 3, "-r0-CCE2.0.15.B003", "cce"},
    {"v1.9.2-CCE2.0.8-B003", 1, 9, 2, "-CCE2.0.8-B003", "cce"},
    {"v1.7.3-cce2.10", 1, 7, 3, "-cce2.10", "cce"},
    /* IBM IKS */
    {"v1.11.6+IKS", 1, 11, 6, "+IKS", "iks"},
    {"v1.13.5+IKS", 1, 13, 5, "+IKS", "iks"},
    {"v1.16.10+IKS", 1, 16, 10, "+IKS", "iks"},
    {"v1.23.12+IKS", 1, 23, 12, "+IKS", "iks"},
    /* OpenShift 3.11 and 4.x */
    {"v1.11.0+d4cacc0", 1, 11, 0, "+d4cacc0", "openshift"},
    {"v1.20.0+bafe72f", 1, 20, 0, "+bafe72f", "openshift"},
    {"v1.20.0+558d959", 1, 20, 0, "+558d959", "openshift"},
    {"v1.20.0+75370d3", 1, 20, 0, "+75370d3", "openshift"},
    {"v1.20.0+df9c838", 1, 20, 0, "+df9c838", "openshift"},
    {"v1.20.0+9689d22", 1, 20, 0, "+9689d22", "openshift"},
    {"v1.20.0+87cc9a4", 1, 20, 0, "+87cc9a4", "openshift"},
    {"v1.20.0+2817867", 1, 20, 0, "+2817867", "openshift"},
    {"v1.22.8+f34b40c", 1, 22, 8, "+f34b40c", "openshift"},
    /* k3s, RKE2, k0s, VMware */
    {"v1.18.4+k3s1", 1, 18, 4, "+k3s1", "k3s"},
    {"v1.21.1+k3s1", 1, 21, 1, "+k3s1", "k3s"},
    {"v1.23.8+k3s1", 1, 23, 8, "+k3s1", "k3s"},
    {"v1.29.6+k3s1", 1, 29, 6, "+k3s1", "k3s"},
    {"v1.34.1+k3s1", 1, 34, 1, "+k3s1", "k3s"},
    {"v1.19.7+rke2r1", 1, 19, 7, "+rke2r1", "rke2"},
    {"v1.31.9+rke2r1", 1, 31, 9, "+rke2r1", "rke2"},
    {"v1.34.2+k0s", 1, 34, 2, "+k0s", "k0s"},
    {"v1.29.5+k0s.1", 1, 29, 5, "+k0s.1", "k0s"},
    {"v1.16.14+vmware.1", 1, 16, 14, "+vmware.1", "vmware"},
    {"v1.17.4+vmware.1", 1, 17, 4, "+vmware.1", "vmware"},
    {"v1.21.2+vmware.1", 1, 21, 2, "+vmware.1", "vmware"},
    {"v1.24.10+vmware.1", 1, 24, 10, "+vmware.1", "vmware"},
    /* git describe: MicroK8s; the EKS pre-GA conformance build has the same
     * shape (documented ambiguity) */
    {"v1.20.5-34+40f5951bd9888a", 1, 20, 5, "-34+40f5951bd9888a", "microk8s"},
    {"v1.21.1-12+8e423b6625fc64", 1, 21, 1, "-12+8e423b6625fc64", "microk8s"},
    /* unknown suffixes, dev builds (Baidu CCM), the unstamped fallback */
    {"v1.0.11-167+3f240d4c97126d-dirty", 1, 0, 11, "-167+3f240d4c97126d-dirty", "other"},
    {"v0.0.0-master+$Format:%H$", 0, 0, 0, "-master+$Format:%H$", "other"},
    {"v1.10.1-rancher1", 1, 10, 1, "-rancher1", "other"},
    /* no patch number */
    {"v1.9", 1, 9, -1, "", "upstream"},
    {"v1.9-gke.3", 1, 9, -1, "-gke.3", "gke"},
};

static void test_version_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        const struct version_case *c = &versions[i];
        struct k8s_version v;
        print_message("%s\n", c->git_version);
        assert_int_equal(k8s_version_parse(c->git_version, &v), 0);
        assert_int_equal(v.major, c->major);
        assert_int_equal(v.minor, c->minor);
        assert_int_equal(v.patch, c->patch);
        assert_string_equal(v.suffix, c->suffix);
        assert_string_equal(k8s_provider_from_version(c->git_version), c->provider);
    }
}

static void test_version_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "v", "1.21.5", "v1", "v1.", "v.21.5", "vx.y.z", "v1.21.5abc", "V1.21.5",
        "v1.2a", "v12345678901.1.1", "v1.12345678901", "garbage", " v1.21.5", "v-1.2.3",
        "v1.21.5\n",
    };
    struct k8s_version v;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        print_message("'%s'\n", bad[i]);
        assert_int_equal(k8s_version_parse(bad[i], &v), -1);
        assert_null(k8s_provider_from_version(bad[i]));
    }
    assert_int_equal(k8s_version_parse(NULL, &v), -1);
    /* trailing dot without patch: "v1.21." parses as 1.21 with suffix "." ?
     * No: the suffix must start with '-' or '+'. */
    assert_int_equal(k8s_version_parse("v1.21.", &v), -1);
}

/* ---------------------------------------------------------- certificates */



struct cert_case {
    const char *what, *subject, *issuer, *sans;
    bool marker;
    const char *provider; /* NULL = none */
};

static const struct cert_case certs[] = {
    {"kubeadm apiserver", "CN=kube-apiserver", "CN=kubernetes",
     "DNS:master-1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,"
     "DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1,IP:192.168.1.10",
     true, NULL},
    {"kubeadm, SANs only", "CN=apiserver", "CN=my-ca", "DNS:kubernetes.default.svc", true, NULL},
    /* issuer CN "kubernetes" alone is no longer a marker: the cluster CA
     * signs kubelet, webhook and service certificates too (corpus test) */
    {"kubeadm CA issuer only", "CN=node1", "CN=kubernetes", NULL, false, NULL},
    {"k3s", "O=k3s/CN=k3s", "CN=k3s-server-ca@1700000000",
     "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc.cluster.local,"
     "DNS:localhost,IP:10.43.0.1,IP:127.0.0.1",
     true, "k3s"},
    {"k3s issuer only", "CN=node", "CN=k3s-server-ca@1600000000", NULL, true, "k3s"},
    {"rke2", "O=rke2/CN=rke2", "CN=rke2-server-ca@1700000000",
     "DNS:kubernetes,DNS:kubernetes.default,IP:10.43.0.1", true, "rke2"},
    {"openshift 4", "CN=api.prod.example.com", "OU=openshift/CN=kube-apiserver-lb-signer",
     "DNS:api.prod.example.com", true, "openshift"},
    {"openshift, OU only", "CN=api.c1.example.org", "OU=openshift/CN=something",
     "DNS:api.c1.example.org", true, "openshift"},
    {"minikube", "O=system:masters/CN=minikube", "CN=minikubeCA",
     "DNS:minikubeCA,DNS:control-plane.minikube.internal,DNS:kubernetes.default.svc.cluster.local,"
     "DNS:kubernetes,DNS:localhost,IP:192.168.49.2,IP:10.96.0.1",
     true, "minikube"},
    {"docker desktop", "CN=kube-apiserver", "CN=kubernetes",
     "DNS:docker-for-desktop,DNS:kubernetes.docker.internal,DNS:vm.docker.internal,"
     "DNS:kubernetes,DNS:localhost,IP:10.96.0.1",
     true, "docker-desktop"},
    {"eks", "CN=kube-apiserver", "CN=kubernetes",
     "DNS:0123456789ABCDEF0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com,"
     "DNS:ip-172-16-1-1.ec2.internal,DNS:kubernetes,DNS:kubernetes.default,IP:10.100.0.1",
     true, "eks"},
    {"eks, SAN only", "CN=whatever", "CN=ca", "DNS:ABCDEF.yl4.eu-west-1.eks.amazonaws.com",
     true, "eks"},
    {"aks", "CN=apiserver", "CN=ca",
     "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,"
     "DNS:myaks-dns-1a2b3c4d.hcp.eastus.azmk8s.io,IP:10.0.0.1",
     true, "aks"},
    {"aks private", "CN=apiserver", "CN=ca", "DNS:myaks-1234abcd.privatelink.westeurope.azmk8s.io",
     true, "aks"},
    {"gke DNS endpoint", "CN=apiserver", "CN=ca",
     "DNS:gke-0123456789abcdef0123456789abcdef-123456789012.us-central1.gke.goog,DNS:kubernetes",
     true, "gke"},
    {"gke per-cluster CA", "CN=35.1.2.3", "CN=9d3c7a5e-1b2c-4d5e-8f90-123456789abc",
     "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:34.1.2.3,IP:10.0.0.1",
     true, "gke"},
    {"uuid CA without marker", "CN=shop.example.com", "CN=9d3c7a5e-1b2c-4d5e-8f90-123456789abc",
     "DNS:shop.example.com", false, NULL},
    {"ordinary website", "CN=www.example.com", "O=Let's Encrypt/CN=R3",
     "DNS:www.example.com,DNS:example.com", false, NULL},
    {"rancher dynamiclistener (not an apiserver)", "O=dynamic/CN=dynamic",
     "O=dynamiclistener-org/CN=dynamiclistener-ca@1700000000", "DNS:rancher.example.com",
     false, NULL},
    {"self-signed localhost", "CN=localhost", "CN=localhost", "DNS:localhost", false, NULL},
    {"kubernetes as a word inside a name", "CN=kubernetes-docs.example.com", "CN=R3",
     "DNS:kubernetes-docs.example.com", false, NULL},
};

static void test_cert_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++) {
        const struct cert_case *c = &certs[i];
        print_message("%s\n", c->what);
        size_t len;
        uint8_t *der = make_cert(test_key, c->subject, c->issuer, c->sans, &len);
        struct k8s_cert_facts facts;
        assert_int_equal(k8s_cert_inspect(der, len, &facts), 0);
        assert_int_equal(facts.marker, c->marker);
        if (c->provider)
            assert_string_equal(facts.provider, c->provider);
        else
            assert_null(facts.provider);
        free(der);
    }
}

static void test_cert_garbage(void **state)
{
    (void)state;
    struct k8s_cert_facts facts;
    static const uint8_t junk[] = {0x30, 0x82, 0xff, 0xff, 0x01, 0x02};
    assert_int_equal(k8s_cert_inspect(junk, sizeof(junk), &facts), -1);
    assert_int_equal(k8s_cert_inspect(junk, 0, &facts), -1);
}

/* ------------------------------------------------- whole classification */

static void set_body(struct probe_result *r, int status, const char *body)
{
    r->http_status = status;
    r->body_length = strlen(body);
    r->body = (uint8_t *)strdup(body);
}

static void set_leaf(struct probe_result *r, const char *subject, const char *issuer,
                     const char *sans)
{
    r->chain[0].der = make_cert(test_key, subject, issuer, sans, &r->chain[0].length);
    r->chain_length = 1;
}

static const char upstream_132[] =
    "{\n  \"major\": \"1\",\n  \"minor\": \"32\",\n  \"gitVersion\": \"v1.32.3\",\n"
    "  \"gitCommit\": \"32cc146f75aad04beaaa245a7157eb35063a9f99\",\n"
    "  \"gitTreeState\": \"clean\",\n  \"buildDate\": \"2025-03-11T19:52:21Z\",\n"
    "  \"goVersion\": \"go1.23.6\",\n  \"compiler\": \"gc\",\n  \"platform\": \"linux/arm64\"\n}";

static const char kind_133[] =
    "{\n  \"major\": \"1\",\n  \"minor\": \"33\",\n  \"emulationMajor\": \"1\",\n"
    "  \"emulationMinor\": \"33\",\n  \"minCompatibilityMajor\": \"1\",\n"
    "  \"minCompatibilityMinor\": \"32\",\n  \"gitVersion\": \"v1.33.1\",\n"
    "  \"gitCommit\": \"8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828\",\n"
    "  \"gitTreeState\": \"clean\",\n  \"buildDate\": \"2025-05-15T08:19:08Z\",\n"
    "  \"goVersion\": \"go1.24.2\",\n  \"compiler\": \"gc\",\n  \"platform\": \"linux/amd64\"\n}";

static const char eks_119[] =
    "{ \"major\": \"1\", \"minor\": \"19+\", \"gitVersion\": \"v1.19.6-eks-49a6c0\","
    " \"gitCommit\": \"49a6c0bf091506e7bafcdb1b142351b69363355a\", \"gitTreeState\": \"clean\","
    " \"buildDate\": \"2020-12-23T22:10:21Z\", \"goVersion\": \"go1.15.5\", \"compiler\": \"gc\","
    " \"platform\": \"linux/amd64\" }";

static const char baidu_empty_major[] =
    "{\"major\":\"\",\"minor\":\"\",\"gitVersion\":\"v1.0.11-167+3f240d4c97126d-dirty\","
    "\"gitCommit\":\"3f240d4c97126d\",\"gitTreeState\":\"dirty\",\"buildDate\":"
    "\"1970-01-01T00:00:00Z\",\"goVersion\":\"go1.10\",\"compiler\":\"gc\",\"platform\":"
    "\"linux/amd64\"}";

static const char ibm_redhat_go[] =
    "{\"major\":\"1\",\"minor\":\"32\",\"gitVersion\":\"v1.32.12\",\"gitCommit\":\"abc\","
    "\"goVersion\":\"go1.23.10 (Red Hat 1.23.10-10.el9) X:strictfipsruntime\","
    "\"platform\":\"linux/amd64\"}";

static const char status_401[] =
    "{\n  \"kind\": \"Status\",\n  \"apiVersion\": \"v1\",\n  \"metadata\": {},\n"
    "  \"status\": \"Failure\",\n  \"message\": \"Unauthorized\",\n"
    "  \"reason\": \"Unauthorized\",\n  \"code\": 401\n}";

static const char status_403[] =
    "{\n  \"kind\": \"Status\",\n  \"apiVersion\": \"v1\",\n  \"metadata\": {\n    \n  },\n"
    "  \"status\": \"Failure\",\n  \"message\": \"forbidden: User \\\"system:anonymous\\\" "
    "cannot get path \\\"/version\\\"\",\n  \"reason\": \"Forbidden\",\n  \"details\": {\n    \n"
    "  },\n  \"code\": 403\n}";

static const char etcd[] = "{\"etcdserver\":\"3.5.9\",\"etcdcluster\":\"3.5.0\"}";

static const char docker[] =
    "{\"Platform\":{\"Name\":\"Docker Engine - Community\"},\"Components\":[{\"Name\":"
    "\"Engine\",\"Version\":\"24.0.5\",\"Details\":{\"ApiVersion\":\"1.43\"}}],\"Version\":"
    "\"24.0.5\",\"ApiVersion\":\"1.43\",\"MinAPIVersion\":\"1.12\",\"GitCommit\":\"a61e2b4\","
    "\"GoVersion\":\"go1.20.6\",\"Os\":\"linux\",\"Arch\":\"amd64\"}";

static void test_classify_version_bodies(void **state)
{
    (void)state;
    struct probe_result r;

    probe_result_init(&r);
    set_body(&r, 200, upstream_132);
    k8s_classify(&r);
    assert_int_equal(r.k8s, K8S_YES);
    assert_int_equal(r.evidence, EVIDENCE_VERSION_INFO);
    assert_int_equal(r.version_state, VERSION_VALID);
    assert_string_equal(r.provider, "upstream");
    assert_string_equal(r.git_version, "v1.32.3");
    assert_int_equal(r.version_major, 1);
    assert_int_equal(r.version_minor, 32);
    assert_int_equal(r.version_patch, 3);
    assert_string_equal(r.version_suffix, "");
    assert_string_equal(r.git_commit, "32cc146f75aad04beaaa245a7157eb35063a9f99");
    assert_string_equal(r.build_date, "2025-03-11T19:52:21Z");
    assert_string_equal(r.go_version, "go1.23.6");
    assert_string_equal(r.platform, "linux/arm64");
    /* classifying twice replaces, does not leak or double */
    k8s_classify(&r);
    assert_string_equal(r.provider, "upstream");
    probe_result_free(&r);

    probe_result_init(&r);
    set_body(&r, 200, kind_133);
    k8s_classify(&r);
    assert_int_equal(r.version_state, VERSION_VALID);
    assert_int_equal(r.version_minor, 33);
    assert_string_equal(r.provider, "upstream");
    probe_result_free(&r);

    probe_result_init(&r);
    set_body(&r, 200, eks_119);
    k8s_classify(&r);
    assert_string_equal(r.provider, "eks");
    assert_string_equal(r.version_suffix, "-eks-49a6c0");
    assert_int_equal(r.version_minor, 19); /* from gitVersion, not "19+" */
    probe_result_free(&r);

    probe_result_init(&r);
    set_body(&r, 200, baidu_empty_major);
    k8s_classify(&r);
    assert_int_equal(r.version_state, VERSION_VALID);
    assert_int_equal(r.version_major, 1);
    assert_int_equal(r.version_minor, 0);
    assert_int_equal(r.version_patch, 11);
    assert_string_equal(r.provider, "other");
    probe_result_free(&r);

    probe_result_init(&r);
    set_body(&r, 200, ibm_redhat_go);
    k8s_classify(&r);
    assert_int_equal(r.version_state, VERSION_VALID);
    assert_string_equal(r.go_version, "go1.23.10 (Red Hat 1.23.10-10.el9) X:strictfipsruntime");
    probe_result_free(&r);
}

static void test_classify_aks_by_cert(void **state)
{
    (void)state;
    struct probe_result r;
    probe_result_init(&r);
    set_body(&r, 200, "{\"major\":\"1\",\"minor\":\"8\",\"gitVersion\":\"v1.8.7\"}");
    set_leaf(&r, "CN=apiserver", "CN=ca", "DNS:kubernetes,DNS:k1-1a2b3c4d.hcp.eastus.azmk8s.io");
    k8s_classify(&r);
    assert_int_equal(r.evidence, EVIDENCE_VERSION_INFO | EVIDENCE_CERT_MARKER);
    assert_string_equal(r.provider, "aks");
    probe_result_free(&r);

    /* the version string wins over the certificate when it names a vendor */
    probe_result_init(&r);
    set_body(&r, 200, "{\"gitVersion\":\"v1.29.6+k3s1\"}");
    set_leaf(&r, "CN=apiserver", "CN=ca", "DNS:x.hcp.eastus.azmk8s.io");
    k8s_classify(&r);
    assert_string_equal(r.provider, "k3s");
    probe_result_free(&r);
}

static void test_classify_status_bodies(void **state)
{
    (void)state;
    struct probe_result r;

    /* k3s: 401 + certificate */
    probe_result_init(&r);
    set_body(&r, 401, status_401);
    set_leaf(&r, "O=k3s/CN=k3s", "CN=k3s-server-ca@1700000000", "DNS:kubernetes");
    k8s_classify(&r);
    assert_int_equal(r.k8s, K8S_YES);
    assert_int_equal(r.evidence, EVIDENCE_STATUS_BODY | EVIDENCE_CERT_MARKER);
    assert_int_equal(r.version_state, VERSION_ABSENT);
    assert_string_equal(r.provider, "k3s");
    assert_null(r.git_version);
    assert_int_equal(r.version_major, -1);
    probe_result_free(&r);

    /* 403 with APF headers, no marker in the certificate */
    probe_result_init(&r);
    set_body(&r, 403, status_403);
    r.http_pf_flowschema = strdup("e9b4aeaf-952a-411b-8572-ca27f351edae");
    r.http_pf_prioritylevel = strdup("fa41102e-bce1-4985-8bc2-4f24fde12baf");
    set_leaf(&r, "CN=api.example.net", "CN=Some CA", "DNS:api.example.net");
    k8s_classify(&r);
    assert_int_equal(r.evidence, EVIDENCE_STATUS_BODY | EVIDENCE_APISERVER_HDR);
    assert_string_equal(r.provider, "upstream");
    probe_result_free(&r);

    /* a Status whose code does not match the HTTP status is not evidence */
    probe_result_init(&r);
    set_body(&r, 401, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"code\":403}");
    k8s_classify(&r);
    assert_int_equal(r.k8s, K8S_NO);
    assert_null(r.provider);
    probe_result_free(&r);

    /* an ordinary 401 from a website */
    probe_result_init(&r);
    set_body(&r, 401, "<html>401 Authorization Required</html>");
    set_leaf(&r, "CN=www.example.com", "CN=R3", "DNS:www.example.com");
    k8s_classify(&r);
    assert_int_equal(r.k8s, K8S_NO);
    assert_int_equal(r.evidence, 0);
    assert_int_equal(r.version_state, VERSION_ABSENT);
    probe_result_free(&r);
}

static void expect_not_k8s(int status, const char *body, enum version_state state)
{
    struct probe_result r;
    probe_result_init(&r);
    if (body)
        set_body(&r, status, body);
    else
        r.http_status = status;
    k8s_classify(&r);
    print_message("status %d body %.40s\n", status, body ? body : "(none)");
    assert_int_equal(r.k8s, K8S_NO);
    assert_int_equal(r.version_state, state);
    assert_null(r.provider);
    probe_result_free(&r);
}

static void test_classify_not_k8s(void **state)
{
    (void)state;
    expect_not_k8s(200, etcd, VERSION_OTHER);
    expect_not_k8s(200, docker, VERSION_OTHER);
    expect_not_k8s(200, "{}", VERSION_OTHER);
    expect_not_k8s(200, "garbage", VERSION_INVALID);
    expect_not_k8s(200, "<html><body>It works!</body></html>", VERSION_INVALID);
    expect_not_k8s(200, "[1,2,3]", VERSION_INVALID);
    expect_not_k8s(200, "\"v1.21.5\"", VERSION_INVALID);
    expect_not_k8s(200, "{\"gitVersion\":12}", VERSION_INVALID);
    expect_not_k8s(200, "{\"gitVersion\":\"not-a-version\"}", VERSION_INVALID);
    expect_not_k8s(200, "{\"gitVersion\":\"v1.2", VERSION_INVALID); /* cut short */
    expect_not_k8s(200, NULL, VERSION_ABSENT);                     /* empty body */
    expect_not_k8s(404, "404 page not found", VERSION_ABSENT);
    expect_not_k8s(0, NULL, VERSION_ABSENT);

    /* huge: 1 MB of nested arrays and a 1 MB string */
    size_t n = 1 << 20;
    char *deep = malloc(n + 1);
    memset(deep, '[', n);
    deep[n] = '\0';
    expect_not_k8s(200, deep, VERSION_INVALID);
    memset(deep, 'a', n);
    memcpy(deep, "{\"x\":\"", 6);
    memcpy(deep + n - 2, "\"}", 2);
    expect_not_k8s(200, deep, VERSION_OTHER);
    free(deep);

    /* a body with a NUL inside */
    struct probe_result r;
    probe_result_init(&r);
    r.http_status = 200;
    r.body = (uint8_t *)strdup("{\"gitVersion\":\"v1.2.3\"}");
    r.body[5] = '\0';
    r.body_length = 23;
    k8s_classify(&r);
    assert_int_equal(r.version_state, VERSION_INVALID);
    probe_result_free(&r);
}

/* ----------------------------------------------------------- JSON record */

static void test_json_record(void **state)
{
    (void)state;
    struct probe_result r;
    probe_result_init(&r);
    r.addr = net_addr_ipv4(0xC6120001); /* 198.18.0.1 */
    r.port = 6443;
    r.started_ms = 1700000000123;
    r.duration_ms = 42;
    r.outcome = PROBE_OK;
    r.tls_done = true;
    r.tls_version = strdup("TLSv1.3");
    r.tls_cipher = strdup("TLS_AES_128_GCM_SHA256");
    set_leaf(&r, "CN=kube-apiserver", "CN=kubernetes", "DNS:kubernetes");
    memset(r.chain[0].sha256, 0xab, 32);
    r.http_server = strdup("nginx");
    set_body(&r, 200, eks_119);
    k8s_classify(&r);

    json_t *j = probe_result_to_json(&r);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "addr")), "198.18.0.1");
    assert_int_equal(json_integer_value(json_object_get(j, "port")), 6443);
    assert_int_equal(json_integer_value(json_object_get(j, "started_ms")), 1700000000123);
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "ok");
    assert_true(json_is_null(json_object_get(j, "error")));
    assert_string_equal(json_string_value(json_object_get(j, "tls_version")), "TLSv1.3");
    json_t *chain = json_object_get(j, "chain");
    assert_int_equal(json_array_size(chain), 1);
    json_t *c0 = json_array_get(chain, 0);
    assert_string_equal(json_string_value(json_object_get(c0, "sha256")),
                        "abababababababababababababababababababababababababababababababab");
    assert_int_equal(json_integer_value(json_object_get(c0, "length")), (json_int_t)r.chain[0].length);
    /* the base64 DER decodes back to the certificate */
    const char *b64 = json_string_value(json_object_get(c0, "der"));
    assert_non_null(b64);
    unsigned char *decoded = malloc(strlen(b64));
    int n = EVP_DecodeBlock(decoded, (const unsigned char *)b64, (int)strlen(b64));
    assert_true(n >= (int)r.chain[0].length);
    assert_memory_equal(decoded, r.chain[0].der, r.chain[0].length);
    free(decoded);
    assert_int_equal(json_integer_value(json_object_get(j, "http_status")), 200);
    assert_string_equal(json_string_value(json_object_get(j, "body")), eks_119);
    assert_true(json_is_true(json_object_get(j, "k8s")));
    json_t *ev = json_object_get(j, "evidence");
    assert_int_equal(json_array_size(ev), 2);
    assert_string_equal(json_string_value(json_array_get(ev, 0)), "cert-marker");
    assert_string_equal(json_string_value(json_array_get(ev, 1)), "version-info");
    assert_string_equal(json_string_value(json_object_get(j, "provider")), "eks");
    assert_string_equal(json_string_value(json_object_get(j, "version_state")), "valid");
    assert_int_equal(json_integer_value(json_object_get(j, "version_minor")), 19);
    assert_string_equal(json_string_value(json_object_get(j, "version_suffix")), "-eks-49a6c0");
    json_decref(j);
    probe_result_free(&r);

    /* a failure; a binary body goes to body_base64 */
    probe_result_init(&r);
    r.outcome = PROBE_TLS_TIMEOUT;
    r.error = strdup("TLS handshake not done");
    r.http_status = 0;
    r.body = malloc(3);
    memcpy(r.body, "\xff\x00\xfe", 3);
    r.body_length = 3;
    j = probe_result_to_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "tls-timeout");
    assert_string_equal(json_string_value(json_object_get(j, "error")), "TLS handshake not done");
    assert_true(json_is_null(json_object_get(j, "http_status")));
    assert_true(json_is_null(json_object_get(j, "body")));
    assert_string_equal(json_string_value(json_object_get(j, "body_base64")), "/wD+");
    assert_true(json_is_null(json_object_get(j, "version_major")));
    assert_true(json_is_false(json_object_get(j, "k8s")));
    json_decref(j);
    probe_result_free(&r);
}

/* record_to_json's text must be what jansson writes for the values it
 * reads back from it: the same escapes, the same UTF-8 rule (a round trip
 * that changes nothing). */
static void assert_text_matches_jansson(const struct probe_result *r)
{
    json_t *j = probe_result_to_json(r);
    assert_non_null(j);
    char *want = json_dumps(j, JSON_COMPACT);
    size_t length = 0;
    char *got = record_to_json(r, RECORD_CERTS_DER, NULL, &length);
    assert_non_null(want);
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(length, strlen(want));
    free(want);
    free(got);
    json_decref(j);
}

static void set_string_body(struct probe_result *r, const char *bytes, size_t n)
{
    free(r->body);
    r->body = malloc(n ? n : 1);
    memcpy(r->body, bytes, n);
    r->body_length = n;
}

static void test_json_text(void **state)
{
    (void)state;
    struct probe_result r;
    probe_result_init(&r);
    assert_text_matches_jansson(&r); /* all empty */

    /* a full Kubernetes record, two certificates, every string set */
    r.addr = net_addr_ipv4(0xC6120001);
    r.port = 6443;
    r.started_ms = 1700000000123;
    r.duration_ms = 42;
    r.outcome = PROBE_OK;
    r.tls_done = true;
    r.tls_version = strdup("TLSv1.3");
    r.tls_cipher = strdup("TLS_AES_128_GCM_SHA256");
    r.tls_alpn = strdup("http/1.1");
    set_leaf(&r, "CN=kube-apiserver", "CN=kubernetes", "DNS:kubernetes");
    memset(r.chain[0].sha256, 0xab, 32);
    r.chain[1].der = malloc(5);
    memcpy(r.chain[1].der, "\x30\x03\x02\x01\x00", 5);
    r.chain[1].length = 5;
    r.chain_length = 2;
    r.chain_truncated = true;
    r.http_server = strdup("nginx/1.22 \"quoted\" back\\slash /path");
    r.http_content_type = strdup("application/json");
    r.http_audit_id = strdup("0b5c");
    r.http_pf_flowschema = strdup("f");
    r.http_pf_prioritylevel = strdup("p");
    set_body(&r, 200, eks_119);
    r.body_truncated = true;
    k8s_classify(&r);
    r.evidence |= EVIDENCE_STATUS_BODY | EVIDENCE_APISERVER_HDR;
    assert_text_matches_jansson(&r);

    /* escapes: every control character, quotes, backslash, slash, DEL,
     * multi-byte UTF-8 (2, 3 and 4 bytes) */
    char controls[40];
    for (int i = 0; i < 31; i++)
        controls[i] = (char)(i + 1);
    memcpy(controls + 31, "\"\\/\x7f", 5);
    controls[36] = '\0';
    free(r.error);
    r.error = strdup(controls);
    free(r.git_commit);
    r.git_commit = strdup("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    set_string_body(&r, "{\"a\":\"\\u0000\t\xc3\xa9\"}\n", 18);
    assert_text_matches_jansson(&r);

    /* invalid UTF-8 in strings: overlong, surrogate, beyond U+10FFFF, cut
     * short, stray continuation byte */
    static const char *const invalid[] = {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                          "ab\xe2\x82", "\x80", "\xf5\x80\x80\x80",
                                          "\xe0\x80\xaf", "\xf0\x80\x80\xaf"};
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        free(r.platform);
        r.platform = strdup(invalid[i]);
        set_string_body(&r, invalid[i], strlen(invalid[i]));
        assert_text_matches_jansson(&r);
    }

    /* a NUL in the body, an empty body, no body */
    set_string_body(&r, "a\0b", 3);
    assert_text_matches_jansson(&r);
    set_string_body(&r, "", 0);
    assert_text_matches_jansson(&r);
    free(r.body);
    r.body = NULL;
    r.body_length = 0;
    r.http_status = 0;
    r.version_major = r.version_minor = r.version_patch = -1;
    r.outcome = PROBE_OUTCOME_COUNT; /* "unknown" */
    assert_text_matches_jansson(&r);
    probe_result_free(&r);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(probe_outcome_name(PROBE_REFUSED), "refused");
    assert_string_equal(probe_outcome_name(PROBE_OUTCOME_COUNT), "unknown");
    assert_string_equal(version_state_name(VERSION_OTHER), "other");
    assert_string_equal(k8s_evidence_name(EVIDENCE_APISERVER_HDR), "apiserver-header");
    assert_string_equal(k8s_verdict_name(K8S_YES), "yes");
    assert_string_equal(k8s_verdict_name(K8S_KUBELET), "kubelet");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_table),
        cmocka_unit_test(test_version_invalid),
        cmocka_unit_test(test_cert_table),
        cmocka_unit_test(test_cert_garbage),
        cmocka_unit_test(test_classify_version_bodies),
        cmocka_unit_test(test_classify_aks_by_cert),
        cmocka_unit_test(test_classify_status_bodies),
        cmocka_unit_test(test_classify_not_k8s),
        cmocka_unit_test(test_json_record),
        cmocka_unit_test(test_json_text),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, setup_key, teardown_key);
}
