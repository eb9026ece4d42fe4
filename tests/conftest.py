"""Test-wide settings."""

import torch

# The models in the tests are tiny: one thread runs them faster than several competing threads,
# and results do not depend on how many cores the machine has.
torch.set_num_threads(1)
