// softmax(q k^T * scale) v on the CPU for float32, AVX2 + FMA: forward and backward.
//
// Built by dualpose/ops/cpu_attention.py with the system C++ compiler on first use and
// loaded with ctypes: plain C ABI, no torch headers, so the build takes about two seconds.
//
// Layout: q is (B, H, Lq, D), k and v are (B, H, Lk, D), out is (B, H, Lq, D), each with
// its own strides for the first three axes and unit stride along D (the model passes
// strided views of its qkv projection and receives the output in (B, Lq, H, D) memory).
//
// Per (batch, head) slice: k is transposed into a (D, Lk rounded up to 16) buffer; query
// rows go in groups of R; for each group the scores of all keys are computed sixteen keys
// at a time, the row max taken, exp2 of (score - max) evaluated with a polynomial on eight
// lanes at once (the scale carries log2(e)), and p v accumulated in registers. The whole
// score row is kept (Lk floats per query row), so any Lk works and no online rescaling is
// needed. Slices are split across the threads of an OpenMP parallel region. Built with
// -fopenmp, the library needs libgomp.so.1, and the loader hands it the copy torch has
// already loaded, so the kernel runs on torch's own thread pool: a second pool would fight
// torch's threads, which spin for a while after each of its ops (measured: 1.7x slower).
//
// The forward can also write each row's log-sum-exp (in log2 units). The backward takes it
// to recompute p row group by row group with the same score routine, never holding an
// (Lq, Lk) matrix: dv and dk accumulate in (Lk, D) buffers per slice, dq is written per row.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

namespace {

// 2^x for x <= 0 (NaN stays NaN). x is clamped at -126, where 2^x ~ 1e-38 is negligible
// next to the row's largest term, 1. n = round(x), f = x - n in [-0.5, 0.5]:
// 2^f by its Taylor series to degree 6 (relative error ~1e-7), 2^n by the exponent bits.
inline __m256 exp2_nonpositive(__m256 x) {
  x = _mm256_max_ps(_mm256_set1_ps(-126.0f), x);  // second operand returned for NaN
  const __m256 n = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 f = _mm256_sub_ps(x, n);
  __m256 p = _mm256_set1_ps(1.5403530393381606e-4f);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.3333558146428443e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.6181291076284772e-3f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.5504108664821580e-2f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.4022650695910071e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.9314718055994531e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
  const __m256i bits = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The rows of one (batch, head) slice of a tensor: row i starts at p + i * row.
struct Rows {
  const float* p;
  int64_t row;
  const float* at(int64_t i) const { return p + i * row; }
};

struct OutRows {
  float* p;
  int64_t row;
  float* at(int64_t i) const { return p + i * row; }
};

// Forward: out = softmax(q k^T scale) v; lse (when not null) = the row's log2-sum-exp2 of
// the scores in log2 units, which the backward needs to recompute p.
struct Slice {
  Rows q, k, v;
  OutRows out;
  float* lse;
};

// Backward: from q, k, v, the forward's out and lse and the output gradient go, the
// gradients gq, gk, gv.
struct GradSlice {
  Rows q, k, v, o, go;
  const float* lse;
  OutRows gq, gk, gv;
};

// Lanes of the last 16-key block (of ldk = lk rounded up to 16) that hold real keys.
inline void tail_masks(int64_t lk, int64_t ldk, __m256* tail) {
  const int64_t valid = lk - (ldk - 16);  // 1..16
  alignas(32) int32_t lanes[16];
  for (int i = 0; i < 16; ++i) lanes[i] = i < valid ? -1 : 0;
  for (int h = 0; h < 2; ++h)
    tail[h] = _mm256_castsi256_ps(
        _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes + 8 * h)));
}

// t (D, ldk) = the first lk rows of m, transposed; columns lk .. ldk stay as they were (zero).
template <int D>
inline void transpose_into(const Rows& m, int64_t lk, int64_t ldk, float* t) {
  for (int64_t j = 0; j < lk; ++j) {
    const float* mj = m.at(j);
    for (int c = 0; c < D; ++c) t[c * ldk + j] = mj[c];
  }
}

// out[r * ldk + j] = a[r] . column j of t (D, ldk), for all ldk columns, 16 at a time (two
// vectors, so 2 R independent accumulators hide the FMA latency). With MaskTail, columns
// past the real keys become -inf and row_max receives each row's maximum.
template <int D, int R, bool MaskTail>
inline void row_scores(const float (&a)[R][D], const float* t, int64_t ldk, float* out,
                       const __m256* tail, float* row_max) {
  const int64_t blocks = ldk / 16;
  const __m256 neg_inf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  __m256 vmax[R];
  for (int r = 0; r < R; ++r) vmax[r] = neg_inf;
  for (int64_t b = 0; b < blocks; ++b) {
    __m256 lo[R], hi[R];
    for (int r = 0; r < R; ++r) lo[r] = hi[r] = _mm256_setzero_ps();
    const float* tb = t + 16 * b;
    for (int c = 0; c < D; ++c) {
      const __m256 t_lo = _mm256_loadu_ps(tb + c * ldk);
      const __m256 t_hi = _mm256_loadu_ps(tb + c * ldk + 8);
      for (int r = 0; r < R; ++r) {
        const __m256 ac = _mm256_set1_ps(a[r][c]);
        lo[r] = _mm256_fmadd_ps(ac, t_lo, lo[r]);
        hi[r] = _mm256_fmadd_ps(ac, t_hi, hi[r]);
      }
    }
    if (MaskTail && b == blocks - 1)
      for (int r = 0; r < R; ++r) {
        lo[r] = _mm256_blendv_ps(neg_inf, lo[r], tail[0]);
        hi[r] = _mm256_blendv_ps(neg_inf, hi[r], tail[1]);
      }
    for (int r = 0; r < R; ++r) {
      _mm256_storeu_ps(out + r * ldk + 16 * b, lo[r]);
      _mm256_storeu_ps(out + r * ldk + 16 * b + 8, hi[r]);
      if (MaskTail) vmax[r] = _mm256_max_ps(lo[r], _mm256_max_ps(hi[r], vmax[r]));
    }
  }
  if (MaskTail)
    for (int r = 0; r < R; ++r) row_max[r] = hmax(vmax[r]);
}

// out rows i0 .. i0 + R - 1 = mult[r] * sum_j w[r * ldw + j] x_j over the first lk rows of
// x. 8-lane vectors for D a multiple of 8, 4-lane ones for D = 4.
template <int D, int R>
inline void weighted_rows(const Rows& x, int64_t lk, const float* w, int64_t ldw,
                          const float* mult, const OutRows& out, int64_t i0) {
  if constexpr (D % 8 == 0) {
    constexpr int DV = D / 8;
    __m256 acc[R][DV];
    for (int r = 0; r < R; ++r)
      for (int d = 0; d < DV; ++d) acc[r][d] = _mm256_setzero_ps();
    for (int64_t j = 0; j < lk; ++j) {
      const float* xj = x.at(j);
      __m256 xv[DV];
      for (int d = 0; d < DV; ++d) xv[d] = _mm256_loadu_ps(xj + 8 * d);
      for (int r = 0; r < R; ++r) {
        const __m256 wj = _mm256_broadcast_ss(w + r * ldw + j);
        for (int d = 0; d < DV; ++d) acc[r][d] = _mm256_fmadd_ps(wj, xv[d], acc[r][d]);
      }
    }
    for (int r = 0; r < R; ++r) {
      const __m256 m = _mm256_set1_ps(mult[r]);
      float* o = out.at(i0 + r);
      for (int d = 0; d < DV; ++d) _mm256_storeu_ps(o + 8 * d, _mm256_mul_ps(acc[r][d], m));
    }
  } else {
    static_assert(D == 4, "head dims: 4 or a multiple of 8");
    __m128 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm_setzero_ps();
    for (int64_t j = 0; j < lk; ++j) {
      const __m128 xj = _mm_loadu_ps(x.at(j));
      for (int r = 0; r < R; ++r)
        acc[r] = _mm_fmadd_ps(_mm_broadcast_ss(w + r * ldw + j), xj, acc[r]);
    }
    for (int r = 0; r < R; ++r)
      _mm_storeu_ps(out.at(i0 + r), _mm_mul_ps(acc[r], _mm_set1_ps(mult[r])));
  }
}

// acc (lk, D), row j += sum_r w[r * ldw + j] rows[r], for the backward's dK and dV.
template <int D, int R>
inline void accumulate_outer(float* acc, int64_t lk, const float* w, int64_t ldw,
                             const float (&rows)[R][D]) {
  static_assert(D % 8 == 0, "the backward takes head dims that are multiples of 8");
  constexpr int DV = D / 8;
  __m256 rv[R][DV];
  for (int r = 0; r < R; ++r)
    for (int d = 0; d < DV; ++d) rv[r][d] = _mm256_loadu_ps(rows[r] + 8 * d);
  for (int64_t j = 0; j < lk; ++j) {
    float* aj = acc + j * D;
    __m256 a[DV];
    for (int d = 0; d < DV; ++d) a[d] = _mm256_loadu_ps(aj + 8 * d);
    for (int r = 0; r < R; ++r) {
      const __m256 wj = _mm256_broadcast_ss(w + r * ldw + j);
      for (int d = 0; d < DV; ++d) a[d] = _mm256_fmadd_ps(wj, rv[r][d], a[d]);
    }
    for (int d = 0; d < DV; ++d) _mm256_storeu_ps(aj + 8 * d, a[d]);
  }
}

// ------------------------------------------------------------------------------ forward
// R query rows starting at row i0 of one slice. kt: (D, ldk) transposed keys, zero-padded,
// ldk a multiple of 16; scores: R * ldk floats of scratch.
template <int D, int R>
void row_group(const Slice& s, int64_t i0, int64_t lk, int64_t ldk, const float* kt,
               float* scores, float scale_log2e, const __m256* tail) {
  const int64_t blocks = ldk / 16;
  float qs[R][D];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < D; ++c) qs[r][c] = s.q.at(i0 + r)[c] * scale_log2e;

  // scores, already in log2 units, and their row max
  float row_max[R];
  row_scores<D, R, true>(qs, kt, ldk, scores, tail, row_max);

  // p = 2^(score - max), row sums
  float inv_sum[R];
  for (int r = 0; r < R; ++r) {
    const __m256 m = _mm256_set1_ps(row_max[r]);
    float* sr = scores + r * ldk;
    __m256 sum_lo = _mm256_setzero_ps(), sum_hi = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b) {
      __m256 p_lo = exp2_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(sr + 16 * b), m));
      __m256 p_hi = exp2_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(sr + 16 * b + 8), m));
      if (b == blocks - 1) {
        p_lo = _mm256_and_ps(p_lo, tail[0]);
        p_hi = _mm256_and_ps(p_hi, tail[1]);
      }
      _mm256_storeu_ps(sr + 16 * b, p_lo);
      _mm256_storeu_ps(sr + 16 * b + 8, p_hi);
      sum_lo = _mm256_add_ps(sum_lo, p_lo);
      sum_hi = _mm256_add_ps(sum_hi, p_hi);
    }
    const float sum = hsum(_mm256_add_ps(sum_lo, sum_hi));
    inv_sum[r] = 1.0f / sum;
    if (s.lse != nullptr) s.lse[i0 + r] = row_max[r] + std::log2(sum);
  }

  weighted_rows<D, R>(s.v, lk, scores, ldk, inv_sum, s.out, i0);
}

// Rows per group: enough to reuse each loaded key block, few enough that the R * D / 8
// output accumulators stay in the 16 vector registers.
template <int D>
constexpr int rows_per_group() { return D <= 16 ? 4 : (D <= 32 ? 2 : 1); }

template <int D>
void run_slices(const std::vector<Slice>& slices, int64_t begin, int64_t end, int64_t lq,
                int64_t lk, float scale_log2e) {
  constexpr int R = rows_per_group<D>();
  const int64_t ldk = (lk + 15) / 16 * 16;
  std::vector<float> kt(static_cast<size_t>(D * ldk), 0.0f);
  std::vector<float> scores(static_cast<size_t>(R * ldk), 0.0f);
  __m256 tail[2];
  tail_masks(lk, ldk, tail);
  for (int64_t n = begin; n < end; ++n) {
    const Slice& s = slices[n];
    transpose_into<D>(s.k, lk, ldk, kt.data());
    int64_t i = 0;
    for (; i + R <= lq; i += R)
      row_group<D, R>(s, i, lk, ldk, kt.data(), scores.data(), scale_log2e, tail);
    for (; i < lq; ++i)
      row_group<D, 1>(s, i, lk, ldk, kt.data(), scores.data(), scale_log2e, tail);
  }
}

// ----------------------------------------------------------------------------- backward
// With p recomputed from the saved lse: dv_j += sum_i p_ij go_i; ds = p * (go . v_j - delta_i)
// with delta_i = go_i . o_i; dq_i = scale sum_j ds_ij k_j; dk_j += scale sum_i ds_ij q_i.
template <int D, int R>
void grad_row_group(const GradSlice& s, int64_t i0, int64_t lk, int64_t ldk, const float* kt,
                    const float* vt, float* p, float* ds, float scale, float scale_log2e,
                    float* gk_acc, float* gv_acc) {
  const int64_t blocks = ldk / 8;
  float qs[R][D], q_scaled[R][D], go[R][D], delta[R];
  for (int r = 0; r < R; ++r) {
    const float* qr = s.q.at(i0 + r);
    const float* gor = s.go.at(i0 + r);
    const float* orow = s.o.at(i0 + r);
    delta[r] = 0.0f;
    for (int c = 0; c < D; ++c) {
      qs[r][c] = qr[c] * scale_log2e;
      q_scaled[r][c] = qr[c] * scale;
      go[r][c] = gor[c];
      delta[r] += gor[c] * orow[c];
    }
  }
  row_scores<D, R, false>(qs, kt, ldk, p, nullptr, nullptr);  // scores, log2 units
  row_scores<D, R, false>(go, vt, ldk, ds, nullptr, nullptr);  // go . v_j
  // columns past lk hold values nobody reads: every loop below stops at lk
  for (int r = 0; r < R; ++r) {
    const __m256 lse = _mm256_set1_ps(s.lse[i0 + r]);
    const __m256 dr = _mm256_set1_ps(delta[r]);
    float* pr = p + r * ldk;
    float* dsr = ds + r * ldk;
    for (int64_t b = 0; b < blocks; ++b) {
      const __m256 pv = exp2_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(pr + 8 * b), lse));
      _mm256_storeu_ps(pr + 8 * b, pv);
      _mm256_storeu_ps(dsr + 8 * b,
                       _mm256_mul_ps(pv, _mm256_sub_ps(_mm256_loadu_ps(dsr + 8 * b), dr)));
    }
  }
  float mult[R];
  for (int r = 0; r < R; ++r) mult[r] = scale;
  weighted_rows<D, R>(s.k, lk, ds, ldk, mult, s.gq, i0);  // dq
  accumulate_outer<D, R>(gv_acc, lk, p, ldk, go);          // dv
  accumulate_outer<D, R>(gk_acc, lk, ds, ldk, q_scaled);   // dk
}

template <int D>
void run_grad_slices(const std::vector<GradSlice>& slices, int64_t begin, int64_t end,
                     int64_t lq, int64_t lk, float scale) {
  constexpr int R = rows_per_group<D>();
  const float scale_log2e = scale * 1.4426950408889634f;
  const int64_t ldk = (lk + 15) / 16 * 16;
  std::vector<float> kt(static_cast<size_t>(D * ldk), 0.0f), vt(kt.size(), 0.0f);
  std::vector<float> p(static_cast<size_t>(R * ldk)), ds(p.size());
  std::vector<float> gk(static_cast<size_t>(lk * D)), gv(gk.size());
  for (int64_t n = begin; n < end; ++n) {
    const GradSlice& s = slices[n];
    transpose_into<D>(s.k, lk, ldk, kt.data());
    transpose_into<D>(s.v, lk, ldk, vt.data());
    std::fill(gk.begin(), gk.end(), 0.0f);
    std::fill(gv.begin(), gv.end(), 0.0f);
    int64_t i = 0;
    for (; i + R <= lq; i += R)
      grad_row_group<D, R>(s, i, lk, ldk, kt.data(), vt.data(), p.data(), ds.data(), scale,
                           scale_log2e, gk.data(), gv.data());
    for (; i < lq; ++i)
      grad_row_group<D, 1>(s, i, lk, ldk, kt.data(), vt.data(), p.data(), ds.data(), scale,
                           scale_log2e, gk.data(), gv.data());
    for (int64_t j = 0; j < lk; ++j)
      for (int c = 0; c < D; ++c) {
        s.gk.at(j)[c] = gk[j * D + c];
        s.gv.at(j)[c] = gv[j * D + c];
      }
  }
}

// Slices [0, n) shared out over an OpenMP team: fn(begin, end) per thread.
template <typename Fn>
void parallel_slices(int64_t n, int threads, Fn fn) {
  const int workers = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, n)));
#pragma omp parallel num_threads(workers)
  {
    const int64_t w = omp_get_thread_num(), nw = omp_get_num_threads();
    fn(n * w / nw, n * (w + 1) / nw);
  }
}

// The (batch, head) slice base of a tensor with 3 strides (batch, head, token).
inline int64_t base(const int64_t* st, int64_t b, int64_t h) { return b * st[0] + h * st[1]; }

// fn(std::integral_constant<int, D>()) for the D of Ds that equals head_dim (the callers
// check first that one does).
template <int... Ds, typename Fn>
void with_head_dim(int64_t head_dim, Fn fn) {
  ((head_dim == Ds ? (fn(std::integral_constant<int, Ds>()), true) : false) || ...);
}

}  // namespace

extern "C" {

// Head dims the forward and the backward are compiled for; other sizes are for the caller
// to route elsewhere.
int dualpose_cpu_attention_supports(int64_t head_dim) {
  return head_dim == 4 || head_dim == 8 || head_dim == 16 || head_dim == 32 || head_dim == 64;
}

int dualpose_cpu_attention_backward_supports(int64_t head_dim) {
  return head_dim == 8 || head_dim == 16 || head_dim == 32 || head_dim == 64;
}

// strides: 3 per tensor (batch, head, token), in elements, for q, k, v, out in that order.
// lse: null, or (batch, heads, lq) contiguous floats to receive the log2-sum-exp2 of each
// row for the backward. Returns 0 on success, 1 for an unsupported head dim, 2 for empty
// sizes.
int dualpose_cpu_attention_f32(const float* q, const float* k, const float* v, float* out,
                               float* lse, int64_t batch, int64_t heads, int64_t lq,
                               int64_t lk, int64_t head_dim, const int64_t* strides,
                               float scale, int threads) {
  if (!dualpose_cpu_attention_supports(head_dim)) return 1;
  if (batch <= 0 || heads <= 0 || lq <= 0 || lk <= 0) return 2;
  const int64_t *qs = strides, *ks = strides + 3, *vs = strides + 6, *os = strides + 9;
  std::vector<Slice> slices;
  slices.reserve(static_cast<size_t>(batch * heads));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      slices.push_back({{q + base(qs, b, h), qs[2]}, {k + base(ks, b, h), ks[2]},
                        {v + base(vs, b, h), vs[2]}, {out + base(os, b, h), os[2]},
                        lse == nullptr ? nullptr : lse + (b * heads + h) * lq});
  const float scale_log2e = scale * 1.4426950408889634f;
  const int64_t n = static_cast<int64_t>(slices.size());
  with_head_dim<4, 8, 16, 32, 64>(head_dim, [&](auto tag) {
    constexpr int D = decltype(tag)::value;
    parallel_slices(n, threads, [&](int64_t begin, int64_t end) {
      run_slices<D>(slices, begin, end, lq, lk, scale_log2e);
    });
  });
  return 0;
}

// strides: 3 per tensor for q, k, v, o, go, gq, gk, gv in that order; lse as the forward
// wrote it. gq, gk, gv are overwritten. Returns 0 on success, 1 for an unsupported head
// dim, 2 for empty sizes.
int dualpose_cpu_attention_backward_f32(const float* q, const float* k, const float* v,
                                        const float* o, const float* go, const float* lse,
                                        float* gq, float* gk, float* gv, int64_t batch,
                                        int64_t heads, int64_t lq, int64_t lk,
                                        int64_t head_dim, const int64_t* strides,
                                        float scale, int threads) {
  if (!dualpose_cpu_attention_backward_supports(head_dim)) return 1;
  if (batch <= 0 || heads <= 0 || lq <= 0 || lk <= 0) return 2;
  const int64_t* st[8];
  for (int t = 0; t < 8; ++t) st[t] = strides + 3 * t;
  std::vector<GradSlice> slices;
  slices.reserve(static_cast<size_t>(batch * heads));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      slices.push_back({{q + base(st[0], b, h), st[0][2]}, {k + base(st[1], b, h), st[1][2]},
                        {v + base(st[2], b, h), st[2][2]}, {o + base(st[3], b, h), st[3][2]},
                        {go + base(st[4], b, h), st[4][2]}, lse + (b * heads + h) * lq,
                        {gq + base(st[5], b, h), st[5][2]}, {gk + base(st[6], b, h), st[6][2]},
                        {gv + base(st[7], b, h), st[7][2]}});
  const int64_t n = static_cast<int64_t>(slices.size());
  with_head_dim<8, 16, 32, 64>(head_dim, [&](auto tag) {
    constexpr int D = decltype(tag)::value;
    parallel_slices(n, threads, [&](int64_t begin, int64_t end) {
      run_grad_slices<D>(slices, begin, end, lq, lk, scale);
    });
  });
  return 0;
}

}  // extern "C"
