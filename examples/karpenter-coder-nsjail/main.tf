# Coder Agent Firewall (nsjail) on a self-managed Karpenter NodePool with
# Bottlerocket: the EC2NodeClass and NodePool, ready for kubectl apply -f.
terraform {
  required_providers {
    nested = {
      source = "nested-sandbox/nested"
    }
  }
}

data "nested_karpenter_pool" "coder" {
  sandbox            = "nsjail"
  mode               = "karpenter"
  cluster_name       = "coder"
  kubernetes_version = "1.33"
  ami_family         = "bottlerocket"
  ami_version        = "v1.52.0"
  karpenter_version  = "1.9.0"
  role               = "KarpenterNodeRole-coder"

  subnet_selector_tags         = { "karpenter.sh/discovery" = "coder" }
  security_group_selector_tags = { "karpenter.sh/discovery" = "coder" }

  requirements = {
    instance_families = ["m7i", "c7i"]
    capacity_types    = ["on-demand"]
  }

  # Your own Bottlerocket settings: kept where Karpenter keeps them.
  bootstrap_extra_settings = <<-TOML
    [settings.kubernetes]
    pod-pids-limit = 1024
  TOML
}

output "node_class_manifest" {
  description = "terraform output -raw node_class_manifest | kubectl apply -f -"
  value       = data.nested_karpenter_pool.coder.node_class_manifest
}

output "node_pool_manifest" {
  value = data.nested_karpenter_pool.coder.node_pool_manifest
}

output "karpenter_merged_user_data" {
  description = "What the node gets after Karpenter's merge of the EC2NodeClass user data."
  value       = data.nested_karpenter_pool.coder.karpenter_merged_user_data
}

output "container_security_context" {
  value = jsondecode(data.nested_karpenter_pool.coder.container_security_context)
}

output "probe_manifest" {
  description = "A Job proving nsjail runs on a node of the NodePool."
  value       = data.nested_karpenter_pool.coder.probe_manifest
}

output "warnings" {
  value = data.nested_karpenter_pool.coder.warnings
}
