# Coder Agent Firewall (nsjail) on an EKS managed node group with Bottlerocket.
terraform {
  required_providers {
    nested = {
      source = "nested-sandbox/nested"
    }
  }
}


data "nested_capability" "agent_firewall" {
  sandbox            = "nsjail"
  platform           = "eks"
  kubernetes_version = "1.33"
  ami_family         = "bottlerocket"
}

output "ami_type" {
  value = data.nested_capability.agent_firewall.ami_type
}

output "node_sysctls" {
  description = "Bottlerocket ships user.max_user_namespaces = 0; the node must raise it."
  value       = data.nested_capability.agent_firewall.sysctls
}

output "container_security_context" {
  value = jsondecode(data.nested_capability.agent_firewall.container_security_context)
}

output "reasons" {
  value = data.nested_capability.agent_firewall.reasons
}

output "probe_manifest" {
  description = "A Job proving nsjail runs on the node: terraform output -raw probe_manifest | kubectl apply -f -"
  value       = data.nested_capability.agent_firewall.probe_manifest
}
