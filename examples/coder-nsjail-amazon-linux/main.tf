# Coder Agent Firewall (nsjail) on an EKS managed node group with Amazon Linux 2023,
# for an agent that runs as root: NET_ADMIN and SETFCAP, no sudo re-exec.
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
  kubernetes_version = "1.34"
  ami_family         = "al2023"
  run_as_root        = true
}

output "ami_type" {
  value = data.nested_capability.agent_firewall.ami_type
}

output "container_security_context" {
  value = jsondecode(data.nested_capability.agent_firewall.container_security_context)
}
