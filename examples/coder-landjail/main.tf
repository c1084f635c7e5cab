# Coder Agent Firewall (landjail): Landlock ABI 4, so Linux >= 6.7 with Landlock enabled.
terraform {
  required_providers {
    nested = {
      source = "nested-sandbox/nested"
    }
  }
}


data "nested_capability" "agent_firewall" {
  sandbox            = "landjail"
  platform           = "eks"
  kubernetes_version = "1.33"
}

output "ami_family" {
  value = data.nested_capability.agent_firewall.ami_family
}

output "kernel" {
  value = {
    floor = data.nested_capability.agent_firewall.kernel_floor
    image = data.nested_capability.agent_firewall.kernel_version
  }
}

output "container_security_context" {
  value = jsondecode(data.nested_capability.agent_firewall.container_security_context)
}
