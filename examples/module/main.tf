# A node pool for one nested sandbox, and what its pods need.

locals {
  pool_label = "sandbox.nested.dev/${var.sandbox}"
  labels     = merge(var.labels, { (local.pool_label) = var.name })
  taints = var.dedicated ? [{
    key    = local.pool_label
    value  = "true"
    effect = "NoSchedule"
  }] : []
}

resource "nested_nodegroup" "this" {
  cluster_name  = var.cluster_name
  name          = var.name
  node_role_arn = var.node_role_arn
  subnet_ids    = var.subnet_ids

  sandbox            = var.sandbox
  ami_family         = var.ami_family
  kubernetes_version = var.kubernetes_version
  instance_types     = var.instance_types

  scaling = var.scaling
  # Without a desired size, leave it to the autoscaler after create.
  manage_desired_size = var.scaling.desired_size != null

  labels = local.labels
  taints = local.taints
  tags   = var.tags
}
