// softmax(q k^T * scale) v on the CPU for float32, forward and backward, compiled twice from
// this one source: for AVX2 + FMA (8-lane vectors) and for AVX-512 (16-lane vectors, 32
// registers, so larger row groups); dualpose/ops/cpu_attention.py picks the build the CPU
// runs at run time.
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
// at a time (two 8-lane vectors or one 16-lane one), the row max taken, exp2 of
// (score - max) evaluated with a polynomial on all lanes at once (the scale carries
// log2(e)), and p v accumulated in registers. The whole score row is kept (Lk floats per
// query row), so any Lk works and no online rescaling is needed. Slices are split across
// the threads of an OpenMP parallel region. Built with -fopenmp, the library needs
// libgomp.so.1, and the loader hands it the copy torch has already loaded, so the kernel
// runs on torch's own thread pool: a second pool would fight torch's threads, which spin
// for a while after each of its ops (measured: 1.7x slower).
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

// Polynomial of 2^f for f in [-0.5, 0.5], its Taylor series to degree 6 (relative error
// ~1e-7), highest degree first.
constexpr float kExp2Poly[7] = {1.5403530393381606e-4f, 1.3333558146428443e-3f,
                                9.6181291076284772e-3f, 5.5504108664821580e-2f,
                                2.4022650695910071e-1f, 6.9314718055994531e-1f, 1.0f};

// One interface over the float vectors of each width, so that the kernel below is written
// once. Mask: which lanes hold real keys; select(m, fallback, v) takes v where m is set.
struct V4 {  // head dim 4 only: load, store, multiply-add
  using T = __m128;
  static constexpr int lanes = 4;
  static T zero() { return _mm_setzero_ps(); }
  static T set1(float x) { return _mm_set1_ps(x); }
  static T load(const float* p) { return _mm_loadu_ps(p); }
  static void store(float* p, T v) { _mm_storeu_ps(p, v); }
  static T fmadd(T a, T b, T c) { return _mm_fmadd_ps(a, b, c); }
  static T mul(T a, T b) { return _mm_mul_ps(a, b); }
};

struct V8 {
  using T = __m256;
  using Mask = __m256;
  static constexpr int lanes = 8;
  static T zero() { return _mm256_setzero_ps(); }
  static T set1(float x) { return _mm256_set1_ps(x); }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static T fmadd(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T max(T a, T b) { return _mm256_max_ps(a, b); }
  static Mask first(int n) {  // lanes 0 .. n - 1
    alignas(32) int32_t bits[8];
    for (int i = 0; i < 8; ++i) bits[i] = i < n ? -1 : 0;
    return _mm256_castsi256_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(bits)));
  }
  static T select(Mask m, T fallback, T v) { return _mm256_blendv_ps(fallback, v, m); }
  static T keep(Mask m, T v) { return _mm256_and_ps(v, m); }
  static float hmax(T v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
  }
  static float hsum(T v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  // 2^x for x <= 0 (NaN stays NaN). x is clamped at -126, where 2^x ~ 1e-38 is negligible
  // next to the row's largest term, 1. n = round(x), f = x - n: 2^f by the polynomial,
  // 2^n by the exponent bits.
  static T exp2_nonpositive(T x) {
    x = _mm256_max_ps(_mm256_set1_ps(-126.0f), x);  // second operand returned for NaN
    const T n = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const T f = _mm256_sub_ps(x, n);
    T p = _mm256_set1_ps(kExp2Poly[0]);
    for (int i = 1; i < 7; ++i) p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(kExp2Poly[i]));
    const __m256i bits = _mm256_slli_epi32(
        _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
  }
};

#if defined(__AVX512F__)
struct V16 {
  using T = __m512;
  using Mask = __mmask16;
  static constexpr int lanes = 16;
  static T zero() { return _mm512_setzero_ps(); }
  static T set1(float x) { return _mm512_set1_ps(x); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static T fmadd(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T max(T a, T b) { return _mm512_max_ps(a, b); }
  static Mask first(int n) { return static_cast<Mask>((1u << n) - 1u); }
  static T select(Mask m, T fallback, T v) { return _mm512_mask_blend_ps(m, fallback, v); }
  static T keep(Mask m, T v) { return _mm512_maskz_mov_ps(m, v); }
  static float hmax(T v) { return _mm512_reduce_max_ps(v); }
  static float hsum(T v) { return _mm512_reduce_add_ps(v); }
  // as V8's; 2^n applied by scalef, which needs no exponent arithmetic
  static T exp2_nonpositive(T x) {
    x = _mm512_max_ps(_mm512_set1_ps(-126.0f), x);  // second operand returned for NaN
    const T n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const T f = _mm512_sub_ps(x, n);
    T p = _mm512_set1_ps(kExp2Poly[0]);
    for (int i = 1; i < 7; ++i) p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(kExp2Poly[i]));
    return _mm512_scalef_ps(p, n);
  }
};
using KeyVec = V16;  // the vectors that run along the keys
constexpr int kIsa = 512;
#else
using KeyVec = V8;
constexpr int kIsa = 2;
#endif

// Sixteen keys per block: the vectors of KeyVec that cover one.
constexpr int kPerBlock = 16 / KeyVec::lanes;

// The vectors that run along a row of D values: the widest whose lanes divide D.
template <int D>
using RowVec = std::conditional_t<
    D % KeyVec::lanes == 0, KeyVec,
    std::conditional_t<D % 8 == 0, V8, V4>>;

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

// Lanes of the last 16-key block (of ldk = lk rounded up to 16) that hold real keys, one
// mask per vector of the block.
using KeyMask = KeyVec::Mask;
inline void tail_masks(int64_t lk, int64_t ldk, KeyMask* tail) {
  const int valid = static_cast<int>(lk - (ldk - 16));  // 1..16
  for (int h = 0; h < kPerBlock; ++h)
    tail[h] = KeyVec::first(std::max(0, std::min(KeyVec::lanes, valid - h * KeyVec::lanes)));
}

// t (D, ldk) = the first lk rows of m, transposed; columns lk .. ldk stay as they were (zero).
template <int D>
inline void transpose_into(const Rows& m, int64_t lk, int64_t ldk, float* t) {
  for (int64_t j = 0; j < lk; ++j) {
    const float* mj = m.at(j);
    for (int c = 0; c < D; ++c) t[c * ldk + j] = mj[c];
  }
}

// out[r * ldk + j] = a[r] . column j of t (D, ldk), for all ldk columns, 16 at a time
// (R * kPerBlock independent accumulators hide the FMA latency). With MaskTail, columns
// past the real keys become -inf and row_max receives each row's maximum.
template <int D, int R, bool MaskTail>
inline void row_scores(const float (&a)[R][D], const float* t, int64_t ldk, float* out,
                       const KeyMask* tail, float* row_max) {
  using V = KeyVec;
  constexpr int H = kPerBlock;
  const int64_t blocks = ldk / 16;
  const V::T neg_inf = V::set1(-std::numeric_limits<float>::infinity());
  V::T vmax[R];
  for (int r = 0; r < R; ++r) vmax[r] = neg_inf;
  for (int64_t b = 0; b < blocks; ++b) {
    V::T acc[R][H];
    for (int r = 0; r < R; ++r)
      for (int h = 0; h < H; ++h) acc[r][h] = V::zero();
    const float* tb = t + 16 * b;
    for (int c = 0; c < D; ++c) {
      V::T tc[H];
      for (int h = 0; h < H; ++h) tc[h] = V::load(tb + c * ldk + h * V::lanes);
      for (int r = 0; r < R; ++r) {
        const V::T ac = V::set1(a[r][c]);
        for (int h = 0; h < H; ++h) acc[r][h] = V::fmadd(ac, tc[h], acc[r][h]);
      }
    }
    if (MaskTail && b == blocks - 1)
      for (int r = 0; r < R; ++r)
        for (int h = 0; h < H; ++h) acc[r][h] = V::select(tail[h], neg_inf, acc[r][h]);
    for (int r = 0; r < R; ++r)
      for (int h = 0; h < H; ++h) {
        V::store(out + r * ldk + 16 * b + h * V::lanes, acc[r][h]);
        if (MaskTail) vmax[r] = V::max(acc[r][h], vmax[r]);
      }
  }
  if (MaskTail)
    for (int r = 0; r < R; ++r) row_max[r] = V::hmax(vmax[r]);
}

// out rows i0 .. i0 + R - 1 = mult[r] * sum_j w[r * ldw + j] x_j over the first lk rows of
// x, in the widest vectors that divide D.
template <int D, int R>
inline void weighted_rows(const Rows& x, int64_t lk, const float* w, int64_t ldw,
                          const float* mult, const OutRows& out, int64_t i0) {
  using V = RowVec<D>;
  constexpr int DV = D / V::lanes;
  typename V::T acc[R][DV];
  for (int r = 0; r < R; ++r)
    for (int d = 0; d < DV; ++d) acc[r][d] = V::zero();
  for (int64_t j = 0; j < lk; ++j) {
    const float* xj = x.at(j);
    typename V::T xv[DV];
    for (int d = 0; d < DV; ++d) xv[d] = V::load(xj + V::lanes * d);
    for (int r = 0; r < R; ++r) {
      const typename V::T wj = V::set1(w[r * ldw + j]);
      for (int d = 0; d < DV; ++d) acc[r][d] = V::fmadd(wj, xv[d], acc[r][d]);
    }
  }
  for (int r = 0; r < R; ++r) {
    const typename V::T m = V::set1(mult[r]);
    float* o = out.at(i0 + r);
    for (int d = 0; d < DV; ++d) V::store(o + V::lanes * d, V::mul(acc[r][d], m));
  }
}

// acc (lk, D), row j += sum_r w[r * ldw + j] rows[r], for the backward's dK and dV.
template <int D, int R>
inline void accumulate_outer(float* acc, int64_t lk, const float* w, int64_t ldw,
                             const float (&rows)[R][D]) {
  static_assert(D % 8 == 0, "the backward takes head dims that are multiples of 8");
  using V = RowVec<D>;
  constexpr int DV = D / V::lanes;
  typename V::T rv[R][DV];
  for (int r = 0; r < R; ++r)
    for (int d = 0; d < DV; ++d) rv[r][d] = V::load(rows[r] + V::lanes * d);
  for (int64_t j = 0; j < lk; ++j) {
    float* aj = acc + j * D;
    typename V::T a[DV];
    for (int d = 0; d < DV; ++d) a[d] = V::load(aj + V::lanes * d);
    for (int r = 0; r < R; ++r) {
      const typename V::T wj = V::set1(w[r * ldw + j]);
      for (int d = 0; d < DV; ++d) a[d] = V::fmadd(wj, rv[r][d], a[d]);
    }
    for (int d = 0; d < DV; ++d) V::store(aj + V::lanes * d, a[d]);
  }
}

// ------------------------------------------------------------------------------ forward
// R query rows starting at row i0 of one slice. kt: (D, ldk) transposed keys, zero-padded,
// ldk a multiple of 16; scores: R * ldk floats of scratch.
template <int D, int R>
void row_group(const Slice& s, int64_t i0, int64_t lk, int64_t ldk, const float* kt,
               float* scores, float scale_log2e, const KeyMask* tail) {
  using V = KeyVec;
  const int64_t vectors = ldk / V::lanes;
  float qs[R][D];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < D; ++c) qs[r][c] = s.q.at(i0 + r)[c] * scale_log2e;

  // scores, already in log2 units, and their row max
  float row_max[R];
  row_scores<D, R, true>(qs, kt, ldk, scores, tail, row_max);

  // p = 2^(score - max), row sums; the last block's padding lanes are zeroed
  float inv_sum[R];
  for (int r = 0; r < R; ++r) {
    const V::T m = V::set1(row_max[r]);
    float* sr = scores + r * ldk;
    V::T sum[2] = {V::zero(), V::zero()};
    for (int64_t i = 0; i < vectors; ++i) {
      V::T p = V::exp2_nonpositive(V::sub(V::load(sr + V::lanes * i), m));
      const int64_t in_tail = i - (vectors - kPerBlock);
      if (in_tail >= 0) p = V::keep(tail[in_tail], p);
      V::store(sr + V::lanes * i, p);
      sum[i & 1] = V::add(sum[i & 1], p);
    }
    const float total = V::hsum(V::add(sum[0], sum[1]));
    inv_sum[r] = 1.0f / total;
    if (s.lse != nullptr) s.lse[i0 + r] = row_max[r] + std::log2(total);
  }

  weighted_rows<D, R>(s.v, lk, scores, ldk, inv_sum, s.out, i0);
}

// Rows per group: enough to reuse each loaded key block, few enough that the output
// accumulators (R * D / lanes) stay in the vector registers: 16 of 8 lanes with AVX2, 32
// of 16 lanes with AVX-512.
template <int D>
constexpr int rows_per_group() {
  if (kIsa == 512) return D <= 32 ? 8 : 4;
  return D <= 16 ? 4 : (D <= 32 ? 2 : 1);
}

template <int D>
void run_slices(const std::vector<Slice>& slices, int64_t begin, int64_t end, int64_t lq,
                int64_t lk, float scale_log2e) {
  constexpr int R = rows_per_group<D>();
  const int64_t ldk = (lk + 15) / 16 * 16;
  std::vector<float> kt(static_cast<size_t>(D * ldk), 0.0f);
  std::vector<float> scores(static_cast<size_t>(R * ldk), 0.0f);
  KeyMask tail[kPerBlock];
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
  using V = KeyVec;
  const int64_t vectors = ldk / V::lanes;
  for (int r = 0; r < R; ++r) {
    const V::T lse = V::set1(s.lse[i0 + r]);
    const V::T dr = V::set1(delta[r]);
    float* pr = p + r * ldk;
    float* dsr = ds + r * ldk;
    for (int64_t i = 0; i < vectors; ++i) {
      const V::T pv = V::exp2_nonpositive(V::sub(V::load(pr + V::lanes * i), lse));
      V::store(pr + V::lanes * i, pv);
      V::store(dsr + V::lanes * i, V::mul(pv, V::sub(V::load(dsr + V::lanes * i), dr)));
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

// The vector width this build was compiled for: 2 (AVX2, 8 lanes) or 512 (AVX-512, 16).
int dualpose_cpu_attention_isa() { return kIsa; }

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
