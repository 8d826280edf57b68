"""Skeleton helpers: everything derived from a dataset's metainfo (joints, bones, flips).

No module of dualpose hard-codes a joint count: graphs and flips are built from here.
"""
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch

REQUIRED_METAINFO_KEYS = ('joint_names', 'skeleton_links', 'flip_pairs', 'root_index')


def build_flip_indices(flip_pairs: Sequence[Tuple[int, int]], num_joints: int) -> List[int]:
    """Joint permutation of a left-right flip: ``flip_indices[j]`` is j's mirror joint."""
    indices = list(range(num_joints))
    for a, b in flip_pairs:
        if not (0 <= a < num_joints and 0 <= b < num_joints):
            raise ValueError(f'flip pair ({a}, {b}) is out of range for {num_joints} joints')
        indices[a], indices[b] = b, a
    return indices


def parse_metainfo(metainfo: Dict) -> Dict:
    """Check a dataset metainfo dict and add ``num_joints`` and ``flip_indices``."""
    if metainfo is None:
        raise ValueError('dataset metainfo is required: pass metainfo=dataset_info from '
                         "configs/_base_/datasets/<dataset>.py")
    missing = [k for k in REQUIRED_METAINFO_KEYS if k not in metainfo]
    if missing:
        raise KeyError(f'dataset metainfo lacks keys {missing}; expected {REQUIRED_METAINFO_KEYS}')
    info = dict(metainfo)
    num_joints = len(info['joint_names'])
    if info.get('num_joints', num_joints) != num_joints:
        raise ValueError(f"metainfo num_joints={info['num_joints']} differs from the "
                         f"{num_joints} joint_names")
    for a, b in info['skeleton_links']:
        if not (0 <= a < num_joints and 0 <= b < num_joints):
            raise ValueError(f'skeleton link ({a}, {b}) is out of range for {num_joints} joints')
    if not 0 <= info['root_index'] < num_joints:
        raise ValueError(f"root_index {info['root_index']} is out of range for {num_joints} joints")
    info['num_joints'] = num_joints
    info['flip_indices'] = build_flip_indices(info['flip_pairs'], num_joints)
    return info


def normalized_adjacency(links: Sequence[Tuple[int, int]], num_joints: int) -> torch.Tensor:
    """``D^-1/2 A D^-1/2`` of the undirected graph given by ``links`` (no self-loops).

    Isolated joints get an all-zero row (they receive no neighbour message).

    Returns:
        Tensor: (J, J) float32.
    """
    adj = np.zeros((num_joints, num_joints), dtype=np.float64)
    for a, b in links:
        if a == b:
            continue
        adj[a, b] = adj[b, a] = 1.0
    deg = adj.sum(1)
    inv_sqrt = np.where(deg > 0, 1.0 / np.sqrt(np.maximum(deg, 1e-12)), 0.0)
    return torch.from_numpy(inv_sqrt[:, None] * adj * inv_sqrt[None, :]).float()
