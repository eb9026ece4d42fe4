"""Optimizers: the generic stepper-based `Optimizer`, its algorithms, Lookahead, the torch-optimizer wrapper, schedules and parameter groups."""

from layered.core.lazy import lazy_face

# each module's public names, imported from it on first use
_NAMES = """
algorithms: Adam LAMB Larc QHAdam RAdam RMSProp SGD ranger
foreach: adam_step_foreach average_grad_foreach average_sqr_grad_foreach foreach_ready foreach_twin l2_reg_foreach lamb_step_foreach momentum_step_foreach radam_step_foreach rms_prop_step_foreach sgd_step_foreach step_stat_foreach weight_decay_foreach
fused: fused_adam
lookahead: Lookahead
optimizer: Optimizer OptimizerBase hyper_per_group normalize_param_groups
param_groups: NORM_TYPES even_mults expand_lr norm_bias_params norm_params trainable_params
schedule: CombinedSchedule SchedCos SchedExp SchedLin SchedNo SchedPoly Schedule combine_scheds flat_cos_scheds one_cycle_scheds sgdr_scheds
steppers: adam_step average_grad average_sqr_grad debias l2_reg lamb_step larc_scale_grad momentum_step qhadam_step radam_step rms_prop_step sgd_step step_stat weight_decay
torch_optimizer: OptimWrapper
"""

_PUBLIC, __getattr__, __dir__ = lazy_face(__name__, _NAMES)
__all__ = _PUBLIC
