# What a GKE and an AKS node pool need for nested sandboxes. Plans here (the
# data sources call no cloud); the node pool resources that take the answers
# are in README.md: google and azurerm cannot be applied in this repository.
terraform {
  required_providers {
    nested = {
      source = "nested-sandbox/nested"
    }
  }
}

# Coder's landjail on GKE: Landlock ABI 4 needs Linux >= 6.7, which COS
# reaches with cos-125 (GKE 1.34).
data "nested_capability" "landjail_gke" {
  sandbox            = "landjail"
  platform           = "gke"
  kubernetes_version = "1.34"
}

# Zuul's bubblewrap on AKS Ubuntu 24.04: AppArmor Unconfined, and a node-prep
# DaemonSet for kernel.apparmor_restrict_unprivileged_userns = 0.
data "nested_capability" "bubblewrap_aks" {
  sandbox            = "bubblewrap"
  platform           = "aks"
  kubernetes_version = "1.34"
  os_sku             = "Ubuntu2404"
}

# The same on Azure Linux 3: no AppArmor restriction, no DaemonSet.
data "nested_capability" "bubblewrap_azure_linux" {
  sandbox            = "bubblewrap"
  platform           = "aks"
  kubernetes_version = "1.34"
  os_sku             = "AzureLinux"
}

output "gke_node_pool" {
  value = data.nested_capability.landjail_gke.gke_node_pool
}

output "aks_node_pool" {
  value = data.nested_capability.bubblewrap_aks.aks_node_pool
}

output "aks_node_prep_manifest" {
  value = data.nested_capability.bubblewrap_aks.node_prep_manifest
}

output "azure_linux_node_pool" {
  value = data.nested_capability.bubblewrap_azure_linux.aks_node_pool
}

output "bubblewrap_container_security_context" {
  value = data.nested_capability.bubblewrap_aks.container_security_context_object
}
