/* diff.c: what each pass changed, from snapshots of the live nodes taken between passes (--diff). */
#include <stdlib.h>
#include <string.h>

#include "inspect.h"

/* One live node as a pass left it; nodes are never freed before the graph,
 * so a snapshot can hold their pointers and names across passes. */
struct InsSnap {
    const Node *n;               /* identity across passes */
    const char *name, *op;       /* as they were */
    const char *fused_from;      /* Node.fused_from then */
};

const char *const ins_change_names[INS_NKINDS] = {"removed", "added", "fused", "rewritten"};

static int by_node(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const InsSnap *)a)->n, y = (uintptr_t)((const InsSnap *)b)->n;
    return x < y ? -1 : x > y;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const InsSnap *find(const InsSnap *s, int n, const Node *node)
{
    InsSnap key = {.n = node};
    return bsearch(&key, s, (size_t)n, sizeof *s, by_node);
}

static int has_name(const char **names, int n, const char *name)
{
    return n && bsearch(&name, names, (size_t)n, sizeof *names, by_name) != NULL;
}

static InsSnap *snapshot(const Graph *g, int *count)
{
    InsSnap *s = malloc(sizeof *s * ((size_t)g->n_nodes + 1));
    IR_ASSERT(s);
    int n = 0;
    for (int k = 0; k < g->n_nodes; k++) {
        const Node *x = g->nodes[k];
        if (!x->dead)
            s[n++] = (InsSnap){x, x->name, x->op_type, x->fused_from};
    }
    qsort(s, (size_t)n, sizeof *s, by_node);
    *count = n;
    return s;
}

/* The names a node absorbed since the snapshot: fused_from only grows by
 * appending, so they are what follows the old string. */
static const char *absorbed_since(const char *before, const char *now)
{
    if (!now || now == before)
        return NULL;
    if (before && !strncmp(now, before, strlen(before)) && now[strlen(before)] == ',')
        return now + strlen(before) + 1;
    return before ? NULL : now;
}

static void add(InsPassDiff *p, int kind, const char *name, const char *op, const char *detail)
{
    p->ch[p->n_ch++] = (InsChange){kind, name, op, detail};
    p->count[kind]++;
}

/* Splits the comma lists of every fused entry into names[], sorted. */
static int absorbed_names(const InsPassDiff *p, const char ***out)
{
    int n = 0, cap = 16;
    const char **names = malloc(sizeof *names * (size_t)cap);
    IR_ASSERT(names);
    for (int i = 0; i < p->n_ch; i++) {
        const char *s = p->ch[i].kind == INS_FUSED ? p->ch[i].detail : NULL;
        while (s && *s) {
            const char *e = strchr(s, ',');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            if (n == cap) {
                cap *= 2;
                names = realloc(names, sizeof *names * (size_t)cap);
                IR_ASSERT(names);
            }
            names[n++] = strndup(s, len);
            s = e ? e + 1 : NULL;
        }
    }
    qsort(names, (size_t)n, sizeof *names, by_name);
    *out = names;
    return n;
}

static void compare(InsPassDiff *p, const InsSnap *before, int nb, const InsSnap *after, int na)
{
    p->ch = calloc((size_t)(nb + na) + 1, sizeof *p->ch);
    const char **gone = malloc(sizeof *gone * ((size_t)nb + 1));
    const InsSnap **gone_snap = malloc(sizeof *gone_snap * ((size_t)nb + 1));
    char *taken = calloc((size_t)nb + 1, 1);
    IR_ASSERT(p->ch && gone && gone_snap && taken);
    int ng = 0;
    for (int i = 0; i < nb; i++)
        if (!find(after, na, before[i].n))
            gone_snap[ng++] = &before[i];
    for (int i = 0; i < ng; i++)
        gone[i] = gone_snap[i]->name;
    /* the removed nodes by name, so a node rebuilt under the same name
     * (recognize's replacements) reads as one rewritten node */
    qsort(gone, (size_t)ng, sizeof *gone, by_name);
    for (int i = 0; i < na; i++) {
        const InsSnap *a = &after[i], *b = find(before, nb, a->n);
        if (b) {
            const char *more = absorbed_since(b->fused_from, a->fused_from);
            if (more)
                add(p, INS_FUSED, a->name, a->op, more);
            else if (strcmp(a->op, b->op))
                add(p, INS_REWRITTEN, a->name, a->op, b->op);
            continue;
        }
        const char **same = ng ? bsearch(&a->name, gone, (size_t)ng, sizeof *gone, by_name) : NULL;
        if (same)
            taken[same - gone] = 1;
        if (a->fused_from)
            add(p, INS_FUSED, a->name, a->op, a->fused_from);
        else if (same)
            add(p, INS_REWRITTEN, a->name, a->op, "?");
        else
            add(p, INS_ADDED, a->name, a->op, NULL);
    }
    /* a rewritten node's old op: the removed node of its name */
    for (int i = 0; i < p->n_ch; i++)
        if (p->ch[i].kind == INS_REWRITTEN && !strcmp(p->ch[i].detail, "?"))
            for (int j = 0; j < ng; j++)
                if (!strcmp(gone_snap[j]->name, p->ch[i].name))
                    p->ch[i].detail = gone_snap[j]->op;
    const char **absorbed;
    int nabs = absorbed_names(p, &absorbed);
    for (int i = 0; i < ng; i++) {
        const InsSnap *s = gone_snap[i];
        const char **at = bsearch(&s->name, gone, (size_t)ng, sizeof *gone, by_name);
        if ((at && taken[at - gone]) || has_name(absorbed, nabs, s->name))
            continue;
        add(p, INS_REMOVED, s->name, s->op, NULL);
    }
    for (int i = 0; i < nabs; i++)
        free((char *)absorbed[i]);
    free(absorbed);
    free(gone);
    free(gone_snap);
    free(taken);
}

void ins_diff_after_pass(void *arg, const Graph *g, const char *pass, int changes)
{
    InsDiff *d = arg;
    int n;
    InsSnap *now = snapshot(g, &n);
    if (pass) {
        if (d->n_passes == d->cap_passes) {
            d->cap_passes = d->cap_passes ? 2 * d->cap_passes : 32;
            d->passes = realloc(d->passes, sizeof *d->passes * (size_t)d->cap_passes);
            IR_ASSERT(d->passes);
        }
        InsPassDiff *p = &d->passes[d->n_passes++];
        memset(p, 0, sizeof *p);
        p->pass = pass;
        p->changes = changes;
        p->n_before = d->n_prev;
        p->n_after = n;
        compare(p, d->prev, d->n_prev, now, n);
    }
    free(d->prev);
    d->prev = now;
    d->n_prev = n;
}

void ins_diff_free(InsDiff *d)
{
    for (int i = 0; i < d->n_passes; i++)
        free(d->passes[i].ch);
    free(d->passes);
    free(d->prev);
    memset(d, 0, sizeof *d);
}

void ins_diff_print(const InsDiff *d, FILE *f)
{
    static const char mark[INS_NKINDS] = {'-', '+', '*', '~'};
    fprintf(f, "# what each pass changed (live nodes before -> after)\n");
    for (int i = 0; i < d->n_passes; i++) {
        const InsPassDiff *p = &d->passes[i];
        fprintf(f, "pass %-17s %5d -> %5d nodes: %d removed, %d added, %d fused, %d rewritten\n",
                p->pass, p->n_before, p->n_after, p->count[INS_REMOVED], p->count[INS_ADDED],
                p->count[INS_FUSED], p->count[INS_REWRITTEN]);
        for (int k = 0; k < p->n_ch; k++) {
            const InsChange *c = &p->ch[k];
            fprintf(f, "  %c %s (%s)", mark[c->kind], c->name, c->op);
            if (c->kind == INS_FUSED)
                fprintf(f, " <- %s", c->detail);
            else if (c->kind == INS_REWRITTEN)
                fprintf(f, " was %s", c->detail);
            fputc('\n', f);
        }
    }
}
