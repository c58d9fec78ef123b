"""Checkpoint conversion from the official ODConv code to our backbones."""
from .official import convert_official_checkpoint, save_atomic

__all__ = ['convert_official_checkpoint', 'save_atomic']
