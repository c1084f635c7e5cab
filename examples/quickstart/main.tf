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

data "nested_capability" "sandbox" {
  for_each = toset(["nsjail", "landjail", "bubblewrap", "podman"])
  sandbox  = each.key
}

output "kernel_floors" {
  description = "Lowest Linux release each sandbox can run on (null: any supported node image)."
  value       = { for name, c in data.nested_capability.sandbox : name => c.kernel_floor }
}

output "why_landjail" {
  description = "The facts behind the landjail answer, with sources."
  value       = data.nested_capability.sandbox["landjail"].reasons
}

output "podman_floor_from_function" {
  description = "The same fact from the provider function kernel_floor()."
  value       = provider::nested::kernel_floor("podman")
}
