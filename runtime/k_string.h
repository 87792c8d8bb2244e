/* k_string.h: prototypes and parameter layouts of the string kernels (Cast to and from string,
 * StringNormalizer, StringConcat, StringSplit, RegexFullMatch). */
#ifndef ONNXCC_K_STRING_H
#define ONNXCC_K_STRING_H

/* A string element is a `const char *` to NUL-terminated UTF-8, so a string
 * tensor is an array of pointers (rt_dtype_size(RT_STRING) == sizeof(char *))
 * and moving one (Identity, Reshape, Gather...) copies pointers. Kernels
 * never allocate: one that makes new strings writes their bytes into a pool,
 * an extra uint8 output of the node sized at compile time and planned in the
 * arena; the pointers it stores point into that pool. So a string output of
 * generated code may point into the arena, a constant or an input: it stays
 * valid until the next run. */

/* Bytes of one pool slot for a string made from a number of dtype (the
 * longest text rt_cast_string writes, NUL included). */
#define RT_NUM_STR_BYTES 32

/* Cast and CastLike with a string side (rt_cast hands these over).
 * From string: each element parsed as C's strtod/strtoll read it, surrounding
 * spaces allowed; "INF", "+INF", "-INF", "inf", "NaN" are accepted as numpy
 * reads them; to bool, "true"/"false" or any number (non-zero is true). Text
 * that is not a number gives RT_EFORMAT.
 * To string: the text numpy's astype(str) gives, which ONNX's test data
 * holds: floats as the shortest decimal that reads back to the same value,
 * positional for 1e-4 <= |x| < 1e16 ("0.5", "3.0"), else scientific
 * ("1e-05", "1.5e+16"); "nan", "inf", "-inf"; integers in decimal; bools as
 * "True"/"False". out[1] is the pool: uint8 [numel * RT_NUM_STR_BYTES]. */
int rt_cast_string(const RtCall *c, const void *const *in, void *const *out);

/* StringNormalizer (opset 10) of in[0], string [C] or [1, C]; in[1], when
 * present, the stopwords (string [S]).
 * Case mapping covers ASCII and Latin-1 (U+00C0..U+00FE, except the signs
 * U+00D7 and U+00F7); characters whose other case has a different UTF-8
 * length (such as U+00DF and U+00FF) and everything else are left as they
 * are, so a string never changes length and "locale" only needs checking at
 * compile time.
 * Stopwords match exactly, or under the same case mapping when not
 * case-sensitive.
 * out[0]: the strings kept, in order (without a case change, the input's own
 * pointers); with stopwords its last axis holds at most C elements, the count
 * kept is written to the last output (int64 scalar) and the slots past it
 * hold "". When every element is a stopword the result is one "" (ONNX's
 * rule). out[1], when the case changes: the pool, uint8 [C * slot].
 * Action 0 is NONE, 1 LOWER, 2 UPPER; slot is the bytes per string, NUL
 * included (an input string as long as slot gives RT_ENOMEM); dynamic 1 says
 * the count output exists. */
enum { RT_STRNORM_ACTION, RT_STRNORM_CASE_SENSITIVE, RT_STRNORM_SLOT, RT_STRNORM_DYNAMIC,
       RT_STRNORM_NINTS };
int rt_string_normalizer(const RtCall *c, const void *const *in, void *const *out);

/* StringConcat (opset 20): out[0][i] = in[0][i] followed by in[1][i], the two
 * broadcast to out[0]'s shape (NumPy rules). out[1] is the pool, uint8
 * [numel * slot]; a result as long as slot gives RT_ENOMEM. */
enum { RT_STRCAT_SLOT, RT_STRCAT_NINTS };
int rt_string_concat(const RtCall *c, const void *const *in, void *const *out);

/* StringSplit (opset 20) of each string of in[0] as Python's
 * str.split(delimiter, maxsplit) does; in[1] is the delimiter (a string
 * scalar; "" splits at runs of ASCII whitespace and drops them at both ends);
 * maxsplit < 0 is no limit. out[0]: [in[0].shape..., width], the pieces of
 * each string, shorter rows padded with "", width the most pieces of any
 * string, written to the last output (int64 scalar); out[0]'s last extent is
 * its bound. out[1]: int64, in[0]'s shape, each string's piece count.
 * out[2]: the pool, uint8 [numel * slot]; a string of 2 * length + 1 >= slot
 * bytes gives RT_ENOMEM. */
enum { RT_STRSPLIT_MAXSPLIT, RT_STRSPLIT_SLOT, RT_STRSPLIT_NINTS };
int rt_string_split(const RtCall *c, const void *const *in, void *const *out);

/* RegexFullMatch (opset 20, k_regex.c): out[0] (bool, in[0]'s shape) says
 * whether each string of in[0] matches the pattern in[1] (a string scalar)
 * as a whole. The pattern is RE2 syntax within the subset k_regex.c
 * describes; rt_regex_check says why one is outside it (err names the
 * construct), and the kernel gives RT_EINVAL for such a pattern. */
int rt_regex_check(const char *pattern, char *err, size_t err_len);
int rt_regex_full_match(const RtCall *c, const void *const *in, void *const *out);

#endif
