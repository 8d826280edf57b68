"""Fixed-size caches of a causal model's live step: rings of the last ``window - 1`` frames.

A temporal layer of a causal model with look-back W needs, for a new frame, what it computed
for the W - 1 frames before it (attention keys and values, the graph's features). A ring
keeps them in place: the new frame's row overwrites the oldest one, so that a step copies one
row per layer instead of the whole look-back (a concatenation and a slice, as the growing
caches do, copy all of it every frame: 68 MB per frame for the B model at W = 243).

The order of the frames in a ring does not matter to the layers that read it: attention and
the k-NN graph treat their candidate frames as a set (neither has a temporal position).

A ring cache is a dict of

- the ring tensors, each with its frame axis (``frame_axis``: name -> axis) of length n;
- ``valid`` (n,) bool: which of the n rows hold a real frame (none at the start);
- ``slot``: the row the next frame overwrites (a Python int);

and, between a layer's step and :func:`write_new_frame`, ``new``: name -> the new frame's
row (the ring's shape with 1 on the frame axis). A step only reads the rings, so that the
same code runs in torch (rings written in place) and as an exported graph (the rows are its
outputs; the caller writes them, in numpy). Tensors and numpy arrays both work here.
"""
from typing import Dict, List, Tuple

import torch

__all__ = ['new_ring_cache', 'is_ring_cache', 'ring_tensor_names', 'write_new_frame',
           'write_new_frames']

# entries of a ring cache that are not ring tensors
_META = ('slot', 'frame_axis', 'new')


def new_ring_cache(length: int, device=None, **rings: Tuple[torch.Tensor, int]) -> dict:
    """A ring cache of ``length`` empty rows: ``rings`` maps a name to (tensor, frame axis);
    each tensor has ``length`` on its frame axis."""
    for name, (tensor, axis) in rings.items():
        if tensor.shape[axis] != length:
            raise ValueError(f'ring {name!r} of shape {tuple(tensor.shape)} has '
                             f'{tensor.shape[axis]} rows on axis {axis}, expected {length}')
    cache = {name: tensor for name, (tensor, _) in rings.items()}
    cache.update(valid=torch.zeros(length, dtype=torch.bool, device=device), slot=0,
                 frame_axis={name: axis for name, (_, axis) in rings.items()})
    return cache


def is_ring_cache(cache: dict) -> bool:
    return 'frame_axis' in cache


def ring_tensor_names(cache: dict) -> List[str]:
    """The tensors of a cache (its rings and ``valid``), in a fixed order (sorted)."""
    return sorted(k for k in cache if k not in _META)


def write_new_frame(cache: dict) -> None:
    """Write the rows a step left in ``cache['new']`` over the oldest frame of each ring and
    mark that row real; the next frame then overwrites the row after it."""
    new: Dict[str, object] = cache.pop('new')
    length = len(cache['valid'])
    if length == 0:   # a look-back of the frame itself only: nothing to keep
        return
    slot = cache['slot']
    for name, row in new.items():
        axis = cache['frame_axis'][name]
        head = (slice(None),) * axis
        cache[name][head + (slot,)] = row[head + (0,)]
    cache['valid'][slot] = True
    cache['slot'] = (slot + 1) % length


def write_new_frames(state: List[List[dict]]) -> None:
    """:func:`write_new_frame` on every ring cache of a backbone's state (one list of caches
    per block) that holds a new frame."""
    for caches in state:
        for cache in caches:
            if 'new' in cache:
                write_new_frame(cache)
