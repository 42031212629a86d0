/*
 * internal.h - shared between the files of probes/ only (not part of the
 * module's interface, which is probes.h).
 */
#ifndef KS_PROBES_INTERNAL_H
#define KS_PROBES_INTERNAL_H

#include "probes/probes.h"

#include <openssl/x509.h>

/* k8s_cert_inspect and k8s_classify on an already parsed leaf (the pool
 * has it from the handshake; parsing the DER again would cost as much). */
void k8s_cert_inspect_x509(X509 *cert, struct k8s_cert_facts *out);
void k8s_classify_with_leaf(struct probe_result *r, X509 *leaf);

/* fastkey.c: legacy (cheap) public key decoding for EC and RSA; true if
 * installed. Once per process; see the comment there. */
bool probes_fast_keys_install(void);

/* Frees and resets the fields k8s_classify fills in (result.c). */
void probe_result_clear_classification(struct probe_result *r);

#endif
