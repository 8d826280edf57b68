"""Normalisations of the CRL targets (models/utils/targets.py)."""
import pytest
import torch

from dualpose.models.utils import normalize_layer


def test_position_norm_removes_what_every_sample_shares_at_a_position():
    torch.manual_seed(0)
    shared = 5.0 * torch.randn(1, 6, 4, 8)         # the same at each (frame, joint) position
    own = torch.randn(16, 6, 4, 8)                   # what differs between samples
    feats = shared + 0.3 * own
    out = normalize_layer(feats, 'position')
    # per position and channel over the batch: zero mean, unit variance
    torch.testing.assert_close(out.mean(0), torch.zeros(6, 4, 8), atol=1e-5, rtol=0)
    torch.testing.assert_close(out.var(0, unbiased=False), torch.ones(6, 4, 8), atol=1e-3,
                               rtol=0)
    # what is left is the samples' own part, standardised the same way
    expected = (own - own.mean(0)) / own.std(0, unbiased=False)
    torch.testing.assert_close(out, expected, atol=1e-3, rtol=1e-3)
    # layer norm keeps the shared part: every sample's target nearly the same
    layer = normalize_layer(feats, 'layer')
    assert layer.std(0).mean() < 0.2 < out.std(0).mean()


def test_position_norm_needs_a_batch():
    with pytest.raises(ValueError, match='at least 2 samples, got a batch of 1'):
        normalize_layer(torch.randn(1, 3, 4, 8), 'position')
    with pytest.raises(ValueError, match="one of \\('instance', 'layer', 'position', 'none'\\)"):
        normalize_layer(torch.randn(2, 3, 4, 8), 'batch')
