"""Necks with ODConv (ablations beyond the paper)."""
from .od_cspnext_pafpn import ODCSPNeXtPAFPN
from .od_fpn import ODFPN

__all__ = ['ODCSPNeXtPAFPN', 'ODFPN']
