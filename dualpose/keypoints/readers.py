"""Readers of 2D keypoint files written by common detectors: one person's sequence out of them.

Formats (``fmt``), each detected automatically from the file when ``fmt='auto'``:

- ``'coco'``: COCO keypoints, read with ``xtcocotools``. Either an annotation file (a dict with
  ``images``, ``annotations``, ``categories``; image sizes taken from ``images``) or a
  detector's result list (``[{"image_id", "category_id", "keypoints": [x, y, s] * J,
  "score"}, ...]``). Third values that are all 0/1/2 are read as visibility flags
  (0 -> confidence 0, 1 or 2 -> 1), otherwise as confidences.
- ``'mmpose'``: MMPose 1.x predictions: ``{"meta_info": ..., "instance_info": [{"frame_id",
  "instances": [{"keypoints": [[x, y], ...], "keypoint_scores": [...], "bbox_score"}]}]}``
  (the demo scripts' ``--save-predictions``), or the inferencer's list of
  ``{"frame_id", "instances"}``, or a list of instances (one image).
- ``'alphapose'``: AlphaPose results: ``[{"image_id": "12.jpg", "keypoints": [x, y, s] * J,
  "score", "box", "idx"}, ...]``; 26 joints (Halpe-26), 17 (COCO-17) or 136 (Halpe full body,
  whose first 26 are Halpe-26). Frames ordered by the numbers in ``image_id``.
- ``'numpy'``: ``.npy`` holding (T, J, 2) or (T, J, 3) (x, y[, confidence]); ``.npz`` with
  ``keypoints`` (T, J, 2|3) and optionally ``keypoint_scores`` (T, J), ``image_size`` (w, h),
  ``joint_set`` (e.g. ``'coco17'``), ``frame_ids`` (T,).

One person (:func:`read_keypoints`): the one with ``track_id`` (MMPose ``track_id``, AlphaPose
``idx``, COCO ``track_id``) when given. Otherwise the highest-scoring person (instance score,
else mean keypoint confidence) of the first frame with anyone in it is followed: in each later
frame, the highest-scoring person whose centre is within half that person's last size of their
last centre. A frame without the person gets confidence 0 on every joint.

Every person (:func:`read_people`): by the file's track ids when every detection has one,
otherwise by the simple tracker of :mod:`.tracking` (OKS or box IoU, short gaps bridged). A
``.npz`` may hold ``keypoints`` (P, T, J, 2|3) for P people, with optional ``scores``
(P, T, J), ``track_ids`` (P,) and ``image_size`` (2,); without confidences (no scores and
x, y only), NaN coordinates mark where a person is absent.
"""
import contextlib
import io
import json
import os.path as osp
import re
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from dualpose.registry import KEYPOINT_READERS
from .checks import check_keypoints
from .converters import COCO17_JOINTS, HALPE26_JOINTS, H36M_JOINTS, JOINT_SETS

__all__ = ['KeypointSequence', 'KeypointTracks', 'KeypointReader', 'read_keypoints',
           'read_people', 'FORMATS', 'available_formats', 'guess_joint_set']

# the built-in readers' names; available_formats() adds readers registered by users
FORMATS = ('coco', 'mmpose', 'alphapose', 'numpy')
# whole-body layouts whose first joints are a body layout in the same order
_WHOLE_BODY = {133: (17, 'coco17'), 136: (26, 'halpe26')}


@dataclass
class KeypointSequence:
    """One person's 2D keypoints over T frames.

    Attributes:
        keypoints: (T, J, 2) float32 pixel coordinates (0 where not detected).
        scores: (T, J) float32 confidences in [0, 1]; 0 = not detected.
        frame_ids: T ids, as in the file (image ids, file names or frame numbers).
        image_size: (w, h) in pixels when the file states it, else None.
        joint_set: ``'coco17'``, ``'halpe26'``, ``'h36m'`` when known from the file, else None.
        source_format: the format read (one of :data:`FORMATS`).
        path: the file read.
    """
    keypoints: np.ndarray
    scores: np.ndarray
    frame_ids: List[Any]
    image_size: Optional[Tuple[float, float]] = None
    joint_set: Optional[str] = None
    source_format: str = ''
    path: str = ''
    num_people: List[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keypoints)


@dataclass
class KeypointTracks:
    """Every person's 2D keypoints over T frames.

    Attributes:
        keypoints: (P, T, J, 2) float32 pixels (0 where not detected or absent).
        scores: (P, T, J) float32 confidences; 0 = not detected (all 0: the person is absent).
        track_ids: (P,) int64, the file's track ids or the tracker's.
        frame_ids: T ids, as in the file.
        image_size, joint_set, source_format, path: as :class:`KeypointSequence`.
        tracked_by: where the ids come from: ``'file'``, or the tracker and its settings.
    """
    keypoints: np.ndarray
    scores: np.ndarray
    track_ids: np.ndarray
    frame_ids: List[Any]
    image_size: Optional[Tuple[float, float]] = None
    joint_set: Optional[str] = None
    source_format: str = ''
    path: str = ''
    tracked_by: str = 'file'

    def __len__(self) -> int:
        return self.keypoints.shape[1]

    @property
    def num_people(self) -> int:
        return len(self.track_ids)

    @property
    def present(self) -> np.ndarray:
        """(P, T) bool: the person has a detected joint in the frame."""
        return (self.scores > 0).any(-1)

    def select(self, track_id: int) -> 'KeypointTracks':
        """Only the person with ``track_id`` (a ValueError listing the ids otherwise)."""
        hits = np.flatnonzero(self.track_ids == int(track_id))
        if not len(hits):
            _fail(self.path, f'track id {track_id} not found; track ids '
                             f'({self.tracked_by}): {self.track_ids.tolist()[:20]}')
        i = hits[:1]
        return KeypointTracks(self.keypoints[i], self.scores[i], self.track_ids[i],
                              self.frame_ids, self.image_size, self.joint_set,
                              self.source_format, self.path, self.tracked_by)


def guess_joint_set(num_joints: int, fmt: str) -> Optional[str]:
    """The joint set a file of ``fmt`` with ``num_joints`` joints most likely holds; None when
    ambiguous (17 joints in a numpy file could be COCO-17 or H36M-17)."""
    if num_joints == 26:
        return 'halpe26'
    if num_joints == 17 and fmt != 'numpy':
        return 'coco17'
    return None


def _fail(path: str, what: str):
    raise ValueError(f'{path}: {what}')


class _People:
    """The ``track_id`` the JSON parsers get from ``parse_people``: every person, not one
    (``tracking``: the tracker's settings)."""

    def __init__(self, tracking=None):
        self.tracking = tracking

    def __eq__(self, other):
        return isinstance(other, _People)

    __hash__ = object.__hash__


_PEOPLE = _People()


def _natural_key(value) -> Tuple:
    """Order '2.jpg' before '10.jpg'; numbers before strings."""
    if isinstance(value, (int, float, np.integer, np.floating)):
        return (0, float(value), '')
    parts = re.findall(r'\d+', str(value))
    return (1, float(parts[-1]) if parts else float('inf'), str(value))


# ------------------------------------------------------------------------------- instances
@dataclass
class _Instance:
    xy: np.ndarray      # (J, 2)
    conf: np.ndarray    # (J,)
    score: float
    track: Optional[int]


def _flat_instance(path, where, values, score=None, track=None, visibility=False) -> _Instance:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size == 0 or arr.size % 3:
        _fail(path, f'{where}: "keypoints" has {arr.size} values; expected x, y, score for '
                    'each joint (a multiple of 3)')
    arr = arr.reshape(-1, 3)
    conf = (arr[:, 2] > 0).astype(np.float64) if visibility else arr[:, 2]
    return _Instance(arr[:, :2], conf, float('nan') if score is None else float(score), track)


def _track_id(value) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        if not value:
            return None
        value = value[0]
    try:
        return int(round(float(value)))
    except (TypeError, ValueError):
        return None


def _instance_score(inst: _Instance, num_joints: int) -> float:
    return inst.score if np.isfinite(inst.score) else float(np.mean(inst.conf[:num_joints]))


def _centre_and_size(inst: _Instance, num_joints: int):
    seen = inst.xy[:num_joints][inst.conf[:num_joints] > 0]
    lo, hi = seen.min(0), seen.max(0)
    return (lo + hi) / 2, max(float(np.linalg.norm(hi - lo)), 1.0)


def _near(insts: List[_Instance], last: _Instance, num_joints: int) -> List[_Instance]:
    """The candidates whose centre lies within half the last chosen person's size of its
    centre (frame-to-frame following of one person when the file has no track ids)."""
    centre, size = _centre_and_size(last, num_joints)
    return [i for i in insts
            if np.linalg.norm(_centre_and_size(i, num_joints)[0] - centre) <= 0.5 * size]


def _joint_count(path: str, fmt: str, frames, joint_set):
    if not frames:
        _fail(path, f'holds no frames of keypoint results ({fmt} format)')
    counts = {len(inst.xy) for _, insts in frames for inst in insts}
    if not counts:
        _fail(path, f'holds {len(frames)} frames but no person with keypoints ({fmt} format)')
    if len(counts) > 1:
        _fail(path, f'people with different joint counts {sorted(counts)}; one layout expected')
    num_joints = counts.pop()
    if num_joints in _WHOLE_BODY:
        num_joints, joint_set = _WHOLE_BODY[num_joints]
    return num_joints, joint_set


def _assemble(path: str, fmt: str, frames: List[Tuple[Any, List[_Instance]]],
              track_id: Optional[int], image_size=None, joint_set=None) -> KeypointSequence:
    """Per frame, pick one instance; stack into a KeypointSequence with checks."""
    num_joints, joint_set = _joint_count(path, fmt, frames, joint_set)
    if track_id is not None:
        present = sorted({i.track for _, insts in frames for i in insts if i.track is not None})
        if track_id not in present:
            _fail(path, f'track id {track_id} not found; track ids in the file: '
                        f'{present[:20] or "none"}')
    xy = np.zeros((len(frames), num_joints, 2))
    conf = np.zeros((len(frames), num_joints))
    ids, people = [], []
    last = None
    for t, (frame_id, insts) in enumerate(frames):
        ids.append(frame_id)
        people.append(len(insts))
        insts = [i for i in insts if (i.conf[:num_joints] > 0).any()]
        if track_id is not None:
            insts = [i for i in insts if i.track == track_id]
        elif last is not None:
            insts = _near(insts, last, num_joints)
        if not insts:
            continue
        best = max(insts, key=lambda i: _instance_score(i, num_joints))
        xy[t] = best.xy[:num_joints]
        conf[t] = best.conf[:num_joints]
        last = best
    return _finish(path, fmt, xy, conf, ids, image_size,
                   joint_set or guess_joint_set(num_joints, fmt), people)


def _assemble_people(path: str, fmt: str, frames: List[Tuple[Any, List[_Instance]]],
                     image_size=None, joint_set=None, tracking: Optional[Dict] = None
                     ) -> KeypointTracks:
    """Every person: grouped by the file's track ids when every detection has one, else by
    :func:`~.tracking.track_detections` (``tracking``: its keyword arguments)."""
    from .tracking import track_detections
    num_joints, joint_set = _joint_count(path, fmt, frames, joint_set)
    kept = [[i for i in insts if (i.conf[:num_joints] > 0).any()] for _, insts in frames]
    if not any(kept):
        _fail(path, f'holds {len(frames)} frames but no person with a detected joint '
                    f'(confidence > 0) in any of them: nobody to lift')
    if all(i.track is not None for insts in kept for i in insts):
        ids = [[i.track for i in insts] for insts in kept]
        tracked_by = 'file'
    else:
        cfg = dict(tracking or {})
        ids = track_detections([[(i.xy[:num_joints], i.conf[:num_joints]) for i in insts]
                                for insts in kept], **cfg)
        cfg = dict(dict(method='oks', threshold=0.3, max_gap=10), **cfg)
        tracked_by = (f"tracker ({cfg['method']} >= {cfg['threshold']:g}, gaps of up to "
                      f"{cfg['max_gap']} frames bridged)")
    order = []
    for row in ids:
        order += [k for k in row if k not in order]
    people = {k: p for p, k in enumerate(order)}
    xy = np.zeros((len(order), len(frames), num_joints, 2))
    conf = np.zeros((len(order), len(frames), num_joints))
    best = np.full((len(order), len(frames)), -np.inf)
    for t, (insts, row) in enumerate(zip(kept, ids)):
        for inst, k in zip(insts, row):   # an id twice in one frame: the higher score wins
            p, score = people[k], _instance_score(inst, num_joints)
            if score > best[p, t]:
                best[p, t] = score
                xy[p, t], conf[p, t] = inst.xy[:num_joints], inst.conf[:num_joints]
    return _finish_people(path, fmt, xy, conf, np.asarray(order, dtype=np.int64),
                          [f for f, _ in frames], image_size,
                          joint_set or guess_joint_set(num_joints, fmt), tracked_by)


def _finish_people(path, fmt, xy, conf, track_ids, ids, image_size, joint_set,
                   tracked_by) -> KeypointTracks:
    """The shared check, person by person (messages name the track)."""
    if len(track_ids) == 0 or not (conf > 0).any():
        _fail(path, 'holds no person with a detected joint (confidence > 0): nobody to lift')
    if len(set(track_ids.tolist())) != len(track_ids):
        _fail(path, f'track_ids must be unique, got {track_ids.tolist()[:20]}')
    out_xy, out_conf = np.zeros(xy.shape, np.float32), np.zeros(conf.shape, np.float32)
    size = image_size
    for p, k in enumerate(track_ids):
        if not (conf[p] > 0).any():
            continue
        a, b, size = check_keypoints(xy[p], conf[p], image_size, where=f'{path}: track {k}',
                                     frame_ids=ids)
        out_xy[p], out_conf[p] = a, b
    return KeypointTracks(out_xy, out_conf, track_ids, list(ids), size, joint_set, fmt, path,
                          tracked_by)


def _finish(path, fmt, xy, conf, ids, image_size, joint_set, people=()) -> KeypointSequence:
    """The checks shared by all formats (:func:`~dualpose.keypoints.checks.check_keypoints`)."""
    xy, conf, image_size = check_keypoints(xy, conf, image_size, where=path, frame_ids=ids)
    return KeypointSequence(xy.astype(np.float32), conf.astype(np.float32), list(ids),
                            image_size, joint_set, fmt, path, list(people))


# ------------------------------------------------------------------------------- COCO
def _joint_set_from_names(names: Sequence[str]) -> Optional[str]:
    names = tuple(str(n).lower() for n in names)
    for key, ref in (('coco17', COCO17_JOINTS), ('halpe26', HALPE26_JOINTS),
                     ('h36m', H36M_JOINTS)):
        if names == ref:
            return key
    return None


def _load_coco(path: str, dataset: Dict):
    from xtcocotools.coco import COCO
    with contextlib.redirect_stdout(io.StringIO()):  # xtcocotools prints progress lines
        return COCO(path, ann_data=dataset)


def _read_coco(path: str, data, track_id):
    if isinstance(data, list):  # a detector's result list: make it an annotation set
        results = data
        for i, r in enumerate(results):
            if not isinstance(r, dict) or 'image_id' not in r or 'keypoints' not in r:
                _fail(path, f'entry {i} is not a COCO keypoint result (a dict with "image_id" '
                            f'and "keypoints"), got {_describe(r)}')
        image_ids = sorted({r['image_id'] for r in results}, key=_natural_key)
        dataset = dict(images=[dict(id=i) for i in image_ids],
                       annotations=[dict(r, id=k + 1, category_id=1)
                                    for k, r in enumerate(results)],
                       categories=[dict(id=1, name='person')])
        visibility = False
    else:
        for key in ('images', 'annotations'):
            if key not in data:
                _fail(path, f'a COCO annotation file needs "images" and "annotations"; '
                            f'"{key}" is missing (keys: {sorted(data)[:10]})')
        dataset = data
        triples = [a['keypoints'][2::3] for a in data['annotations'] if 'keypoints' in a]
        values = np.concatenate([np.asarray(v, dtype=np.float64) for v in triples]) \
            if triples else np.zeros(0)
        visibility = bool(values.size) and bool(np.isin(values, (0, 1, 2)).all())
    coco = _load_coco(path, dataset)
    person_cats = [c['id'] for c in coco.loadCats(coco.getCatIds())
                   if str(c.get('name', 'person')) == 'person'] or coco.getCatIds()
    joint_set = None
    for cat in coco.loadCats(person_cats):
        if cat.get('keypoints'):
            joint_set = _joint_set_from_names(cat['keypoints'])
    images = coco.loadImgs(coco.getImgIds())
    if all('frame_id' in im for im in images):
        images.sort(key=lambda im: _natural_key(im['frame_id']))
    else:
        images.sort(key=lambda im: _natural_key(im['id']))
    sizes = {(im['width'], im['height']) for im in images if 'width' in im and 'height' in im}
    if len(sizes) > 1:
        _fail(path, f'images of different sizes {sorted(sizes)[:4]}; one video expected')
    frames = []
    for im in images:
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[im['id']], catIds=person_cats))
        insts = []
        for ann in anns:
            if 'keypoints' not in ann:
                continue
            what = (f'entry {ann["id"] - 1}' if isinstance(data, list)
                    else f'annotation {ann.get("id")}')
            where = f'{what} (image {im["id"]})'
            insts.append(_flat_instance(path, where, ann['keypoints'], ann.get('score'),
                                        _track_id(ann.get('track_id')), visibility))
        frames.append((im.get('file_name', im['id']), insts))
    size = sizes.pop() if sizes else None
    if track_id == _PEOPLE:
        return _assemble_people(path, 'coco', frames, size, joint_set, track_id.tracking)
    return _assemble(path, 'coco', frames, track_id, size, joint_set)


# ------------------------------------------------------------------------------- MMPose
def _mmpose_instance(path, where, inst) -> _Instance:
    if not isinstance(inst, dict) or 'keypoints' not in inst:
        _fail(path, f'{where} is not an MMPose instance (a dict with "keypoints"), got '
                    f'{_describe(inst)}')
    kpts = np.asarray(inst['keypoints'], dtype=np.float64)
    if kpts.ndim == 3 and kpts.shape[0] == 1:  # (1, J, 2) from unsplit instances
        kpts = kpts[0]
    if kpts.ndim != 2 or kpts.shape[1] not in (2, 3):
        _fail(path, f'{where}: "keypoints" must be a list of [x, y] per joint, got shape '
                    f'{kpts.shape}')
    scores = inst.get('keypoint_scores')
    if scores is None:
        conf = kpts[:, 2] if kpts.shape[1] == 3 else np.ones(len(kpts))
    else:
        conf = np.asarray(scores, dtype=np.float64).reshape(-1)
        if conf.shape[0] != len(kpts):
            _fail(path, f'{where}: {conf.shape[0]} keypoint_scores for {len(kpts)} keypoints')
    score = inst.get('bbox_score', inst.get('score'))
    if isinstance(score, (list, tuple)):
        score = score[0] if score else None
    return _Instance(kpts[:, :2], conf, float('nan') if score is None else float(score),
                     _track_id(inst.get('track_id')))


def _read_mmpose(path: str, data, track_id):
    joint_set = None
    if isinstance(data, dict):
        meta = data.get('meta_info') or {}
        name = str(meta.get('dataset_name', '')).lower()
        joint_set = {'coco': 'coco17', 'halpe26': 'halpe26', 'h36m': 'h36m'}.get(name)
        if 'instance_info' not in data:
            _fail(path, f'MMPose predictions need "instance_info" (keys: {sorted(data)[:10]})')
        data = data['instance_info']
    if not isinstance(data, list):
        _fail(path, f'MMPose "instance_info" must be a list, got {type(data).__name__}')
    if data and all(isinstance(e, dict) and 'instances' in e for e in data):
        entries = sorted(data, key=lambda e: _natural_key(e.get('frame_id', 0)))
        frames = [(e.get('frame_id', i),
                   [_mmpose_instance(path, f'frame {e.get("frame_id", i)} instance {k}', inst)
                    for k, inst in enumerate(e['instances'] or [])])
                  for i, e in enumerate(entries)]
    else:  # one image: a list of instances
        frames = [(0, [_mmpose_instance(path, f'instance {k}', inst)
                       for k, inst in enumerate(data)])]
    if track_id == _PEOPLE:
        return _assemble_people(path, 'mmpose', frames, None, joint_set, track_id.tracking)
    return _assemble(path, 'mmpose', frames, track_id, None, joint_set)


# ------------------------------------------------------------------------------- AlphaPose
def _read_alphapose(path: str, data, track_id):
    if not isinstance(data, list):
        _fail(path, f'AlphaPose results are a list of detections, got {_describe(data)}')
    by_image: Dict[Any, List[_Instance]] = {}
    for i, r in enumerate(data):
        if not isinstance(r, dict) or 'image_id' not in r or 'keypoints' not in r:
            _fail(path, f'entry {i} is not an AlphaPose result (a dict with "image_id" and '
                        f'"keypoints"), got {_describe(r)}')
        by_image.setdefault(r['image_id'], []).append(
            _flat_instance(path, f'entry {i} (image {r["image_id"]!r})', r['keypoints'],
                           r.get('score'), _track_id(r.get('idx'))))
    frames = [(k, by_image[k]) for k in sorted(by_image, key=_natural_key)]
    if track_id == _PEOPLE:
        return _assemble_people(path, 'alphapose', frames, tracking=track_id.tracking)
    return _assemble(path, 'alphapose', frames, track_id)


# ------------------------------------------------------------------------------- numpy
def _read_numpy(path: str, track_id):
    if track_id is not None:
        _fail(path, 'numpy files hold one person; --track-id does not apply')
    try:
        loaded = np.load(path, allow_pickle=False)
    except Exception as err:
        _fail(path, f'could not read as .npy/.npz ({type(err).__name__}: {err})')
    image_size = joint_set = frame_ids = scores = None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        npz = loaded

        class _Arrays:   # an .npz reads each array lazily: name the file and the key
            def keys(self):
                return npz.keys()

            def __getitem__(self, key):
                try:
                    return npz[key]
                except ValueError as err:
                    _fail(path, f'array {key!r} could not be read ({err}); expected numbers, '
                                'not pickled Python objects')

        with npz:
            loaded = _Arrays()
            keys = list(loaded.keys())
            if 'keypoints' not in keys:
                _fail(path, f'an .npz needs a "keypoints" array (T, J, 2|3); keys: {keys}')
            kpts = loaded['keypoints']
            for k in ('keypoint_scores', 'scores'):
                if k in keys:
                    scores = loaded[k]
                    break
            if 'image_size' in keys:
                image_size = loaded['image_size'].reshape(-1).tolist()
                if len(image_size) != 2:
                    _fail(path, f'"image_size" must be (w, h), got {image_size}')
            if 'joint_set' in keys:
                joint_set = str(loaded['joint_set'])
                if joint_set not in JOINT_SETS:
                    _fail(path, f'"joint_set" {joint_set!r} is not one of {list(JOINT_SETS)}')
            if 'frame_ids' in keys:
                frame_ids = loaded['frame_ids'].tolist()
    else:
        kpts = loaded
    kpts = np.asarray(kpts, dtype=np.float64)
    if kpts.ndim != 3 or kpts.shape[-1] not in (2, 3):
        _fail(path, f'keypoints must have shape (T, J, 2) or (T, J, 3) (x, y[, confidence]) '
                    f'for one person; got {kpts.shape}')
    if len(kpts) == 0:
        _fail(path, 'holds 0 frames of keypoints')
    if scores is None:
        scores = kpts[..., 2] if kpts.shape[-1] == 3 else np.ones(kpts.shape[:2])
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != kpts.shape[:2]:
        _fail(path, f'keypoint_scores must have shape {kpts.shape[:2]}, got {scores.shape}')
    ids = frame_ids if frame_ids is not None else list(range(len(kpts)))
    if len(ids) != len(kpts):
        _fail(path, f'{len(ids)} frame_ids for {len(kpts)} frames')
    return _finish(path, 'numpy', kpts[..., :2], scores, ids, image_size,
                   joint_set or guess_joint_set(kpts.shape[1], 'numpy'), [1] * len(kpts))


def _read_numpy_people(path: str) -> KeypointTracks:
    """(T, J, 2|3) one person or (P, T, J, 2|3) P people; ``scores``, ``track_ids`` (P,),
    ``image_size``, ``joint_set``, ``frame_ids`` optional. Without any confidence (no scores,
    x and y only), NaN coordinates mark absent joints and frames (confidence 0)."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except Exception as err:
        _fail(path, f'could not read as .npy/.npz ({type(err).__name__}: {err})')
    arrays = {}
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded as npz:
            if 'keypoints' not in npz.files:
                _fail(path, f'an .npz needs a "keypoints" array (T, J, 2|3) or (P, T, J, 2|3); '
                            f'keys: {npz.files}')
            for key in npz.files:
                try:
                    arrays[key] = npz[key]
                except ValueError as err:
                    _fail(path, f'array {key!r} could not be read ({err}); expected numbers, '
                                'not pickled Python objects')
    else:
        arrays['keypoints'] = loaded
    try:
        kpts = np.asarray(arrays['keypoints'], dtype=np.float64)
    except (TypeError, ValueError):
        _fail(path, f'"keypoints" must be numbers, got dtype {arrays["keypoints"].dtype}')
    if kpts.ndim == 3:
        kpts = kpts[None]
    if kpts.ndim != 4 or kpts.shape[-1] not in (2, 3):
        _fail(path, f'keypoints must have shape (T, J, 2|3) for one person or (P, T, J, 2|3) '
                    f'for P people (x, y[, confidence]); got {arrays["keypoints"].shape}')
    num, frames = kpts.shape[:2]
    if num == 0:
        _fail(path, 'holds 0 people (keypoints of shape (0, T, J, ...)): nobody to lift')
    if frames == 0:
        _fail(path, 'holds 0 frames of keypoints')
    scores = next((arrays[k] for k in ('scores', 'keypoint_scores') if k in arrays), None)
    if scores is None and kpts.shape[-1] == 3:
        scores = kpts[..., 2]
    elif scores is None:   # x, y only: NaN marks a joint (or a person) not there
        scores = np.where(np.isfinite(kpts).all(-1), 1.0, 0.0)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 2 and num == 1:
        scores = scores[None]
    if scores.shape != kpts.shape[:3]:
        _fail(path, f'scores must have shape {kpts.shape[:3]} (P, T, J), got {scores.shape}')
    track_ids = np.arange(num, dtype=np.int64)
    if 'track_ids' in arrays:
        given = np.asarray(arrays['track_ids']).reshape(-1)
        if given.shape != (num, ) or not np.issubdtype(given.dtype, np.number) or \
                not np.all(np.isfinite(given)) or not np.all(given == np.round(given)):
            _fail(path, f'"track_ids" must be {num} integers (one per person), got '
                        f'{given.tolist()[:10]}')
        track_ids = given.astype(np.int64)
    image_size = None
    if 'image_size' in arrays:
        image_size = np.asarray(arrays['image_size']).reshape(-1).tolist()
        if len(image_size) != 2:
            _fail(path, f'"image_size" must be (w, h), got {image_size}')
    joint_set = None
    if 'joint_set' in arrays:
        joint_set = str(arrays['joint_set'])
        if joint_set not in JOINT_SETS:
            _fail(path, f'"joint_set" {joint_set!r} is not one of {list(JOINT_SETS)}')
    ids = arrays['frame_ids'].tolist() if 'frame_ids' in arrays else list(range(frames))
    if len(ids) != frames:
        _fail(path, f'{len(ids)} frame_ids for {frames} frames')
    return _finish_people(path, 'numpy', kpts[..., :2], scores, track_ids, ids, image_size,
                          joint_set or guess_joint_set(kpts.shape[2], 'numpy'), 'file')


# ------------------------------------------------------------------------------- registry
class KeypointReader(metaclass=ABCMeta):
    """A reader of one keypoint file format, registered in ``KEYPOINT_READERS`` under its
    format name (``read_keypoints(path, fmt=name)``).

    A reader of JSON files implements :meth:`sniff` (does this parsed JSON look like my
    format? used by ``fmt='auto'``) and :meth:`parse`; a reader of another kind of file lists
    its ``suffixes`` (picked by ``fmt='auto'`` from the file's ending), sets ``json = False``
    and reads the path itself in :meth:`parse` (``data`` is None).
    """
    json = True
    suffixes: Tuple[str, ...] = ('.json', )

    def sniff(self, data) -> bool:
        return False

    @abstractmethod
    def parse(self, path: str, data, track_id: Optional[int]) -> KeypointSequence:
        """One person's sequence from the file ``path`` (``data``: its parsed JSON)."""

    def parse_people(self, path: str, data, tracking: Optional[Dict] = None
                     ) -> KeypointTracks:
        """Every person in the file (``tracking``: the tracker's settings for files without
        track ids). By default the one person :meth:`parse` reads, as track 0."""
        seq = self.parse(path, data, None)
        return KeypointTracks(seq.keypoints[None], seq.scores[None], np.zeros(1, np.int64),
                              seq.frame_ids, seq.image_size, seq.joint_set,
                              seq.source_format, seq.path, 'one person (the reader has no '
                              'multi-person parse_people)')


@KEYPOINT_READERS.register_module(name='coco')
class CocoReader(KeypointReader):
    """COCO keypoints: an annotation file, or a detector's result list."""

    def sniff(self, data) -> bool:
        if isinstance(data, dict):
            return 'annotations' in data and 'instance_info' not in data
        first = data[0] if isinstance(data, list) and data else None
        return (isinstance(first, dict) and 'keypoints' in first and 'image_id' in first
                and not _alphapose_like(data) and 'instances' not in first
                and 'keypoint_scores' not in first)

    def parse(self, path, data, track_id):
        if not isinstance(data, (list, dict)):
            _fail(path, f'is not COCO keypoints: got {_describe(data)}')
        return _read_coco(path, data, track_id)

    def parse_people(self, path, data, tracking=None):
        if not isinstance(data, (list, dict)):
            _fail(path, f'is not COCO keypoints: got {_describe(data)}')
        return _read_coco(path, data, _People(tracking))


@KEYPOINT_READERS.register_module(name='mmpose')
class MMPoseReader(KeypointReader):
    """MMPose 1.x predictions (``--save-predictions``, the inferencer's list)."""

    def sniff(self, data) -> bool:
        if isinstance(data, dict):
            return 'instance_info' in data
        first = data[0] if isinstance(data, list) and data else None
        return isinstance(first, dict) and (
            'instances' in first or 'keypoint_scores' in first
            or ('keypoints' in first and 'image_id' not in first))

    def parse(self, path, data, track_id):
        return _read_mmpose(path, data, track_id)

    def parse_people(self, path, data, tracking=None):
        return _read_mmpose(path, data, _People(tracking))


@KEYPOINT_READERS.register_module(name='alphapose')
class AlphaPoseReader(KeypointReader):
    """AlphaPose results (``image_id`` file names, ``idx`` track ids, ``box``)."""

    def sniff(self, data) -> bool:
        first = data[0] if isinstance(data, list) and data else None
        return (isinstance(first, dict) and 'keypoints' in first and 'image_id' in first
                and 'instances' not in first and 'keypoint_scores' not in first
                and _alphapose_like(data))

    def parse(self, path, data, track_id):
        return _read_alphapose(path, data, track_id)

    def parse_people(self, path, data, tracking=None):
        return _read_alphapose(path, data, _People(tracking))


@KEYPOINT_READERS.register_module(name='numpy')
class NumpyReader(KeypointReader):
    """``.npy`` (T, J, 2|3) or ``.npz`` with ``keypoints`` and optional arrays."""
    json = False
    suffixes = ('.npy', '.npz')

    def parse(self, path, data, track_id):
        return _read_numpy(path, track_id)

    def parse_people(self, path, data, tracking=None):
        return _read_numpy_people(path)


def _alphapose_like(data: list) -> bool:
    return any(isinstance(r, dict) and ('idx' in r or 'box' in r
                                        or isinstance(r.get('image_id'), str)) for r in data)


def available_formats() -> Tuple[str, ...]:
    """The registered formats: the built-in :data:`FORMATS` and any a project added."""
    return tuple(KEYPOINT_READERS.module_dict)


def _reader(fmt: str) -> KeypointReader:
    return KEYPOINT_READERS.get(fmt)()


# ------------------------------------------------------------------------------- entry point
def _describe(value) -> str:
    if isinstance(value, dict):
        return f'a dict with keys {sorted(map(str, value))[:10]}'
    if isinstance(value, list):
        return f'a list of {len(value)} items'
    return f'a {type(value).__name__}'


def _detect_json_format(path: str, data) -> str:
    """The registered JSON reader whose ``sniff`` accepts ``data``; else an error saying what
    the file holds and what was expected."""
    for name in available_formats():
        reader = _reader(name)
        if reader.json and reader.sniff(data):
            return name
    if isinstance(data, dict):
        _fail(path, f'is not keypoint results: expected a COCO annotation file ("images", '
                    f'"annotations"), MMPose predictions ("instance_info"), or a list of '
                    f'COCO/AlphaPose detections; got {_describe(data)}')
    if not isinstance(data, list):
        _fail(path, f'is not keypoint results: got {_describe(data)}')
    if not data:
        _fail(path, 'holds an empty list: no keypoint detections')
    _fail(path, f'is not keypoint results: the first entry is {_describe(data[0])}; expected '
                'COCO/AlphaPose detections ("image_id", "keypoints") or MMPose predictions '
                '("frame_id", "instances")')


def _open(path: str, fmt: str):
    """(reader, parsed JSON or None) for ``path``; the checks shared by both entry points."""
    formats = available_formats()
    if fmt != 'auto' and fmt not in formats:
        raise ValueError(f'unknown keypoint format {fmt!r}; choose "auto" or one of {formats}')
    if not osp.isfile(path):
        raise FileNotFoundError(f'keypoint file {path!r} does not exist')
    if osp.getsize(path) == 0:
        _fail(path, 'the file is empty')
    ext = osp.splitext(path)[1].lower()
    if fmt == 'auto':
        by_suffix = [n for n in formats if not _reader(n).json and ext in _reader(n).suffixes]
        if by_suffix:
            fmt = by_suffix[0]
    reader = None if fmt == 'auto' else _reader(fmt)
    if reader is not None and not reader.json:
        return reader, None
    try:
        with open(path, 'r', encoding='utf-8') as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        _fail(path, f'is not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})')
    except UnicodeDecodeError:
        _fail(path, 'is not a text (JSON) file; use .npy/.npz for arrays')
    if reader is None:
        reader = _reader(_detect_json_format(path, data))
    return reader, data


def read_people(path: str, fmt: str = 'auto', track_id: Optional[int] = None,
                tracking: Optional[Dict] = None) -> KeypointTracks:
    """Read every person's 2D keypoints from ``path`` (see :func:`read_keypoints` for the
    formats).

    Track ids come from the file when every detection has one (MMPose ``track_id``,
    AlphaPose ``idx``, COCO ``track_id``, an npz's ``track_ids``); otherwise
    :func:`~.tracking.track_detections` assigns them (``tracking``: its ``method``
    (``'oks'`` or ``'iou'``), ``threshold``, ``max_gap``). ``track_id`` keeps that person
    only. Raises a ValueError naming the file when nobody is in it.
    """
    reader, data = _open(path, fmt)
    people = reader.parse_people(path, data, tracking)
    return people if track_id is None else people.select(track_id)


def read_keypoints(path: str, fmt: str = 'auto',
                   track_id: Optional[int] = None) -> KeypointSequence:
    """Read one person's 2D keypoint sequence from ``path``.

    Args:
        path: a ``.json`` (COCO, MMPose, AlphaPose), ``.npy`` or ``.npz`` file, or a file a
            registered reader takes.
        fmt: ``'auto'`` or a registered format (:func:`available_formats`).
        track_id: the person to follow when the file has track ids; default: per frame the
            person with the highest score.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: empty file, invalid JSON, not keypoint results, inconsistent joint counts,
            NaN coordinates on detected joints... The message names the file and what was
            wrong.
    """
    reader, data = _open(path, fmt)
    return reader.parse(path, data, track_id)
