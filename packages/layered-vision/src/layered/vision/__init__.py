"""layered-vision: images, masks, points and boxes; augmentation; vision models and learners."""

from layered.core.lazy import lazy_face

__version__ = "0.1.0"

# each module's public names, imported from it on first use
_NAMES = """
affine: AffineCoordTfm Dihedral Flip RandomResizedCropGPU Rotate Warp Zoom
annotations: get_annotations
augment: RandomErasing aug_transforms compose_augmentations
blocks: AddMaskCodes BBoxBlock BBoxLblBlock ImageBlock MaskBlock PointBlock bb_pad clip_remove_empty
dataloaders: ImageDataLoaders SegmentationDataLoaders
digits: DIGITS_VALID_PCT digits_folder digits_pixels
drawing: axes_grid show_boxes show_image show_images show_points
efficientnet_lite: EfficientNetLite MBConvLite efficientnet_lite0 efficientnet_lite_state lite_stats
errors: ImageReadError VisionError
fixed_symmetries: FixedDihedral FixedFlip dihedral_views flip_views
image_io: convert_image get_image_files image_extensions load_image load_mask mask_values skip_bad_images verify_images
interpret: SegmentationInterpretation
item_transforms: CheckMaskSize CropPad ImageToTensor IntToFloatTensor PointScaler RandomCrop RandomResizedCrop RatioResize Resize
learner: BodyHeadSplitter arch_meta cnn_learner create_body create_head create_vision_model get_c model_meta normalize_dls vision_learner
lighting: Brightness Contrast Hue LightingTfm Saturation
normalize: ImageNormalize cifar_stats imagenet_stats mnist_stats
serving: ResizeImages ScaleImages image_positions
show: show_batch show_results
timm_body: TimmBody cached_weights import_timm timm_state_dict timm_stats
torchvision_components: TORCHVISION_BLOCKS
torchvision_models: TorchvisionModel alexnet convnext_base convnext_large convnext_small convnext_tiny densenet121 densenet161 densenet169 densenet201 efficientnet_b0 efficientnet_b1 efficientnet_b2 efficientnet_b3 efficientnet_b4 efficientnet_b5 efficientnet_b6 efficientnet_b7 efficientnet_v2_l efficientnet_v2_m efficientnet_v2_s mobilenet_v2 mobilenet_v3_large mobilenet_v3_small real_arch resnet101 resnet152 resnet18 resnet34 resnet50 resnext101_32x8d resnext101_64x4d resnext50_32x4d squeezenet1_0 squeezenet1_1 vgg11 vgg11_bn vgg13 vgg13_bn vgg16 vgg16_bn vgg19 vgg19_bn wide_resnet101_2 wide_resnet50_2
types: LabeledBBox PILBase PILImage PILImageBW PILMask TensorBBox TensorImage TensorImageBW TensorImageBase TensorMask TensorPoint source_of
unet: DynamicUnet UnetBlock unet_learner
xresnet: XResNet init_cnn resnext_block se_block se_resnext_block xresnet101 xresnet152 xresnet18 xresnet18_deep xresnet18_deeper xresnet34 xresnet34_deep xresnet34_deeper xresnet50 xresnet50_deep xresnet50_deeper xresnext101 xresnext18 xresnext34 xresnext50 xse_resnet101 xse_resnet152 xse_resnet18 xse_resnet34 xse_resnet50 xse_resnext101 xse_resnext18 xse_resnext34 xse_resnext50
"""
# subpackages (rooms) whose public names this face also gives
_ROOMS = ["gan"]

_PUBLIC, __getattr__, __dir__ = lazy_face(__name__, _NAMES, _ROOMS)
__all__ = ["__version__", *_PUBLIC]
