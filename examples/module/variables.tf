variable "cluster_name" {
  description = "EKS cluster the pool joins."
  type        = string
}

variable "name" {
  description = "Node group name, unique in the cluster."
  type        = string
}

variable "node_role_arn" {
  description = "IAM role of the nodes."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets for the nodes."
  type        = list(string)
}

variable "sandbox" {
  description = "The sandbox the pods run: nsjail, landjail, bubblewrap or podman."
  type        = string

  validation {
    condition     = contains(["nsjail", "landjail", "bubblewrap", "podman"], var.sandbox)
    error_message = "sandbox must be one of nsjail, landjail, bubblewrap, podman."
  }
}

variable "ami_family" {
  description = "bottlerocket, al2023 or al2; null lets the provider choose."
  type        = string
  default     = null
}

variable "kubernetes_version" {
  description = "Kubernetes version of the nodes; null follows the cluster."
  type        = string
  default     = null
}

variable "instance_types" {
  description = "EC2 instance types; null lets EKS choose."
  type        = list(string)
  default     = null
}

variable "scaling" {
  description = "Node counts. Leave desired_size null when an autoscaler owns it."
  type = object({
    min_size     = number
    max_size     = number
    desired_size = optional(number)
  })
  default = {
    min_size = 1
    max_size = 3
  }
}

variable "dedicated" {
  description = "Taint the nodes so that only the sandbox's pods (which get the matching toleration) run there."
  type        = bool
  default     = true
}

variable "labels" {
  description = "Extra Kubernetes labels for the nodes."
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Tags for the node group and its launch template."
  type        = map(string)
  default     = {}
}
