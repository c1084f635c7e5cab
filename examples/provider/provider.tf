terraform {
  # Provider-defined functions need Terraform 1.8; import by identity 1.12.
  required_version = ">= 1.8"
  required_providers {
    nested = {
      source  = "nested-sandbox/nested"
      version = "~> 0.1"
    }
  }
}

# Credentials come from the standard AWS chain: environment variables,
# shared config and credentials files (profile, SSO, credential_process),
# web identity (IRSA, EKS Pod Identity), then container or instance roles.
# Only nested_nodegroup calls AWS; data sources and functions never do.
provider "nested" {
  region = "us-east-1"

  # Added to every node group and launch template the provider creates.
  default_tags = {
    team = "platform"
  }
}
