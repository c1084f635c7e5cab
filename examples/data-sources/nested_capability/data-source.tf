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

# Nodes pinned to an older AMI are judged on that release: AL2023 added
# Landlock in v20250813, so landjail on a node group still on v20250807
# is refused at ami_release, naming the release that fixes it. Here the
# pinned release is the first with Landlock, and the answer holds.
data "nested_capability" "pinned" {
  sandbox            = "landjail"
  platform           = "eks"
  kubernetes_version = "1.33"
  ami_family         = "al2023"
  ami_release        = "v20250813" # or an EKS release_version: "1.33.0-20250813"
}

output "pinned_node_image" {
  # { family = "al2023", variant = "standard", release = "v20250813",
  #   releases = "v20250813 to v20251007", kernel = "6.12", containerd = "1.7", … }
  value = data.nested_capability.pinned.node_image
}
