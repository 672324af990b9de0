/* nr_scn_walk.c - the one walk over a scenario's step tree: every step in
 * order, a block's body inside it.  The parser frees, the printer prints,
 * the runner looks for wire steps and fixed ports with it; a new kind of
 * block is taught to the walk here, and to nothing else. */
#include "nr_scn.h"

/* The body of a block step, or NULL for a step that has none. */
static const struct nr_steps *body_of(const struct nr_step *s)
{
    return s->kind == NR_S_PARALLEL || s->kind == NR_S_REPEAT ? &s->u.block.body : NULL;
}

static int walk(const struct nr_steps *steps, unsigned depth, unsigned when, nr_step_visit visit,
                void *arg)
{
    int r = 0;

    for (size_t i = 0; i < steps->n && r == 0; i++) {
        const struct nr_step *s = &steps->v[i];
        const struct nr_steps *body = body_of(s);

        if (when & NR_WALK_BEFORE)
            r = visit(s, depth, NR_WALK_BEFORE, arg);
        if (r == 0 && body)
            r = walk(body, depth + 1, when, visit, arg);
        if (r == 0 && (when & NR_WALK_AFTER))
            r = visit(s, depth, NR_WALK_AFTER, arg);
    }
    return r;
}

int nr_steps_walk(const struct nr_steps *steps, unsigned when, nr_step_visit visit, void *arg)
{
    return walk(steps, 0, when, visit, arg);
}

int nr_step_walk(const struct nr_step *s, unsigned when, nr_step_visit visit, void *arg)
{
    const struct nr_steps one = { .v = (struct nr_step *)s, .n = 1 };

    return walk(&one, 0, when, visit, arg);
}
