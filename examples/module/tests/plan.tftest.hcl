# Plan-time tests: no AWS, no credentials. mock_provider loads the real
# provider's schema (so the provider must be installed, e.g. through
# dev_overrides) and the real provider still validates the configuration
# and evaluates provider::nested:: functions; resources are not planned by
# it. override_resource gives the computed attributes known values at plan.

mock_provider "nested" {}

variables {
  cluster_name  = "prod"
  name          = "zuul-executors"
  node_role_arn = "arn:aws:iam::123456789012:role/eks-nodes"
  subnet_ids    = ["subnet-0123456789abcdef0"]
  sandbox       = "bubblewrap"
}

run "dedicated_pool_for_bubblewrap" {
  command = plan

  override_resource {
    target          = nested_nodegroup.this
    override_during = plan
    values = {
      pod_spec                   = "{\"hostUsers\":false}"
      pod_security_context       = "{}"
      container_security_context = "{\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":[\"ALL\"]},\"privileged\":false,\"procMount\":\"Unmasked\",\"runAsNonRoot\":true}"
    }
  }

  assert {
    condition     = try(nested_nodegroup.this.taints[0].key, "") == "sandbox.nested.dev/bubblewrap" && try(nested_nodegroup.this.taints[0].effect, "") == "NoSchedule"
    error_message = "a dedicated pool is tainted for its sandbox"
  }

  assert {
    condition     = nested_nodegroup.this.labels["sandbox.nested.dev/bubblewrap"] == "zuul-executors"
    error_message = "the pool carries its selector label"
  }

  assert {
    condition     = output.tolerations == [{ key = "sandbox.nested.dev/bubblewrap", operator = "Equal", value = "true", effect = "NoSchedule" }]
    error_message = "pods get the toleration for the pool's taint"
  }

  assert {
    condition     = output.pod_spec.hostUsers == false
    error_message = "pod_spec is decoded from the resource's JSON"
  }

  assert {
    condition     = output.container_security_context.procMount == "Unmasked" && output.container_security_context.runAsNonRoot
    error_message = "container_security_context is decoded from the resource's JSON"
  }

  assert {
    condition     = output.kernel_floor == "6.3"
    error_message = "kernel_floor comes from the provider function, known at plan time"
  }

  assert {
    condition     = nested_nodegroup.this.manage_desired_size == false
    error_message = "without a desired size the autoscaler owns it"
  }
}

run "shared_pool_with_fixed_size" {
  command = plan

  variables {
    dedicated = false
    scaling   = { min_size = 2, max_size = 4, desired_size = 3 }
  }

  override_resource {
    target          = nested_nodegroup.this
    override_during = plan
    values = {
      pod_spec                   = "{}"
      pod_security_context       = "{}"
      container_security_context = "{}"
    }
  }

  assert {
    condition     = nested_nodegroup.this.taints == null || length(nested_nodegroup.this.taints) == 0
    error_message = "a shared pool has no taint"
  }

  assert {
    condition     = output.tolerations == []
    error_message = "no taint, no toleration"
  }

  assert {
    condition     = nested_nodegroup.this.manage_desired_size && nested_nodegroup.this.scaling.desired_size == 3
    error_message = "a configured desired size is managed"
  }
}

run "rejects_an_unknown_sandbox" {
  command = plan

  variables {
    sandbox = "docker"
  }

  expect_failures = [var.sandbox]
}
