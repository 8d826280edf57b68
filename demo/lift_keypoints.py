"""Lift a 2D keypoint file (every person of a video) to 3D; write the result, pictures, a BVH
per person and an interactive viewer.

    .venv/bin/python demo/lift_keypoints.py demo/samples/synthetic_walking_coco17.json --fps 50

Input: COCO keypoints (annotation file or detector results), MMPose predictions, AlphaPose
results, or .npy/.npz (see ``dualpose/keypoints/readers.py``); COCO-17, Halpe-26 or H36M-17
joints, converted to H36M-17. Every person is lifted (track ids from the file, else a simple
tracker); ``--track-id`` picks one. The default model has a trajectory head, so the 3D is also
in millimetres in the camera frame, from the camera's intrinsics (``--focal FX FY
--principal CX CY`` pixels; a documented default from the image size otherwise, said in the
output). Output, in ``--out-dir`` (default ``work_dirs/demo``), named after the input file:

    <name>_3d.npz / <name>_3d.json   per person (P, T, ...): track_ids, keypoints_3d_camera (mm,
                                     camera frame), keypoints_3d_mm (root-relative mm),
                                     root_camera (mm), keypoints_3d (normalised units), the
                                     2D input, which frames each person is in, the units of
                                     every array, the camera, what was done with each track
    <name>_track<ID>.bvh             one BVH per lifted person (fixed bone lengths, Y up, m)
    <name>_viewer.html               everyone in 3D (orbit, zoom, play, timeline), 2D beside;
                                     one self-contained file (--no-viewer to skip)
    <name>_frames.png                2D input and 3D skeleton for a few frames (--frames) of
                                     the person seen longest
    <name>.gif, <name>.mp4           animation of that person, 2D input beside 3D (MP4 when
                                     OpenCV can write it; --no-anim to skip)

Every file is written under a temporary name and renamed only once all of them are complete:
a failure leaves no partial output under the final names.

Live lifting, with a causal model (``--config`` of a ``*-causal_*`` config and its weights):

    --online        lift the file one frame at a time (dualpose.apis.LiftingStream), as a
                    live source would deliver it, and print the per-frame latency p50 / p99
                    (one person: the one followed, or --track-id; no trajectory)
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

# the demo model with its trajectory head (its poses are the shipped lifter's)
DEFAULT_CONFIG = 'configs/dualpose/synthetic/dualpose-tiny-traj_synthetic-27f.py'
DEFAULT_CHECKPOINT = 'demo/checkpoints/dualpose-tiny-traj_synthetic-27f.pth'


def parse_args(argv=None):
    from mmengine.config import DictAction

    from dualpose.deploy.backends import BACKENDS
    from dualpose.keypoints import JOINT_SETS, available_formats
    from dualpose.keypoints import TRACKING_METHODS
    p = argparse.ArgumentParser(description='Lift the 2D keypoints of every person in a file '
                                            'to 3D (millimetres in the camera frame)')
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
                   help='lift only this person (a track id of the file, or of the tracker: '
                        'see the ids of a run without it); default: everyone')
    p.add_argument('--focal', type=float, nargs=2, metavar=('FX', 'FY'), default=None,
                   help='camera focal lengths in pixels (default: max(w, h), said in the '
                        'output)')
    p.add_argument('--principal', type=float, nargs=2, metavar=('CX', 'CY'), default=None,
                   help='principal point in pixels (default: the image centre)')
    p.add_argument('--min-track-frames', type=int, default=3,
                   help='skip people detected in fewer frames (default 3; the output says '
                        'which were skipped)')
    p.add_argument('--tracker', choices=TRACKING_METHODS, default='oks',
                   help='files without track ids: associate detections by OKS (default) or '
                        'box IoU')
    p.add_argument('--tracker-threshold', type=float, default=0.3,
                   help='least similarity of a match (default 0.3)')
    p.add_argument('--max-gap', type=int, default=10,
                   help='frames a person may be missed and keep the track id (default 10)')
    p.add_argument('--smooth', action='store_true',
                   help='one-euro temporal smoothing of the 3D against jitter (off by '
                        'default)')
    p.add_argument('--smooth-min-cutoff', type=float, default=1.0,
                   help='one-euro cut-off at rest, Hz (default 1.0; lower: smoother)')
    p.add_argument('--smooth-beta', type=float, default=0.5,
                   help='one-euro speed coefficient (default 0.5; higher: less lag)')
    p.add_argument('--no-bvh', action='store_true', help='no BVH files')
    p.add_argument('--no-viewer', action='store_true', help='no HTML viewer')
    p.add_argument('--frames', type=int, nargs='+', default=None,
                   help='frames for the picture (default: 4 spread over the sequence)')
    p.add_argument('--fps', type=float, default=30.0,
                   help='frame rate of the input video, for the animation, the viewer, the '
                        'BVH and smoothing (default 30)')
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
    p.add_argument('--backend', choices=list(BACKENDS), default='torch',
                   help='run the model in torch (default) or exported to ONNX Runtime (needs '
                        'onnxruntime): the whole lifter for a file (--onnx-file, else '
                        'exported once into $DUALPOSE_ONNX_CACHE), the per-frame pass with '
                        '--online and live input; onednn: torch with prepacked linear layers, '
                        'for a file only (docs/deployment.md)')
    p.add_argument('--onnx-file', default=None,
                   help='--backend onnxruntime: the lifter exported by '
                        'tools/deployment/export_onnx.py from --config and --checkpoint '
                        '(checked against both)')
    p.add_argument('--precision', choices=['fp32', 'bf16', 'int8'], default='fp32',
                   help='lifting a file: fp32 (default), bf16 autocast (torch, where the CPU '
                        'has native bf16; else fp32, logged) or int8 (dynamically quantised '
                        'linear layers; with --backend onnxruntime an --int8 export)')
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


def check_stream_options(args) -> None:
    """--online and live input run the per-frame pass (LiftingStream), in fp32; the options
    of the whole lifter's deployment do not apply there."""
    from dualpose.apis.stream import STREAM_BACKENDS
    if args.precision != 'fp32':
        raise ValueError(f'--precision {args.precision} applies to lifting a file; the '
                         'per-frame pass of --online and live input runs fp32')
    if args.backend not in STREAM_BACKENDS:
        raise ValueError(f'--backend {args.backend} lifts a file; --online and live input run '
                         f'the per-frame pass with one of {STREAM_BACKENDS}')
    if args.onnx_file is not None:
        raise ValueError('--onnx-file is the whole lifter\'s export, for lifting a file; '
                         '--online and live input export the per-frame pass themselves '
                         '(--backend onnxruntime)')


def run_live(args, stdin=None, stdout=None) -> int:
    """JSON lines of 2D keypoints in, JSON lines of 3D out, frame by frame."""
    from dualpose.apis import LiftingStream, init_model
    from dualpose.apis.inference import UNITS
    from dualpose.utils.timer import time_call
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    check_stream_options(args)
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
        except (ValueError, KeyError, TypeError, OSError, RuntimeError, ImportError) as err:
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
        if not isinstance(err, (ValueError, KeyError, TypeError, OSError, RuntimeError,
                                ImportError)):
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f'error: {message}', file=sys.stderr)
        return 1
    print(f'camera: {written["camera"]}')
    if written['camera_space']:
        print(f'camera-space output {written["camera_space"]}')
    for note in written['notes']:
        print(f'  {note}')
    print(f'lifted {written["frames"]} frames in {time.perf_counter() - start:.1f} s; wrote:')
    for path in written['files']:
        print(f'  {path}')
    return 0


def _camera_arg(args, image_size):
    """The intrinsics of --focal / --principal (checked, the value named), else the default."""
    from dualpose.codecs import check_camera, default_camera
    if args.focal is None and args.principal is None:
        return default_camera(image_size)
    w, h = image_size
    fx, fy = args.focal if args.focal is not None else (max(w, h), max(w, h))
    cx, cy = args.principal if args.principal is not None else (w / 2, h / 2)
    cam = check_camera(fx, fy, cx, cy, image_size, where='--focal/--principal',
                       focal_name='--focal', principal_name='--principal')
    if args.focal is None:
        cam.source = 'given principal point; default focal max(w, h)'
    return cam


def _lift_people(args, model, image_size, converter, camera, probe):
    """Every person (or --track-id) of the file, lifted offline or (--online) live."""
    from dualpose.apis import OneEuroSmoothing, inference_people
    from dualpose.apis.inference import prepare_lifting
    from dualpose.keypoints import KeypointTracks, read_keypoints
    smoothing = (OneEuroSmoothing(args.smooth_min_cutoff, args.smooth_beta)
                 if args.smooth else None)
    if not args.online:
        people = probe if args.track_id is None else probe.select(args.track_id)
        result = inference_people(model, people, image_size, converter=converter,
                                  flip_test=not args.no_flip, stride=args.stride,
                                  min_track_frames=args.min_track_frames, camera=camera,
                                  smoothing=smoothing, fps=args.fps,
                                  progress=not args.no_progress)
        return people, result
    seq = read_keypoints(args.input, args.format, args.track_id)
    people = KeypointTracks(seq.keypoints[None], seq.scores[None],
                            np.asarray([args.track_id or 0]), seq.frame_ids, seq.image_size,
                            seq.joint_set, seq.source_format, seq.path,
                            'one person followed (--online)')
    result = inference_people(model, people, image_size, converter=converter,
                              flip_test=not args.no_flip, camera=camera, smoothing=None)
    prepared = prepare_lifting(model.dataset_meta, seq.keypoints, image_size, seq.scores,
                               converter)
    poses, latencies = lift_online(model, seq.keypoints, seq.scores, image_size, converter,
                                   not args.no_flip, args.backend)
    print(latency_line(latencies))
    result.keypoints_3d[0] = np.where(result.present[0][:, None, None], poses, np.nan)
    result.keypoints_2d[0] = prepared.keypoints_2d
    result.keypoints_3d_camera = result.root_camera = None   # the stream lifts poses only
    result.notes[0] += '; lifted frame by frame (--online): no trajectory'
    return people, result


def run(args, staged) -> dict:
    """Everything up to, not including, the renames into place. Writes each file to its
    temporary path in ``staged`` (a ``StagedFiles``); returns what was made."""
    from dualpose.apis import CAMERA_UNITS, UNITS, has_trajectory, init_model
    from dualpose.apis.bvh import fit_skeleton, write_bvh
    from dualpose.keypoints import H36M_JOINTS, build_converter, check_image_size
    from dualpose.utils.fileio import check_writable
    from dualpose.visualization import (AnimationWriter, SkeletonAnimator, default_frames,
                                        draw_lifting, viewer_html)
    from tqdm import tqdm
    if args.image_size:
        check_image_size(args.image_size, '--image-size')
    if not (math.isfinite(args.fps) and args.fps > 0):
        raise ValueError(f'--fps must be > 0 (frames per second), got {args.fps!r}')
    if args.min_track_frames < 1:
        raise ValueError(f'--min-track-frames must be >= 1, got {args.min_track_frames}')
    stem = osp.splitext(osp.basename(args.input))[0]
    out = {k: osp.join(args.out_dir, f'{stem}{suffix}') for k, suffix in (
        ('npz', '_3d.npz'), ('json', '_3d.json'), ('png', '_frames.png'), ('gif', '.gif'),
        ('mp4', '.mp4'), ('html', '_viewer.html'))}
    for key, path in out.items():   # before the long work: every output can be written
        if (key in ('gif', 'mp4') and args.no_anim) or (key == 'html' and args.no_viewer):
            continue
        check_writable(path, f'--out-dir output ({key})')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'checkpoint {args.checkpoint!r} does not exist. The shipped one is '
            f'{DEFAULT_CHECKPOINT}; or train the tiny model with `.venv/bin/python tools/train.py '
            'configs/dualpose/synthetic/dualpose-tiny_synthetic-27f.py` and pass --checkpoint '
            'work_dirs/dualpose-tiny_synthetic-27f/epoch_5.pth')
    # the file's image size is needed for the camera: read once, cheaply, by the reader
    from dualpose.keypoints.readers import _open
    reader, data = _open(args.input, args.format)
    probe = reader.parse_people(args.input, data, dict(method=args.tracker,
                                                       threshold=args.tracker_threshold,
                                                       max_gap=args.max_gap))
    image_size = tuple(args.image_size) if args.image_size else probe.image_size
    if image_size is None:
        raise ValueError(f'{args.input}: the file does not state the image size; pass '
                         '--image-size W H (pixels of the video the keypoints come from)')
    camera = _camera_arg(args, image_size)
    if args.online:
        check_stream_options(args)
    elif args.onnx_file is not None and args.backend != 'onnxruntime':
        raise ValueError('--onnx-file is read by --backend onnxruntime')
    # --online: the stream runs --backend itself (the per-frame pass); the model stays torch
    model = init_model(args.config, args.checkpoint, device=args.device,
                       cfg_options=args.cfg_options,
                       backend='torch' if args.online else args.backend,
                       onnx_file=None if args.online else args.onnx_file,
                       precision=args.precision)

    class _Seq:   # what resolve_joint_set reads
        path, keypoints, joint_set = args.input, probe.keypoints[0], probe.joint_set
    converter = build_converter(resolve_joint_set(args, _Seq))
    people, result = _lift_people(args, model, image_size, converter, camera, probe)
    num_frames = len(people)
    lifted = [p for p, s in enumerate(result.status) if s != 'skipped']
    if not lifted:
        raise ValueError(f'{args.input}: no person lifted: ' + '; '.join(result.notes))
    # the pictures show the person seen longest
    shown = max(lifted, key=lambda p: int(result.present[p].sum()))
    shown_frames = np.flatnonzero(result.present[shown])
    frames = args.frames if args.frames is not None else [
        int(shown_frames[i]) for i in default_frames(len(shown_frames), 4)]
    bad = [f for f in frames if not 0 <= f < num_frames]
    if bad:
        raise ValueError(f'--frames {bad} out of range: the input has {num_frames} frames')
    absent = [f for f in frames if not result.present[shown, f]]
    if absent:
        raise ValueError(f'--frames {absent}: track {result.track_ids[shown]} (the person '
                         'drawn) is absent there')

    meta = model.dataset_meta
    links, flip_pairs = meta['skeleton_links'], meta['flip_pairs']
    os.makedirs(args.out_dir, exist_ok=True)
    camera_space = result.keypoints_3d_camera is not None
    units = dict(keypoints_3d=UNITS, keypoints_3d_pixels='pixels, root-relative (depth at the '
                 'same pixel scale)', keypoints_2d='pixels, the 2D input with undetected '
                 'joints filled in; NaN where the person is absent', scores='confidence 0..1',
                 present='bool: the person is detected in the frame', image_size='pixels (w, h)')
    if camera_space:
        units.update(CAMERA_UNITS)
    cam = result.camera
    why_not = ('' if camera_space else 'not available: ' + (
        'lifted frame by frame (--online)' if args.online else
        f'the model ({osp.basename(args.config)}) has no trajectory head; use '
        f'{DEFAULT_CONFIG}'))
    arrays = dict(
        track_ids=result.track_ids, track_status=np.asarray(result.status),
        track_notes=np.asarray(result.notes), present=result.present,
        keypoints_3d=result.keypoints_3d, keypoints_3d_pixels=result.keypoints_3d_pixels(),
        keypoints_2d=result.keypoints_2d, scores=result.scores, filled=result.filled,
        image_size=np.asarray(result.image_size, dtype=np.float32),
        camera_intrinsics=cam.as_array(), camera_source=np.asarray(cam.source),
        frame_ids=np.asarray([str(f) for f in people.frame_ids]),
        joint_names=np.asarray(H36M_JOINTS), skeleton_links=np.asarray(links),
        tracked_by=np.asarray(people.tracked_by), smoothing=np.asarray(result.smoothing),
        units=np.asarray(json.dumps(units)))
    if camera_space:
        arrays.update(keypoints_3d_camera=result.keypoints_3d_camera,
                      keypoints_3d_mm=result.keypoints_3d_mm(), root_camera=result.root_camera)
    else:
        arrays['camera_space'] = np.asarray(why_not)
    with open(staged.path(out['npz']), 'wb') as f:
        np.savez(f, **arrays)
    record = dict(
        input=args.input, format=people.source_format, joint_set=str(converter.source),
        converter=type(converter).__name__, config=args.config, checkpoint=args.checkpoint,
        image_size=list(result.image_size), num_frames=num_frames, fps=args.fps, units=units,
        camera=dict(fx=cam.fx, fy=cam.fy, cx=cam.cx, cy=cam.cy, source=cam.source,
                    model='pinhole, no lens distortion'),
        tracked_by=people.tracked_by, smoothing=result.smoothing,
        joint_names=list(H36M_JOINTS), skeleton_links=[list(x) for x in links],
        root_index=result.root_index, frame_ids=[str(f) for f in people.frame_ids],
        track_ids=result.track_ids.tolist(), track_status=list(result.status),
        track_notes=list(result.notes), present=result.present.astype(int).tolist(),
        keypoints_3d=_rounded(result.keypoints_3d),
        keypoints_3d_pixels=_rounded(result.keypoints_3d_pixels(), 2),
        keypoints_2d=_rounded(result.keypoints_2d, 2), scores=_rounded(result.scores, 3),
        filled=result.filled.astype(int).tolist())
    if camera_space:
        record.update(keypoints_3d_camera=_rounded(result.keypoints_3d_camera, 2),
                      keypoints_3d_mm=_rounded(result.keypoints_3d_mm(), 2),
                      root_camera=_rounded(result.root_camera, 2))
    else:
        record['camera_space'] = why_not
    with open(staged.path(out['json']), 'w') as f:
        json.dump(record, f, separators=(',', ':'), allow_nan=False)
    made = {'frames': num_frames, 'files': [out['npz'], out['json']], 'notes': result.notes,
            'camera': cam.describe(), 'camera_space': why_not}

    if camera_space and not args.no_bvh:
        for p in lifted:
            path = osp.join(args.out_dir, f'{stem}_track{int(result.track_ids[p])}.bvh')
            check_writable(path, '--out-dir output (bvh)')
            skeleton = fit_skeleton(result.keypoints_3d_camera[p], links, result.root_index)
            with open(staged.path(path), 'w') as f:
                write_bvh(f, skeleton, H36M_JOINTS, args.fps)
            made['files'].append(path)
    if not args.no_viewer:
        pts = result.keypoints_3d_camera if camera_space else result.keypoints_3d_pixels()
        html = viewer_html(
            pts[lifted], result.keypoints_2d[lifted], links, flip_pairs,
            result.track_ids[lifted], result.image_size, args.fps,
            title=f'{osp.basename(args.input)}: every person in 3D',
            units_3d='mm, camera frame' if camera_space else 'pixels, root-relative',
            notes=f'{cam.describe()}. ' + ' '.join(result.notes),
            joint_names=meta.get('joint_names'))
        with open(staged.path(out['html']), 'w', encoding='utf-8') as f:
            f.write(html)
        made['files'].append(out['html'])

    import cv2
    k2d, k3d = result.keypoints_2d[shown], result.keypoints_3d_pixels()[shown]
    if args.units == 'pixels':
        units_name, shown_2d, shown_3d = 'pixels', k2d, k3d
    else:
        units_name = 'normalised units'
        shown_2d = k2d / (image_size[0] / 2) - np.array([1.0, image_size[1] / image_size[0]])
        shown_3d = result.keypoints_3d[shown]
    title = f'{osp.basename(args.input)}, track {int(result.track_ids[shown])}'
    picture = draw_lifting(links, flip_pairs, pred=shown_3d, units=units_name,
                           inputs_2d=shown_2d, frames=frames,
                           title=f'{title}: 2D input and lifted 3D',
                           panel_inches=2.8, frames_as_columns=True)
    if not cv2.imwrite(staged.path(out['png']), np.ascontiguousarray(picture[..., ::-1])):
        raise RuntimeError(f'could not write {out["png"]}')
    made['files'].insert(2, out['png'])
    if not args.no_anim:
        step = max(1, math.ceil(len(shown_frames) / max(args.anim_max_frames, 1)))
        animator = SkeletonAnimator(shown_2d[shown_frames], shown_3d[shown_frames], links,
                                    flip_pairs, units=units_name,
                                    undetected=result.filled[shown][shown_frames], title=title)
        writer = AnimationWriter(out['gif'], out['mp4'], fps=min(args.fps / step, 50.0),
                                 files=staged)
        made['_animation'] = writer
        try:
            for i in tqdm(range(0, len(shown_frames), step), desc='drawing', unit='frame',
                          disable=args.no_progress):
                writer.add(animator.render(i))
            made['files'] += list(writer.close())
        except BaseException:
            writer.abort()
            raise
    return made


if __name__ == '__main__':
    sys.exit(main())
