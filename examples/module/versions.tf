terraform {
  # Provider-defined functions need Terraform 1.8.
  required_version = ">= 1.8"
  required_providers {
    nested = {
      source  = "nested-sandbox/nested"
      version = "~> 0.1"
    }
  }
}
