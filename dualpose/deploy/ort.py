"""ONNX Runtime sessions, made one way for every exported graph of dualpose (the whole lifter,
:mod:`dualpose.deploy.onnx_export`; the live per-frame step, :mod:`dualpose.apis.stream`)."""
from typing import Optional

INSTALL_HINT = 'pip install onnxruntime onnx (the pins: requirements/cpu.txt)'


def import_onnxruntime(what: str = "backend='onnxruntime'"):
    """The ``onnxruntime`` module, or an ImportError saying what needs it and how to get it."""
    try:
        import onnxruntime
    except ImportError as err:
        raise ImportError(f'{what} needs the onnxruntime package ({INSTALL_HINT})') from err
    return onnxruntime


def import_onnx(what: str = 'ONNX export'):
    """The ``onnx`` module, or an ImportError saying what needs it."""
    try:
        import onnx
    except ImportError as err:
        raise ImportError(f'{what} needs the onnx package ({INSTALL_HINT})') from err
    return onnx


def ort_session(model, threads: Optional[int] = None, what: str = "backend='onnxruntime'"):
    """A CPU ``InferenceSession`` of ``model`` (a path or the serialised bytes) with
    ``threads`` intra-op threads (default: torch's ``get_num_threads()``, so both backends
    use the same cores) and one inter-op thread. Loading errors name the file."""
    import torch
    ort = import_onnxruntime(what)
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads or torch.get_num_threads())
    options.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(model, options, providers=['CPUExecutionProvider'])
    except Exception as err:  # onnxruntime raises its own exception types
        name = model if isinstance(model, str) else 'the serialised graph'
        raise RuntimeError(f'ONNX Runtime cannot load {name}: {err}') from err
