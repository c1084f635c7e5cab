# Zuul executor with Bubblewrap on EKS: hostUsers false, procMount Unmasked, SETFCAP.
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

output "pod_security_context" {
  value = jsondecode(data.nested_capability.zuul_executor.pod_security_context)
}

output "container_security_context" {
  value = jsondecode(data.nested_capability.zuul_executor.container_security_context)
}

output "node_sysctls" {
  value = data.nested_capability.zuul_executor.sysctls
}
