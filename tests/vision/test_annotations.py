import json

import pytest

from layered.vision.annotations import get_annotations
from layered.vision.errors import VisionError


def _coco(tmp_path, annotations):
    data = {
        "images": [
            {"id": 1, "file_name": "a.jpg"},
            {"id": 2, "file_name": "b.jpg"},
            {"id": 3, "file_name": "c.jpg"},
        ],
        "categories": [{"id": 7, "name": "cat"}, {"id": 9, "name": "dog"}],
        "annotations": annotations,
    }
    path = tmp_path / "train.json"
    path.write_text(json.dumps(data))
    return path


def test_boxes_become_corners_with_names(tmp_path):
    path = _coco(
        tmp_path,
        [
            {"image_id": 1, "category_id": 7, "bbox": [10, 20, 30, 40]},
            {"image_id": 1, "category_id": 9, "bbox": [0, 0, 5, 5]},
            {"image_id": 2, "category_id": 9, "bbox": [1.5, 2, 3, 4]},
        ],
    )
    files, targets = get_annotations(path, prefix="imgs/")
    assert files == ["imgs/a.jpg", "imgs/b.jpg", "imgs/c.jpg"]
    assert targets[0] == ([[10, 20, 40, 60], [0, 0, 5, 5]], ["cat", "dog"])
    assert targets[1] == ([[1.5, 2, 4.5, 6]], ["dog"])
    assert targets[2] == ([], [])


def test_bad_annotations_name_the_problem(tmp_path):
    with pytest.raises(VisionError, match="unknown image 5"):
        get_annotations(_coco(tmp_path, [{"image_id": 5, "category_id": 7, "bbox": [0, 0, 1, 1]}]))
    with pytest.raises(VisionError, match="unknown category 1"):
        get_annotations(_coco(tmp_path, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]))
    with pytest.raises(VisionError, match=r"b\.jpg has a negative width"):
        get_annotations(_coco(tmp_path, [{"image_id": 2, "category_id": 7, "bbox": [5, 5, -1, 1]}]))
    with pytest.raises(VisionError, match="4-number bbox"):
        get_annotations(_coco(tmp_path, [{"image_id": 2, "category_id": 7, "bbox": [5, 5]}]))
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(VisionError, match="not valid JSON"):
        get_annotations(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text("{}")
    with pytest.raises(VisionError, match="no 'images' list"):
        get_annotations(tmp_path / "other.json")
