# Rootless podman in OpenShift Dev Spaces workspaces (OpenShift 4.20: user namespaces by default).
terraform {
  required_providers {
    nested = {
      source = "nested-sandbox/nested"
    }
  }
}


data "nested_capability" "workspace" {
  sandbox           = "podman"
  platform          = "openshift"
  openshift_version = "4.20"
}

# hostUsers is a pod spec field (spec.hostUsers), not part of securityContext.
output "pod_spec" {
  value = jsondecode(data.nested_capability.workspace.pod_spec)
}

output "container_security_context" {
  value = jsondecode(data.nested_capability.workspace.container_security_context)
}

# Dev Spaces' images map user:1001:64535, which fits the default 65536 ids per
# pod; set ids_per_pod = 131072 if nested images own ids above 64535.
output "kubelet_settings" {
  value = data.nested_capability.workspace.kubelet_settings
}

output "image_needs" {
  value = data.nested_capability.workspace.image_needs
}

# The manifests OpenShift needs for it: SCC, annotations, Dev Spaces patch.
data "nested_openshift_profile" "workspace" {
  openshift_version = "4.20"
  sandbox           = "podman"
  dev_spaces        = true
}

output "pod_annotations" {
  value = data.nested_openshift_profile.workspace.pod_annotations
}

output "checluster_patch" {
  value = data.nested_openshift_profile.workspace.checluster_patch
}
