# Coder's nsjail on EKS Fargate: expected to FAIL at plan time.
# Fargate rejects pods that add Linux capabilities and nsjail needs
# NET_ADMIN; the error recommends landjail and says what is unknown about
# Fargate's kernel.

terraform {
  required_providers {
    nested = {
      source = "nested-sandbox/nested"
    }
  }
}

data "nested_capability" "agent_firewall" {
  sandbox  = "nsjail"
  platform = "eks_fargate"
}

output "pod_security" {
  value = data.nested_capability.agent_firewall.container_security_context
}
