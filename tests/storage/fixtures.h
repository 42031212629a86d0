/*
 * fixtures.h - test data for the storage tests: probe results with every
 * field set, real X.509 certificates, and cheap certificate-like blobs.
 */
#ifndef KS_TEST_STORAGE_FIXTURES_H
#define KS_TEST_STORAGE_FIXTURES_H

#include "probes/probes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A real self-signed (index even) or CA-signed X.509 certificate with a
 * fresh P-256 key, CN and SANs derived from index. Returns malloc'd DER. */
uint8_t *fixture_x509(unsigned index, size_t *length);

/* A deterministic certificate-like blob (shared structure plus bytes that
 * depend on index), for tests that need many certificates fast. */
uint8_t *fixture_blob_cert(unsigned index, size_t *length);

/* Fills r with every field set to values derived from seed; the chain gets
 * chain_length copies of the given DERs (ownership stays with the caller:
 * copies are made). */
void fixture_result(struct probe_result *r, uint32_t seed, uint32_t addr, uint16_t port,
                    uint8_t *const *ders, const size_t *lengths, size_t chain_length);

/* Field-by-field comparison; returns NULL when equal, else the name of the
 * first field that differs. Certificates compare by DER when both have it,
 * else by sha256 and length. */
const char *fixture_result_diff(const struct probe_result *a, const struct probe_result *b);

#endif
