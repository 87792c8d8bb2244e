/* test_k_regex.c: RegexFullMatch against re.fullmatch results, and its refusals by name. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "desc.h"
#include "ir.h"

/* (pattern, text, whether the whole text matches): the expected column is
 * re.fullmatch of CPython 3.11, whose answers agree with RE2's on these
 * patterns (both are leftmost-first, and a full match is only yes or no). */
static const struct {
    const char *pattern, *text;
    int match;
} cases[] = {
    {"abc", "abc", 1},
    {"abc", "ab", 0},
    {"abc", "abcd", 0},
    {"abc", "", 0},
    {"a*", "", 1},
    {"a*", "a", 1},
    {"a*", "aaaa", 1},
    {"a*", "ab", 0},
    {"a+b?", "a", 1},
    {"a+b?", "aab", 1},
    {"a+b?", "b", 0},
    {"a+b?", "abb", 0},
    {"(ab|cd)*e", "e", 1},
    {"(ab|cd)*e", "abe", 1},
    {"(ab|cd)*e", "abcdabe", 1},
    {"(ab|cd)*e", "abce", 0},
    {"(ab|cd)*e", "acde", 0},
    {"a|b|cd", "a", 1},
    {"a|b|cd", "b", 1},
    {"a|b|cd", "cd", 1},
    {"a|b|cd", "c", 0},
    {"a|b|cd", "ab", 0},
    {"[a-c]{2,3}", "ab", 1},
    {"[a-c]{2,3}", "abc", 1},
    {"[a-c]{2,3}", "a", 0},
    {"[a-c]{2,3}", "abca", 0},
    {"[a-c]{2,3}", "ad", 0},
    {"x{3}", "xxx", 1},
    {"x{3}", "xx", 0},
    {"x{3}", "xxxx", 0},
    {"x{2,}y", "xxy", 1},
    {"x{2,}y", "xxxxxy", 1},
    {"x{2,}y", "xy", 0},
    {"(xy){0}z", "z", 1},
    {"(xy){0}z", "xyz", 0},
    {"[^0-9]+", "abc", 1},
    {"[^0-9]+", "a1c", 0},
    {"[^0-9]+", "", 0},
    {"\\d+\\.\\d*", "12.", 1},
    {"\\d+\\.\\d*", "1.25", 1},
    {"\\d+\\.\\d*", ".5", 0},
    {"\\d+\\.\\d*", "a.1", 0},
    {"\\w+@\\w+\\.com", "me@site.com", 1},
    {"\\w+@\\w+\\.com", "me@site.org", 0},
    {"\\w+@\\w+\\.com", "m e@s.com", 0},
    {"\\s*\\S+\\s*", "  word ", 1},
    {"\\s*\\S+\\s*", "two words", 0},
    {"\\s*\\S+\\s*", "\x09""\x0a""x", 1},
    {"\\bfoo\\b.*", "foo bar", 1},
    {"\\bfoo\\b.*", "foobar", 0},
    {"\\bfoo\\b.*", "foo", 1},
    {".*\\Bar", "bar", 1},
    {".*\\Bar", "car", 1},
    {".*\\Bar", "c ar", 0},
    {"^a.c$", "abc", 1},
    {"^a.c$", "a\x0a""c", 0},
    {"^a.c$", "ac", 0},
    {"(?:a|b)+?c", "abac", 1},
    {"(?:a|b)+?c", "c", 0},
    {"(?:a|b)+?c", "abab", 0},
    {"(?P<x>a|b)c", "ac", 1},
    {"(?P<x>a|b)c", "cc", 0},
    {"[\\w.-]+", "a.b-c_d", 1},
    {"[\\w.-]+", "a b", 0},
    {"[\\w.-]+", "-", 1},
    {"[]a]+", "]a]", 1},
    {"[]a]+", "b", 0},
    {"[\\W\\d]+", "1 2", 1},
    {"[\\W\\d]+", "a", 0},
    {"(\\W|^)[\\w.\\-]{0,25}@(yahoo|gmail)\\.com(\\W|$)", "account@gmail.com", 1},
    {"(\\W|^)[\\w.\\-]{0,25}@(yahoo|gmail)\\.com(\\W|$)", "x account@yahoo.com!", 0},
    {"(\\W|^)[\\w.\\-]{0,25}@(yahoo|gmail)\\.com(\\W|$)", "account@hotmail.com", 0},
    {"\xe7\x9a\x84+\xe4\xb8\xad", "\xe7\x9a\x84\xe7\x9a\x84\xe4\xb8\xad", 1},
    {"\xe7""\x9a""\x84""+\xe4""\xb8""\xad""", "\xe4""\xb8""\xad""", 0},
    {"\xe7""\x9a""\x84""+\xe4""\xb8""\xad""", "\xe7""\x9a""\x84""", 0},
    {".", "\xe7""\x9a""\x84""", 1},
    {".", "ab", 0},
    {".", "\x0a""", 0},
    {"[\xc3""\xa0""-\xc3""\xbf""]x", "\xc3""\xa9""x", 1},
    {"[\xc3""\xa0""-\xc3""\xbf""]x", "ex", 0},
    {"a\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\", "a*+?()[]{}|^$\\", 1},
    {"(a|ab)(c|bcd)(d*)", "abcd", 1},
    {"(a|ab)(c|bcd)(d*)", "acd", 1},
    {"(a|ab)(c|bcd)(d*)", "abcdd", 1},
    {"(a*)*b", "aaab", 1},
    {"(a*)*b", "b", 1},
    {"(a*)*b", "aaa", 0},
    {"\\x41\\t", "A\x09""", 1},
    {"\\x41\\t", "A ", 0},
    /* RE2, unlike Python, reads a{,2} as a literal, and has \x{...} */
    {"a{,2}", "a{,2}", 1},
    {"a{,2}", "aa", 0},
    {"\\x{42}\\x{7684}", "B\xe7\x9a\x84", 1},
};

static int run(const char *pattern, const char *text, uint8_t *y)
{
    RtTensorDesc in[2] = {desc1(RT_STRING, 1), desc(RT_STRING, 0, NULL)};
    RtTensorDesc out = desc1(RT_BOOL, 1);
    RtCall c = call(2, in, 1, &out, 0, NULL, 0, NULL);
    const void *ip[2] = {&text, &pattern};
    void *op[1] = {y};
    return rt_regex_full_match(&c, ip, op);
}

static void refused(const char *pattern, const char *why)
{
    char err[200] = "";
    uint8_t y;
    CHECK(-1, rt_regex_check(pattern, err, sizeof err));
    CHECK_STR_CONTAINS(err, why);
    CHECK(RT_EINVAL, run(pattern, "x", &y));
}

/* The shape function refuses a pattern outside the subset naming the op,
 * the node and the construct, and passes a good one on as a hidden input. */
static void test_infer(void)
{
    Graph *g = ir_graph_new(NULL);
    Diag d = {0};
    Value *x = ir_value_new(g, NULL);
    x->dtype = RT_STRING;
    x->rank = 1;
    x->dims[0] = 3;
    const char *pats[2] = {"(?i)abc", "[a-z]+\\.com"};
    for (int k = 0; k < 2; k++) {
        Node *n = ir_node_new(g, "RegexFullMatch", "", "rx", 1, 1);
        n->in[0] = x;
        n->out[0] = ir_value_new(g, NULL);
        n->out[0]->producer = n;
        Attr *a = ir_alloc(g, sizeof *a);
        *a = (Attr){.name = "pattern", .type = AT_STRING, .s = pats[k], .s_len = strlen(pats[k])};
        n->attrs = a;
        n->n_attrs = 1;
        memset(&d, 0, sizeof d);
        CHECK(k ? 0 : -1, ir_ops[n->op].infer(g, n, &d));
        if (!k) {
            CHECK_STR_CONTAINS(d.msg, "node 'rx' (RegexFullMatch)");
            CHECK_STR_CONTAINS(d.msg, "flag groups");
            continue;
        }
        CHECK(2, n->n_in);
        CHECK(RT_BOOL, n->out[0]->dtype);
        CHECK(3, n->out[0]->dims[0]);
        CHECK(0, strcmp(pats[1], *(const char *const *)n->in[1]->data));
    }
    ir_graph_free(g);
}

int main(void)
{
    test_infer();
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t y = 2;
        char err[200] = "";
        CHECK(0, rt_regex_check(cases[i].pattern, err, sizeof err));
        CHECK(RT_OK, run(cases[i].pattern, cases[i].text, &y));
        if (y != cases[i].match) {
            fprintf(stderr, "'%s' on '%s': got %d\n", cases[i].pattern, cases[i].text, y);
            bad++;
        }
    }
    CHECK(0, bad);
    refused("(?i)abc", "flag groups");
    refused("a(?=b)", "lookaround (?=");
    refused("(a)\\1", "backreference \\1");
    refused("\\p{Greek}", "Unicode class \\p");
    refused("[[:alpha:]]", "POSIX classes");
    refused("\\u00e9", "escape \\u");
    refused("a**", "repetition of a repetition");
    refused("*a", "nothing to repeat");
    refused("(ab", "closing )");
    refused("ab)", "unmatched )");
    refused("[ab", "closing ]");
    refused("[z-a]", "below its start");
    refused("a{1001}", "bad repetition count");
    refused("(a{1000}){1000}", "too large");
    return CHECK_DONE();
}
