from .parallelize import parallelize_mytransformer

__all__ = ["parallelize_mytransformer"]
