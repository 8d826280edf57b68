// Fused self-attention forward: out = softmax(q k^T * scale) v, one kernel, no N x N matrix.
//
// Layout: q, k, v, out are contiguous (BH, N, D) with BH = batch * heads and D <= 64.
// Grid: x = BH, y = ceil(N / kRowsPerBlock). Each warp owns one query row. The block walks the
// keys in tiles of 32 staged in shared memory; within a tile lane j scores key j, the warp
// updates the row's running max and sum (online softmax), and each lane accumulates output
// channels lane and lane + 32. Arithmetic is in float32 for every input dtype.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include <cuda_runtime.h>
#include <limits>
#include <math_constants.h>

namespace {

constexpr int kWarpSize = 32;
constexpr int kTile = kWarpSize;  // keys per shared-memory tile: one per lane
constexpr int kMaxHeadDim = 2 * kWarpSize;  // two output channels per lane
constexpr int kRowsPerBlock = 8;  // warps per block, one query row each
constexpr unsigned kFullMask = 0xffffffffu;

__device__ __forceinline__ float warp_max(float x) {
  for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) {
    x = fmaxf(x, __shfl_xor_sync(kFullMask, x, offset));
  }
  return x;
}

__device__ __forceinline__ float warp_sum(float x) {
  for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) {
    x += __shfl_xor_sync(kFullMask, x, offset);
  }
  return x;
}

template <typename scalar_t>
__global__ void __launch_bounds__(kWarpSize * kRowsPerBlock)
fused_attention_forward_kernel(const scalar_t* __restrict__ q, const scalar_t* __restrict__ k,
                               const scalar_t* __restrict__ v, scalar_t* __restrict__ out,
                               int n, int d, float scale) {
  // +1 column: lane j reads row j of the key tile, a stride of 65 words avoids bank conflicts
  __shared__ float k_tile[kTile][kMaxHeadDim + 1];
  __shared__ float v_tile[kTile][kMaxHeadDim];
  __shared__ float q_rows[kRowsPerBlock][kMaxHeadDim];

  const int warp = threadIdx.x / kWarpSize;
  const int lane = threadIdx.x % kWarpSize;
  const int64_t base = static_cast<int64_t>(blockIdx.x) * n * d;
  const int row = blockIdx.y * kRowsPerBlock + warp;
  const bool active = row < n;  // the same for every lane of a warp

  for (int c = lane; c < d; c += kWarpSize) {
    q_rows[warp][c] =
        active ? static_cast<float>(q[base + static_cast<int64_t>(row) * d + c]) * scale : 0.f;
  }

  float row_max = -CUDART_INF_F;
  float row_sum = 0.f;
  float acc_lo = 0.f;  // output channel lane
  float acc_hi = 0.f;  // output channel lane + 32

  for (int start = 0; start < n; start += kTile) {
    __syncthreads();  // the previous tile has been consumed (and q_rows written, first time)
    for (int idx = threadIdx.x; idx < kTile * d; idx += blockDim.x) {
      const int j = idx / d;
      const int c = idx - j * d;
      const int key = start + j;
      const bool valid = key < n;
      const int64_t off = base + static_cast<int64_t>(key) * d + c;
      k_tile[j][c] = valid ? static_cast<float>(k[off]) : 0.f;
      v_tile[j][c] = valid ? static_cast<float>(v[off]) : 0.f;
    }
    __syncthreads();
    if (!active) continue;  // every thread still meets each __syncthreads above

    const int key = start + lane;
    float score = -CUDART_INF_F;
    if (key < n) {
      float s = 0.f;
      for (int c = 0; c < d; ++c) s += q_rows[warp][c] * k_tile[lane][c];
      score = s;
    }
    // lane 0 always holds a valid key (start < n), so the tile maximum is finite
    const float new_max = fmaxf(row_max, warp_max(score));
    const float p = key < n ? __expf(score - new_max) : 0.f;
    const float correction = __expf(row_max - new_max);  // 0 on the first tile
    row_sum = row_sum * correction + warp_sum(p);
    acc_lo *= correction;
    acc_hi *= correction;
    const int tile_len = min(kTile, n - start);
    for (int j = 0; j < tile_len; ++j) {
      const float pj = __shfl_sync(kFullMask, p, j);
      if (lane < d) acc_lo += pj * v_tile[j][lane];
      if (lane + kWarpSize < d) acc_hi += pj * v_tile[j][lane + kWarpSize];
    }
    row_max = new_max;
  }

  if (active) {
    const int64_t off = base + static_cast<int64_t>(row) * d;
    const float inv = 1.f / row_sum;
    if (lane < d) out[off + lane] = static_cast<scalar_t>(acc_lo * inv);
    if (lane + kWarpSize < d) out[off + lane + kWarpSize] = static_cast<scalar_t>(acc_hi * inv);
  }
}

}  // namespace

at::Tensor fused_attention_forward_cuda(const at::Tensor& q, const at::Tensor& k,
                                        const at::Tensor& v, double scale) {
  const c10::cuda::CUDAGuard guard(q.device());
  auto out = at::empty_like(q);
  if (out.numel() == 0) return out;
  const int64_t bh = q.size(0);
  const int n = static_cast<int>(q.size(1));
  const int d = static_cast<int>(q.size(2));
  TORCH_CHECK(bh <= std::numeric_limits<int>::max(), "fused_attention: batch*heads too large");
  const dim3 grid(static_cast<unsigned>(bh), (n + kRowsPerBlock - 1) / kRowsPerBlock);
  const dim3 block(kWarpSize * kRowsPerBlock);
  auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, q.scalar_type(),
                                  "fused_attention_forward", [&] {
    fused_attention_forward_kernel<scalar_t><<<grid, block, 0, stream>>>(
        q.data_ptr<scalar_t>(), k.data_ptr<scalar_t>(), v.data_ptr<scalar_t>(),
        out.data_ptr<scalar_t>(), n, d, static_cast<float>(scale));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}
