"""Reduced precision for inference, one option: ``precision='fp32' | 'bf16' | 'int8'``.

- ``'bf16'``: ``torch.autocast`` to bfloat16 around the backbone and heads, only where the
  device computes bf16 natively (:func:`bf16_supported`: on a CPU, AVX512-BF16 or AMX, asked
  at run time); elsewhere fp32 runs, said in exactly one log line;
- ``'int8'``: the linear layers dynamically quantised (int8 weights, activations quantised
  per batch): in torch :func:`quantized_copy` (``torch.ao.quantization.quantize_dynamic``),
  in ONNX Runtime ``onnxruntime.quantization.quantize_dynamic`` on the exported graph
  (:func:`dualpose.deploy.onnx_export.quantize_onnx`).
"""
import copy
import warnings
from typing import Optional

import torch
import torch.nn as nn

PRECISIONS = ('fp32', 'bf16', 'int8')


def _log(message: str) -> None:
    """The one log line of a precision decision (a function of its own, so tests count it)."""
    from mmengine.logging import print_log
    print_log(message, logger='current')


def bf16_supported(device: str = 'cpu') -> bool:
    """Whether bf16 autocast runs natively on ``device`` (asked at run time; tests
    monkeypatch this function to take both branches)."""
    kind = torch.device(device).type
    if kind == 'cuda':
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if kind != 'cpu':
        return False
    from dualpose.utils.cpu_features import cpu_has_native_bf16
    return cpu_has_native_bf16()


def check_precision(precision: str, where: str = 'precision') -> str:
    if precision not in PRECISIONS:
        raise ValueError(f'{where} must be one of {PRECISIONS}, got {precision!r}')
    return precision


def resolve_precision(precision: str, device: str = 'cpu') -> str:
    """The precision that will run: ``precision``, except ``'bf16'`` where the device has no
    native bf16, which runs ``'fp32'`` (logged once, here)."""
    check_precision(precision)
    if precision == 'bf16' and not bf16_supported(device):
        from dualpose.utils.cpu_features import describe_cpu_flags
        detail = (f'CPU flags: {describe_cpu_flags()}' if torch.device(device).type == 'cpu'
                  else f'device {device}')
        _log(f"precision='bf16' asked for, but {device} has no native bfloat16 "
             f'(AVX512-BF16 / AMX on a CPU; {detail}): running fp32 instead')
        return 'fp32'
    if precision == 'int8' and torch.device(device).type != 'cpu':
        raise ValueError(f"precision='int8' (dynamic quantisation) runs on the CPU; the model "
                         f'is on {device}')
    return precision


# ------------------------------------------------------------------------------ int8 torch
def fold_layer_scales(model: nn.Module) -> int:
    """Fold each MetaFormer block's layer scale into the last linear layer of the branch that
    takes it (``takes_out_scale``: attention's ``proj``, the MLP's ``fc2``), in place, and
    drop the scale: the same function, computed by plain ``nn.Linear`` calls (which
    quantisation replaces; the folded path reads ``.weight``). Returns the scales folded."""
    from dualpose.models.layers.metaformer import MetaFormerBlock
    folded = 0
    for block in model.modules():
        if not isinstance(block, MetaFormerBlock) or not block.fold_layer_scale:
            continue
        for scale_name, branch in (('ls1', block.mixer), ('ls2', block.mlp)):
            scale = getattr(block, scale_name)
            if scale is None or not getattr(branch, 'takes_out_scale', False):
                continue
            linear = branch.proj if hasattr(branch, 'proj') else branch.fc2
            with torch.no_grad():
                linear.weight.mul_(scale.detach().unsqueeze(1))
                if linear.bias is not None:
                    linear.bias.mul_(scale.detach())
            delattr(block, scale_name)
            setattr(block, scale_name, None)
            folded += 1
    return folded


# Modules kept in fp32 by int8 quantisation (torch and ONNX Runtime alike): the input
# embedding (3 input channels: its int8 activations would be the raw coordinates) and the
# regression heads. Measured on the shipped tiny checkpoint, 96 test clips, ONNX Runtime:
# quantising only the head's two layers costs as much as all the other layers together,
# the embedding a third as much (mean joint distance from fp32, normalised units: 0.0064
# everything, 0.0026 all but the heads, 0.0017 all but heads and embedding); together they
# hold under 1% of the B model's multiply-adds.
FP32_MODULES = ('backbone.embed', 'head', 'traj_head')


def kept_fp32(name: str) -> bool:
    """Whether the module ``name`` (a path in the lifter) lies in :data:`FP32_MODULES`."""
    return any(name == m or name.startswith(m + '.') for m in FP32_MODULES)


def sliced_linears(model: nn.Module) -> set:
    """ids of the ``nn.Linear`` modules whose weight a module reads in slices (the adaptive
    fusion's 2-output gate): no replacement of a linear layer may take them."""
    from dualpose.models.layers.fusion import AdaptiveFusion
    return {id(m) for f in model.modules() if isinstance(f, AdaptiveFusion)
            for m in f.modules()}


def quantizable_linears(model: nn.Module) -> set:
    """Names of the ``nn.Linear`` modules that dynamic quantisation replaces: all but those
    of :data:`FP32_MODULES` and those of :func:`sliced_linears`."""
    kept = sliced_linears(model)
    return {name for name, m in model.named_modules()
            if isinstance(m, nn.Linear) and id(m) not in kept and not kept_fp32(name)}


def inference_copy(model: nn.Module) -> nn.Module:
    """A CPU copy of ``model`` in eval mode with its layer scales folded into the layers
    they scale (:func:`fold_layer_scales`) and its attention on the compiled CPU kernel
    (``attn_impl='fused'``: the same values as SDPA, about half its time in the B model; it
    falls back to SDPA, with one log line, where the kernel cannot run), for a backend to
    rewrite; the original and its attached backend are untouched."""
    backend = getattr(model, 'deploy_backend', None)
    try:
        if backend is not None:   # not copied along
            model.deploy_backend = None
        clone = copy.deepcopy(model).cpu().eval()
    finally:
        if backend is not None:
            model.deploy_backend = backend
    fold_layer_scales(clone)
    from dualpose.models.layers.attention import MultiHeadSelfAttention
    for m in clone.modules():
        if isinstance(m, MultiHeadSelfAttention):
            m.attn_impl = 'fused'
    return clone


def quantized_copy(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with its linear layers dynamically quantised to int8
    (``torch.ao.quantization.quantize_dynamic``; weights per output channel, activations per
    call), layer scales folded first (:func:`inference_copy`). The original is untouched.
    CPU only."""
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic
    clone = inference_copy(model)
    names = quantizable_linears(clone)
    if 'fbgemm' in torch.backends.quantized.supported_engines:
        torch.backends.quantized.engine = 'fbgemm'
    # per output channel: folded layer scales give the rows of one weight very different
    # ranges, which a single scale per tensor would crush
    with warnings.catch_warnings():   # torch marks eager-mode quantisation deprecated
        warnings.filterwarnings('ignore', category=DeprecationWarning)
        warnings.filterwarnings('ignore', message='.*quantize_per_channel.*')
        return quantize_dynamic(clone, dtype=torch.qint8,
                                qconfig_spec={n: per_channel_dynamic_qconfig for n in names})


class TorchPrecisionBackend:
    """What :class:`~dualpose.models.PoseLifter` runs for its tensors in reduced precision:
    ``'bf16'`` (autocast around the model's own modules) or ``'int8'`` (a quantised copy).
    Outputs are float32."""

    backend = 'torch'

    def __init__(self, model: nn.Module, precision: str):
        if precision not in ('bf16', 'int8'):
            raise ValueError(f"TorchPrecisionBackend runs 'bf16' or 'int8', got {precision!r}")
        self.precision = precision
        self.module = quantized_copy(model) if precision == 'int8' else model
        self.description = ('torch bf16 autocast' if precision == 'bf16' else
                            'torch int8 (linear layers dynamically quantised)')

    def __call__(self, inputs: torch.Tensor, with_trajectory: bool = True,
                 root_index: int = 0):
        if self.precision == 'bf16':
            with torch.autocast(device_type=inputs.device.type, dtype=torch.bfloat16):
                pose, traj = self.module.heads_forward(inputs, with_trajectory, root_index)
        else:
            pose, traj = self.module.heads_forward(inputs.cpu(), with_trajectory, root_index)
        return pose.float().to(inputs.device), \
            None if traj is None else traj.float().to(inputs.device)


def torch_backend(model: nn.Module, precision: str, device: Optional[str] = None):
    """The backend for ``precision`` (None for fp32, and for bf16 where it falls back)."""
    device = device or str(next(model.parameters()).device)
    run = resolve_precision(precision, device)
    return None if run == 'fp32' else TorchPrecisionBackend(model, run)
