/*
 * result.c - what the classifier resets in a record (the record itself,
 * its lifetime and names are lib/record.c's).
 */
#include "probes/internal.h"

#include <stdlib.h>

/* Frees and resets what k8s_classify fills in. */
void probe_result_clear_classification(struct probe_result *r)
{
    free(r->provider);
    free(r->git_version);
    free(r->version_suffix);
    free(r->git_commit);
    free(r->build_date);
    free(r->go_version);
    free(r->platform);
    r->provider = r->git_version = r->version_suffix = r->git_commit = NULL;
    r->build_date = r->go_version = r->platform = NULL;
    r->k8s = K8S_NO;
    r->evidence = 0;
    r->version_state = VERSION_ABSENT;
    r->version_major = r->version_minor = r->version_patch = -1;
}
