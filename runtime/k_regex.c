/* k_regex.c: RegexFullMatch: an RE2-syntax subset compiled and run as a Thompson NFA. */
#include <stdio.h>
#include <string.h>

#include "rt_internal.h"

/* The subset: literals (UTF-8), ., [...] classes with ranges and negation,
 * \d \D \w \W \s \S (ASCII, as RE2), \b \B, ^ $ \A \z, escapes of
 * punctuation and \n \t \r \f \v \a \xHH \x{H..}, groups ( ), (?: ) and
 * (?P<name> ), alternation |, and the repetitions * + ? {n} {n,} {n,m}, each
 * optionally lazy. Anything else (flags, lookaround, backreferences,
 * Unicode classes \p, POSIX [:classes:], \Q..\E, \C) is refused by name.
 * Matching simulates every thread of the NFA in lock step (Pike/Thompson),
 * so time is O(program * text) with no backtracking and memory is fixed. */

enum { RX_CHAR, RX_ANY, RX_CLASS, RX_SPLIT, RX_JMP, RX_ASSERT, RX_MATCH };
enum { RX_BOL, RX_EOL, RX_WORDB, RX_NWORDB };
/* the predefined classes a bracket class may include */
enum { RX_D = 1, RX_ND = 2, RX_W = 4, RX_NW = 8, RX_S = 16, RX_NS = 32 };

#define RX_MAX_CODE 1024
#define RX_MAX_CLASS 64
#define RX_MAX_RANGES 256
#define RX_MAX_REPEAT 1000
#define RX_MAX_DEPTH 64

typedef struct RxInst {
    uint8_t op;                  /* RX_* */
    int32_t a, b;                /* CHAR: code point; CLASS: class; ASSERT: kind;
                                  * JMP: a, SPLIT: a and b, targets relative to here */
} RxInst;

typedef struct RxClass {
    uint16_t first, count;       /* its ranges in Rx.ranges */
    uint8_t neg, flags;          /* [^...]; RX_D ... included */
} RxClass;

typedef struct Rx {
    RxInst code[RX_MAX_CODE];
    int n;
    RxClass cls[RX_MAX_CLASS];
    int ncls;
    int32_t ranges[RX_MAX_RANGES][2];
    int nranges;
    const char *p;               /* the parse cursor */
    int depth;
    char *err;                   /* the first error, "..." naming the construct */
    size_t err_len;
} Rx;

static int fail(Rx *rx, const char *fmt, const char *what)
{
    if (rx->err && rx->err_len)
        snprintf(rx->err, rx->err_len, fmt, what);
    return -1;
}

/* The code point at s (its byte count to *len); a stray byte is itself. */
static int32_t utf8(const char *s, int *len)
{
    const unsigned char *u = (const unsigned char *)s;
    int n = u[0] < 0x80 ? 1 : (u[0] & 0xE0) == 0xC0 ? 2 : (u[0] & 0xF0) == 0xE0 ? 3
          : (u[0] & 0xF8) == 0xF0 ? 4 : 0;
    int32_t c = n == 1 ? u[0] : n == 2 ? u[0] & 0x1F : n == 3 ? u[0] & 0x0F : u[0] & 0x07;
    for (int i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            n = 0;
            break;
        }
        c = c << 6 | (u[i] & 0x3F);
    }
    if (!n) {
        *len = 1;
        return u[0];
    }
    *len = n;
    return c;
}

static int is_word(int32_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '_';
}

static int in_flags(int32_t c, int flags)
{
    int d = c >= '0' && c <= '9', w = is_word(c);
    int s = c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
    return ((flags & RX_D) && d) || ((flags & RX_ND) && !d) || ((flags & RX_W) && w) ||
           ((flags & RX_NW) && !w) || ((flags & RX_S) && s) || ((flags & RX_NS) && !s);
}

static int emit(Rx *rx, int op, int32_t a, int32_t b)
{
    if (rx->n >= RX_MAX_CODE)
        return fail(rx, "the pattern is too large (more than %s instructions)", "1024");
    rx->code[rx->n++] = (RxInst){(uint8_t)op, a, b};
    return 0;
}

/* Opens a gap of one instruction at `at`: the code after it moves up, its
 * relative jumps stay right because they stay inside the moved block. */
static int insert(Rx *rx, int at, int op, int32_t a, int32_t b)
{
    if (rx->n >= RX_MAX_CODE)
        return fail(rx, "the pattern is too large (more than %s instructions)", "1024");
    memmove(rx->code + at + 1, rx->code + at, sizeof rx->code[0] * (size_t)(rx->n - at));
    rx->code[at] = (RxInst){(uint8_t)op, a, b};
    rx->n++;
    return 0;
}

static int new_class(Rx *rx, int neg, int flags)
{
    if (rx->ncls >= RX_MAX_CLASS)
        return fail(rx, "the pattern has too many classes (more than %s)", "64");
    rx->cls[rx->ncls] = (RxClass){(uint16_t)rx->nranges, 0, (uint8_t)neg, (uint8_t)flags};
    return rx->ncls++;
}

static int add_range(Rx *rx, int k, int32_t lo, int32_t hi)
{
    if (rx->nranges >= RX_MAX_RANGES)
        return fail(rx, "the pattern's classes hold too many ranges (more than %s)", "256");
    rx->ranges[rx->nranges][0] = lo;
    rx->ranges[rx->nranges][1] = hi;
    rx->nranges++;
    rx->cls[k].count++;
    return 0;
}

static int hex(int ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
         : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* The escape after a backslash at rx->p (which it consumes). Returns 1 with
 * a code point in *cp, 2 with a class flag in *cp, 3 with an assertion, or
 * -1. in_class: inside [...], where \b and the assertions do not exist. */
static int escape(Rx *rx, int32_t *cp, int in_class)
{
    char e = *rx->p;
    if (!e)
        return fail(rx, "%s", "a trailing backslash");
    rx->p++;
    static const char flags[] = "dDwWsS";
    const char *f = strchr(flags, e);
    if (f) {
        *cp = 1 << (f - flags);
        return 2;
    }
    static const char ctl[] = "ntrfva", val[] = "\n\t\r\f\v\a";
    const char *k = strchr(ctl, e);
    if (k) {
        *cp = (unsigned char)val[k - ctl];
        return 1;
    }
    if (!in_class && (e == 'b' || e == 'B' || e == 'A' || e == 'z')) {
        *cp = e == 'b' ? RX_WORDB : e == 'B' ? RX_NWORDB : e == 'A' ? RX_BOL : RX_EOL;
        return 3;
    }
    if (e == 'x') {
        int32_t v = 0;
        if (*rx->p == '{') {
            int nd = 0;
            for (rx->p++; hex(*rx->p) >= 0 && nd < 8; rx->p++, nd++)
                v = v * 16 + hex(*rx->p);
            if (*rx->p != '}' || !nd || v > 0x10FFFF)
                return fail(rx, "%s", "a malformed \\x{...} escape");
            rx->p++;
        } else {
            if (hex(rx->p[0]) < 0 || hex(rx->p[1]) < 0)
                return fail(rx, "%s", "a malformed \\xHH escape");
            v = hex(rx->p[0]) * 16 + hex(rx->p[1]);
            rx->p += 2;
        }
        *cp = v;
        return 1;
    }
    if (e >= '1' && e <= '9')
        return fail(rx, "backreference \\%s is not supported (RE2 has none)",
                    (char[2]){e, 0});
    if (!((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) &&
        (unsigned char)e < 0x80) {
        *cp = (unsigned char)e; /* escaped punctuation is itself */
        return 1;
    }
    if (e == 'p' || e == 'P')
        return fail(rx, "Unicode class \\%s is not supported", (char[2]){e, 0});
    return fail(rx, "escape \\%s is not supported", (char[2]){e, 0});
}

/* [...] at rx->p (past the '['). */
static int parse_class(Rx *rx)
{
    int neg = *rx->p == '^';
    rx->p += neg;
    int k = new_class(rx, neg, 0);
    if (k < 0)
        return -1;
    int first = 1;
    while (*rx->p != ']' || first) {
        if (!*rx->p)
            return fail(rx, "%s", "a class without its closing ]");
        if (rx->p[0] == '[' && rx->p[1] == ':')
            return fail(rx, "%s", "POSIX classes such as [:alpha:] are not supported");
        first = 0;
        int32_t lo, hi;
        int len, kind = 1;
        if (*rx->p == '\\') {
            rx->p++;
            kind = escape(rx, &lo, 1);
            if (kind < 0)
                return -1;
        } else {
            lo = utf8(rx->p, &len);
            rx->p += len;
        }
        if (kind == 2) {
            rx->cls[k].flags |= (uint8_t)lo;
            continue;
        }
        hi = lo;
        if (rx->p[0] == '-' && rx->p[1] && rx->p[1] != ']') {
            rx->p++;
            if (*rx->p == '\\') {
                rx->p++;
                if (escape(rx, &hi, 1) != 1)
                    return fail(rx, "%s", "a class range ending in a class or nothing");
            } else {
                hi = utf8(rx->p, &len);
                rx->p += len;
            }
            if (hi < lo)
                return fail(rx, "%s", "a class range whose end is below its start");
        }
        if (add_range(rx, k, lo, hi))
            return -1;
    }
    rx->p++;
    return emit(rx, RX_CLASS, k, 0);
}

static int parse_alt(Rx *rx);

/* A group, class, escape, . ^ $ or literal. */
static int parse_atom(Rx *rx)
{
    char ch = *rx->p;
    int len;
    switch (ch) {
    case '(':
        rx->p++;
        if (rx->p[0] == '?') {
            if (rx->p[1] == ':') {
                rx->p += 2;
            } else if (rx->p[1] == 'P' && rx->p[2] == '<') {
                const char *e = strchr(rx->p, '>');
                if (!e)
                    return fail(rx, "%s", "a named group without its closing >");
                rx->p = e + 1;
            } else if (rx->p[1] == '=' || rx->p[1] == '!' || rx->p[1] == '<') {
                return fail(rx, "lookaround (?%s...) is not supported (RE2 has none)",
                            (char[3]){rx->p[1], rx->p[1] == '<' ? rx->p[2] : 0, 0});
            } else {
                return fail(rx, "%s", "flag groups such as (?i) are not supported");
            }
        }
        if (++rx->depth > RX_MAX_DEPTH)
            return fail(rx, "groups nested deeper than %s", "64");
        if (parse_alt(rx))
            return -1;
        rx->depth--;
        if (*rx->p != ')')
            return fail(rx, "%s", "a group without its closing )");
        rx->p++;
        return 0;
    case '[':
        rx->p++;
        return parse_class(rx);
    case '.':
        rx->p++;
        return emit(rx, RX_ANY, 0, 0);
    case '^':
    case '$':
        rx->p++;
        return emit(rx, RX_ASSERT, ch == '^' ? RX_BOL : RX_EOL, 0);
    case '*':
    case '+':
    case '?':
        return fail(rx, "a repetition operator %s with nothing to repeat", (char[2]){ch, 0});
    case '\\': {
        rx->p++;
        int32_t v;
        int kind = escape(rx, &v, 0);
        if (kind < 0)
            return -1;
        if (kind == 2) {
            int k = new_class(rx, 0, (int)v);
            return k < 0 ? -1 : emit(rx, RX_CLASS, k, 0);
        }
        return emit(rx, kind == 3 ? RX_ASSERT : RX_CHAR, v, 0);
    }
    default: {
        int32_t c = utf8(rx->p, &len);
        rx->p += len;
        return emit(rx, RX_CHAR, c, 0);
    }
    }
}

/* {n}, {n,}, {n,m} at rx->p: 1 with the bounds (m -1: none), 0 if the text
 * is not a repetition (then '{' is a literal, as in RE2). */
static int counted(Rx *rx, int *n, int *m)
{
    const char *s = rx->p + 1;
    int a = 0, b, nd = 0;
    for (; *s >= '0' && *s <= '9'; s++, nd++)
        a = a > RX_MAX_REPEAT ? a : a * 10 + (*s - '0');
    if (!nd)
        return 0;
    b = a;
    if (*s == ',') {
        s++;
        b = -1;
        if (*s >= '0' && *s <= '9')
            for (b = 0; *s >= '0' && *s <= '9'; s++)
                b = b > RX_MAX_REPEAT ? b : b * 10 + (*s - '0');
    }
    if (*s != '}')
        return 0;
    rx->p = s + 1;
    *n = a;
    *m = b;
    return 1;
}

/* Appends a copy of code[from, from + len). */
static int copy_code(Rx *rx, int from, int len)
{
    if (rx->n + len > RX_MAX_CODE)
        return fail(rx, "the pattern is too large (more than %s instructions)", "1024");
    memcpy(rx->code + rx->n, rx->code + from, sizeof rx->code[0] * (size_t)len);
    rx->n += len;
    return 0;
}

/* The atom compiled at [start, n) repeated n..m times (m -1: unbounded):
 * copies of it built after it, then moved down over it. */
static int repeat(Rx *rx, int start, int lo, int hi)
{
    int len = rx->n - start, out = rx->n;
    int opt[RX_MAX_REPEAT], nopt = 0;
    for (int i = 0; i < lo; i++)
        if (copy_code(rx, start, len))
            return -1;
    if (hi < 0) {
        /* star: SPLIT over a copy that jumps back */
        int s = rx->n;
        if (emit(rx, RX_SPLIT, 1, len + 2) || copy_code(rx, start, len) ||
            emit(rx, RX_JMP, s - rx->n, 0))
            return -1;
    } else {
        for (int i = lo; i < hi; i++) {
            opt[nopt++] = rx->n;
            if (emit(rx, RX_SPLIT, 1, 0) || copy_code(rx, start, len))
                return -1;
        }
        for (int i = 0; i < nopt; i++)
            rx->code[opt[i]].b = rx->n - opt[i];
    }
    int total = rx->n - out;
    memmove(rx->code + start, rx->code + out, sizeof rx->code[0] * (size_t)total);
    rx->n = start + total;
    return 0;
}

/* An atom and its repetition operator, if any. */
static int parse_repeat(Rx *rx)
{
    int start = rx->n;
    if (parse_atom(rx))
        return -1;
    char q = *rx->p;
    int lo, hi, len = rx->n - start;
    if (q == '*' || q == '+' || q == '?') {
        rx->p++;
        int r = q == '*' ? insert(rx, start, RX_SPLIT, 1, len + 2) ||
                               emit(rx, RX_JMP, -(len + 1), 0)
              : q == '+' ? emit(rx, RX_SPLIT, -len, 1)
                         : insert(rx, start, RX_SPLIT, 1, len + 1);
        if (r)
            return -1;
    } else if (q == '{' && counted(rx, &lo, &hi)) {
        if (lo > RX_MAX_REPEAT || hi > RX_MAX_REPEAT || (hi >= 0 && hi < lo))
            return fail(rx, "%s", "a bad repetition count (at most 1000, {n,m} with n <= m)");
        if (repeat(rx, start, lo, hi))
            return -1;
    } else {
        return 0;
    }
    if (*rx->p == '?')
        rx->p++; /* lazy: the same language, and a full match only asks whether */
    if (*rx->p == '*' || *rx->p == '+' || *rx->p == '?' ||
        (*rx->p == '{' && rx->p[1] >= '0' && rx->p[1] <= '9'))
        return fail(rx, "%s", "a repetition of a repetition (such as a**)");
    return 0;
}

static int parse_concat(Rx *rx)
{
    while (*rx->p && *rx->p != '|' && *rx->p != ')')
        if (parse_repeat(rx))
            return -1;
    return 0;
}

static int parse_alt(Rx *rx)
{
    int start = rx->n;
    if (parse_concat(rx))
        return -1;
    while (*rx->p == '|') {
        rx->p++;
        if (insert(rx, start, RX_SPLIT, 1, 0))
            return -1;
        int jmp = rx->n;
        if (emit(rx, RX_JMP, 0, 0))
            return -1;
        rx->code[start].b = rx->n - start;
        if (parse_concat(rx))
            return -1;
        rx->code[jmp].a = rx->n - jmp;
    }
    return 0;
}

static int compile(Rx *rx, const char *pattern, char *err, size_t err_len)
{
    memset(rx, 0, offsetof(Rx, cls));
    rx->ncls = rx->nranges = 0;
    rx->p = pattern;
    rx->depth = 0;
    rx->err = err;
    rx->err_len = err_len;
    if (parse_alt(rx))
        return -1;
    if (*rx->p == ')')
        return fail(rx, "%s", "an unmatched )");
    return emit(rx, RX_MATCH, 0, 0);
}

int rt_regex_check(const char *pattern, char *err, size_t err_len)
{
    Rx rx;
    return compile(&rx, pattern, err, err_len);
}

/* ---- matching ---- */

typedef struct RxRun {
    const Rx *rx;
    int *mark, gen;
    int *stack;
} RxRun;

/* Adds pc and everything it reaches without consuming input at a point
 * between code points prev and next (-1 at either end of the text) to
 * list, each instruction once per step. */
static void add_thread(RxRun *r, int *list, int *nl, int pc, int32_t prev, int32_t next)
{
    int sp = 0;
    r->stack[sp++] = pc;
    while (sp) {
        pc = r->stack[--sp];
        if (r->mark[pc] == r->gen)
            continue;
        r->mark[pc] = r->gen;
        const RxInst *in = &r->rx->code[pc];
        switch (in->op) {
        case RX_JMP:
            r->stack[sp++] = pc + in->a;
            break;
        case RX_SPLIT:
            r->stack[sp++] = pc + in->b;
            r->stack[sp++] = pc + in->a;
            break;
        case RX_ASSERT: {
            int wb = (prev >= 0 && is_word(prev)) != (next >= 0 && is_word(next));
            int ok = in->a == RX_BOL ? prev < 0 : in->a == RX_EOL ? next < 0
                   : in->a == RX_WORDB ? wb : !wb;
            if (ok)
                r->stack[sp++] = pc + 1;
            break;
        }
        default:
            list[(*nl)++] = pc;
        }
    }
}

static int consumes(const Rx *rx, const RxInst *in, int32_t c)
{
    if (in->op == RX_CHAR)
        return in->a == c;
    if (in->op == RX_ANY)
        return c != '\n';
    if (in->op != RX_CLASS)
        return 0;
    const RxClass *k = &rx->cls[in->a];
    int hit = in_flags(c, k->flags);
    for (int i = 0; i < k->count && !hit; i++)
        hit = c >= rx->ranges[k->first + i][0] && c <= rx->ranges[k->first + i][1];
    return hit != k->neg;
}

/* Whether the whole of s matches. */
static int full_match(const Rx *rx, const char *s, int *mark, int *lists, int *stack)
{
    RxRun r = {rx, mark, 0, stack};
    int *cl = lists, *nl = lists + RX_MAX_CODE, ncl = 0, nnl;
    int len;
    int32_t prev = -1, cur = *s ? utf8(s, &len) : -1;
    for (int i = 0; i < rx->n; i++)
        mark[i] = 0;
    r.gen = 1;
    add_thread(&r, cl, &ncl, 0, prev, cur);
    for (;;) {
        if (cur < 0) {
            for (int i = 0; i < ncl; i++)
                if (rx->code[cl[i]].op == RX_MATCH)
                    return 1;
            return 0;
        }
        s += len;
        int nlen = 0;
        int32_t next = *s ? utf8(s, &nlen) : -1;
        r.gen++;
        nnl = 0;
        for (int i = 0; i < ncl; i++)
            if (consumes(rx, &rx->code[cl[i]], cur))
                add_thread(&r, nl, &nnl, cl[i] + 1, cur, next);
        int *t = cl;
        cl = nl;
        nl = t;
        ncl = nnl;
        if (!ncl)
            return 0;
        prev = cur;
        cur = next;
        len = nlen;
    }
}

int rt_regex_full_match(const RtCall *c, const void *const *in, void *const *out)
{
    if (c->n_in < 2 || c->in[0].dtype != RT_STRING || c->in[1].dtype != RT_STRING ||
        c->out[0].dtype != RT_BOOL || rt_numel(&c->in[1]) != 1)
        return RT_EINVAL;
    Rx rx;
    if (compile(&rx, *(const char *const *)in[1], NULL, 0))
        return RT_EINVAL;
    int mark[RX_MAX_CODE], lists[2 * RX_MAX_CODE], stack[2 * RX_MAX_CODE + 1];
    const char *const *x = in[0];
    uint8_t *y = out[0];
    for (int64_t i = 0, n = rt_numel(&c->in[0]); i < n; i++)
        y[i] = (uint8_t)full_match(&rx, x[i], mark, lists, stack);
    return RT_OK;
}
