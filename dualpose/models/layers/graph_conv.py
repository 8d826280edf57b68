"""Graph convolutions over the skeleton (joints of a frame) and over time (frames of a joint).

Both follow ``X' = ReLU(X + Norm(A_hat V(X) + U(X)))`` with ``A_hat = D^-1/2 A D^-1/2`` of a
graph without self-loops (U is the self term). Norm is a LayerNorm over channels, so nothing
depends on the number of frames or joints at build time (no BatchNorm over nodes).
"""
from abc import ABCMeta, abstractmethod
from typing import Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from dualpose.structures.skeleton import normalized_adjacency


class _GraphConvBase(nn.Module, metaclass=ABCMeta):

    def __init__(self, dim: int):
        super().__init__()
        self.U = nn.Linear(dim, dim)
        self.V = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)

    @abstractmethod
    def aggregate(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """``A_hat V(x)``: messages from the neighbours; (B, T, J, C) -> (B, T, J, C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T, J, C) -> (B, T, J, C)."""
        return F.relu(x + self.norm(self.aggregate(x, self.V(x)) + self.U(x)))


class SkeletonGraphConv(_GraphConvBase):
    """Graph convolution over the skeleton's bones; ``A_hat`` is computed once at build time.

    Args:
        dim (int): channels.
        skeleton_links (list[tuple[int, int]]): bones, from the dataset metainfo.
        num_joints (int): J.
    """

    def __init__(self, dim: int, skeleton_links: Sequence[Tuple[int, int]], num_joints: int):
        super().__init__(dim)
        self.num_joints = num_joints
        self.register_buffer('adj', normalized_adjacency(skeleton_links, num_joints),
                             persistent=False)

    def aggregate(self, x, v):
        if v.shape[2] != self.num_joints:
            raise ValueError(f'SkeletonGraphConv was built for {self.num_joints} joints but got '
                             f'input of shape {tuple(x.shape)} (B, T, J, C)')
        # (J, J) @ (B, T, J, C): a batched matmul over the (B*T, J, C) view, no copy of v
        return torch.matmul(self.adj.to(v.dtype), v)


def banded_adjacency(num_frames: int) -> torch.Tensor:
    """Dense ``A_hat`` of the chain graph t - (t+1) over T frames: (T, T). Reference only."""
    links = [(t, t + 1) for t in range(num_frames - 1)]
    return normalized_adjacency(links, num_frames)


class TemporalGraphConv(_GraphConvBase):
    """Graph convolution over the frames of each joint.

    Args:
        dim (int): channels.
        mode (str): ``'banded'``: each frame linked to its neighbours t-1 and t+1 (the paper),
            aggregated in O(T) with shifts; ``'knn'``: each frame linked to its ``k`` most
            similar other frames (dot product of features, per joint; MotionAGFormer), where
            every row has degree k so ``A_hat`` reduces to the mean over the k neighbours.
        k (int): neighbours in ``'knn'`` mode (clamped to T-1).
        dense (bool): use the dense (T, T) reference computation (for tests).
    """

    def __init__(self, dim: int, mode: str = 'banded', k: int = 2, dense: bool = False):
        super().__init__(dim)
        if mode not in ('banded', 'knn'):
            raise ValueError(f"temporal graph mode must be 'banded' or 'knn', got {mode!r}")
        self.mode = mode
        self.k = k
        self.dense = dense

    def aggregate(self, x, v):
        t = v.shape[1]
        if t == 1:
            return torch.zeros_like(v)
        if self.mode == 'banded':
            return self._banded_dense(v) if self.dense else self._banded(v)
        return self._knn(x, v)

    @staticmethod
    def _banded(v):
        t = v.shape[1]
        deg = torch.full((t,), 2.0, dtype=v.dtype, device=v.device)
        deg[0] = deg[-1] = 1.0
        w = deg.rsqrt().view(1, t, 1, 1)
        vs = v * w
        # message from t-1 (zero for the first frame) plus message from t+1 (zero for the last)
        from_prev = F.pad(vs[:, :-1], (0, 0, 0, 0, 1, 0))
        from_next = F.pad(vs[:, 1:], (0, 0, 0, 0, 0, 1))
        return (from_prev + from_next) * w

    @staticmethod
    def _banded_dense(v):
        adj = banded_adjacency(v.shape[1]).to(device=v.device, dtype=v.dtype)
        return torch.einsum('ts,bsjc->btjc', adj, v)

    def _knn_indices(self, x):
        """(B, T, J, C) -> (B, J, T, k) indices of the k most similar other frames."""
        t = x.shape[1]
        k = min(self.k, t - 1)
        feats = x.detach().transpose(1, 2)  # (B, J, T, C)
        sim = feats @ feats.transpose(-1, -2)  # (B, J, T, T)
        eye = torch.eye(t, dtype=torch.bool, device=x.device)
        sim = sim.masked_fill(eye, float('-inf'))
        return sim.topk(k, dim=-1).indices

    def _knn(self, x, v):
        idx = self._knn_indices(x)
        b, t, j, c = v.shape
        k = idx.shape[-1]
        if self.dense:
            adj = torch.zeros(b, j, t, t, dtype=v.dtype, device=v.device)
            adj.scatter_(-1, idx, 1.0)
            deg = adj.sum(-1)  # k for every frame
            inv = deg.clamp(min=1e-12).rsqrt()
            adj = inv.unsqueeze(-1) * adj * inv.unsqueeze(-2)
            return torch.einsum('bjts,bsjc->btjc', adj, v)
        vj = v.transpose(1, 2).reshape(b * j, t, c)
        rows = torch.arange(b * j, device=v.device).view(-1, 1, 1)
        gathered = vj[rows, idx.reshape(b * j, t, k)]  # (B*J, T, k, C)
        return gathered.mean(dim=2).view(b, j, t, c).transpose(1, 2)
