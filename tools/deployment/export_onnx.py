"""Export a lifter (backbone and heads, one graph, dynamic batch and frames) to ONNX.

    .venv/bin/python tools/deployment/export_onnx.py CONFIG CHECKPOINT --out FILE
        [--opset 17] [--int8] [--cfg-options key=value ...]

Input ``inputs`` (B, T, J, 3): normalised 2D and confidence; outputs ``pose`` (B, T, J, 3), the
head's, and with a trajectory head ``trajectory`` (B, T, 3). ``attn_impl='fused'`` layers are
exported as SDPA (same values). Before writing, every module the forward calls must have an
export path (else each is named), and ONNX Runtime must reproduce torch on two batch sizes
and frame counts within 1e-4. ``--int8`` then quantises the matrix products dynamically
(onnxruntime.quantization.quantize_dynamic). The file's metadata names the config (hash and
architecture), J, channels, weights and dualpose version: ``init_model(config, checkpoint,
backend='onnxruntime', onnx_file=FILE)`` and ``tools/test.py --backend onnxruntime
--onnx-file FILE`` refuse a file of another model. See docs/deployment.md.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def parse_args(argv=None):
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description='Export a dualpose lifter to ONNX')
    p.add_argument('config', help='model config file')
    p.add_argument('checkpoint', help='weights (.pth)')
    p.add_argument('--out', required=True, help='the ONNX file to write')
    p.add_argument('--opset', type=int, default=None, help='ONNX opset (default 17)')
    p.add_argument('--int8', action='store_true',
                   help='dynamically quantise the matrix products to int8 (ONNX Runtime)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default=None,
                   help='override config settings, e.g. model.test_cfg.flip_test=False')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from dualpose.deploy import OPSET, ExportError, export_onnx
    from dualpose.apis import init_model
    opset = OPSET if args.opset is None else args.opset
    if opset < 14:
        sys.exit(f'error: --opset {opset}: the graph needs opset 14 or later (17 is tested)')
    for what, path in (('config', args.config), ('checkpoint', args.checkpoint)):
        if not osp.isfile(path):
            sys.exit(f'error: {what} {path!r} does not exist')
    if not args.out.endswith('.onnx'):
        sys.exit(f'error: --out must name a .onnx file, got {args.out!r}')
    try:
        model = init_model(args.config, args.checkpoint, cfg_options=args.cfg_options)
        meta = export_onnx(model, args.out, opset=opset, int8=args.int8,
                           checkpoint=args.checkpoint)
    except (ExportError, ValueError, KeyError, TypeError, ImportError, OSError) as err:
        sys.exit(f'error: {err}')

    def get(key):
        return meta['dualpose.' + key]
    frames = f'T >= {get("min_frames")}' + (f', T <= {get("max_frames")}' if get('max_frames')
                                            else '')
    print(f'wrote {args.out} ({osp.getsize(args.out) / 2 ** 20:.2f} MiB): {get("architecture")}')
    print(f'  precision {get("precision")}, opset {get("opset")}, outputs {get("outputs")}, '
          f'dynamic batch and frames ({frames}); model hash {get("model_hash")}, weights '
          f'{get("weights")}, dualpose {get("version")}')
    return meta


if __name__ == '__main__':
    main()
