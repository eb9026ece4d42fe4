"""layered-data: DataLoader, TfmdLists, Datasets, DataLoaders, the data block API and downloads."""

__version__ = "0.1.0"

__all__ = ["__version__"]
