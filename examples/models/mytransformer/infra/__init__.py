from .parallelize import parallelize_mytransformer
from .pipeline import pipeline_mytransformer

__all__ = [
    "parallelize_mytransformer",
    "pipeline_mytransformer",
]
