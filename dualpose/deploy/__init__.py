"""Deployment: the whole lifter exported to ONNX (dynamic batch and frames, metadata that ties
the file to its config), an ONNX Runtime backend the inference API and ``tools/test.py`` use
transparently, and reduced precision (bf16 autocast where the CPU has it, int8 dynamic
quantisation in torch and ONNX Runtime), and fp32 through oneDNN's prepacked linear layers
(``backend='onednn'``). See docs/deployment.md."""
from .backends import (BACKENDS, OrtBackend, attach_backend, cached_onnx, describe_backend,
                       onnx_cache_dir)
from .onnx_export import (OPSET, ExportError, check_onnx_metadata, export_onnx,
                          export_problems, model_identity, read_onnx_metadata)
from .onednn import OneDNNBackend, onednn_available, packed_copy
from .ort import import_onnxruntime, ort_session
from .precision import (PRECISIONS, TorchPrecisionBackend, bf16_supported, quantized_copy,
                        resolve_precision)

__all__ = [
    'BACKENDS', 'OrtBackend', 'attach_backend', 'cached_onnx', 'describe_backend',
    'onnx_cache_dir', 'OPSET', 'ExportError', 'check_onnx_metadata', 'export_onnx',
    'export_problems', 'model_identity', 'read_onnx_metadata', 'import_onnxruntime',
    'ort_session', 'PRECISIONS', 'TorchPrecisionBackend', 'bf16_supported', 'quantized_copy',
    'resolve_precision', 'OneDNNBackend', 'onednn_available', 'packed_copy'
]
