"""Reading COCO-style object-detection annotations (JSON) into file names, boxes and labels."""

from __future__ import annotations

import json
from pathlib import Path

from layered.vision.errors import VisionError

__all__ = ["get_annotations"]


def _load(json_file: Path) -> dict:
    try:
        data = json.loads(json_file.read_text())
    except FileNotFoundError as e:
        raise VisionError(f"get_annotations: {json_file} does not exist") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise VisionError(f"get_annotations: {json_file} is not valid JSON ({e})") from e
    for key in ("images", "annotations", "categories"):
        if not isinstance(data, dict) or not isinstance(data.get(key), list):
            raise VisionError(f"get_annotations: {json_file} has no {key!r} list; expected COCO-style JSON")
    return data


def get_annotations(
    json_file: str | Path, prefix: str | None = None
) -> tuple[list[str], list[tuple[list[list[float]], list[str]]]]:
    """Image file names (with `prefix` prepended) and, per image, `(boxes, labels)`.

    Boxes are pixel `[x1, y1, x2, y2]` (COCO stores `[x, y, width, height]`), labels category
    names. Every image is listed, those without annotations with empty lists.
    """
    json_file = Path(json_file)
    data = _load(json_file)
    try:
        names = {c["id"]: c["name"] for c in data["categories"]}
        files = {im["id"]: im["file_name"] for im in data["images"]}
    except (KeyError, TypeError) as e:
        raise VisionError(f"get_annotations: {json_file}: a category or image lacks {e}") from e
    found: dict = {i: ([], []) for i in files}
    for k, a in enumerate(data["annotations"]):
        try:
            image_id, cat, (x, y, w, h) = a["image_id"], a["category_id"], a["bbox"]
        except (KeyError, TypeError, ValueError) as e:
            raise VisionError(
                f"get_annotations: {json_file}: annotation {k} needs image_id, category_id and a "
                f"4-number bbox ({e})"
            ) from e
        if image_id not in files:
            raise VisionError(
                f"get_annotations: {json_file}: annotation {k} refers to unknown image {image_id!r}"
            )
        if cat not in names:
            raise VisionError(
                f"get_annotations: {json_file}: annotation {k} refers to unknown category {cat!r}"
            )
        if w < 0 or h < 0:
            raise VisionError(
                f"get_annotations: {json_file}: annotation {k} of {files[image_id]} has a negative "
                f"width or height in bbox {[x, y, w, h]}"
            )
        boxes, labels = found[image_id]
        boxes.append([x, y, x + w, y + h])
        labels.append(names[cat])
    pre = prefix or ""
    return [pre + files[i] for i in files], [found[i] for i in files]
