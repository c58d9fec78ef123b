"""bfloat16 autocast on the CPU covers the backbone and neck only."""
import torch
import torch.nn as nn

from mmdet_odconv import ODConv2d
from mmdet_odconv.workbench import BF16AutocastOptimWrapper


class _Backbone(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = ODConv2d(3, 8, 3, padding=1)
        self.inside = None

    def forward(self, x):
        out = self.conv(x)
        self.inside = out.dtype  # what ODConv computed in
        return out


class _Detector(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = _Backbone()
        self.neck = nn.Conv2d(8, 8, 1)
        self.head = nn.Conv2d(8, 2, 1)
        self.seen = {}

    def forward(self, x):
        f = self.backbone(x)
        self.seen['backbone'] = f.dtype
        n = self.neck(f)
        self.seen['neck'] = n.dtype
        return self.head(n)


def test_backbone_and_neck_in_bf16_heads_in_fp32():
    model = _Detector()
    wrapper = BF16AutocastOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    x = torch.randn(2, 3, 16, 16)
    with wrapper.optim_context(model):
        out = model(x)
    assert model.backbone.inside == torch.bfloat16  # ODConv under autocast
    assert model.seen == {'backbone': torch.float32, 'neck': torch.float32}
    assert out.dtype == torch.float32
    wrapper.update_params(out.float().square().mean())
    assert 'forward' not in vars(model.backbone)  # restored
    assert model(x).dtype == torch.float32
    assert model.backbone.inside == torch.float32
