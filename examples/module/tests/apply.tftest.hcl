# Apply with a mocked provider: mock_resource supplies the computed values
# the real provider would read back from AWS, so the module's outputs can be
# checked end to end without an AWS account.

mock_provider "nested" {
  mock_resource "nested_nodegroup" {
    defaults = {
      id                         = "prod:coder-agents"
      arn                        = "arn:aws:eks:us-east-1:123456789012:nodegroup/prod/coder-agents/0"
      ami_type                   = "BOTTLEROCKET_x86_64"
      pod_spec                   = "{}"
      pod_security_context       = "{}"
      container_security_context = "{\"allowPrivilegeEscalation\":true,\"capabilities\":{\"add\":[\"NET_ADMIN\",\"SETGID\",\"SETUID\",\"SYS_ADMIN\"],\"drop\":[\"ALL\"]},\"privileged\":false,\"runAsNonRoot\":true}"
      runtime_args               = []
      warnings                   = []
    }
  }
}

run "coder_agent_firewall_pool" {
  variables {
    cluster_name  = "prod"
    name          = "coder-agents"
    node_role_arn = "arn:aws:iam::123456789012:role/eks-nodes"
    subnet_ids    = ["subnet-0123456789abcdef0"]
    sandbox       = "nsjail"
    ami_family    = "bottlerocket"
  }

  assert {
    condition     = output.node_group_id == "prod:coder-agents"
    error_message = "the ID is cluster_name:name"
  }

  assert {
    condition     = output.container_security_context.capabilities.add == ["NET_ADMIN", "SETGID", "SETUID", "SYS_ADMIN"]
    error_message = "a non-root nsjail agent gets NET_ADMIN, SETGID, SETUID and SYS_ADMIN"
  }

  assert {
    condition     = output.container_security_context.runAsNonRoot
    error_message = "the agent runs as a non-root user"
  }

  assert {
    condition     = output.node_selector == { "sandbox.nested.dev/nsjail" = "coder-agents" }
    error_message = "the selector matches the pool's label"
  }

  assert {
    condition     = output.kernel_floor == null
    error_message = "every supported node image can run nsjail"
  }
}
