// Python binding of the fused attention forward kernel (fused_attention_kernel.cu).
#include <torch/extension.h>

#include <limits>

at::Tensor fused_attention_forward_cuda(const at::Tensor& q, const at::Tensor& k,
                                        const at::Tensor& v, double scale);

namespace {
constexpr int64_t kMaxHeadDim = 64;

at::Tensor fused_attention_forward(const at::Tensor& q, const at::Tensor& k,
                                   const at::Tensor& v, double scale) {
  TORCH_CHECK(q.is_cuda() && k.is_cuda() && v.is_cuda(),
              "fused_attention: q, k and v must be CUDA tensors");
  TORCH_CHECK(q.dim() == 3, "fused_attention: expected q of shape (batch*heads, N, D), got ",
              q.sizes());
  TORCH_CHECK(k.sizes() == q.sizes() && v.sizes() == q.sizes(),
              "fused_attention: q, k and v must share one shape (self-attention), got ",
              q.sizes(), ", ", k.sizes(), ", ", v.sizes());
  TORCH_CHECK(k.scalar_type() == q.scalar_type() && v.scalar_type() == q.scalar_type(),
              "fused_attention: q, k and v must share one dtype");
  TORCH_CHECK(q.size(2) >= 1 && q.size(2) <= kMaxHeadDim,
              "fused_attention: head dim must be in [1, 64], got ", q.size(2));
  TORCH_CHECK(q.size(1) <= std::numeric_limits<int>::max(), "fused_attention: N too large");
  return fused_attention_forward_cuda(q.contiguous(), k.contiguous(), v.contiguous(), scale);
}
}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &fused_attention_forward,
        "softmax(q k^T * scale) v for (batch*heads, N, D) tensors, D <= 64 (CUDA)",
        py::arg("q"), py::arg("k"), py::arg("v"), py::arg("scale"));
}
