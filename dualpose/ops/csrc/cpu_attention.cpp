// softmax(q k^T * scale) v on the CPU for float32, AVX2 + FMA, forward only.
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
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <limits>
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

struct Slice {
  const float* q;
  const float* k;
  const float* v;
  float* out;
  int64_t q_row, k_row, v_row, out_row;  // strides between tokens
};

// out rows i0 .. i0 + R - 1 = (p v) * inv_sum, p: R rows of ldk probabilities. 8-lane
// vectors for D a multiple of 8, 4-lane ones for D = 4.
template <int D, int R>
inline void weighted_values(const Slice& s, int64_t i0, int64_t lk, int64_t ldk,
                            const float* p, const float* inv_sum) {
  if constexpr (D % 8 == 0) {
    constexpr int DV = D / 8;
    __m256 acc[R][DV];
    for (int r = 0; r < R; ++r)
      for (int d = 0; d < DV; ++d) acc[r][d] = _mm256_setzero_ps();
    for (int64_t j = 0; j < lk; ++j) {
      const float* vj = s.v + j * s.v_row;
      __m256 vv[DV];
      for (int d = 0; d < DV; ++d) vv[d] = _mm256_loadu_ps(vj + 8 * d);
      for (int r = 0; r < R; ++r) {
        const __m256 pj = _mm256_broadcast_ss(p + r * ldk + j);
        for (int d = 0; d < DV; ++d) acc[r][d] = _mm256_fmadd_ps(pj, vv[d], acc[r][d]);
      }
    }
    for (int r = 0; r < R; ++r) {
      const __m256 inv = _mm256_set1_ps(inv_sum[r]);
      float* o = s.out + (i0 + r) * s.out_row;
      for (int d = 0; d < DV; ++d) _mm256_storeu_ps(o + 8 * d, _mm256_mul_ps(acc[r][d], inv));
    }
  } else {
    static_assert(D == 4, "head dims: 4 or a multiple of 8");
    __m128 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm_setzero_ps();
    for (int64_t j = 0; j < lk; ++j) {
      const __m128 vj = _mm_loadu_ps(s.v + j * s.v_row);
      for (int r = 0; r < R; ++r)
        acc[r] = _mm_fmadd_ps(_mm_broadcast_ss(p + r * ldk + j), vj, acc[r]);
    }
    for (int r = 0; r < R; ++r)
      _mm_storeu_ps(s.out + (i0 + r) * s.out_row, _mm_mul_ps(acc[r], _mm_set1_ps(inv_sum[r])));
  }
}

// R query rows starting at row i0 of one slice. kt: (D, ldk) transposed keys, zero-padded,
// ldk a multiple of 16; scores: R * ldk floats of scratch; tail[0..1]: the lanes of the last
// 16-key block that hold real keys.
template <int D, int R>
void row_group(const Slice& s, int64_t i0, int64_t lk, int64_t ldk, const float* kt,
               float* scores, float scale_log2e, const __m256* tail) {
  const int64_t blocks = ldk / 16;
  const __m256 neg_inf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());

  float qs[R][D];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < D; ++c) qs[r][c] = s.q[(i0 + r) * s.q_row + c] * scale_log2e;

  // scores (already in log2 units) and their row max, 16 keys (two vectors) at a time so
  // that 2 R independent accumulators hide the FMA latency
  __m256 row_max[R];
  for (int r = 0; r < R; ++r) row_max[r] = neg_inf;
  for (int64_t b = 0; b < blocks; ++b) {
    __m256 lo[R], hi[R];
    for (int r = 0; r < R; ++r) lo[r] = hi[r] = _mm256_setzero_ps();
    const float* kb = kt + 16 * b;
    for (int c = 0; c < D; ++c) {
      const __m256 k_lo = _mm256_loadu_ps(kb + c * ldk);
      const __m256 k_hi = _mm256_loadu_ps(kb + c * ldk + 8);
      for (int r = 0; r < R; ++r) {
        const __m256 qc = _mm256_set1_ps(qs[r][c]);
        lo[r] = _mm256_fmadd_ps(qc, k_lo, lo[r]);
        hi[r] = _mm256_fmadd_ps(qc, k_hi, hi[r]);
      }
    }
    if (b == blocks - 1)
      for (int r = 0; r < R; ++r) {
        lo[r] = _mm256_blendv_ps(neg_inf, lo[r], tail[0]);
        hi[r] = _mm256_blendv_ps(neg_inf, hi[r], tail[1]);
      }
    for (int r = 0; r < R; ++r) {
      _mm256_storeu_ps(scores + r * ldk + 16 * b, lo[r]);
      _mm256_storeu_ps(scores + r * ldk + 16 * b + 8, hi[r]);
      row_max[r] = _mm256_max_ps(lo[r], _mm256_max_ps(hi[r], row_max[r]));
    }
  }

  // p = 2^(score - max), row sums
  float inv_sum[R];
  for (int r = 0; r < R; ++r) {
    const __m256 m = _mm256_set1_ps(hmax(row_max[r]));
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
    inv_sum[r] = 1.0f / hsum(_mm256_add_ps(sum_lo, sum_hi));
  }

  weighted_values<D, R>(s, i0, lk, ldk, scores, inv_sum);
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
  const int64_t valid = lk - (ldk - 16);  // real keys in the last 16-key block, 1..16
  alignas(32) int32_t lanes[16];
  for (int i = 0; i < 16; ++i) lanes[i] = i < valid ? -1 : 0;
  __m256 tail[2];
  for (int h = 0; h < 2; ++h)
    tail[h] = _mm256_castsi256_ps(
        _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes + 8 * h)));

  for (int64_t n = begin; n < end; ++n) {
    const Slice& s = slices[n];
    for (int64_t j = 0; j < lk; ++j) {
      const float* kj = s.k + j * s.k_row;
      for (int c = 0; c < D; ++c) kt[c * ldk + j] = kj[c];
    }
    int64_t i = 0;
    for (; i + R <= lq; i += R)
      row_group<D, R>(s, i, lk, ldk, kt.data(), scores.data(), scale_log2e, tail);
    for (; i < lq; ++i)
      row_group<D, 1>(s, i, lk, ldk, kt.data(), scores.data(), scale_log2e, tail);
  }
}

template <int D>
void run(const std::vector<Slice>& slices, int64_t lq, int64_t lk, float scale_log2e,
         int threads) {
  const int64_t n = static_cast<int64_t>(slices.size());
  const int workers = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, n)));
#pragma omp parallel num_threads(workers)
  {
    const int64_t w = omp_get_thread_num(), nw = omp_get_num_threads();
    run_slices<D>(slices, n * w / nw, n * (w + 1) / nw, lq, lk, scale_log2e);
  }
}

}  // namespace

extern "C" {

// Head dims the kernel is compiled for; other sizes are for the caller to route elsewhere.
int dualpose_cpu_attention_supports(int64_t head_dim) {
  return head_dim == 4 || head_dim == 8 || head_dim == 16 || head_dim == 32 || head_dim == 64;
}

// strides: 3 per tensor (batch, head, token), in elements. Returns 0 on success, 1 for an
// unsupported head dim, 2 for empty or invalid sizes.
int dualpose_cpu_attention_f32(const float* q, const float* k, const float* v, float* out,
                               int64_t batch, int64_t heads, int64_t lq, int64_t lk,
                               int64_t head_dim, const int64_t* q_strides,
                               const int64_t* k_strides, const int64_t* v_strides,
                               const int64_t* out_strides, float scale, int threads) {
  if (!dualpose_cpu_attention_supports(head_dim)) return 1;
  if (batch <= 0 || heads <= 0 || lq <= 0 || lk <= 0) return 2;
  std::vector<Slice> slices;
  slices.reserve(static_cast<size_t>(batch * heads));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      slices.push_back({q + b * q_strides[0] + h * q_strides[1],
                        k + b * k_strides[0] + h * k_strides[1],
                        v + b * v_strides[0] + h * v_strides[1],
                        out + b * out_strides[0] + h * out_strides[1],
                        q_strides[2], k_strides[2], v_strides[2], out_strides[2]});
  const float scale_log2e = scale * 1.4426950408889634f;
  switch (head_dim) {
    case 4: run<4>(slices, lq, lk, scale_log2e, threads); break;
    case 8: run<8>(slices, lq, lk, scale_log2e, threads); break;
    case 16: run<16>(slices, lq, lk, scale_log2e, threads); break;
    case 32: run<32>(slices, lq, lk, scale_log2e, threads); break;
    default: run<64>(slices, lq, lk, scale_log2e, threads); break;
  }
  return 0;
}

}  // extern "C"
