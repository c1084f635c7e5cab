# The cluster and its node group in one apply. The cluster does not exist
# yet when Terraform plans, so the plan shows the node group's Kubernetes
# version as "(known after apply)" and still refuses now whatever could not
# work at any version. Pass the cluster's version so that every check runs
# at plan, and so that a cluster upgrade moves the nodes with it.
resource "nested_nodegroup" "agents" {
  cluster_name       = aws_eks_cluster.this.name
  kubernetes_version = aws_eks_cluster.this.version
  name               = "coder-agents"
  node_role_arn      = aws_iam_role.nodes.arn
  subnet_ids         = aws_eks_cluster.this.vpc_config[0].subnet_ids

  sandbox        = "nsjail"
  ami_family     = "bottlerocket"
  instance_types = ["m6i.large"]
}
