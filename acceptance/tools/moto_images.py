"""SSM public parameters for EKS node images, for acceptance/tools/moto_server.py:
the Bottlerocket and AL2023 image_id / image_version / release_version names
EKS and the provider look up, joined into moto's lazily loaded /aws/service
trees (importing this module installs the hook)."""

import hashlib
from collections import defaultdict

from moto.core.utils import utcnow
from moto.ssm import models as ssm_models


K8S_VERSIONS = [f"1.{minor}" for minor in range(28, 38)]
ARCHES = ("x86_64", "arm64")
AL2023_RELEASE_DATE = "20261012"
BOTTLEROCKET_RELEASE = "1.66.0"
PUBLIC_PREFIXES = ("/aws/service/bottlerocket", "/aws/service/eks")


def _fake_ami(name):
    return "ami-" + hashlib.sha256(name.encode()).hexdigest()[:17]


# The image variants: Bottlerocket's aws-k8s-<version><suffix> variants
# (bottlerocket-os/bottlerocket:variants/) and AL2023's AMI type paths
# (awsdocs/amazon-eks-user-guide:latest/ug/nodes/retrieve-ami-id.adoc).
BOTTLEROCKET_SUFFIXES = ("", "-nvidia", "-fips", "-nvidia-fips")
AL2023_VARIANTS = {"x86_64": ("standard", "nvidia", "neuron"), "arm64": ("standard", "nvidia")}


def _bottlerocket_prefix(version, arch, suffix=""):
    return f"/aws/service/bottlerocket/aws-k8s-{version}{suffix}/{arch}/latest"


def _al2023_prefix(version, arch, variant="standard"):
    return f"/aws/service/eks/optimized-ami/{version}/amazon-linux-2023/{arch}/{variant}/recommended"


def bottlerocket_image_version(version, arch, suffix=""):
    name = f"{_bottlerocket_prefix(version, arch, suffix)}/image_version"
    return f"{BOTTLEROCKET_RELEASE}-" + hashlib.sha256(name.encode()).hexdigest()[:8]


def al2023_release_version(version):
    return f"{version}.0-{AL2023_RELEASE_DATE}"


def _public_parameters():
    out = {}
    for version in K8S_VERSIONS:
        for arch in ARCHES:
            for suffix in BOTTLEROCKET_SUFFIXES:
                br = _bottlerocket_prefix(version, arch, suffix)
                out[f"{br}/image_id"] = _fake_ami(f"{br}/image_id")
                out[f"{br}/image_version"] = bottlerocket_image_version(version, arch, suffix)
            for variant in AL2023_VARIANTS[arch]:
                al = _al2023_prefix(version, arch, variant)
                out[f"{al}/image_id"] = _fake_ami(f"{al}/image_id")
                out[f"{al}/release_version"] = al2023_release_version(version)
    return out


PUBLIC_PARAMETERS = _public_parameters()
_orig_check_loading_status = ssm_models.ParameterDict._check_loading_status


def _check_loading_status(self, key):
    # moto loads its own /aws/service/... trees lazily, per region, the first
    # time a name under them is looked up (GetParameter, GetParameters,
    # GetParametersByPath all go through here); ours join in the same way.
    _orig_check_loading_status(self, key)
    key = str(key or "")
    if key.startswith(PUBLIC_PREFIXES) and not getattr(self, "_nested_eks_public_loaded", False):
        self._nested_eks_public_loaded = True
        for name, value in PUBLIC_PARAMETERS.items():
            versions = defaultdict.__getitem__(self, name)
            if versions:
                continue
            versions.append(
                ssm_models.Parameter(
                    account_id=self.account_id,
                    name=name,
                    value=value,
                    parameter_type="String",
                    description=None,
                    allowed_pattern=None,
                    keyid=None,
                    last_modified_date=utcnow(),
                    version=1,
                    data_type="text",
                )
            )


ssm_models.ParameterDict._check_loading_status = _check_loading_status


def default_release_version(ami_type, version):
    """The release version EKS would pick: the newest AMI for `version`."""
    kind = (ami_type or "").upper()
    if kind.startswith("BOTTLEROCKET"):
        suffix = "-nvidia" if "NVIDIA" in kind else ""
        suffix += "-fips" if "FIPS" in kind else ""
        return bottlerocket_image_version(version, "arm64" if "ARM" in kind else "x86_64", suffix)
    if kind.startswith("AL2"):
        return al2023_release_version(version)
    return None
