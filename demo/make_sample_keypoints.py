"""Make the demo's sample input: a SYNTHETIC person's 2D keypoints written as a detector would.

The motion comes from dualpose's synthetic generator v2 (a procedurally animated adult body
walking, seen by a real Human3.6M camera of S9, with detector-like jitter and confidences; not
real data). Its H36M-17 joints are rewritten in the COCO-17 layout: limbs map one to one, the nose
is H36M's neck/nose joint, eyes and ears are placed between nose and head top, spread along the
shoulder line. A few detector misses are added: a wrist undetected for a few frames
(confidence 0, coordinates 0), one frame without any person, and a low-score bystander in some
frames.

    .venv/bin/python demo/make_sample_keypoints.py                       # the shipped samples
    .venv/bin/python demo/make_sample_keypoints.py --frames 1000 --out /tmp/walk1000_coco17.json
    .venv/bin/python demo/make_sample_keypoints.py --two-people   # the shipped two-person sample

The two-person sample (``synthetic_two_people_coco17.json``): two SYNTHETIC actors filmed by
the same camera (S9's 54138969, whose intrinsics are fx 1145.05, fy 1143.78, cx 512.54,
cy 515.45 pixels), one walking, one moving the upper body 1.3 m to the side and further back;
the second enters late and is missed for 5 frames; no track ids (the tracker assigns them).

Writes a COCO keypoint annotation file (``images`` with width/height, ``annotations``,
``categories``) and, with ``--results``, also the bare detector result list
(``[{"image_id", "category_id", "keypoints", "score"}]``, which carries no image size).
"""
import argparse
import json
import os.path as osp
import sys

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from dualpose.keypoints.converters import COCO17_JOINTS  # noqa: E402

SAMPLES = osp.join(REPO_ROOT, 'demo', 'samples')
DEFAULT_OUT = osp.join(SAMPLES, 'synthetic_walking_coco17.json')
DEFAULT_RESULTS = osp.join(SAMPLES, 'synthetic_walking_coco17_results.json')
TWO_PEOPLE = osp.join(SAMPLES, 'synthetic_two_people_coco17.json')

# COCO-17 joint <- H36M-17 joint, for the joints both layouts have
_COCO_FROM_H36M = {0: 9, 5: 11, 6: 14, 7: 12, 8: 15, 9: 13, 10: 16, 11: 4, 12: 1, 13: 5,
                   14: 2, 15: 6, 16: 3}
COCO_SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7],
                 [6, 8], [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5],
                 [4, 6], [5, 7]]  # 1-based, as in COCO files


def h36m_to_coco17(xy: np.ndarray, conf: np.ndarray):
    """(T, 17, 2) H36M pixels + (T, 17) confidences -> COCO-17 (T, 17, 2), (T, 17)."""
    out = np.zeros_like(xy)
    score = np.zeros_like(conf)
    for c, h in _COCO_FROM_H36M.items():
        out[:, c], score[:, c] = xy[:, h], conf[:, h]
    nose, head = xy[:, 9], xy[:, 10]
    up = head - nose
    side = xy[:, 11] - xy[:, 14]  # right shoulder -> left shoulder
    side = side / np.maximum(np.linalg.norm(side, axis=-1, keepdims=True), 1e-6)
    size = np.linalg.norm(up, axis=-1, keepdims=True)
    eyes, ears = nose + 0.4 * up, nose + 0.3 * up
    out[:, 1], out[:, 2] = eyes + 0.35 * size * side, eyes - 0.35 * size * side
    out[:, 3], out[:, 4] = ears + 0.7 * size * side, ears - 0.7 * size * side
    face = 0.9 * np.minimum(conf[:, 9], conf[:, 10])
    score[:, 1:5] = face[:, None]
    return out, score


def make_sequence(frames: int, seed: int = 0, family: str = 'locomotion', kind: str = 'walk',
                  camera: str = '54138969'):
    """A synthetic person's COCO-17 keypoints over ``frames`` frames: one actor of generator v2
    doing ``kind`` of ``family`` (no transitions), filmed by the real Human3.6M camera
    ``camera`` of S9, with detector-like 2D noise.

    Returns:
        dict: ``keypoints`` (T, 17, 2) pixels, ``scores`` (T, 17), ``image_size`` (w, h),
        ``h36m`` (T, 17, 2) and ``h36m_scores`` (the generator's joints before conversion).
    """
    from dualpose.datasets.synthetic import detect, draw_body, generate_motion, h36m_rig
    from dualpose.datasets.synthetic.cameras import project
    rng = np.random.default_rng([seed, 401])
    motion = generate_motion(rng, family, frames, draw_body(rng), kind=kind,
                             transition_prob=0.0)
    cam = next(c for c in h36m_rig('S9') if c['name'] == camera)
    _, uv = project(motion['joints'], cam)
    xy, conf = detect(rng, uv, scale=1.0, occlusion_rate=0.0, swap_rate=0.0)
    kpts, scores = h36m_to_coco17(xy, conf)
    return dict(keypoints=kpts, scores=scores, image_size=(cam['w'], cam['h']), h36m=xy,
                h36m_scores=conf)


def make_two_people(frames: int = 200, seed: int = 0, camera: str = '54138969'):
    """Two synthetic people in one camera view (see the module doc).

    Returns:
        dict: ``keypoints`` (2, T, 17, 2) COCO-17 pixels, ``scores`` (2, T, 17) (0 where a
        person is absent), ``image_size``, ``camera`` (the camera dict) and ``camera_space``
        (2, T, 17, 3) mm, the H36M-17 ground truth in the camera frame.
    """
    from dualpose.datasets.synthetic import detect, draw_body, generate_motion, h36m_rig
    from dualpose.datasets.synthetic.cameras import project
    cam = next(c for c in h36m_rig('S9') if c['name'] == camera)
    kpts, scores, truth = [], [], []
    for k, (family, kind, shift) in enumerate((('locomotion', 'walk', (0.0, 0.0)),
                                               ('upper_body', None, (-900.0, 1000.0)))):
        rng = np.random.default_rng([seed, 402, k])
        motion = generate_motion(rng, family, frames, draw_body(rng), kind=kind,
                                 transition_prob=0.0)
        world = motion['joints'] + np.array([shift[0], shift[1], 0.0])
        xyz, uv = project(world, cam)
        xy, conf = detect(rng, uv, scale=1.0, occlusion_rate=0.0, swap_rate=0.0)
        c17, s17 = h36m_to_coco17(xy, conf)
        kpts.append(c17)
        scores.append(s17)
        truth.append(xyz)
    scores[1][:frames // 4] = 0.0                       # enters late
    scores[1][frames // 2:frames // 2 + 5] = 0.0        # missed for 5 frames
    return dict(keypoints=np.stack(kpts), scores=np.stack(scores),
                image_size=(cam['w'], cam['h']), camera=cam, camera_space=np.stack(truth))


def build_two_people_file(frames: int = 200, seed: int = 0):
    """A COCO annotation dict of :func:`make_two_people` (no track ids)."""
    two = make_two_people(frames, seed)
    w, h = two['image_size']
    images, annotations = [], []
    for f in range(frames):
        images.append(dict(id=f + 1, file_name=f'frame_{f:06d}.jpg', width=int(w),
                           height=int(h), frame_id=f))
        for xy, conf in zip(two['keypoints'][:, f], two['scores'][:, f]):
            if not (conf > 0).any():
                continue
            box = _bbox(xy, conf)
            annotations.append(dict(id=len(annotations) + 1, image_id=f + 1, category_id=1,
                                    keypoints=_flat(xy, conf), score=round(float(conf.mean()), 3),
                                    num_keypoints=int((conf > 0).sum()), bbox=box,
                                    area=round(box[2] * box[3], 2), iscrowd=0))
    return dict(
        info=dict(description='SYNTHETIC two people (dualpose demo sample, not real data), '
                              'COCO-17 keypoints, camera 54138969 of S9: fx 1145.05 fy '
                              '1143.78 cx 512.54 cy 515.45 px', made_by=
                              'demo/make_sample_keypoints.py --two-people', seed=seed),
        images=images, annotations=annotations,
        categories=[dict(id=1, name='person', supercategory='person',
                         keypoints=list(COCO17_JOINTS), skeleton=COCO_SKELETON)])


def add_misses(seq: dict, seed: int = 0):
    """Detector misses: a left wrist lost for 4 frames, one empty frame, a bystander.

    Returns:
        (keypoints, scores, empty_frames, bystanders {frame: (keypoints, scores)}).
    """
    rng = np.random.default_rng(seed)
    kpts, scores = seq['keypoints'].copy(), seq['scores'].copy()
    t = len(kpts)
    lost = slice(t // 3, min(t // 3 + 4, t))
    kpts[lost, 9], scores[lost, 9] = 0.0, 0.0
    empty = {t // 2} if t > 2 else set()
    bystanders = {}
    w, h = seq['image_size']
    for f in range(0, t, 10):
        other = kpts[f] * 0.5 + np.array([0.45 * w, 0.1 * h])
        bystanders[f] = (other + rng.normal(0, 2, other.shape), np.full(17, 0.3))
    return kpts, scores, empty, bystanders


def _bbox(xy: np.ndarray, conf: np.ndarray):
    seen = xy[conf > 0]
    lo, hi = seen.min(0), seen.max(0)
    return [round(float(lo[0]), 2), round(float(lo[1]), 2), round(float(hi[0] - lo[0]), 2),
            round(float(hi[1] - lo[1]), 2)]


def _flat(xy: np.ndarray, conf: np.ndarray):
    out = np.concatenate([np.round(xy, 2), np.round(conf, 3)[:, None]], 1)
    return [float(v) for v in out.reshape(-1)]


def build_files(frames: int, seed: int = 0):
    """(COCO annotation dict, detector result list) for a synthetic walk of ``frames``."""
    seq = make_sequence(frames, seed)
    kpts, scores, empty, bystanders = add_misses(seq, seed)
    w, h = seq['image_size']
    images, annotations, results = [], [], []
    for f in range(len(kpts)):
        images.append(dict(id=f + 1, file_name=f'frame_{f:06d}.jpg', width=int(w), height=int(h),
                           frame_id=f))
        people = [] if f in empty else [(kpts[f], scores[f])]
        if f in bystanders:
            people.append(bystanders[f])
        for xy, conf in people:
            score = round(float(conf.mean()), 3)
            box = _bbox(xy, conf)
            annotations.append(dict(id=len(annotations) + 1, image_id=f + 1, category_id=1,
                                    keypoints=_flat(xy, conf), score=score,
                                    num_keypoints=int((conf > 0).sum()), bbox=box,
                                    area=round(box[2] * box[3], 2), iscrowd=0))
            results.append(dict(image_id=f + 1, category_id=1, keypoints=_flat(xy, conf),
                                score=score))
    coco = dict(
        info=dict(description='SYNTHETIC walking person (dualpose demo sample, not real '
                              'data), COCO-17 keypoints with detector-like confidences',
                  made_by='demo/make_sample_keypoints.py', seed=seed),
        images=images, annotations=annotations,
        categories=[dict(id=1, name='person', supercategory='person',
                         keypoints=list(COCO17_JOINTS), skeleton=COCO_SKELETON)])
    return coco, results


def write_json(path: str, data) -> None:
    """Write compact JSON atomically."""
    from dualpose.utils.fileio import write_atomic
    write_atomic(path, json.dumps(data, separators=(',', ':')))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description='Write the SYNTHETIC sample keypoint files')
    parser.add_argument('--frames', type=int, default=300, help='sequence length (300)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default=DEFAULT_OUT, help='COCO annotation file to write')
    parser.add_argument('--results', default=None,
                        help='also write the bare detector result list here (the shipped '
                             f'sample: {osp.relpath(DEFAULT_RESULTS, REPO_ROOT)})')
    parser.add_argument('--two-people', action='store_true',
                        help=f'write the two-person sample instead ({osp.relpath(TWO_PEOPLE, REPO_ROOT)}'
                             ', 200 frames unless --frames)')
    args = parser.parse_args(argv)
    if args.frames < 1:
        parser.error(f'--frames must be >= 1, got {args.frames}')
    if args.two_people:
        frames = 200 if args.frames == 300 else args.frames
        out = TWO_PEOPLE if args.out == DEFAULT_OUT else args.out
        write_json(out, build_two_people_file(frames, args.seed))
        print(f'wrote {out} ({frames} frames, two people)')
        return 0
    coco, results = build_files(args.frames, args.seed)
    write_json(args.out, coco)
    print(f'wrote {args.out} ({len(coco["images"])} frames)')
    if args.results:
        write_json(args.results, results)
        print(f'wrote {args.results} ({len(results)} detections)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
