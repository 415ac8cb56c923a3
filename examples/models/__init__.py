"""Models of this project, registered with torchtitan when this package is imported.

The models' train_configs name this package in `[experimental] custom_import`;
`mytitan new` adds each model to `_supported_models`.
"""

import importlib

from torchtitan.protocols.train_spec import register_train_spec

_supported_models = frozenset(["mytransformer"])

for _name in sorted(_supported_models):
    _module = importlib.import_module(f"{__name__}.{_name}")
    register_train_spec(_name, _module.get_train_spec())
