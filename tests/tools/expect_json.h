/*
 * expect_json.h - a cmocka check that a JSON value equals an expectation
 * given as text, printing both (keys sorted) when they differ. Include
 * after <cmocka.h>.
 */
#ifndef KS_TEST_EXPECT_JSON_H
#define KS_TEST_EXPECT_JSON_H

#include <jansson.h>
#include <stdlib.h>

static void expect_json(json_t *got, const char *want_text)
{
    json_error_t jerr;
    json_t *want = json_loads(want_text, 0, &jerr);
    if (!want)
        fail_msg("bad expectation: %s", jerr.text);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);
        print_error("got:  %s\nwant: %s\n", g, w);
        free(g);
        free(w);
        fail();
    }
    json_decref(want);
}

#endif
