"""Logging through MMEngine's current logger when it is installed."""
import logging


def log(msg: str, level: int = logging.INFO) -> None:
    """Log ``msg`` to MMEngine's current logger, else to this package's."""
    try:
        from mmengine.logging import print_log
    except ImportError:
        logging.getLogger('mmdet_odconv').log(level, msg)
    else:
        print_log(msg, logger='current', level=level)
