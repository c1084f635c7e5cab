# nested_capability feeding terraform-aws-modules/eks's managed node groups
# (module v20 or v21; hashicorp/aws >= 5.40 for the AL2023 ami_type). The
# decision and the bootstrap settings come from this provider; the module
# keeps building the launch templates and node groups.
#
# Not applied by the acceptance suite (the module and its providers come
# from the Terraform Registry); acceptance/tests/aws_interop.rs checks that
# these outputs fit the module's input types.

terraform {
  required_version = ">= 1.8"
  required_providers {
    aws    = { source = "hashicorp/aws", version = ">= 5.40" }
    nested = { source = "nested-sandbox/nested" }
  }
}

provider "nested" {
  offline = true
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

locals {
  kubernetes_version = "1.35"
}

# Coder's nsjail on Bottlerocket (EKS-provided AMI).
data "nested_capability" "agents" {
  sandbox            = "nsjail"
  platform           = "eks"
  kubernetes_version = local.kubernetes_version
  ami_family         = "bottlerocket"
  # Your own Bottlerocket settings go here, not into bootstrap_extra_args
  # next to the output: merged, and contradictions fail the plan here.
  bootstrap_extra_settings = <<-TOML
    [settings.kubernetes]
    max-pods = 58
  TOML
}

# Rootless podman on AL2023 (EKS-provided AMI).
data "nested_capability" "builders" {
  sandbox            = "podman"
  platform           = "eks"
  kubernetes_version = local.kubernetes_version
  ami_family         = "al2023"
  ids_per_pod        = 131072
}

module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 20.0"

  cluster_name    = "prod"
  cluster_version = local.kubernetes_version
  vpc_id          = var.vpc_id
  subnet_ids      = var.subnet_ids

  eks_managed_node_groups = {
    agents = {
      ami_type       = data.nested_capability.agents.ami_type
      instance_types = ["m6i.large"]
      min_size       = 1
      max_size       = 3
      desired_size   = 1
      labels         = data.nested_capability.agents.node_labels
      # Bottlerocket on an EKS AMI: the module's user data is this TOML
      # alone; EKS adds the cluster keys.
      bootstrap_extra_args = data.nested_capability.agents.user_data
    }

    builders = {
      ami_type       = data.nested_capability.builders.ami_type
      instance_types = ["m6i.xlarge"]
      min_size       = 1
      max_size       = 3
      desired_size   = 1
      labels         = data.nested_capability.builders.node_labels
      # AL2023: the provider's parts (NodeConfig with idsPerPod, and a
      # sysctl script when one is needed) before the module's own.
      cloudinit_pre_nodeadm = data.nested_capability.builders.cloudinit_parts
    }
  }
}
