# An EKS managed node group on Bottlerocket for Coder's Agent Firewall
# (nsjail). The provider renders the Bottlerocket settings nsjail needs
# (user.max_user_namespaces) into a launch template it owns.
resource "nested_nodegroup" "agents" {
  cluster_name  = "prod"
  name          = "coder-agents"
  node_role_arn = "arn:aws:iam::123456789012:role/eks-nodes"
  subnet_ids    = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]

  sandbox            = "nsjail"
  ami_family         = "bottlerocket"
  kubernetes_version = "1.33"
  instance_types     = ["m6i.large"]

  scaling = {
    min_size     = 1
    max_size     = 5
    desired_size = 2
  }

  labels = {
    workload = "coder-agents"
  }
  taints = [{
    key    = "sandbox"
    value  = "nsjail"
    effect = "NoSchedule"
  }]

  # Your own Bottlerocket settings; the provider merges what nsjail needs
  # into them and refuses a key that contradicts it.
  bootstrap_extra_settings = <<-EOT
    [settings.kubernetes]
    max-pods = 58
  EOT
}

# For the agent pods, e.g. in a Coder workspace template.
output "container_security_context" {
  value = jsondecode(nested_nodegroup.agents.container_security_context)
}
