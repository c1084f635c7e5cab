# nested_capability feeding hashicorp/aws's own aws_launch_template and
# aws_eks_node_group: the decision and the bootstrap document come from this
# provider, the node groups stay hashicorp/aws resources.
#
# Two pools on custom AMIs (the launch template names the image; EKS then
# merges nothing into the user data, so the cluster keys come from
# `cluster`): Coder's nsjail on Bottlerocket and rootless podman on AL2023.
# This path works with every hashicorp/aws from 3.39.0 on; with an
# EKS-provided AMI instead (ami_type = data.nested_capability.x.ami_type,
# no image_id, no `cluster`), hashicorp/aws must accept that ami_type:
# BOTTLEROCKET_* from 3.64.0, AL2023_* from 5.40.0.
#
# The acceptance suite applies this against moto with hashicorp/aws 3.39.0
# (acceptance/tests/aws_interop.rs); aws_endpoint points every AWS call at it.

terraform {
  required_version = ">= 1.8"
  required_providers {
    aws    = { source = "hashicorp/aws", version = ">= 3.39.0" }
    nested = { source = "nested-sandbox/nested" }
  }
}

variable "aws_endpoint" {
  description = "AWS endpoint override, e.g. http://127.0.0.1:5000 (moto). Null for real AWS."
  type        = string
  default     = null
}

variable "kubernetes_version" {
  type    = string
  default = "1.35"
}

variable "agents_max_pods" {
  description = "A setting of your own for the Bottlerocket pool, merged with the sandbox's."
  type        = number
  default     = 58
}

provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = var.aws_endpoint != null
  skip_requesting_account_id  = var.aws_endpoint != null
  skip_metadata_api_check     = var.aws_endpoint != null

  dynamic "endpoints" {
    for_each = var.aws_endpoint == null ? [] : [var.aws_endpoint]
    content {
      ec2 = endpoints.value
      eks = endpoints.value
      iam = endpoints.value
      ssm = endpoints.value
      sts = endpoints.value
    }
  }
}

# nested_capability is pure: the provider makes no AWS call for it.
provider "nested" {
  offline = true
}

# --- the cluster (yours already exists: use its attributes the same way)

resource "aws_iam_role" "cluster" {
  name = "nested-example-cluster"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "eks.amazonaws.com" } }]
  })
}

resource "aws_iam_role" "nodes" {
  name = "nested-example-nodes"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_vpc" "this" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "this" {
  for_each          = { a = "10.0.1.0/24", b = "10.0.2.0/24" }
  vpc_id            = aws_vpc.this.id
  cidr_block        = each.value
  availability_zone = "us-east-1${each.key}"
}

resource "aws_eks_cluster" "this" {
  name     = "prod"
  role_arn = aws_iam_role.cluster.arn
  version  = var.kubernetes_version
  vpc_config {
    subnet_ids = [for s in aws_subnet.this : s.id]
  }
}

locals {
  # What a custom-AMI node needs to join (nodeadm requires all four).
  cluster = {
    name                  = aws_eks_cluster.this.name
    api_server_endpoint   = aws_eks_cluster.this.endpoint
    certificate_authority = aws_eks_cluster.this.certificate_authority[0].data
    service_cidr          = aws_eks_cluster.this.kubernetes_network_config[0].service_ipv4_cidr
  }
}

# --- Coder's nsjail on Bottlerocket

data "nested_capability" "agents" {
  sandbox            = "nsjail"
  platform           = "eks"
  kubernetes_version = var.kubernetes_version
  ami_family         = "bottlerocket"
  cluster            = local.cluster
  # Your own settings, merged (a key the sandbox needs set otherwise fails
  # the plan at this attribute).
  bootstrap_extra_settings = <<-TOML
    # our pool's own settings
    [settings.kubernetes]
    max-pods = ${var.agents_max_pods}
  TOML
}

data "aws_ssm_parameter" "bottlerocket" {
  name = "/aws/service/bottlerocket/aws-k8s-${var.kubernetes_version}/x86_64/latest/image_id"
}

resource "aws_launch_template" "agents" {
  name_prefix = "agents-"
  image_id    = data.aws_ssm_parameter.bottlerocket.value
  # Bottlerocket takes the TOML itself (never MIME-wrapped).
  user_data = base64encode(data.nested_capability.agents.user_data)
}

resource "aws_eks_node_group" "agents" {
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = "agents"
  node_role_arn   = aws_iam_role.nodes.arn
  subnet_ids      = [for s in aws_subnet.this : s.id]
  instance_types  = ["m6i.large"]
  # No ami_type: the launch template names the AMI (EKS reports CUSTOM).
  labels = data.nested_capability.agents.node_labels

  scaling_config {
    min_size     = 1
    max_size     = 3
    desired_size = 1
  }

  launch_template {
    id      = aws_launch_template.agents.id
    version = aws_launch_template.agents.latest_version
  }
}

# --- rootless podman on AL2023

data "nested_capability" "builders" {
  sandbox            = "podman"
  platform           = "eks"
  kubernetes_version = var.kubernetes_version
  ami_family         = "al2023"
  ids_per_pod        = 131072
  cluster            = local.cluster
}

data "aws_ssm_parameter" "al2023" {
  name = "/aws/service/eks/optimized-ami/${var.kubernetes_version}/amazon-linux-2023/x86_64/standard/recommended/image_id"
}

resource "aws_launch_template" "builders" {
  name_prefix = "builders-"
  image_id    = data.aws_ssm_parameter.al2023.value
  # The whole MIME document: NodeConfig with spec.cluster and the kubelet's
  # idsPerPod.
  user_data = base64encode(data.nested_capability.builders.user_data)
}

resource "aws_eks_node_group" "builders" {
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = "builders"
  node_role_arn   = aws_iam_role.nodes.arn
  subnet_ids      = [for s in aws_subnet.this : s.id]
  instance_types  = ["m6i.xlarge"]
  labels          = data.nested_capability.builders.node_labels

  scaling_config {
    min_size     = 1
    max_size     = 3
    desired_size = 1
  }

  launch_template {
    id      = aws_launch_template.builders.id
    version = aws_launch_template.builders.latest_version
  }
}

# --- what the pods need, for the Kubernetes side

output "agents_launch_template_id" {
  value = aws_launch_template.agents.id
}

output "builders_launch_template_id" {
  value = aws_launch_template.builders.id
}

output "agents_container_security_context" {
  value = data.nested_capability.agents.container_security_context_object
}

output "builders_devices" {
  # /dev/net/tun for podman's default rootless network: expose it with a
  # device plugin on EKS (containerd has no device annotation).
  value = data.nested_capability.builders.devices
}
