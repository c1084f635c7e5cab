"""moto's AWS API server for the acceptance suite and `make demo`.

Binds 127.0.0.1 only. What moto lacks is added here by patching moto's
classes before its own server main runs, never faked inside the provider:

- EKS UpdateNodegroupVersion
  (POST /clusters/{name}/node-groups/{nodegroupName}/update-version),
  DescribeUpdate (GET /clusters/{name}/updates/{updateId}?nodegroupName=)
  and ListUpdates (GET /clusters/{name}/updates?nodegroupName=); updates
  made by UpdateNodegroupConfig are recorded too. A repeated
  clientRequestToken returns the update it already made.
- CreateNodegroup idempotency: the clientRequestToken the node group was
  created with returns the existing node group (200), as EKS does; another
  or no token still gets ResourceInUseException.
- Node group defaults as EKS sets them: the cluster's Kubernetes version
  when none is given, a release version matching the SSM parameters below,
  and the launch template's default version when none is given.
- CreateNodegroup keeps updateConfig and nodeRepairConfig (moto drops
  them); a forced UpdateNodegroupVersion records a "Force" update param.
- TagResource, UntagResource and ListTagsForResource on node group ARNs
  (moto tags clusters only).
- No remoteAccess unless the request has one (moto invents an SSH key),
  and amiType CUSTOM when no amiType is given and the launch template
  names an AMI, as EKS answers.
- An optional slow lifecycle, off by default:
  MOTO_NODEGROUP_CREATING_POLLS=N: a new node group reports CREATING for
  its first N DescribeNodegroup calls, then ACTIVE;
  MOTO_NODEGROUP_DELETING_POLLS=N: a deleted node group reports DELETING
  for N DescribeNodegroup calls, then is gone (ResourceNotFoundException).
  Updates are refused (ResourceInUseException) while CREATING or DELETING.
- The SSM public parameters EKS users read (moto_images.py), in every region, for
  Kubernetes 1.28-1.37 and x86_64/arm64:
  /aws/service/bottlerocket/aws-k8s-<v>/<arch>/latest/{image_id,image_version}
  /aws/service/eks/optimized-ami/<v>/amazon-linux-2023/<arch>/standard/recommended/{image_id,release_version}
- EC2 CreateLaunchTemplateVersion with SourceVersion: the new version is
  the source version's data with the given data on top, as EC2 does
  (moto ignores SourceVersion).
- EC2 DescribeLaunchTemplates with LaunchTemplateIds answers every template
  named, or, when one of them does not exist, fails the whole call with
  InvalidLaunchTemplateId.NotFound (moto drops the missing ones and cuts
  the answer at 15). The error code is the one EC2 answers for a launch
  template ID that does not exist (EC2 API Reference, "Error codes";
  hashicorp/terraform-provider-aws internal/service/ec2/find.go
  findLaunchTemplates reads it from DescribeLaunchTemplates as not found).
- EKS node groups report their launch template by id and name, as
  DescribeNodegroup does ("launchTemplate": {"name", "version", "id"}; moto
  keeps only what CreateNodegroup was given). UpdateNodegroupVersion takes
  "the same launch template ID or name that was used to create the node
  group" (EKS API Reference, UpdateNodegroupVersion, launchTemplate): an ID
  is compared with the node group's ID, a name with its name; a template
  that does not exist is refused.
- DescribeLaunchTemplates reports a template's tags as they are now (moto
  reports those it was created with, not later CreateTags).
- MOTO_LIST_NODEGROUPS_PAGE=N: ListNodegroups answers at most N names
  per page (EKS allows up to 100), so paging is exercised with a few
  node groups.
- A call counter per service:Action (moto_calls.py): GET /nested-test/calls answers
  {"eks:DescribeNodegroup": 3, ...}; POST /nested-test/calls/reset zeroes it
  (and the timing). GET /nested-test/timing answers {"busy_s": ..., "sum_s": ...}:
  the time at least one AWS call was being answered, and the sum of every
  call's time (for `make bench`: wall time outside moto is the client's).
  GET /nested-test/counts?cluster=NAME answers {"nodegroups": N,
  "launch_templates": M} in us-east-1 at once (tests poll it while Terraform
  runs; a boto3 process per poll takes up to a second on a loaded machine).
"""

import argparse
import inspect
import os
import sys
import threading

import moto.server as moto_server
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.eks import models as eks_models
from moto.eks import responses as eks_responses
from moto.eks import urls as eks_urls
from moto.eks.exceptions import (
    InvalidParameterException,
    InvalidRequestException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from moto.moto_api._internal import mock_random
from moto.ec2.exceptions import InvalidLaunchTemplateIdNotFound
from moto.ec2.responses import launch_templates as ec2_lt_responses

HOST = "127.0.0.1"

# Node group status changes and update records are made under this lock;
# the server is threaded.
EKS_LOCK = threading.RLock()


def _polls(var):
    try:
        return max(0, int(os.environ.get(var, "0") or 0))
    except ValueError:
        return 0


from moto_images import default_release_version  # noqa: E402 - script dir on sys.path; installs the SSM hook

# ---------------------------------------------------------------------------
# EKS
# ---------------------------------------------------------------------------

Backend = eks_models.EKSBackend
_orig_create_nodegroup = Backend.create_nodegroup
_orig_delete_nodegroup = Backend.delete_nodegroup
_orig_update_nodegroup_config = Backend.update_nodegroup_config
_orig_tag_resource = Backend.tag_resource
_orig_untag_resource = Backend.untag_resource
_orig_list_tags_for_resource = Backend.list_tags_for_resource
_CREATE_SIG = inspect.signature(_orig_create_nodegroup)
_UPDATE_CONFIG_SIG = inspect.signature(_orig_update_nodegroup_config)


def _cluster_not_found(cluster_name, nodegroup_name=None):
    return ResourceNotFoundException(
        clusterName=cluster_name,
        nodegroupName=nodegroup_name,
        fargateProfileName=None,
        addonName=None,
        message=eks_models.CLUSTER_NOT_FOUND_MSG.format(clusterName=cluster_name),
    )


def _nodegroup_not_found(cluster_name, nodegroup_name):
    return ResourceNotFoundException(
        clusterName=cluster_name,
        nodegroupName=nodegroup_name,
        fargateProfileName=None,
        addonName=None,
        message=eks_models.NODEGROUP_NOT_FOUND_MSG.format(nodegroupName=nodegroup_name),
    )


def _lookup(backend, cluster_name, nodegroup_name):
    cluster = backend.clusters.get(cluster_name)
    if cluster is None:
        raise _cluster_not_found(cluster_name, nodegroup_name)
    ng = cluster.nodegroups.get(nodegroup_name)
    if ng is None:
        raise _nodegroup_not_found(cluster_name, nodegroup_name)
    return cluster, ng


def _require_active(ng):
    if ng.status in ("CREATING", "DELETING"):
        raise ResourceInUseException(
            clusterName=ng.cluster_name,
            nodegroupName=ng.nodegroup_name,
            addonName=None,
            message=f"Nodegroup {ng.nodegroup_name} cannot be updated while in {ng.status} status",
        )


# Updates live on the backend instance, so /moto-api/reset clears them.
def _updates(backend):
    if not hasattr(backend, "_nested_updates"):
        backend._nested_updates = {}
        backend._nested_update_tokens = {}
    return backend._nested_updates


def _update_by_token(backend, cluster_name, nodegroup_name, kind, token):
    _updates(backend)
    update_id = backend._nested_update_tokens.get((cluster_name, nodegroup_name, kind, token))
    if token and update_id:
        return backend._nested_updates[update_id]["update"]
    return None


def _record_update(backend, cluster_name, nodegroup_name, token, update):
    _updates(backend)[update["id"]] = {
        "cluster": cluster_name,
        "nodegroup": nodegroup_name,
        "update": update,
    }
    if token:
        backend._nested_update_tokens[(cluster_name, nodegroup_name, update["type"], token)] = update["id"]
    return update


def _launch_template(backend, spec):
    """moto's EC2 launch template named by an EKS spec ({id|name}), or None."""
    try:
        from moto.ec2.models import ec2_backends

        ec2 = ec2_backends[backend.account_id][backend.region_name]
        template_id = spec.get("id") or ec2.launch_template_name_to_ids.get(spec.get("name"))
        return ec2.launch_templates.get(template_id)
    except Exception:  # noqa: BLE001 - EC2 state is best effort, as in moto's Nodegroup
        return None


def _template_version(template, version):
    """The version number a spec's version means, as a string."""
    if template is None:
        return None if version is None else str(version)
    if version is None or str(version).lower() == "$default":
        return str(template.default_version_number)
    if str(version).lower() == "$latest":
        return str(template.latest_version_number)
    version = str(version)
    if not version.isdigit() or not 1 <= int(version) <= len(template.versions):
        raise InvalidParameterException(
            message=f"Launch template {template.id} has no version {version}"
        )
    return version


def create_nodegroup(self, *args, **kwargs):
    bound = _CREATE_SIG.bind(self, *args, **kwargs)
    a = bound.arguments
    cluster_name, nodegroup_name = a["cluster_name"], a["nodegroup_name"]
    token = a.get("client_request_token")
    with EKS_LOCK:
        cluster = self.clusters.get(cluster_name)
        if cluster is not None:
            existing = cluster.nodegroups.get(nodegroup_name)
            if (
                existing is not None
                and token
                and existing.client_request_token == token
                and existing.status != "DELETING"
            ):
                return existing
            if not a.get("version"):
                a["version"] = cluster.version
        ng = _orig_create_nodegroup(*bound.args, **bound.kwargs)
        if not a.get("remote_access"):
            # EKS returns no remoteAccess unless one was asked for.
            ng.remote_access = None
        if not a.get("ami_type") and ng.launch_template:
            template = _launch_template(self, ng.launch_template)
            number = _template_version(template, ng.launch_template.get("version"))
            if template is not None and number and template.versions[int(number) - 1].image_id:
                # A launch template naming an AMI makes the node group CUSTOM.
                ng.ami_type = "CUSTOM"
        if not a.get("release_version"):
            ng.release_version = default_release_version(ng.ami_type, ng.version) or ng.release_version
        if ng.launch_template:
            template = _launch_template(self, ng.launch_template)
            if template is not None and ng.launch_template.get("version") is None:
                ng.launch_template["version"] = str(template.default_version_number)
            if template is not None:
                # EKS reports both, whichever the request named.
                ng.launch_template["id"] = template.id
                ng.launch_template["name"] = template.name
        polls = _polls("MOTO_NODEGROUP_CREATING_POLLS")
        if polls:
            ng.status = "CREATING"
            ng._nested_creating_polls = polls
        return ng


def delete_nodegroup(self, cluster_name, nodegroup_name):
    polls = _polls("MOTO_NODEGROUP_DELETING_POLLS")
    with EKS_LOCK:
        cluster = self.clusters.get(cluster_name)
        ng = cluster.nodegroups.get(nodegroup_name) if cluster is not None else None
        if ng is None or not polls:
            return _orig_delete_nodegroup(self, cluster_name, nodegroup_name)
        if ng.status != "DELETING":
            ng.status = "DELETING"
            ng._nested_deleting_polls = polls
            ng.modified_at = utcnow()
        return ng


def observe_nodegroup(backend, cluster_name, nodegroup_name):
    """One DescribeNodegroup call: advances the slow lifecycle, if on."""
    with EKS_LOCK:
        cluster, ng = _lookup(backend, cluster_name, nodegroup_name)
        if ng.status == "CREATING":
            left = getattr(ng, "_nested_creating_polls", 0)
            if left > 0:
                ng._nested_creating_polls = left - 1
            else:
                ng.status = "ACTIVE"
                ng.modified_at = utcnow()
        elif ng.status == "DELETING":
            left = getattr(ng, "_nested_deleting_polls", 0)
            if left > 0:
                ng._nested_deleting_polls = left - 1
            else:
                cluster.nodegroups.pop(nodegroup_name, None)
                cluster.nodegroup_count -= 1
                raise _nodegroup_not_found(cluster_name, nodegroup_name)
        return ng


def update_nodegroup_config(self, *args, **kwargs):
    bound = _UPDATE_CONFIG_SIG.bind(self, *args, **kwargs)
    a = bound.arguments
    cluster_name, nodegroup_name = a["cluster_name"], a["nodegroup_name"]
    token = a.get("client_request_token")
    with EKS_LOCK:
        _, ng = _lookup(self, cluster_name, nodegroup_name)
        previous = _update_by_token(self, cluster_name, nodegroup_name, "ConfigUpdate", token)
        if previous is not None:
            return previous
        _require_active(ng)
        update = _orig_update_nodegroup_config(*bound.args, **bound.kwargs)
        return _record_update(self, cluster_name, nodegroup_name, token, update)


def update_nodegroup_version(
    self,
    cluster_name,
    nodegroup_name,
    version=None,
    release_version=None,
    launch_template=None,
    force=None,
    client_request_token=None,
):
    with EKS_LOCK:
        cluster, ng = _lookup(self, cluster_name, nodegroup_name)
        previous = _update_by_token(self, cluster_name, nodegroup_name, "VersionUpdate", client_request_token)
        if previous is not None:
            return previous
        _require_active(ng)
        params = []
        if launch_template:
            current = ng.launch_template or {}
            if not current:
                raise InvalidRequestException(
                    message=f"Nodegroup {nodegroup_name} was not created with a launch template; "
                    "launchTemplate cannot be given when updating it"
                )
            template = _launch_template(self, launch_template)
            if template is None:
                raise InvalidParameterException(
                    message=f"Launch template {launch_template.get('id') or launch_template.get('name')} does not exist"
                )
            # "the same launch template ID or name that was used to create the
            # node group": what the request names is compared.
            given_id, given_name = launch_template.get("id"), launch_template.get("name")
            if given_name and current.get("name"):
                same = given_name == current["name"]
            else:
                same = (given_id or template.id) == current.get("id", template.id)
            if given_id and current.get("id") and given_id != current["id"]:
                same = False
            if not same:
                raise InvalidParameterException(
                    message="The launch template must be the one the node group was created with "
                    f"(id {current.get('id')}, name {current.get('name')})"
                )
            updated = dict(current)
            updated["id"] = template.id
            updated["name"] = template.name
            lt_version = _template_version(template, launch_template.get("version"))
            if lt_version is not None:
                updated["version"] = lt_version
            ng.launch_template = updated
            if updated.get("name"):
                params.append({"type": "LaunchTemplateName", "value": updated["name"]})
            if updated.get("version") is not None:
                params.append({"type": "LaunchTemplateVersion", "value": str(updated["version"])})
        # No version: EKS moves the group to the cluster's version, unless only
        # a launch template version is being rolled out.
        if version:
            ng.version = version
        elif not launch_template:
            ng.version = cluster.version
        if release_version:
            ng.release_version = release_version
        elif version or not launch_template:
            ng.release_version = default_release_version(ng.ami_type, ng.version) or ng.release_version
        params.append({"type": "Version", "value": ng.version})
        params.append({"type": "ReleaseVersion", "value": ng.release_version})
        # So tests can see that a forced rollout was asked for.
        if force:
            params.append({"type": "Force", "value": "true"})
        ng.modified_at = utcnow()
        update = {
            "id": str(mock_random.uuid4()),
            "status": "Successful",
            "type": "VersionUpdate",
            "params": params,
            "createdAt": utcnow(),
            "errors": [],
        }
        return _record_update(self, cluster_name, nodegroup_name, client_request_token, update)


def describe_update(self, name, update_id, nodegroup_name=None, addon_name=None):
    with EKS_LOCK:
        if name not in self.clusters:
            raise _cluster_not_found(name, nodegroup_name)
        entry = _updates(self).get(update_id)
        if (
            entry is None
            or entry["cluster"] != name
            or (nodegroup_name and entry["nodegroup"] != nodegroup_name)
            or addon_name
        ):
            raise ResourceNotFoundException(
                clusterName=name,
                nodegroupName=nodegroup_name,
                fargateProfileName=None,
                addonName=addon_name,
                message=f"No update found for ID: {update_id}",
            )
        return entry["update"]


def list_updates(self, name, nodegroup_name=None):
    with EKS_LOCK:
        if name not in self.clusters:
            raise _cluster_not_found(name, nodegroup_name)
        entries = sorted(_updates(self).values(), key=lambda e: e["update"]["createdAt"])
        return [
            e["update"]["id"]
            for e in entries
            if e["cluster"] == name and e["nodegroup"] == nodegroup_name
        ]


def _nodegroup_by_arn(backend, arn):
    for cluster in backend.clusters.values():
        for ng in cluster.nodegroups.values():
            if ng.arn == arn:
                return ng
    return None


def tag_resource(self, resource_arn, tags):
    ng = _nodegroup_by_arn(self, resource_arn)
    if ng is None:
        return _orig_tag_resource(self, resource_arn, tags)
    ng.tags.update(tags or {})


def untag_resource(self, resource_arn, tag_keys):
    ng = _nodegroup_by_arn(self, resource_arn)
    if ng is None:
        return _orig_untag_resource(self, resource_arn, tag_keys)
    if not isinstance(tag_keys, list):
        tag_keys = [tag_keys]
    for key in tag_keys:
        ng.tags.pop(key, None)


def list_tags_for_resource(self, resource_arn):
    ng = _nodegroup_by_arn(self, resource_arn)
    if ng is None:
        return _orig_list_tags_for_resource(self, resource_arn)
    return ng.tags


Backend.create_nodegroup = create_nodegroup
Backend.delete_nodegroup = delete_nodegroup
Backend.update_nodegroup_config = update_nodegroup_config
Backend.update_nodegroup_version = update_nodegroup_version
Backend.describe_update = describe_update
Backend.list_updates = list_updates
Backend.tag_resource = tag_resource
Backend.untag_resource = untag_resource
Backend.list_tags_for_resource = list_tags_for_resource

_moto_list_nodegroups = Backend.list_nodegroups


def list_nodegroups(self, cluster_name, max_results, next_token):
    page = _polls("MOTO_LIST_NODEGROUPS_PAGE")
    if page:
        max_results = min(max_results, page)
    if cluster_name not in self.clusters:
        raise _cluster_not_found(cluster_name)
    return _moto_list_nodegroups(self, cluster_name, max_results, next_token)


Backend.list_nodegroups = list_nodegroups


# ---------------------------------------------------------------------------
# EC2 CreateLaunchTemplateVersion: SourceVersion
# ---------------------------------------------------------------------------

_orig_create_lt_version = ec2_lt_responses.LaunchTemplates.create_launch_template_version


def create_launch_template_version(self):
    source = self._get_param("SourceVersion")
    if not source:
        return _orig_create_lt_version(self)
    name = self._get_param("LaunchTemplateName")
    tmpl_id = self._get_param("LaunchTemplateId")
    if tmpl_id:
        template = self.ec2_backend.get_launch_template(tmpl_id)
    else:
        template = self.ec2_backend.get_launch_template_by_name(name)
    merged = dict(template.get_version(source).data)
    merged.update(self._get_param("LaunchTemplateData", {}))
    create = template.create_version
    template.create_version = lambda _data, description: create(merged, description)
    try:
        return _orig_create_lt_version(self)
    finally:
        del template.create_version


ec2_lt_responses.LaunchTemplates.create_launch_template_version = (
    create_launch_template_version
)


# ---------------------------------------------------------------------------
# EC2 DescribeLaunchTemplates by ID: all of them, or InvalidLaunchTemplateId.NotFound
# ---------------------------------------------------------------------------

_orig_describe_lts = ec2_lt_responses.LaunchTemplates.describe_launch_templates


def describe_launch_templates(self):
    # A template's tags as they are now (moto keeps those it was created
    # with; CreateTags on a template shows in EC2's answer).
    for template in self.ec2_backend.launch_templates.values():
        template.tags = template.get_tags()
    ids = self._get_param("LaunchTemplateIds", [])
    if not ids:
        return _orig_describe_lts(self)
    missing = [i for i in ids if i not in self.ec2_backend.launch_templates]
    if missing:
        raise InvalidLaunchTemplateIdNotFound(missing[0])
    if self._get_param("MaxResults") is not None:
        return _orig_describe_lts(self)
    # Every template named, not moto's default page of 15.
    own = self._get_int_param
    self._get_int_param = lambda name, if_none=None: len(ids) if name == "MaxResults" else own(name, if_none)
    try:
        return _orig_describe_lts(self)
    finally:
        del self._get_int_param


ec2_lt_responses.LaunchTemplates.describe_launch_templates = describe_launch_templates


# Response handlers. moto names the action from botocore's EKS model
# (method + URI), then calls the snake_case method of EKSResponse.
Response = eks_responses.EKSResponse


def _resp_describe_nodegroup(self):
    ng = observe_nodegroup(self.eks_backend, self._get_param("name"), self._get_param("nodegroupName"))
    return ActionResult({"nodegroup": ng})


def _resp_update_nodegroup_version(self):
    update = self.eks_backend.update_nodegroup_version(
        cluster_name=self._get_param("name"),
        nodegroup_name=self._get_param("nodegroupName"),
        version=self._get_param("version"),
        release_version=self._get_param("releaseVersion"),
        launch_template=self._get_param("launchTemplate"),
        force=self._get_param("force"),
        client_request_token=self._get_param("clientRequestToken"),
    )
    return ActionResult({"update": update})


def _resp_describe_update(self):
    update = self.eks_backend.describe_update(
        name=self._get_param("name"),
        update_id=self._get_param("updateId"),
        nodegroup_name=self._get_param("nodegroupName"),
        addon_name=self._get_param("addonName"),
    )
    return ActionResult({"update": update})


def _resp_list_updates(self):
    ids = self.eks_backend.list_updates(
        name=self._get_param("name"), nodegroup_name=self._get_param("nodegroupName")
    )
    return ActionResult({"updateIds": ids})


_orig_resp_create_nodegroup = Response.create_nodegroup


def _resp_create_nodegroup(self):
    """moto's CreateNodegroup drops updateConfig and nodeRepairConfig."""
    result = _orig_resp_create_nodegroup(self)
    with EKS_LOCK:
        _, ng = _lookup(self.eks_backend, self._get_param("name"), self._get_param("nodegroupName"))
        if self._get_param("updateConfig"):
            ng.update_config = self._get_param("updateConfig")
        if self._get_param("nodeRepairConfig"):
            ng.node_repair_config = self._get_param("nodeRepairConfig")
    return result


Response.create_nodegroup = _resp_create_nodegroup
Response.describe_nodegroup = _resp_describe_nodegroup
Response.update_nodegroup_version = _resp_update_nodegroup_version
Response.describe_update = _resp_describe_update
Response.list_updates = _resp_list_updates

# Flask routes are built from url_paths when the EKS app is first created.
eks_urls.url_paths.update(
    {
        "{0}/clusters/(?P<name>[^/]+)/node-groups/(?P<nodegroupName>[^/]+)/update-version$": Response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/updates$": Response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/updates/(?P<updateId>[^/]+)$": Response.dispatch,
    }
)


from moto_calls import CallCounter  # noqa: E402 - the script's directory is on sys.path

# ---------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------

_real_run_simple = moto_server.run_simple


def _run_simple(hostname, port, application, **kwargs):
    # moto.server.main builds its DomainDispatcherApplication and hands it to
    # werkzeug here; wrap it with the counter and pin the address.
    return _real_run_simple(HOST, port, CallCounter(application), **kwargs)


moto_server.run_simple = _run_simple


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    return p.parse_args(argv)


if __name__ == "__main__":
    args = parse_args(sys.argv[1:])
    sys.exit(moto_server.main(["-H", HOST, "-p", str(args.port)]))
