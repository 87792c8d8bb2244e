/* names.c: C identifiers, C types and exact literals for generated code. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "codegen/codegen.h"

static const char *const keywords[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "union", "unsigned", "void", "volatile", "while", "ctx", "rc", "in", "out", "main", NULL};

void cg_ident(char *out, size_t len, const char *s)
{
    size_t k = 0;
    if (len < 4)
        return;
    if (!isalpha((unsigned char)s[0]) && s[0] != '_')
        out[k++] = '_';
    for (; *s && k + 2 < len; s++)
        out[k++] = isalnum((unsigned char)*s) ? *s : '_';
    out[k] = 0;
    for (int i = 0; keywords[i]; i++)
        if (!strcmp(out, keywords[i]) && k + 2 < len) {
            out[k++] = '_';
            out[k] = 0;
        }
}

void cg_upper(char *out, size_t len, const char *s)
{
    cg_ident(out, len, s);
    for (char *p = out; *p; p++)
        *p = (char)toupper((unsigned char)*p);
}

const char *cg_ctype(int dtype)
{
    switch (dtype) {
    case RT_F32: return "float";
    case RT_F64: return "double";
    case RT_I8: return "int8_t";
    case RT_I16: return "int16_t";
    case RT_I32: return "int32_t";
    case RT_I64: return "int64_t";
    case RT_U8: case RT_BOOL: return "uint8_t";
    case RT_U16: case RT_F16: case RT_BF16: return "uint16_t";
    case RT_U32: return "uint32_t";
    case RT_U64: return "uint64_t";
    case RT_STRING: return "const char *";
    default: return rt_is_narrow(dtype) ? "uint8_t" : "void"; /* packed bytes as ONNX lays them */
    }
}

/* Names come from the model file, so they may hold anything: inside a
 * comment, "*" + "/" would end it; inside a string, quotes, backslashes and
 * "??" trigraphs (live in -std=c99) would change its meaning. */
const char *cg_comment(char *buf, size_t len, const char *s)
{
    size_t k = 0;
    for (; *s && k + 3 < len; s++) {
        unsigned char ch = (unsigned char)*s;
        buf[k++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
        if (ch == '*' && s[1] == '/')
            buf[k++] = ' ';
    }
    buf[k] = 0;
    return buf;
}

const char *cg_cstr(char *buf, size_t len, const char *s)
{
    size_t k = 0;
    for (; *s && k + 5 < len; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\' || ch == '?') {
            buf[k++] = '\\';
            buf[k++] = (char)ch;
        } else if (ch < 0x20 || ch >= 0x7f) {
            k += (size_t)snprintf(buf + k, len - k, "\\%03o", ch);
        } else {
            buf[k++] = (char)ch;
        }
    }
    buf[k] = 0;
    return buf;
}

const char *cg_dtype_enum(int dtype)
{
    switch (dtype) {
    case RT_F32: return "RT_F32";
    case RT_F64: return "RT_F64";
    case RT_F16: return "RT_F16";
    case RT_BF16: return "RT_BF16";
    case RT_I8: return "RT_I8";
    case RT_I16: return "RT_I16";
    case RT_I32: return "RT_I32";
    case RT_I64: return "RT_I64";
    case RT_U8: return "RT_U8";
    case RT_U16: return "RT_U16";
    case RT_U32: return "RT_U32";
    case RT_U64: return "RT_U64";
    case RT_BOOL: return "RT_BOOL";
    case RT_STRING: return "RT_STRING";
    case RT_F8E4M3FN: return "RT_F8E4M3FN";
    case RT_F8E4M3FNUZ: return "RT_F8E4M3FNUZ";
    case RT_F8E5M2: return "RT_F8E5M2";
    case RT_F8E5M2FNUZ: return "RT_F8E5M2FNUZ";
    case RT_U4: return "RT_U4";
    case RT_I4: return "RT_I4";
    case RT_F4E2M1: return "RT_F4E2M1";
    case RT_F8E8M0: return "RT_F8E8M0";
    case RT_U2: return "RT_U2";
    case RT_I2: return "RT_I2";
    default: return "RT_UNDEF";
    }
}

void cg_float_literal(char *buf, size_t len, double v, int is_double)
{
    if (isnan(v)) {
        snprintf(buf, len, "NAN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, len, "%sINFINITY", v < 0 ? "-" : "");
        return;
    }
    /* 9 significant digits round-trip any float, 17 any double */
    snprintf(buf, len, is_double ? "%.17g" : "%.9g", v);
    if (!strpbrk(buf, ".e"))
        strncat(buf, ".0", len - strlen(buf) - 1);
    if (!is_double)
        strncat(buf, "f", len - strlen(buf) - 1);
}

int cg_input_index(const Graph *g, const Value *v)
{
    for (int i = 0; i < g->n_inputs; i++)
        if (g->inputs[i] == v)
            return i;
    return -1;
}

int cg_output_index(const Graph *g, const Value *v)
{
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == v)
            return i;
    return -1;
}
