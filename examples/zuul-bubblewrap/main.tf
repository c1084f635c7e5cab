# Zuul executor with Bubblewrap on EKS: hostUsers false and procMount Unmasked;
# the executor runs as a non-root user, so bwrap needs no capability. Bottlerocket
# 1.33+ runs unprofiled pods under RuntimeDefault seccomp, which stops bwrap, so
# the pod names seccompProfile Unconfined.
terraform {
  required_providers {
    nested = {
      source = "nested-sandbox/nested"
    }
  }
}


data "nested_capability" "zuul_executor" {
  sandbox            = "bubblewrap"
  platform           = "eks"
  kubernetes_version = "1.35"
  ami_family         = "bottlerocket"
}

# hostUsers is a pod spec field (spec.hostUsers), not part of securityContext.
output "pod_spec" {
  value = jsondecode(data.nested_capability.zuul_executor.pod_spec)
}

output "container_security_context" {
  value = jsondecode(data.nested_capability.zuul_executor.container_security_context)
}

output "node_sysctls" {
  value = data.nested_capability.zuul_executor.sysctls
}

# Tighter than Unconfined: a Localhost profile made of containerd's own
# RuntimeDefault plus only the syscalls bwrap makes (clone, unshare, mount,
# umount2, pivot_root). The profile must be on the nodes before the executor's
# pods start: apply the SeccompProfile with the Security Profiles Operator.
data "nested_capability" "zuul_executor_localhost" {
  sandbox            = "bubblewrap"
  platform           = "eks"
  kubernetes_version = "1.35"
  ami_family         = "bottlerocket"
  seccomp_profile    = "localhost"
}

output "localhost_container_security_context" {
  value = jsondecode(data.nested_capability.zuul_executor_localhost.container_security_context)
}

output "seccomp_profile_manifest" {
  value = data.nested_capability.zuul_executor_localhost.seccomp_profile_manifest
}

output "localhost_pod_security_level" {
  value = data.nested_capability.zuul_executor_localhost.pod_security_level
}
