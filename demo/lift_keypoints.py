"""Lift a 2D keypoint file (one person's video) to 3D; write the result and pictures of it.

    .venv/bin/python demo/lift_keypoints.py demo/samples/synthetic_walking_coco17.json --fps 50

Input: COCO keypoints (annotation file or detector results), MMPose predictions, AlphaPose
results, or .npy/.npz (see ``dualpose/keypoints/readers.py``); COCO-17, Halpe-26 or H36M-17
joints, converted to H36M-17. Output, in ``--out-dir`` (default ``work_dirs/demo``), named after
the input file:

    <name>_3d.npz / <name>_3d.json   root-relative 3D (T, 17, 3) in normalised screen units and
                                     in pixels, the 2D input, confidences, which joints were
                                     filled in, the units, the skeleton
    <name>_frames.png                2D input and 3D skeleton for a few frames (--frames)
    <name>.gif, <name>.mp4           animation, 2D input beside 3D (MP4 when OpenCV can write
                                     it; --no-anim to skip)

Every file is written under a temporary name and renamed only once all of them are complete:
a failure leaves no partial output under the final names.

Live lifting, with a causal model (``--config`` of a ``*-causal_*`` config and its weights):

    --online        lift the file one frame at a time (dualpose.apis.LiftingStream), as a
                    live source would deliver it, and print the per-frame latency p50 / p99
    -  (as input)   read JSON lines of 2D keypoints from standard input, write JSON lines of
                    3D to standard output, one per frame as it arrives (needs --image-size):
                    in  {"keypoints": [[x, y, score], ...]}        (J joints, pixels)
                        or {"keypoints": [[[x, y, s], ...], ...]} with --tracks P people
                    out {"frame": 0, "keypoints_3d": [[x, y, z], ...], "latency_ms": 1.9,
                         "units": "..."}   (a "frame_id" given in the input is echoed)
"""
import argparse
import json
import math
import os
import os.path as osp
import sys
import time

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

DEFAULT_CONFIG = 'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py'
DEFAULT_CHECKPOINT = 'demo/checkpoints/dualpose-tiny_synthetic-27f.pth'


def parse_args(argv=None):
    from mmengine.config import DictAction

    from dualpose.keypoints import JOINT_SETS, available_formats
    p = argparse.ArgumentParser(description='Lift 2D keypoints of one person to 3D')
    p.add_argument('input', help="keypoint file (.json, .npy, .npz), or '-' for JSON lines on "
                                 'standard input (live; needs a causal model)')
    p.add_argument('--config', default=osp.join(REPO_ROOT, DEFAULT_CONFIG),
                   help=f'model config (default: {DEFAULT_CONFIG})')
    p.add_argument('--checkpoint', default=osp.join(REPO_ROOT, DEFAULT_CHECKPOINT),
                   help=f'model weights (default: {DEFAULT_CHECKPOINT}, trained on the '
                        'SYNTHETIC data)')
    p.add_argument('--out-dir', default='work_dirs/demo', help='output folder')
    p.add_argument('--format', default='auto', choices=('auto', ) + available_formats(),
                   help='input format (default: detected from the file)')
    p.add_argument('--joints', choices=sorted(JOINT_SETS), default=None,
                   help='joint set of the file (default: from the file or its joint count)')
    p.add_argument('--converter', default=None,
                   help='a registered keypoint converter type instead of --joints, e.g. '
                        'Coco17ToH36m')
    p.add_argument('--image-size', type=float, nargs=2, metavar=('W', 'H'),
                   help='image size in pixels (needed when the file does not state it)')
    p.add_argument('--track-id', type=int, default=None,
                   help='the person to lift when the file has track ids')
    p.add_argument('--frames', type=int, nargs='+', default=None,
                   help='frames for the picture (default: 4 spread over the sequence)')
    p.add_argument('--fps', type=float, default=30.0,
                   help='frame rate of the input video, for the animation (default 30)')
    p.add_argument('--anim-max-frames', type=int, default=250,
                   help='animate every k-th frame so that at most this many are drawn (250)')
    p.add_argument('--no-anim', action='store_true', help='skip the GIF/MP4 animation')
    p.add_argument('--no-flip', action='store_true', help='no flip averaging')
    p.add_argument('--units', choices=['pixels', 'normalised'], default='pixels',
                   help='units of the pictures and animation, 2D and 3D alike, written on '
                   'their axes: pixels (default; 3D depth at the same pixel scale) or the '
                   "model's normalised screen units (pixels / (image width / 2))")
    p.add_argument('--stride', type=int, default=None,
                   help='window step for long sequences (default: half a window)')
    p.add_argument('--device', default='cpu', help='cpu or cuda:0')
    p.add_argument('--online', action='store_true',
                   help='lift frame by frame with a causal model (dualpose.apis.LiftingStream) '
                        'and report the per-frame latency p50 / p99')
    p.add_argument('--backend', choices=['torch', 'onnxruntime'], default='torch',
                   help='--online and live input: run the per-frame pass in torch (default) or '
                        'exported to ONNX Runtime (faster for one frame; needs onnxruntime)')
    p.add_argument('--tracks', type=int, default=1,
                   help="live input ('-'): people per line, lifted as one batch (default 1)")
    p.add_argument('--no-progress', action='store_true', help='no progress bars')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default=None,
                   help='override config settings, e.g. '
                        'model.backbone.transformer_stream.attn_impl=fused (the AVX2 CPU '
                        'attention kernel: faster on CPU, same result)')
    return p.parse_args(argv)


def _rounded(a: np.ndarray, digits: int = 5):
    """Nested lists of rounded floats; NaN and infinite values become None (JSON ``null``),
    so the file is strict JSON."""
    a = np.round(np.asarray(a, dtype=np.float64), digits)
    if np.isfinite(a).all():
        return a.tolist()
    return np.where(np.isfinite(a), a, None).tolist()


def resolve_joint_set(args, seq) -> str:
    from dualpose.keypoints import JOINT_SETS
    if args.converter:
        return args.converter
    joint_set = args.joints or seq.joint_set
    if joint_set is None:
        raise ValueError(f'{seq.path}: cannot tell the joint set of {seq.keypoints.shape[1]} '
                         f'joints; pass --joints ({", ".join(JOINT_SETS)})')
    return joint_set


def lift_online(model, keypoints, scores, image_size, converter, flip_test: bool,
                backend: str = 'torch'):
    """Lift (T, J, 2) keypoints one frame at a time; returns (T, J, 3) in normalised screen
    units and the per-frame latencies in ms (the push of each frame, model and checks). A
    model with look-ahead L returns each pose L frames later; the last L come from the
    stream's ``flush`` at the end."""
    from dualpose.apis import LiftingStream
    from dualpose.utils.timer import time_call
    stream = LiftingStream(model, image_size, flip_test=flip_test, converter=converter,
                           backend=backend)
    poses, latencies = [], []
    for t in range(len(keypoints)):
        wall, _ = time_call(lambda: poses.append(stream.push(keypoints[t], scores[t])))
        latencies.append(1e3 * wall)
    poses = [p for p in poses if p is not None] + stream.flush()
    return np.stack(poses), np.asarray(latencies)


def latency_line(latencies_ms: np.ndarray) -> str:
    p50, p99 = np.percentile(latencies_ms, [50, 99])
    return (f'per-frame latency over {len(latencies_ms)} frames: p50 {p50:.2f} ms, p99 '
            f'{p99:.2f} ms (first frame {latencies_ms[0]:.2f} ms)')


def run_live(args, stdin=None, stdout=None) -> int:
    """JSON lines of 2D keypoints in, JSON lines of 3D out, frame by frame."""
    from dualpose.apis import LiftingStream, init_model
    from dualpose.apis.inference import UNITS
    from dualpose.utils.timer import time_call
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    if not args.image_size:
        raise ValueError("live input ('-') needs --image-size W H (pixels of the video)")
    model = init_model(args.config, args.checkpoint, device=args.device,
                       cfg_options=args.cfg_options)
    converter = args.converter or args.joints
    stream = LiftingStream(model, args.image_size, num_tracks=args.tracks,
                           flip_test=not args.no_flip, converter=converter,
                           backend=args.backend)
    latencies, frame_ids = [], []

    def emit(pose, latency_ms=None):
        # a model with look-ahead answers for the frame stream.delay frames back
        frame, frame_id = frame_ids.pop(0)
        out = dict(frame=frame, keypoints_3d=_rounded(pose), units=UNITS)
        if latency_ms is not None:
            out['latency_ms'] = round(latency_ms, 3)
        if frame_id is not None:
            out['frame_id'] = frame_id
        stdout.write(json.dumps(out, separators=(',', ':'), allow_nan=False) + '\n')
        stdout.flush()

    for number, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f'standard input, line {number}: not JSON ({err.msg})') from None
        if isinstance(item, list):
            item = dict(keypoints=item)
        if not isinstance(item, dict) or 'keypoints' not in item:
            raise ValueError(f'standard input, line {number}: expected {{"keypoints": '
                             f'[[x, y, score], ...]}}, got {line.strip()[:80]!r}')
        box = []
        wall, _ = time_call(lambda: box.append(stream.push(item['keypoints'])))
        latencies.append(1e3 * wall)
        frame_ids.append((stream.frames - 1, item.get('frame_id')))
        if box[0] is not None:
            emit(box[0], 1e3 * wall)
    for pose in stream.flush():  # the frames a look-ahead model still owes at the end
        emit(pose)
    if latencies:
        print(latency_line(np.asarray(latencies)), file=sys.stderr)
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.input == '-':
        try:
            return run_live(args)
        except (ValueError, KeyError, TypeError, OSError, RuntimeError) as err:
            print(f'error: {err}', file=sys.stderr)
            return 1
    start = time.perf_counter()
    from dualpose.utils.fileio import StagedFiles
    staged = StagedFiles()
    animation = None
    try:
        written = run(args, staged)
        animation = written.pop('_animation', None)
        staged.commit()   # npz, json, png, gif, mp4: one set, all or none
    except BaseException as err:
        staged.abort()
        if animation is not None:
            animation.abort()
        if not isinstance(err, (ValueError, KeyError, TypeError, OSError, RuntimeError)):
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f'error: {message}', file=sys.stderr)
        return 1
    print(f'lifted {written["frames"]} frames in {time.perf_counter() - start:.1f} s; wrote:')
    for path in written['files']:
        print(f'  {path}')
    return 0


def run(args, staged) -> dict:
    """Everything up to, not including, the renames into place. Writes each file to its
    temporary path in ``staged`` (a ``StagedFiles``); returns what was made."""
    from dualpose.apis import inference_lifting, init_model
    from dualpose.apis.inference import prepare_lifting
    from dualpose.keypoints import H36M_JOINTS, build_converter, read_keypoints
    from dualpose.visualization import (AnimationWriter, SkeletonAnimator, default_frames,
                                        draw_lifting)
    from tqdm import tqdm

    from dualpose.keypoints import check_image_size
    from dualpose.utils.fileio import check_writable
    if args.image_size:
        check_image_size(args.image_size, '--image-size')
    stem = osp.splitext(osp.basename(args.input))[0]
    out = {k: osp.join(args.out_dir, f'{stem}{suffix}') for k, suffix in (
        ('npz', '_3d.npz'), ('json', '_3d.json'), ('png', '_frames.png'), ('gif', '.gif'),
        ('mp4', '.mp4'))}
    for key, path in out.items():   # before the long work: every output can be written
        if key in ('gif', 'mp4') and args.no_anim:
            continue
        check_writable(path, f'--out-dir output ({key})')
    seq = read_keypoints(args.input, args.format, args.track_id)
    converter = build_converter(resolve_joint_set(args, seq))
    image_size = tuple(args.image_size) if args.image_size else seq.image_size
    if image_size is None:
        raise ValueError(f'{args.input}: the file does not state the image size; pass '
                         '--image-size W H (pixels of the video the keypoints come from)')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'checkpoint {args.checkpoint!r} does not exist. The shipped one is '
            f'{DEFAULT_CHECKPOINT}; or train the tiny model with `.venv/bin/python tools/train.py '
            'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py` and pass --checkpoint '
            'work_dirs/dualpose-tiny_synthetic-27f/epoch_5.pth')
    model = init_model(args.config, args.checkpoint, device=args.device,
                       cfg_options=args.cfg_options)
    num_frames = len(seq)
    frames = args.frames if args.frames is not None else default_frames(num_frames, 4)
    bad = [f for f in frames if not 0 <= f < num_frames]
    if bad:
        raise ValueError(f'--frames {bad} out of range: the input has {num_frames} frames')
    if args.online:  # the same result record, its poses lifted frame by frame
        result = prepare_lifting(model.dataset_meta, seq.keypoints, image_size, seq.scores,
                                 converter)
        result.keypoints_3d, latencies = lift_online(
            model, seq.keypoints, seq.scores, image_size, converter, not args.no_flip,
            args.backend)
        print(latency_line(latencies))
    else:
        result = inference_lifting(model, seq.keypoints, image_size, seq.scores, converter,
                                   flip_test=not args.no_flip, stride=args.stride,
                                   progress=not args.no_progress)

    meta = model.dataset_meta
    links, flip_pairs = meta['skeleton_links'], meta['flip_pairs']
    os.makedirs(args.out_dir, exist_ok=True)

    arrays = dict(
        keypoints_3d=result.keypoints_3d, keypoints_3d_pixels=result.keypoints_3d_pixels(),
        keypoints_2d=result.keypoints_2d, scores=result.scores, filled=result.filled,
        image_size=np.asarray(result.image_size, dtype=np.float32),
        frame_ids=np.asarray([str(f) for f in seq.frame_ids]),
        joint_names=np.asarray(H36M_JOINTS), skeleton_links=np.asarray(links),
        units=np.asarray(result.units))
    with open(staged.path(out['npz']), 'wb') as f:
        np.savez(f, **arrays)
    record = dict(
        input=args.input, format=seq.source_format, joint_set=str(converter.source),
        converter=type(converter).__name__, config=args.config, checkpoint=args.checkpoint,
        image_size=list(result.image_size), num_frames=num_frames, units=result.units,
        joint_names=list(H36M_JOINTS), skeleton_links=[list(x) for x in links],
        root_index=result.root_index, frame_ids=[str(f) for f in seq.frame_ids],
        keypoints_3d=_rounded(result.keypoints_3d),
        keypoints_3d_pixels=_rounded(result.keypoints_3d_pixels(), 2),
        keypoints_2d=_rounded(result.keypoints_2d, 2), scores=_rounded(result.scores, 3),
        filled=result.filled.astype(int).tolist())
    with open(staged.path(out['json']), 'w') as f:
        json.dump(record, f, separators=(',', ':'), allow_nan=False)

    import cv2
    if args.units == 'pixels':
        units, shown_2d, shown_3d = 'pixels', result.keypoints_2d, result.keypoints_3d_pixels()
    else:
        units, shown_2d, shown_3d = 'normalised units', result.inputs[..., :2], \
            result.keypoints_3d
    picture = draw_lifting(links, flip_pairs, pred=shown_3d, units=units,
                           inputs_2d=shown_2d, frames=frames,
                           title=f'{osp.basename(args.input)}: 2D input and lifted 3D',
                           panel_inches=2.8, frames_as_columns=True)
    if not cv2.imwrite(staged.path(out['png']), np.ascontiguousarray(picture[..., ::-1])):
        raise RuntimeError(f'could not write {out["png"]}')

    made = {'frames': num_frames, 'files': [out['npz'], out['json'], out['png']]}
    if not args.no_anim:
        step = max(1, math.ceil(num_frames / max(args.anim_max_frames, 1)))
        animator = SkeletonAnimator(shown_2d, shown_3d, links, flip_pairs, units=units,
                                    undetected=result.filled, title=osp.basename(args.input))
        writer = AnimationWriter(out['gif'], out['mp4'], fps=min(args.fps / step, 50.0),
                                 files=staged)
        made['_animation'] = writer
        try:
            for t in tqdm(range(0, num_frames, step), desc='drawing', unit='frame',
                          disable=args.no_progress):
                writer.add(animator.render(t))
            made['files'] += list(writer.close())
        except BaseException:
            writer.abort()
            raise
    return made


if __name__ == '__main__':
    sys.exit(main())
