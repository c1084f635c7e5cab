# Coder Agent Firewall (nsjail) on an EKS managed node group with Bottlerocket.
terraform {
  required_providers {
    nested = {
      source = "nested-sandbox/nested"
    }
  }
}


# The Coder agent runs as a non-root user (run_as_root = false, the default):
# Boundary re-executes it through sudo + setpriv, which needs NET_ADMIN,
# SYS_ADMIN, SETUID and SETGID in the pod and sudo in the workspace image.
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

output "image_needs" {
  description = "What the workspace image must provide (sudo with a NOPASSWD rule, setpriv, ip, iptables)."
  value       = data.nested_capability.agent_firewall.image_needs
}

output "pod_security_level" {
  description = "The label the workspace namespace needs: pod-security.kubernetes.io/enforce."
  value       = data.nested_capability.agent_firewall.pod_security_level
}

output "reasons" {
  value = data.nested_capability.agent_firewall.reasons
}

output "probe_manifest" {
  description = "A Job proving nsjail runs on the node: terraform output -raw probe_manifest | kubectl apply -f -"
  value       = data.nested_capability.agent_firewall.probe_manifest
}
