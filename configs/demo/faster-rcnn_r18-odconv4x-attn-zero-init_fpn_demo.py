# What `make demo` trains: the ODConv 4x demo (the official attention BN)
# with zero-initialised attention heads, so that every image starts with the
# same kernel and the attentions grow from there. Trained from scratch at 4
# images per batch, the official init's random per-image start cost box AP
# (docs/accuracy.md). Keep the official init (the layer's default) when
# fine-tuning official checkpoints: loading one replaces it anyway.
_base_ = './faster-rcnn_r18-odconv4x_fpn_demo.py'

model = dict(backbone=dict(odconv=dict(zero_init_attention=True)))
