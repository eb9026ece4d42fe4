"""layered-data: DataLoader, TfmdLists, Datasets, DataLoaders, the data block API and downloads."""

from layered.core.lazy import lazy_face

__version__ = "0.1.0"

# each module's public names, imported from it on first use
_NAMES = """
archive: DEFAULT_MAX_BYTES DEFAULT_MAX_RATIO extract_archive
blocks: CategoryBlock MultiCategoryBlock RegressionBlock TransformBlock
categorize: Categorize Category CategoryMap EncodedMultiCategorize MultiCategorize MultiCategory OneHotEncode RegressionSetup TensorCategory TensorMultiCategory TensorRegression
checksums: CHECKSUMS expected_checksum file_sha256 register_checksum
collation: collate convert
config: Config layered_home
data_block: DataBlock
dataloaders: DataLoaders
datasets: Datasets test_set
download: DownloadError download_url
errors: DataError
external: URLs download_data untar_data
getters: ColReader FileGetter RegexLabeller get_files parent_label using_attr
in_memory: as_arrays item_of slice_arrays
loader: DataLoader
normalize: Normalize ToTensor
sampling: PartialDL PartialSampling WeightedDL WeightedSampling check_weights sampled_train_type
show: samples_frame show_batch show_results
splitters: ColSplitter EndSplitter FileSplitter FuncSplitter GrandparentSplitter IndexSplitter MaskSplitter RandomSplitter RandomSubsetSplitter Splitter TrainTestSplitter check_splits
tfmd_lists: TfmdLists
tfmd_loader: TfmdDL
"""

_PUBLIC, __getattr__, __dir__ = lazy_face(__name__, _NAMES)
__all__ = ["__version__", *_PUBLIC]
