# Quickstart: what each nested sandbox needs from a Kubernetes node.
# `make demo` runs this against the locally built provider and a moto AWS
# API server; aws_endpoint points every AWS call at it.

terraform {
  required_version = ">= 1.8"
  required_providers {
    nested = {
      source = "nested-sandbox/nested"
    }
  }
}

variable "aws_endpoint" {
  description = "AWS endpoint override, e.g. http://127.0.0.1:5000 (moto). Null for real AWS."
  type        = string
  default     = null
}

provider "nested" {
  region = "us-east-1"
  endpoints = var.aws_endpoint == null ? null : {
    eks = var.aws_endpoint
    ec2 = var.aws_endpoint
    ssm = var.aws_endpoint
    sts = var.aws_endpoint
  }
  default_tags = {
    "managed-by" = "terraform-provider-nested"
  }
}

# Each sandbox on an EKS managed node group running Kubernetes 1.33 on
# Bottlerocket: what the node and the pod need.
data "nested_capability" "sandbox" {
  for_each           = toset(["nsjail", "landjail", "bubblewrap", "podman"])
  sandbox            = each.key
  platform           = "eks"
  kubernetes_version = "1.33"
  ami_family         = "bottlerocket"
}

output "kernel_floors" {
  description = "Lowest Linux release each sandbox can run on (null: any supported node image)."
  value       = { for name, c in data.nested_capability.sandbox : name => c.kernel_floor }
}

output "node_sysctls" {
  description = "Sysctls each sandbox needs on the node."
  value       = { for name, c in data.nested_capability.sandbox : name => c.sysctls }
}

output "container_security_contexts" {
  description = "Least-privilege container securityContext per sandbox."
  value       = { for name, c in data.nested_capability.sandbox : name => jsondecode(c.container_security_context) }
}

output "why_nsjail" {
  description = "The facts behind the nsjail answer, with sources."
  value       = data.nested_capability.sandbox["nsjail"].reasons
}

output "podman_floor_from_function" {
  description = "The same fact from the provider function kernel_floor()."
  value       = provider::nested::kernel_floor("podman")
}
