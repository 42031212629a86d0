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

/* The same for the keys the expectation names (an object): every one of
 * them must be in got with an equal value; other keys of got are checked
 * elsewhere (stats_oracle.py checks every key of the statistics). */
static void expect_json_keys(json_t *got, const char *want_text)
{
    json_error_t jerr;
    json_t *want = json_loads(want_text, 0, &jerr);
    if (!want || !json_is_object(want))
        fail_msg("bad expectation: %s", jerr.text);
    json_t *subset = json_object();
    const char *key;
    json_t *value;
    json_object_foreach(want, key, value) {
        json_t *g = json_object_get(got, key);
        if (g)
            json_object_set(subset, key, g);
    }
    char *text = json_dumps(want, 0);
    expect_json(subset, text);
    free(text);
    json_decref(subset);
    json_decref(want);
}

#endif
