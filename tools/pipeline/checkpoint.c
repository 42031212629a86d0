/*
 * checkpoint.c - when a walk position is safe to resume from (the rule is
 * in pipeline.h; the scan commits what it gives out, cli/cmd_scan.c).
 */
#include "tools/pipeline/pipeline.h"

#include <string.h>

void checkpoints_init(struct checkpoints *c, double cooldown, uint64_t position)
{
    memset(c, 0, sizeof(*c));
    c->cooldown = cooldown;
    c->position = position;
}

static const struct checkpoint_sample *sample_back(const struct checkpoints *c, size_t back)
{
    return &c->samples[(c->count - 1 - back) % CHECKPOINT_SAMPLES];
}

/* The newest sample a whose replies have all been handled: some later
 * sample b at least the cooldown after it saw `handled` reach its pushed. */
static bool safe_position(const struct checkpoints *c, uint64_t handled, uint64_t *position)
{
    size_t n = c->count < CHECKPOINT_SAMPLES ? c->count : CHECKPOINT_SAMPLES;
    for (size_t back = 0; back < n; back++) {
        const struct checkpoint_sample *a = sample_back(c, back), *b = NULL;
        /* b: the earliest sample at least the cooldown after a */
        for (size_t k = back; k-- > 0;) {
            const struct checkpoint_sample *s = sample_back(c, k);
            if (s->time >= a->time + c->cooldown + 0.5) {
                b = s;
                break;
            }
        }
        if (b && handled >= b->pushed) {
            *position = a->position;
            return true;
        }
    }
    return false;
}

bool checkpoints_sample(struct checkpoints *c, double now, uint64_t walk_position,
                        uint64_t pushed, uint64_t handled, uint64_t *position)
{
    struct checkpoint_sample *s = &c->samples[c->count++ % CHECKPOINT_SAMPLES];
    s->time = now;
    s->position = walk_position;
    s->pushed = pushed;
    uint64_t safe;
    if (!safe_position(c, handled, &safe) || safe <= c->position)
        return false;
    c->position = safe;
    c->time = now;
    *position = safe;
    return true;
}
