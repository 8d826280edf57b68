"""NTU RGB+D 60/120 skeletons in their released layout: one ``.skeleton`` text file per video.

A file (``S001C002P003R002A013.skeleton``: setup, camera, performer, replication, action)
holds, line by line::

    <number of frames>
    per frame:  <number of bodies>
      per body: bodyID clipedEdges handLeftConfidence handLeftState handRightConfidence
                handRightState isResticted leanX leanY trackingState
                <number of joints: 25>
                25 lines: x y z depthX depthY colorX colorY orientationW orientationX
                          orientationY orientationZ trackingState

:func:`read_ntu_skeleton` parses one file (errors name the file and line);
:class:`NTURGBDDataset` turns the files of a split into H36M-17 clips for the lifting
backbone (docs/action_recognition.md).
"""
import glob
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from dualpose.keypoints.converters import Ntu25ToH36m
from dualpose.registry import DATASETS
from dualpose.structures.skeleton import parse_metainfo
from .base import check_coordinates
from .h36m_action import check_classes

__all__ = ['read_ntu_skeleton', 'parse_ntu_name', 'ntu_split', 'NtuSkeleton', 'NtuBody',
           'NTURGBDDataset', 'NTU_XSUB_TRAIN_PERFORMERS', 'NTU_XVIEW_TRAIN_CAMERAS']

NTU_JOINTS = 25
BODY_VALUES = 10     # bodyID ... trackingState
JOINT_VALUES = 12    # x y z depthX depthY colorX colorY orientation (4) trackingState
# cross-subject: the performers of the training split (NTU RGB+D 60, Shahroudy et al. 2016)
NTU_XSUB_TRAIN_PERFORMERS = (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34,
                             35, 38)
# cross-view: the cameras of the training split (camera 1 is the test view)
NTU_XVIEW_TRAIN_CAMERAS = (2, 3)
BENCHMARKS = ('xsub', 'xview', 'xset')
# the 2D a clip is read from: (columns of a joint line, image (w, h) in pixels)
COORDS = {'color': ((5, 6), (1920.0, 1080.0)), 'depth': ((3, 4), (512.0, 424.0))}
# Kinect's per-joint trackingState -> confidence: tracked 1, inferred 0.5, not tracked 0
TRACKING_CONFIDENCE = {2: 1.0, 1: 0.5, 0: 0.0}
NAME = re.compile(r'^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})$')
DATA_HINT = 'See docs/action_recognition.md for where to put the NTU RGB+D skeleton files.'


@dataclass
class NtuBody:
    """One tracked body of a file: the frames it appears in and its joints there.

    Attributes:
        body_id: Kinect's body id (a string of digits).
        frames: (F,) int64 frame numbers (0-based) the body appears in.
        joints: (F, 25, 11) float64: x y z (camera space, metres), depthX depthY, colorX
            colorY (pixels), orientation W X Y Z.
        tracking: (F, 25) int64 joint tracking states (2 tracked, 1 inferred, 0 not).
    """
    body_id: str
    frames: np.ndarray
    joints: np.ndarray
    tracking: np.ndarray

    def motion(self) -> float:
        """How much the body moves: the summed variance of its 3D joints over its frames."""
        return float(self.joints[..., :3].var(0).sum()) if len(self.frames) > 1 else 0.0


@dataclass
class NtuSkeleton:
    """A parsed ``.skeleton`` file: ``num_frames`` and its bodies in order of appearance."""
    path: str
    num_frames: int
    bodies: List[NtuBody] = field(default_factory=list)


class _Lines:
    """The lines of a file, read in order, with errors that name the file and the line."""

    def __init__(self, path: str):
        self.path = path
        try:
            with open(path, encoding='utf-8', errors='replace') as f:
                self.lines = f.read().split('\n')
        except OSError as err:
            raise FileNotFoundError(f'{path}: cannot read the skeleton file ({err})') from err
        while self.lines and not self.lines[-1].strip():
            self.lines.pop()
        self.pos = 0

    def fail(self, what: str, line: Optional[int] = None):
        raise ValueError(f'{self.path}, line {self.pos if line is None else line}: {what}')

    def values(self, count: int, what: str) -> List[str]:
        """The next line's ``count`` whitespace-separated values."""
        if self.pos >= len(self.lines):
            raise ValueError(f'{self.path}, line {self.pos + 1}: the file ends before {what} '
                             '(truncated?)')
        self.pos += 1
        tokens = self.lines[self.pos - 1].split()
        if len(tokens) != count:
            self.fail(f'{what}: expected {count} value{"s" * (count > 1)}, found '
                      f'{len(tokens)}: {self.lines[self.pos - 1].strip()[:80]!r}')
        return tokens

    def count(self, what: str) -> int:
        token = self.values(1, what)[0]
        try:
            value = int(token)
        except ValueError:
            self.fail(f'{what}: {token!r} is not an integer')
        if value < 0:
            self.fail(f'{what}: {value} is negative')
        return value

    def numbers(self, count: int, what: str) -> List[float]:
        tokens = self.values(count, what)
        try:
            return [float(t) for t in tokens]
        except ValueError:
            bad = next(t for t in tokens if not _is_float(t))
            self.fail(f'{what}: {bad!r} is not a number')


def _is_float(token: str) -> bool:
    try:
        float(token)
        return True
    except ValueError:
        return False


def read_ntu_skeleton(path: str) -> NtuSkeleton:
    """Parse one NTU RGB+D ``.skeleton`` file (the layout in the module docstring).

    Returns:
        NtuSkeleton: every body that appears, in order of first appearance.

    Raises:
        ValueError: naming the file and the line, for a truncated file, a line with the wrong
            number of values, a value that is not a number, a body whose joint count is not
            25, or content after the last frame.
    """
    lines = _Lines(path)
    num_frames = lines.count('the number of frames (first line)')
    found: Dict[str, dict] = {}
    for frame in range(num_frames):
        where = f'frame {frame + 1} of {num_frames}'
        for b in range(lines.count(f'the number of bodies of {where}')):
            body_line = lines.pos + 1
            info = lines.values(BODY_VALUES, f'the body line of body {b + 1}, {where}')
            if not _is_float(info[0]) or not all(_is_float(t) for t in info[1:]):
                bad = next(t for t in info if not _is_float(t))
                lines.fail(f'the body line of body {b + 1}, {where}: {bad!r} is not a number',
                           body_line)
            n_joints = lines.count(f'the joint count of body {b + 1}, {where}')
            if n_joints != NTU_JOINTS:
                lines.fail(f'body {b + 1} of {where} has {n_joints} joints, expected '
                           f'{NTU_JOINTS} (Kinect v2)')
            rows = [lines.numbers(JOINT_VALUES, f'joint {j + 1} of body {b + 1}, {where}')
                    for j in range(NTU_JOINTS)]
            body = found.setdefault(info[0], dict(frames=[], rows=[]))
            if body['frames'] and body['frames'][-1] == frame:
                lines.fail(f'body id {info[0]} appears twice in {where}', body_line)
            body['frames'].append(frame)
            body['rows'].append(rows)
    if lines.pos < len(lines.lines):
        raise ValueError(f'{path}, line {lines.pos + 1}: content after the last of the '
                         f'{num_frames} frames the first line announces')
    bodies = []
    for body_id, b in found.items():
        arr = np.asarray(b['rows'], dtype=np.float64)
        bodies.append(NtuBody(body_id, np.asarray(b['frames'], np.int64), arr[..., :11],
                              arr[..., 11].astype(np.int64)))
    return NtuSkeleton(path, num_frames, bodies)


def parse_ntu_name(name: str) -> Dict[str, int]:
    """``'S001C002P003R002A013'`` (with or without ``.skeleton``) -> ``setup``, ``camera``,
    ``performer``, ``replication``, ``action`` (1-based numbers)."""
    stem = osp.basename(str(name))
    stem = stem[:-len('.skeleton')] if stem.endswith('.skeleton') else stem
    m = NAME.match(stem)
    if not m:
        raise ValueError(f'{name!r}: not an NTU RGB+D file name (expected '
                         'SsssCcccPpppRrrrAaaa, e.g. S001C002P003R002A013.skeleton)')
    return dict(zip(('setup', 'camera', 'performer', 'replication', 'action'),
                    (int(g) for g in m.groups())))


def ntu_split(ids: Dict[str, int], benchmark: str,
              train_performers: Sequence[int] = NTU_XSUB_TRAIN_PERFORMERS) -> str:
    """``'train'`` or ``'test'`` of a file (its :func:`parse_ntu_name` ids) under a benchmark:
    ``xsub`` (cross-subject: ``train_performers``), ``xview`` (cross-view: cameras 2 and 3
    train), ``xset`` (NTU-120 cross-setup: even setups train)."""
    if benchmark == 'xsub':
        return 'train' if ids['performer'] in set(train_performers) else 'test'
    if benchmark == 'xview':
        return 'train' if ids['camera'] in NTU_XVIEW_TRAIN_CAMERAS else 'test'
    if benchmark == 'xset':
        return 'train' if ids['setup'] % 2 == 0 else 'test'
    raise ValueError(f'unknown NTU benchmark {benchmark!r}; choose from {list(BENCHMARKS)}')


def _fill_absent(xy: np.ndarray, present: np.ndarray) -> np.ndarray:
    """``xy`` with each frame replaced by that of the nearest present frame (itself when
    present; the earlier one of two equally near)."""
    idx = np.flatnonzero(present)
    t = np.arange(len(xy))
    pos = np.searchsorted(idx, t)
    after = idx[np.clip(pos, 0, len(idx) - 1)]
    before = idx[np.clip(pos - 1, 0, len(idx) - 1)]
    return xy[np.where(np.abs(t - before) <= np.abs(after - t), before, after)]


@DATASETS.register_module()
class NTURGBDDataset(BaseDataset):
    """Action recognition clips from NTU RGB+D 60 or 120 skeleton files, in the H36M-17
    layout the lifting backbone takes.

    Per file: one body (the first to appear, or the most active), its 2D joints from
    ``colorX colorY`` (pixels of the 1920x1080 colour image; or ``depthX depthY`` of the
    512x424 depth image), confidences from Kinect's tracking state (tracked 1, inferred 0.5,
    not tracked 0), converted from Kinect's 25 joints to H36M-17 (:class:`Ntu25ToH36m`), over
    the frames from the body's first to its last appearance (frames without it: confidence 0,
    coordinates of the nearest frame with it), then resampled to ``seq_len`` frames. The
    pipeline normalises the 2D as every other dataset (``NormalizeScreen``).

    Files are listed when the dataset is built and parsed when a clip is read.

    Args:
        data_root (str): the folder holding ``skeleton_dir`` (and the missing-skeleton list).
        skeleton_dir (str): the folder of ``.skeleton`` files, relative to ``data_root``
            (the released archives unpack to ``nturgb+d_skeletons``).
        split (str): ``'train'`` or ``'test'``.
        benchmark (str): ``'xsub'`` (cross-subject), ``'xview'`` (cross-view) or ``'xset'``
            (NTU-120 cross-setup).
        num_classes (int): 60 (actions A001-A060, NTU RGB+D 60) or 120; files of other
            actions are left out.
        train_performers (Sequence[int]): the training performers of ``xsub`` (default NTU-60's
            20; NTU-120's cross-subject split lists more: pass them).
        missing_list (str, optional): a file naming files with missing skeletons, one name a
            line (the released ``samples_with_missing_skeletons.txt``), relative to
            ``data_root``; they are left out. None: no list.
        seq_len (int): frames per clip.
        sampling (str): ``'resample'``: ``seq_len`` frames evenly spread over the body's
            frames (frame ``floor(i * F / seq_len)`` of F; frames repeat in shorter videos);
            ``'crop'``: the middle ``seq_len``
            frames (shorter videos resampled).
        body (str): ``'first'`` (the body that appears first) or ``'active'`` (the body
            whose 3D joints vary most over time).
        coords (str): ``'color'`` or ``'depth'``: which 2D of the file.
        classes (Sequence[str], optional): class names; default ``A001``, ``A002``, ...
        metainfo (dict): the H36M-17 skeleton (``configs/_base_/datasets/h36m.py``).
    """

    def __init__(self, data_root: str = 'data/ntu/', skeleton_dir: str = 'nturgb+d_skeletons',
                 split: str = 'train', benchmark: str = 'xsub', num_classes: int = 60,
                 train_performers: Sequence[int] = NTU_XSUB_TRAIN_PERFORMERS,
                 missing_list: Optional[str] = None, seq_len: int = 243,
                 sampling: str = 'resample', body: str = 'first', coords: str = 'color',
                 classes: Optional[Sequence[str]] = None, metainfo: Optional[Dict] = None,
                 pipeline: Sequence = (), test_mode: bool = False, **kwargs):
        for name, value, valid in (('split', split, ('train', 'test')),
                                   ('benchmark', benchmark, BENCHMARKS),
                                   ('num_classes', num_classes, (60, 120)),
                                   ('sampling', sampling, ('resample', 'crop')),
                                   ('body', body, ('first', 'active')),
                                   ('coords', coords, tuple(COORDS))):
            if value not in valid:
                raise ValueError(f'NTURGBDDataset: {name} must be one of {list(valid)}, got '
                                 f'{value!r}')
        if isinstance(seq_len, bool) or not isinstance(seq_len, int) or seq_len < 1:
            raise ValueError(f'NTURGBDDataset: seq_len must be an integer >= 1, got '
                             f'{seq_len!r}')
        self.skeleton_dir = skeleton_dir
        self.split, self.benchmark, self.num_classes = split, benchmark, num_classes
        self.train_performers = tuple(int(p) for p in train_performers)
        self.missing_list = missing_list
        self.seq_len, self.sampling, self.body, self.coords = seq_len, sampling, body, coords
        self.classes = check_classes(
            classes or [f'A{a:03d}' for a in range(1, num_classes + 1)], 'NTURGBDDataset')
        if len(self.classes) != num_classes:
            raise ValueError(f'NTURGBDDataset: {len(self.classes)} classes for '
                             f'num_classes={num_classes}')
        self.converter = Ntu25ToH36m()
        self.skipped: Dict[str, int] = {}
        super().__init__(ann_file='', metainfo=parse_metainfo(metainfo), data_root=data_root,
                         pipeline=pipeline, test_mode=test_mode, serialize_data=False,
                         **kwargs)
        self._metainfo['classes'] = list(self.classes)

    def _missing_names(self) -> set:
        if self.missing_list is None:
            return set()
        path = osp.join(self.data_root, self.missing_list)
        if not osp.isfile(path):
            raise FileNotFoundError(f'NTURGBDDataset: missing_list {path!r} does not exist '
                                    '(set missing_list=None to read every file). ' + DATA_HINT)
        with open(path) as f:
            names = [ln.strip() for ln in f if ln.strip() and not ln.startswith('#')]
        return {n[:-len('.skeleton')] if n.endswith('.skeleton') else n for n in names}

    def load_data_list(self) -> List[dict]:
        folder = osp.join(self.data_root, self.skeleton_dir)
        if not osp.isdir(folder):
            raise FileNotFoundError(f'NTURGBDDataset: skeleton folder {folder!r} does not '
                                    f'exist. {DATA_HINT}')
        paths = sorted(glob.glob(osp.join(folder, '*.skeleton')))
        if not paths:
            raise FileNotFoundError(f'NTURGBDDataset: no .skeleton file in {folder!r}. '
                                    f'{DATA_HINT}')
        missing = self._missing_names()
        skipped = dict(missing_skeleton=0, other_action=0, other_split=0)
        data_list = []
        for path in paths:
            ids = parse_ntu_name(path)
            stem = osp.basename(path)[:-len('.skeleton')]
            if stem in missing:
                skipped['missing_skeleton'] += 1
            elif ids['action'] > self.num_classes:
                skipped['other_action'] += 1
            elif ntu_split(ids, self.benchmark, self.train_performers) != self.split:
                skipped['other_split'] += 1
            else:
                data_list.append(dict(path=path, video_id=stem, label=ids['action'] - 1, **ids))
        self.skipped = skipped
        if not data_list:
            raise ValueError(f'NTURGBDDataset: none of the {len(paths)} files in {folder!r} '
                             f'belongs to split {self.split!r} of {self.benchmark} with '
                             f'{self.num_classes} classes (left out: {skipped})')
        return data_list

    # --------------------------------------------------------------- one clip
    def choose_body(self, skeleton: NtuSkeleton) -> NtuBody:
        """The body a clip follows (``body``); a ValueError naming the file without one."""
        if not skeleton.bodies:
            raise ValueError(f'{skeleton.path}: no body in any of its {skeleton.num_frames} '
                             'frames (a missing skeleton; list it in missing_list)')
        if self.body == 'active':
            return max(skeleton.bodies, key=lambda b: b.motion())  # first of equals
        return skeleton.bodies[0]

    def clip_frames(self, length: int) -> np.ndarray:
        """Indices (into ``length`` frames) of the ``seq_len`` frames of a clip."""
        if self.sampling == 'crop' and length >= self.seq_len:
            start = (length - self.seq_len) // 2
            return np.arange(start, start + self.seq_len)
        # frame i of the clip is frame floor(i * length / seq_len): evenly spread, and in a
        # shorter video each frame repeated as often as any other (to within one)
        return np.arange(self.seq_len) * length // self.seq_len

    def read_clip(self, path: str) -> dict:
        """``keypoints_2d`` (seq_len, 17, 2) pixels, ``keypoint_scores`` (seq_len, 17),
        ``image_size`` and ``frame_indices`` (the file's frame of each clip frame)."""
        skeleton = read_ntu_skeleton(path)
        body = self.choose_body(skeleton)
        (cx, cy), size = COORDS[self.coords]
        span = np.arange(body.frames[0], body.frames[-1] + 1)
        xy = np.zeros((len(span), NTU_JOINTS, 2))
        conf = np.zeros((len(span), NTU_JOINTS))
        rows = body.frames - body.frames[0]
        xy[rows] = body.joints[..., [cx, cy]]
        lut = np.asarray([TRACKING_CONFIDENCE[s] for s in range(3)])
        state = body.tracking
        conf[rows] = np.where((state >= 0) & (state <= 2), lut[np.clip(state, 0, 2)], 0.0)
        finite = np.isfinite(xy).all(-1)
        conf = np.where(finite, conf, 0.0)
        xy = np.where(finite[..., None], xy, 0.0)
        kp, score = self.converter(xy, conf)
        present = np.zeros(len(span), dtype=bool)
        present[rows] = finite[rows].any(-1)
        if not present.any():
            raise ValueError(f'{path}: body {body.body_id} has no finite {self.coords} '
                             'coordinates in any frame')
        kp = np.where(present[:, None, None], kp, _fill_absent(kp, present))
        score = np.where(present[:, None], score, 0.0).astype(np.float32)
        check_coordinates(path, f'{self.coords}X/{self.coords}Y', kp,
                          np.tile(size, (len(kp), 1)), np.full(len(kp), osp.basename(path)))
        pick = self.clip_frames(len(span))
        return dict(keypoints_2d=kp[pick].astype(np.float32), keypoint_scores=score[pick],
                    image_size=size, frame_indices=span[pick])

    def get_data_info(self, idx: int) -> dict:
        entry = self.data_list[idx]
        info = self.read_clip(entry['path'])
        label = int(entry['label'])
        info.update(sample_idx=int(idx), video_id=entry['video_id'], action=self.classes[label],
                    action_label=label, camera_name=f"C{entry['camera']:03d}",
                    flip_indices=self.metainfo['flip_indices'],
                    root_index=self.metainfo['root_index'])
        return info
