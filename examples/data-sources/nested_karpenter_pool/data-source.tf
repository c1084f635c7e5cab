data "nested_karpenter_pool" "coder" {
  sandbox                      = "nsjail"
  mode                         = "karpenter"
  cluster_name                 = "coder"
  kubernetes_version           = "1.33"
  ami_family                   = "bottlerocket"
  karpenter_version            = "1.9.0"
  role                         = "KarpenterNodeRole-coder"
  subnet_selector_tags         = { "karpenter.sh/discovery" = "coder" }
  security_group_selector_tags = { "karpenter.sh/discovery" = "coder" }
}

# kubectl apply -f takes these as they are; for kubernetes_manifest use
# yamldecode(data.nested_karpenter_pool.coder.node_pool_manifest).
output "node_class" {
  value = data.nested_karpenter_pool.coder.node_class_manifest
}

output "node_pool" {
  value = data.nested_karpenter_pool.coder.node_pool_manifest
}
