data "nested_openshift_profile" "devspaces" {
  openshift_version = "4.20"
  sandbox           = "podman"
  dev_spaces        = true
}

output "required_scc" {
  value = data.nested_openshift_profile.devspaces.scc_name
}

output "checluster_patch" {
  value = data.nested_openshift_profile.devspaces.checluster_patch
}
