from .config import MytransformerModelArgs
from .model import MytransformerModel
from .state_dict_adapter import MytransformerStateDictAdapter

__all__ = [
    "MytransformerModel",
    "MytransformerModelArgs",
    "MytransformerStateDictAdapter",
]
