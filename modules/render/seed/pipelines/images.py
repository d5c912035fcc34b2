"""Container image URIs of the SageMaker-provided images that the pipeline runs.

SageMaker publishes its scikit-learn and XGBoost images in one ECR registry account per region.
The table below lists those accounts for the commercial, China and GovCloud partitions, as
published in the SageMaker image URI configuration (`image_uri_config/xgboost.json` and
`sklearn.json`: both frameworks share the same account per region for the versions used here).
Regions missing from the table fail loudly instead of producing a URI that does not exist; the
image URIs are also pipeline parameters, so a new region can be served by passing them explicitly.
"""

from __future__ import annotations

# scikit-learn 1.2-1 (processing) and XGBoost 1.7-1 (training, evaluation, inference).
SKLEARN_VERSION_TAG = "1.2-1-cpu-py3"
XGBOOST_VERSION_TAG = "1.7-1"

_REGISTRY_ACCOUNTS: dict[str, str] = {
    "af-south-1": "510948584623",
    "ap-east-1": "651117190479",
    "ap-northeast-1": "354813040037",
    "ap-northeast-2": "366743142698",
    "ap-northeast-3": "867004704886",
    "ap-south-1": "720646828776",
    "ap-south-2": "628508329040",
    "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285",
    "ap-southeast-3": "951798379941",
    "ap-southeast-4": "106583098589",
    "ca-central-1": "341280168497",
    "ca-west-1": "190319476487",
    "cn-north-1": "450853457545",
    "cn-northwest-1": "451049120500",
    "eu-central-1": "492215442770",
    "eu-central-2": "680994064768",
    "eu-north-1": "662702820516",
    "eu-south-1": "978288397137",
    "eu-south-2": "104374241257",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
    "eu-west-3": "659782779980",
    "il-central-1": "898809789911",
    "me-central-1": "272398656194",
    "me-south-1": "801668240914",
    "sa-east-1": "737474898029",
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-gov-east-1": "237065988967",
    "us-gov-west-1": "414596584902",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
}


class UnsupportedRegionError(ValueError):
    """Raised when no SageMaker image registry account is known for a region."""


def supported_regions() -> tuple[str, ...]:
    """Regions for which default image URIs can be derived, sorted."""
    return tuple(sorted(_REGISTRY_ACCOUNTS))


def _registry(region: str) -> str:
    try:
        account = _REGISTRY_ACCOUNTS[region]
    except KeyError:
        raise UnsupportedRegionError(
            f"region {region!r}: no SageMaker image registry account is known for it; pass the "
            "image URIs explicitly with --parameter ProcessingImageUri=... and "
            "--parameter XGBoostImageUri=... (known regions: "
            + ", ".join(supported_regions())
            + ")"
        ) from None
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}"


def sklearn_image_uri(region: str) -> str:
    """URI of the SageMaker scikit-learn processing image in `region`."""
    return f"{_registry(region)}/sagemaker-scikit-learn:{SKLEARN_VERSION_TAG}"


def xgboost_image_uri(region: str) -> str:
    """URI of the SageMaker built-in XGBoost image (training and inference) in `region`."""
    return f"{_registry(region)}/sagemaker-xgboost:{XGBOOST_VERSION_TAG}"
