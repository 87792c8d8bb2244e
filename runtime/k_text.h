/* k_text.h: prototypes and parameter layouts of the text kernels. */
#ifndef ONNXCC_K_TEXT_H
#define ONNXCC_K_TEXT_H

/* Weighting of TfIdfVectorizer's counts (its `mode` attribute). */
enum { RT_TFIDF_TF = 0, RT_TFIDF_IDF = 1, RT_TFIDF_TFIDF = 2 };

/* TfIdfVectorizer: counts the n-grams of the integer tokens in[0] ([C] or
 * [N, C], int32 or int64) that appear in a pool, per row, into out[0] (float,
 * [S] or [N, S]), then weighs the counts:
 *   TF: the count f;  IDF: f > 0 ? w : 0;  TFIDF: w * f.
 * An n-gram of length n with skip distance d (1 .. max_skip_count + 1) is the
 * tokens at s, s + d, ..., s + (n - 1) d of one row; unigrams are counted once,
 * not once per distance.
 * in[1]: the n-gram table (int64), built by the compiler:
 *   [L, then for n = 1 .. L: offset_n, count_n, then the entries],
 *   where the count_n entries of length n start at element offset_n, each one
 *   n tokens followed by its output column, sorted by tokens (lexicographic)
 *   without duplicates. Lengths outside [min_gram_length, L] have no entries;
 *   L is max_gram_length, or less when the pool has no longer n-grams.
 * in[2]: the weights w (float [S]), or NULL for ones (and in TF mode).
 * The mode is RT_TFIDF_*. */
enum { RT_TFIDF_MIN_GRAM, RT_TFIDF_MAX_SKIP, RT_TFIDF_MODE, RT_TFIDF_NINTS };
int rt_tfidf(const RtCall *c, const void *const *in, void *const *out);

#endif
