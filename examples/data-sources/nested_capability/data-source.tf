data "nested_capability" "agent_firewall" {
  sandbox            = "nsjail"
  platform           = "eks"
  kubernetes_version = "1.33"
  ami_family         = "bottlerocket"
}

# Least-privilege securityContext for the agent's container.
output "container_security_context" {
  value = jsondecode(data.nested_capability.agent_firewall.container_security_context)
}

# Bottlerocket TOML for your own launch template.
output "user_data" {
  value = data.nested_capability.agent_firewall.user_data
}
