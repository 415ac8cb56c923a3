from .metrics import build_mytransformer_metrics_processor
from .parallelize import parallelize_mytransformer
from .pipeline import pipeline_mytransformer

__all__ = [
    "build_mytransformer_metrics_processor",
    "parallelize_mytransformer",
    "pipeline_mytransformer",
]
