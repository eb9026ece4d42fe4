"""layered-core: L, type dispatch, Transform/Pipeline, semantic tensors and small conveniences."""

from layered.core.lazy import lazy_face

__version__ = "0.1.0"

_WHERE = {
    "atomic_save": "layered.core.atomic",
    "atomic_write": "layered.core.atomic",
    "remove_stale_temporaries": "layered.core.atomic",
    "StoreAttrError": "layered.core.attributes",
    "store_attr": "layered.core.attributes",
    "L": "layered.core.collection",
    "LIndexError": "layered.core.collection",
    "TensorCreationError": "layered.core.creation",
    "tensor": "layered.core.creation",
    "DelegationError": "layered.core.delegation",
    "GetAttr": "layered.core.delegation",
    "delegates": "layered.core.delegation",
    "default_device": "layered.core.device",
    "set_default_device": "layered.core.device",
    "to_cpu": "layered.core.device",
    "to_detach": "layered.core.device",
    "to_device": "layered.core.device",
    "to_float": "layered.core.device",
    "DispatchError": "layered.core.dispatch",
    "Explanation": "layered.core.dispatch",
    "TypeDispatch": "layered.core.dispatch",
    "typedispatch": "layered.core.dispatch",
    "LayeredError": "layered.core.errors",
    "lazy_face": "layered.core.lazy",
    "FuncsKwargsError": "layered.core.method_kwargs",
    "funcs_kwargs": "layered.core.method_kwargs",
    "apply": "layered.core.nested",
    "find_bs": "layered.core.nested",
    "PatchError": "layered.core.patching",
    "patch": "layered.core.patching",
    "Pipeline": "layered.core.pipeline",
    "set_seed": "layered.core.seed",
    "TensorBase": "layered.core.tensor_types",
    "TensorTypeError": "layered.core.tensor_types",
    "register_safe_tensor_types": "layered.core.tensor_types",
    "retain_type": "layered.core.tensor_types",
    "retain_types": "layered.core.tensor_types",
    "safe_tensor_types": "layered.core.tensor_types",
    "DisplayedTransform": "layered.core.transform",
    "ItemTransform": "layered.core.transform",
    "Transform": "layered.core.transform",
    "TransformTypeError": "layered.core.transform",
    "noop": "layered.core.transform",
}

__all__ = ["__version__", *_WHERE]
__getattr__, __dir__ = lazy_face(__name__, _WHERE)
