output "node_group_id" {
  description = "cluster_name:name"
  value       = nested_nodegroup.this.id
}

output "node_group_arn" {
  value = nested_nodegroup.this.arn
}

output "ami_type" {
  value = nested_nodegroup.this.ami_type
}

output "kernel_floor" {
  description = "Lowest Linux release the sandbox runs on (null: any supported image). Known at plan time."
  value       = provider::nested::kernel_floor(var.sandbox)
}

output "pod_spec" {
  description = "Pod spec fields the sandbox needs, e.g. { hostUsers = false }."
  value       = jsondecode(nested_nodegroup.this.pod_spec)
}

output "pod_security_context" {
  description = "The pod's securityContext fields the sandbox needs."
  value       = jsondecode(nested_nodegroup.this.pod_security_context)
}

output "container_security_context" {
  description = "The sandbox container's securityContext."
  value       = jsondecode(nested_nodegroup.this.container_security_context)
}

output "node_selector" {
  description = "Selects this pool's nodes."
  value       = { (local.pool_label) = var.name }
}

output "tolerations" {
  description = "Tolerations for this pool's taints, in Kubernetes' shape."
  value = [for t in local.taints : {
    key      = t.key
    operator = "Equal"
    value    = t.value
    effect   = t.effect
  }]
}

output "runtime_args" {
  description = "Arguments the sandbox must be started with."
  value       = nested_nodegroup.this.runtime_args
}

output "warnings" {
  value = nested_nodegroup.this.warnings
}
