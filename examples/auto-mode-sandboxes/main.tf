# The four sandboxes on EKS Auto Mode: nsjail runs with --no-user-namespace
# (+ SYS_ADMIN), landjail where the kernel has Landlock ABI 4, and
# bubblewrap only with the privileged sysctl DaemonSet, opted in explicitly.
terraform {
  required_providers {
    nested = {
      source = "nested-sandbox/nested"
    }
  }
}

locals {
  cluster = "agents"
  tags    = { "eks:eks-cluster-name" = "agents" }
}

data "nested_karpenter_pool" "nsjail" {
  sandbox                      = "nsjail"
  mode                         = "auto_mode"
  cluster_name                 = local.cluster
  kubernetes_version           = "1.33"
  role                         = "AmazonEKSAutoNodeRole"
  subnet_selector_tags         = local.tags
  security_group_selector_tags = local.tags
}

data "nested_karpenter_pool" "landjail" {
  sandbox                      = "landjail"
  mode                         = "auto_mode"
  cluster_name                 = local.cluster
  kubernetes_version           = "1.33"
  role                         = "AmazonEKSAutoNodeRole"
  subnet_selector_tags         = local.tags
  security_group_selector_tags = local.tags
}

# Without allow_privileged_sysctl_daemonset this is an error at plan:
# Auto Mode keeps user.max_user_namespaces at 0.
data "nested_karpenter_pool" "bubblewrap" {
  sandbox                           = "bubblewrap"
  mode                              = "auto_mode"
  cluster_name                      = local.cluster
  kubernetes_version                = "1.33"
  role                              = "AmazonEKSAutoNodeRole"
  subnet_selector_tags              = local.tags
  security_group_selector_tags      = local.tags
  allow_privileged_sysctl_daemonset = true
}

output "nsjail_runtime_args" {
  description = "[\"--no-user-namespace\"]: start Boundary with these."
  value       = data.nested_karpenter_pool.nsjail.runtime_args
}

output "nsjail_node_class_manifest" {
  value = data.nested_karpenter_pool.nsjail.node_class_manifest
}

output "nsjail_node_pool_manifest" {
  value = data.nested_karpenter_pool.nsjail.node_pool_manifest
}

output "landjail_pod_security_level" {
  value = data.nested_karpenter_pool.landjail.pod_security_level
}

output "bubblewrap_sysctl_daemonset_manifest" {
  description = "Privileged: read the warnings before applying."
  value       = data.nested_karpenter_pool.bubblewrap.sysctl_daemonset_manifest
}

output "bubblewrap_warnings" {
  value = data.nested_karpenter_pool.bubblewrap.warnings
}
