"""layered-core: L, type dispatch, Transform/Pipeline, semantic tensors and small conveniences."""

from layered.core.lazy import lazy_face

__version__ = "0.1.0"

# each module's public names, imported from it on first use
_NAMES = """
atomic: atomic_save atomic_write remove_stale_temporaries
attributes: StoreAttrError store_attr
collection: L LIndexError
config: ConfigError ConfigReader ConfigWriter from_config to_config
creation: TensorCreationError tensor
delegation: DelegationError GetAttr delegates
device: default_device set_default_device to_cpu to_detach to_device to_float
dispatch: DispatchError Explanation TypeDispatch typedispatch
errors: LayeredError
item_errors: carry_note_from_worker item_note mark_step note_batch_error note_item_error short_repr
lazy: FaceError lazy_face
method_kwargs: FuncsKwargsError funcs_kwargs
nested: apply find_bs
patching: PatchError patch
pipeline: Pipeline
registry: Component RegistryError find_component register_adapter register_lazy register_serializable registered_name
seed: set_seed
tensor_types: TensorBase TensorTypeError register_safe_tensor_types retain_type retain_types safe_tensor_types
transform: DisplayedTransform ItemTransform Transform TransformTypeError noop
"""

_PUBLIC, __getattr__, __dir__ = lazy_face(__name__, _NAMES)
__all__ = ["__version__", *_PUBLIC]
