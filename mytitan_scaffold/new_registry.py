"""The registry package that `mytitan new` creates out of tree.

Kept apart from registry.py so that a first model needs no libcst import (it
costs about 0.15 s of the command's start-up).
"""

# Out of tree, torchtitan imports this package (the TOMLs' custom_import), and the
# package registers each listed model's TrainSpec.
NEW_REGISTRY_TEMPLATE = '''\
"""Models of this project, registered with torchtitan when this package is imported.

The models' train_configs name this package in `[experimental] custom_import`;
`mytitan new` adds each model to `_supported_models`.
"""

import importlib

from torchtitan.protocols.train_spec import register_train_spec

_supported_models = frozenset({names})

for _name in sorted(_supported_models):
    _module = importlib.import_module(f"{{__name__}}.{{_name}}")
    register_train_spec(_name, _module.get_train_spec())
'''


def new_registry_source(name: str) -> str:
    """Source of a fresh out-of-tree registry package listing `name`."""
    return NEW_REGISTRY_TEMPLATE.format(names=f'["{name}"]')
